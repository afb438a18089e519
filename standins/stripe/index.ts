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
 * Tests drive it through `addPayout`, `updatePayout`, `injectFault`, `setLatency` and read `requests`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import type { BalanceTransaction, Payout, StripeEvent } from '../../src/domain/stripe.js';
import { parseStripeQuery, type Query, QueryParseError, type QueryValue } from './query.js';

export type { GeneratedPayout, GeneratePayoutOptions } from './generate.js';
export { demoPayout, generatePayout } from './generate.js';

/** The API version stripe-node 23.1.0 pins (sent as `Stripe-Version`); events made here carry it. */
export const STANDIN_API_VERSION: string = Stripe.API_VERSION;

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

// ------------------------------------------------------------------------------------------------- errors

interface StripeErrorBody {
  type: string;
  code?: string;
  message: string;
  param?: string;
}

class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.message);
  }
}

const invalid = (message: string, param?: string, code?: string, status = 400): StripeHttpError =>
  new StripeHttpError(status, {
    type: 'invalid_request_error',
    message,
    ...(code ? { code } : {}),
    ...(param ? { param } : {}),
  });

const noSuch = (what: string, id: string, param: string, status: number): StripeHttpError =>
  invalid(`No such ${what}: '${id}'`, param, 'resource_missing', status);

// ------------------------------------------------------------------------------------------------- storage

type JsonObject = Record<string, unknown>;

interface StoredPayout {
  payout: Payout;
  /** Newest first (by `created`, ties keep the given order). */
  transactions: BalanceTransaction[];
  /** Transaction id → index in `transactions`, for cursors. */
  positions: Map<string, number>;
  /** Insertion sequence, so payouts created in the same second still list newest first. */
  seq: number;
}

interface AccountData {
  payouts: Map<string, StoredPayout>;
  /** Every expanded object seen (charges, refunds, disputes, …) by id, to expand sources stored as ids. */
  objects: Map<string, JsonObject>;
  /** Every balance transaction by id (for `expand[]=balance_transaction` on payouts). */
  transactions: Map<string, BalanceTransaction>;
}

const PLATFORM = 'platform';
const ACCOUNT_ID = /^acct_[A-Za-z0-9]+$/;
const API_VERSION_SHAPE = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function idOf(v: unknown): unknown {
  return isObject(v) && typeof v.id === 'string' ? v.id : v;
}

function sortNewestFirst<T extends { created: number }>(items: readonly T[]): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => b.item.created - a.item.created || a.index - b.index)
    .map(({ item }) => item);
}

// ------------------------------------------------------------------------------------------------- params

const KNOWN_PAYOUT_STATUSES = ['paid', 'pending', 'in_transit', 'canceled', 'failed'];

function checkParams(query: Query, allowed: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) throw invalid(`Received unknown parameter: ${key}`, key, 'parameter_unknown');
  }
}

function intParam(value: QueryValue, param: string): number {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
    throw invalid(`Invalid integer: ${typeof value === 'string' ? value : JSON.stringify(value)}`, param);
  }
  return Number(value);
}

function stringParam(value: QueryValue | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`Invalid string: ${JSON.stringify(value)}`, param);
  return value;
}

function limitParam(value: QueryValue | undefined): number {
  if (value === undefined) return 10;
  const n = intParam(value, 'limit');
  if (n < 1)
    throw invalid('This value must be greater than or equal to 1.', 'limit', 'parameter_invalid_integer');
  if (n > 100) {
    throw invalid(
      `This value must be less than or equal to 100 (it currently is '${n}').`,
      'limit',
      'parameter_invalid_integer',
    );
  }
  return n;
}

/** `created=…` or `created[gt|gte|lt|lte]=…` → a predicate. */
function rangeParam(value: QueryValue | undefined, param: string): (n: number) => boolean {
  if (value === undefined) return () => true;
  if (typeof value === 'string') {
    const exact = intParam(value, param);
    return (n) => n === exact;
  }
  if (Array.isArray(value)) throw invalid(`Invalid hash: ${param} must be an integer or a range`, param);
  const tests: Array<(n: number) => boolean> = [];
  for (const [op, raw] of Object.entries(value)) {
    const name = `${param}[${op}]`;
    const bound = intParam(raw, name);
    if (op === 'gt') tests.push((n) => n > bound);
    else if (op === 'gte') tests.push((n) => n >= bound);
    else if (op === 'lt') tests.push((n) => n < bound);
    else if (op === 'lte') tests.push((n) => n <= bound);
    else throw invalid(`Received unknown parameter: ${name}`, name, 'parameter_unknown');
  }
  return (n) => tests.every((t) => t(n));
}

function expandParam(value: QueryValue | undefined, allowed: readonly string[]): Set<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) throw invalid('Invalid array', 'expand');
  const out = new Set<string>();
  for (const item of value) {
    if (typeof item !== 'string') throw invalid('Invalid array', 'expand');
    if (!allowed.includes(item)) {
      throw invalid(
        `This property cannot be expanded (${item}). The Stripe stand-in expands only: ${allowed.join(', ')}.`,
        'expand',
      );
    }
    // A nested expansion implies its parents, as on Stripe.
    const parts = item.split('.');
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('.'));
  }
  return out;
}

function paginate<T extends { id: string }>(
  items: readonly T[],
  query: Query,
  objectName: string,
  positions?: ReadonlyMap<string, number>,
): { data: T[]; has_more: boolean } {
  const limit = limitParam(query.limit);
  const startingAfter = stringParam(query.starting_after, 'starting_after');
  const endingBefore = stringParam(query.ending_before, 'ending_before');
  if (startingAfter !== undefined && endingBefore !== undefined) {
    throw invalid(
      'You may only specify one of these parameters: ending_before, starting_after.',
      'ending_before',
    );
  }
  const find = (id: string, param: string): number => {
    const at = positions ? positions.get(id) : items.findIndex((x) => x.id === id);
    if (at === undefined || at < 0 || items[at]?.id !== id) throw noSuch(objectName, id, param, 400);
    return at;
  };
  if (startingAfter !== undefined) {
    const from = find(startingAfter, 'starting_after') + 1;
    return { data: items.slice(from, from + limit), has_more: from + limit < items.length };
  }
  if (endingBefore !== undefined) {
    const to = find(endingBefore, 'ending_before');
    const from = Math.max(0, to - limit);
    return { data: items.slice(from, to), has_more: from > 0 };
  }
  return { data: items.slice(0, limit), has_more: limit < items.length };
}

// ------------------------------------------------------------------------------------------------- server

export async function startStripeStandIn(
  opts: StripeStandInOptions = {},
  listen: { port?: number; host?: string } = {},
): Promise<StripeStandIn> {
  const secretKey = opts.secretKey ?? 'sk_test_local';
  const accounts = new Map<string, AccountData>();
  const faults: Array<Required<Pick<StripeFault, 'status' | 'count'>> & StripeFault> = [];
  const requests: RecordedRequest[] = [];
  let latencyMs = 0;
  let seq = 0;
  let requestCounter = 0;

  const accountData = (account: string): AccountData => {
    let data = accounts.get(account);
    if (!data) {
      data = { payouts: new Map(), objects: new Map(), transactions: new Map() };
      accounts.set(account, data);
    }
    return data;
  };

  const checkAccountName = (account: string): void => {
    if (account !== PLATFORM && !ACCOUNT_ID.test(account)) {
      throw new Error(`Stripe stand-in: account must be "platform" or an "acct_…" id, got "${account}"`);
    }
  };

  const indexObject = (data: AccountData, value: unknown): void => {
    if (!isObject(value) || typeof value.id !== 'string') return;
    data.objects.set(value.id, value);
    if (isObject(value.charge)) indexObject(data, value.charge);
  };

  const addPayout: StripeStandIn['addPayout'] = ({ account = PLATFORM, payout, transactions }) => {
    checkAccountName(account);
    if (typeof payout?.id !== 'string')
      throw new Error('Stripe stand-in: addPayout needs a payout with an id');
    const data = accountData(account);
    const previous = data.payouts.get(payout.id);
    for (const t of previous?.transactions ?? []) data.transactions.delete(t.id);
    const copies = structuredClone(transactions);
    const seen = new Set<string>();
    for (const t of copies) {
      if (typeof t?.id !== 'string')
        throw new Error(`Stripe stand-in: a transaction of ${payout.id} has no id`);
      if (seen.has(t.id))
        throw new Error(`Stripe stand-in: transaction ${t.id} appears twice in ${payout.id}`);
      seen.add(t.id);
      data.transactions.set(t.id, t);
      indexObject(data, t.source);
    }
    const sorted = sortNewestFirst(copies);
    data.payouts.set(payout.id, {
      payout: structuredClone(payout),
      transactions: sorted,
      positions: new Map(sorted.map((t, i) => [t.id, i])),
      seq: seq++,
    });
  };

  const updatePayout: StripeStandIn['updatePayout'] = (account, payoutId, patch) => {
    const stored = accounts.get(account)?.payouts.get(payoutId);
    if (!stored) throw new Error(`Stripe stand-in: no payout ${payoutId} for account ${account}`);
    stored.payout = { ...stored.payout, ...structuredClone(patch) };
  };

  // ----------------------------------------------------------------------------------------- rendering

  const renderPayout = (data: AccountData, payout: Payout, expand: ReadonlySet<string>): JsonObject => {
    const out: JsonObject = { ...payout };
    if (expand.has('balance_transaction')) {
      const id = idOf(payout.balance_transaction);
      out.balance_transaction = (typeof id === 'string' && data.transactions.get(id)) || id || null;
    } else {
      out.balance_transaction = idOf(payout.balance_transaction) ?? null;
    }
    return out;
  };

  const renderTransaction = (
    data: AccountData,
    t: BalanceTransaction,
    expand: ReadonlySet<string>,
  ): JsonObject => {
    const out: JsonObject = { ...t };
    if (!expand.has('data.source')) {
      out.source = idOf(t.source) ?? null;
      return out;
    }
    const raw: unknown = typeof t.source === 'string' ? (data.objects.get(t.source) ?? t.source) : t.source;
    if (isObject(raw) && 'charge' in raw) {
      const charge = raw.charge;
      const rendered = expand.has('data.source.charge')
        ? typeof charge === 'string'
          ? (data.objects.get(charge) ?? charge)
          : charge
        : idOf(charge);
      out.source = { ...raw, charge: rendered ?? null };
    } else {
      out.source = raw ?? null;
    }
    return out;
  };

  // ----------------------------------------------------------------------------------------- routes

  const getPayout = (data: AccountData, id: string, query: Query): JsonObject => {
    checkParams(query, ['expand']);
    const expand = expandParam(query.expand, ['balance_transaction']);
    const stored = data.payouts.get(id);
    if (!stored) throw noSuch('payout', id, 'id', 404);
    return renderPayout(data, stored.payout, expand);
  };

  const listPayouts = (data: AccountData, query: Query): JsonObject => {
    checkParams(query, [
      'status',
      'arrival_date',
      'created',
      'limit',
      'starting_after',
      'ending_before',
      'expand',
    ]);
    const expand = expandParam(query.expand, ['data.balance_transaction']);
    const status = stringParam(query.status, 'status');
    if (status !== undefined && !KNOWN_PAYOUT_STATUSES.includes(status)) {
      throw invalid(`Invalid status: must be one of ${KNOWN_PAYOUT_STATUSES.join(', ')}`, 'status');
    }
    const arrival = rangeParam(query.arrival_date, 'arrival_date');
    const created = rangeParam(query.created, 'created');
    const all = [...data.payouts.values()]
      .sort((a, b) => b.payout.created - a.payout.created || b.seq - a.seq)
      .map((s) => s.payout)
      .filter(
        (p) => (status === undefined || p.status === status) && arrival(p.arrival_date) && created(p.created),
      );
    const page = paginate(all, query, 'payout');
    const inner = new Set([...expand].map((e) => e.replace(/^data\./, '')));
    return {
      object: 'list',
      data: page.data.map((p) => renderPayout(data, p, inner)),
      has_more: page.has_more,
      url: '/v1/payouts',
    };
  };

  const listTransactions = (data: AccountData, query: Query): JsonObject => {
    checkParams(query, [
      'payout',
      'type',
      'currency',
      'source',
      'limit',
      'starting_after',
      'ending_before',
      'expand',
    ]);
    const expand = expandParam(query.expand, ['data.source', 'data.source.charge']);
    const payoutId = stringParam(query.payout, 'payout');
    const type = stringParam(query.type, 'type');
    const currency = stringParam(query.currency, 'currency')?.toLowerCase();
    const source = stringParam(query.source, 'source');
    let items: BalanceTransaction[];
    let positions: ReadonlyMap<string, number> | undefined;
    if (payoutId !== undefined) {
      const stored = data.payouts.get(payoutId);
      if (!stored) throw noSuch('payout', payoutId, 'payout', 400);
      if (stored.payout.automatic !== true) {
        throw invalid(
          'Balance transaction history can only be filtered on automatic transfers, not manual.',
          'payout',
        );
      }
      items = stored.transactions;
      positions = stored.positions;
    } else {
      items = sortNewestFirst([...data.transactions.values()]);
    }
    if (type !== undefined || currency !== undefined || source !== undefined) {
      items = items.filter(
        (t) =>
          (type === undefined || t.type === type) &&
          (currency === undefined || t.currency === currency) &&
          (source === undefined || idOf(t.source) === source),
      );
      positions = undefined;
    }
    const page = paginate(items, query, 'balance transaction', positions);
    return {
      object: 'list',
      data: page.data.map((t) => renderTransaction(data, t, expand)),
      has_more: page.has_more,
      url: '/v1/balance_transactions',
    };
  };

  const route = (method: string, path: string, query: Query, account: string): JsonObject => {
    const data = accounts.get(account) ?? { payouts: new Map(), objects: new Map(), transactions: new Map() };
    if (method === 'GET') {
      if (path === '/v1/payouts') return listPayouts(data, query);
      if (path === '/v1/balance_transactions') return listTransactions(data, query);
      const m = /^\/v1\/payouts\/([^/]+)$/.exec(path);
      if (m?.[1]) return getPayout(data, decodeURIComponent(m[1]), query);
    }
    throw invalid(
      `Unrecognized request URL (${method}: ${path}). The Stripe stand-in serves GET /v1/payouts, ` +
        'GET /v1/payouts/:id and GET /v1/balance_transactions.',
      undefined,
      undefined,
      404,
    );
  };

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
      send(200, route(method, path, query, account ?? PLATFORM));
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
    addPayout,
    updatePayout,
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

// ------------------------------------------------------------------------------------------------- webhooks

/** The `Stripe-Signature` header Stripe would send for `payload` (timestamp in unix seconds, default now). */
export function signWebhook(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret,
    ...(timestamp !== undefined ? { timestamp } : {}),
  });
}

/**
 * A Stripe event envelope around `payout`, as Stripe would deliver it for `type` (e.g. `payout.paid`).
 * `account` (an `acct_…`, not `platform`) makes it a connected-account event. The id is random unless given.
 */
export function makePayoutEvent(
  type: string,
  payout: Payout,
  opts: { account?: string; livemode?: boolean; id?: string; created?: number } = {},
): StripeEvent {
  const account = opts.account && opts.account !== PLATFORM ? opts.account : undefined;
  return {
    id: opts.id ?? `evt_${randomBytes(12).toString('hex')}`,
    object: 'event',
    ...(account ? { account } : {}),
    api_version: STANDIN_API_VERSION,
    created: opts.created ?? Math.floor(Date.now() / 1000),
    data: { object: structuredClone(payout) },
    livemode: opts.livemode ?? payout.livemode,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}
