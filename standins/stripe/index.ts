/**
 * A strict local stand-in for the slice of the Stripe API the pipeline reads (node:http, no framework):
 *
 *   GET /v1/payouts/:id
 *   GET /v1/payouts?status=&arrival_date[gte|gt|lte|lt]=&created[…]=&limit=&starting_after=&ending_before=
 *   GET /v1/balance_transactions?payout=&type=&currency=&limit=&starting_after=&ending_before=
 *       &expand[]=data.source&expand[]=data.source.charge
 *
 * It behaves like Stripe where the pipeline could notice a difference: `Authorization: Bearer <key>`
 * (401 otherwise), the `Stripe-Account` header selecting a connected account's data, lists newest first as
 * `{object:'list', data, has_more, url}`, `limit` 1–100 (default 10), cursors that must exist (an unknown
 * `starting_after` is 400, like an expired cursor), sources returned as ids unless expanded, filtering by
 * payout refused for manual payouts, unknown parameters and unknown routes rejected, and every error in
 * Stripe's shape `{error:{type, code?, message, param?}}` with Stripe's status code.
 *
 * Tests drive it through `addPayout`, `updatePayout`, `injectFault`, `setLatency` and read `requests`. This file is
 * the server (authentication, faults, latency, recording); the data and routes are in store.ts, parameter checks in
 * params.ts, errors in errors.ts, webhook helpers in events.ts, generated payouts in generate*.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BalanceTransaction, Payout } from '../../src/domain/stripe.js';
import { invalid, StripeHttpError } from './errors.js';
import { STANDIN_API_VERSION } from './events.js';
import { parseStripeQuery, type Query, QueryParseError } from './query.js';
import { ACCOUNT_ID, API_VERSION_SHAPE, createStore, PLATFORM } from './store.js';

export { makePayoutEvent, STANDIN_API_VERSION, signWebhook } from './events.js';
export type { FailedPayoutPair, GeneratedPayout, GeneratePayoutOptions } from './generate.js';
export { demoPayout, generateFailedPayout, generatePayout } from './generate.js';

export interface StripeStandInOptions {
  /** The secret key requests must present as `Authorization: Bearer <key>`. Default `sk_test_local`. */
  secretKey?: string;
}

export interface RecordedRequest {
  method: string;
  /** The path without the query string, e.g. `/v1/balance_transactions`. */
  path: string;
  /** The parsed query (bracketed keys nested: `{ expand: ['data.source'], arrival_date: { gte: '1' } }`). */
  query: Record<string, unknown>;
  /** The `Stripe-Account` header, when sent. */
  account?: string;
  status: number;
  /** Epoch ms when the request arrived. */
  at: number;
}

export interface StripeFault {
  /** HTTP status to answer with; `0` drops the connection without an answer (a network error). */
  status: number;
  /** How many matching requests get the fault (default 1; `Infinity` for all of them). */
  count?: number;
  /** Only requests whose path starts with this string, or matches this RegExp (default: every request). */
  path?: string | RegExp;
  /** Stripe error `type` (default: `api_error` for 5xx, else `invalid_request_error`). */
  type?: string;
  /** Stripe error `code` (default: `rate_limit` for 429, `resource_missing` for 404). */
  code?: string;
}

export interface StripeStandIn {
  /** Origin, e.g. `http://127.0.0.1:53999`: the product's `STRIPE_API_BASE`. */
  readonly url: string;
  readonly secretKey: string;
  /**
   * Adds (or replaces) a payout and its balance transactions for an account (`platform`, the default, is the
   * data seen without a `Stripe-Account` header). Transactions may carry their `source` expanded (and a
   * refund's or dispute's `charge` expanded); the server collapses them to ids unless the request expands them.
   */
  addPayout(input: { account?: string; payout: Payout; transactions: BalanceTransaction[] }): void;
  /** Shallow-merges `patch` into a stored payout (e.g. `{ status: 'failed' }`). Throws if there is none. */
  updatePayout(account: string, payoutId: string, patch: Partial<Payout>): void;
  /** Queues a fault; faults are matched in the order they were injected. */
  injectFault(fault: StripeFault): void;
  /** Delays every answer by `ms`. */
  setLatency(ms: number): void;
  readonly requests: ReadonlyArray<RecordedRequest>;
  clearRequests(): void;
  close(): Promise<void>;
}

// ------------------------------------------------------------------------------------------------- server

export async function startStripeStandIn(
  opts: StripeStandInOptions = {},
  listen: { port?: number; host?: string } = {},
): Promise<StripeStandIn> {
  const secretKey = opts.secretKey ?? 'sk_test_local';
  const store = createStore();
  const faults: Array<Required<Pick<StripeFault, 'status' | 'count'>> & StripeFault> = [];
  const requests: RecordedRequest[] = [];
  let latencyMs = 0;
  let requestCounter = 0;

  const authenticate = (req: IncomingMessage): void => {
    const header = req.headers.authorization;
    if (!header) {
      throw invalid(
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        undefined,
        undefined,
        401,
      );
    }
    let presented: string | undefined;
    const bearer = /^Bearer (.+)$/.exec(header);
    const basic = /^Basic (.+)$/.exec(header);
    if (bearer) presented = bearer[1];
    else if (basic?.[1]) presented = Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0];
    if (presented !== secretKey) {
      const shown = presented
        ? `${presented.slice(0, 8)}${'*'.repeat(Math.max(0, presented.length - 12))}${presented.slice(-4)}`
        : '';
      throw invalid(`Invalid API Key provided: ${shown}`, undefined, 'api_key_invalid', 401);
    }
  };

  const takeFault = (path: string): StripeFault | undefined => {
    const index = faults.findIndex((f) =>
      f.path === undefined ? true : typeof f.path === 'string' ? path.startsWith(f.path) : f.path.test(path),
    );
    if (index < 0) return undefined;
    const fault = faults[index];
    if (!fault) return undefined;
    fault.count -= 1;
    if (fault.count <= 0) faults.splice(index, 1);
    return fault;
  };

  const faultError = (f: StripeFault): StripeHttpError => {
    const type = f.type ?? (f.status >= 500 ? 'api_error' : 'invalid_request_error');
    const code =
      f.code ?? (f.status === 429 ? 'rate_limit' : f.status === 404 ? 'resource_missing' : undefined);
    const message =
      f.status === 429
        ? 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.'
        : f.status >= 500
          ? 'An unknown error occurred (injected by the Stripe stand-in).'
          : `Injected fault: HTTP ${f.status}.`;
    return new StripeHttpError(f.status, { type, message, ...(code ? { code } : {}) });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const path = url.pathname;
    const accountHeader = req.headers['stripe-account'];
    const account = typeof accountHeader === 'string' && accountHeader !== '' ? accountHeader : undefined;
    const record: RecordedRequest = {
      method,
      path,
      query: {},
      status: 0,
      at,
      ...(account ? { account } : {}),
    };
    requests.push(record);
    req.resume();
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));

    const requestId = `req_${(++requestCounter).toString().padStart(14, '0')}`;
    const send = (status: number, body: unknown): void => {
      record.status = status;
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
        'Request-Id': requestId,
        'Stripe-Version': STANDIN_API_VERSION,
      });
      res.end(text);
    };

    try {
      let query: Query = {};
      let queryError: StripeHttpError | undefined;
      try {
        query = parseStripeQuery(url.search);
        record.query = query;
      } catch (e) {
        if (!(e instanceof QueryParseError)) throw e;
        queryError = invalid(e.message, e.param);
      }
      const fault = takeFault(path);
      if (fault?.status === 0) {
        record.status = 0;
        req.socket.destroy();
        return;
      }
      if (fault) throw faultError(fault);
      authenticate(req);
      if (queryError) throw queryError;
      if (account !== undefined && !ACCOUNT_ID.test(account)) {
        throw new StripeHttpError(403, {
          type: 'invalid_request_error',
          code: 'account_invalid',
          message: `The provided key does not have access to account '${account}' (or that account does not exist). The Stripe-Account header must be an acct_… id; omit it for the platform account.`,
        });
      }
      const version = req.headers['stripe-version'];
      if (typeof version === 'string' && !API_VERSION_SHAPE.test(version)) {
        throw invalid(`Invalid Stripe API version: ${version}`, undefined, 'api_version_invalid');
      }
      send(200, store.route(method, path, query, account ?? PLATFORM));
    } catch (e) {
      if (e instanceof StripeHttpError) {
        send(e.status, { error: e.body });
      } else {
        send(500, {
          error: {
            type: 'api_error',
            message: `Stripe stand-in failure: ${e instanceof Error ? e.message : String(e)}`,
          },
        });
      }
    }
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    secretKey,
    addPayout: store.addPayout,
    updatePayout: store.updatePayout,
    injectFault: (f) => {
      faults.push({ ...f, count: f.count ?? 1 });
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    get requests() {
      return requests;
    },
    clearRequests: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
