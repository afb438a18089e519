/**
 * The HTTP side of the QuickBooks stand-in (plain node:http): OAuth endpoints, then for /v3/company/:realmId
 * authentication, realm check, per-realm throttling, latency, `requestid` replays, fault injection and the
 * request log around the API routes of api.ts.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ApiRequest,
  faultReply as apiFaultReply,
  batchCost,
  handleApi,
  isMutation,
  type Reply,
} from './api.js';
import { Company } from './company.js';
import { exchangeRatesSchema } from './exchange-rates.js';
import {
  authenticationFailed,
  authorizationFailed,
  defaultFaultResponse,
  invalidProperty,
  QboFault,
  systemFault,
  throttleXml,
  unsupportedOperation,
} from './faults.js';
import { RealmLimiter } from './limits.js';
import { TokenStore } from './oauth.js';
import { loadState, type PersistedState, StateFile } from './persistence.js';
import { demoCompanySeed } from './seed.js';
import { deleteTxn, updateTxn } from './transactions.js';
import type {
  CompanySeed,
  FaultEnvelope,
  InjectedFault,
  QuickBooksStandIn,
  QuickBooksStandInOptions,
  RequestLogEntry,
  StandInEntityType,
} from './types.js';

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const MAX_REQUEST_ID = 50;
/** The request log keeps the most recent entries only, so a long local-mode run does not grow without bound. */
const MAX_LOG_ENTRIES = 100_000;
const MAX_BATCH_REQUEST_ID = 36;
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const REVOKE_PATH = '/oauth2/v1/tokens/revoke';
const AUTHORIZE_PATH = '/connect/oauth2';
const JSON_TYPE = 'application/json;charset=UTF-8';

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headerMap(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const newTid = () => `1-${randomBytes(12).toString('hex')}`;

function debug(line: string): void {
  if (process.env.QBO_STANDIN_DEBUG) process.stderr.write(`[qbo-standin] ${line}\n`);
}

export async function startQuickBooksStandIn(
  opts: QuickBooksStandInOptions = {},
  listen: { port?: number; host?: string } = {},
): Promise<QuickBooksStandIn> {
  const now = opts.now ?? Date.now;
  const clientId = opts.clientId ?? 'local-client-id';
  const clientSecret = opts.clientSecret ?? 'local-client-secret';
  const queryOptions = {
    emailQuery: opts.emailQuery ?? 'supported',
    emailMatch: opts.emailMatch ?? 'case-insensitive',
  } as const;
  const companies = new Map<string, Company>();
  const tokens = new TokenStore({
    clientId,
    clientSecret,
    accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 3600,
    rotation: opts.rotation ?? 'lenient',
    now,
  });
  const limiter = new RealmLimiter(
    opts.limits === undefined ? { maxInFlight: 10, perMinute: 500 } : opts.limits,
    now,
  );
  const faults: Array<InjectedFault & { remaining: number }> = [];
  let defaultEnvelope: FaultEnvelope = opts.faultEnvelope ?? 'real';
  const requestIdMemoryMs = opts.requestIdMemoryMs ?? Number.POSITIVE_INFINITY;
  const log: RequestLogEntry[] = [];
  let latencyMs = 0;

  const snapshot = (): PersistedState => ({
    version: 1,
    companies: [...companies.values()].map((c) => c.toJSON()),
    tokens: tokens.toJSON(),
  });
  const stateFile = opts.statePath ? new StateFile(opts.statePath, snapshot) : undefined;
  const changed = () => stateFile?.changed();

  const loaded = opts.statePath ? loadState(opts.statePath) : undefined;
  if (loaded) {
    for (const c of loaded.companies) companies.set(c.settings.realmId, Company.fromJSON(c));
    tokens.load(loaded.tokens);
  }
  for (const seed of opts.companies ?? [demoCompanySeed()]) {
    if (!companies.has(seed.realmId)) {
      companies.set(seed.realmId, Company.fromSeed(seed, now()));
      changed();
    }
  }

  function companyOf(realmId: string): Company {
    const c = companies.get(realmId);
    if (!c) throw new Error(`QuickBooks stand-in: no company with realmId ${realmId}`);
    return c;
  }

  function takeFault(path: string, search: string, realmId: string | undefined): InjectedFault | undefined {
    const index = faults.findIndex((f) => {
      if (f.realmId !== undefined && f.realmId !== realmId) return false;
      if (f.path === undefined) return true;
      if (typeof f.path === 'string') return path === f.path || path.endsWith(f.path);
      f.path.lastIndex = 0;
      return f.path.test(path + search);
    });
    const fault = faults[index];
    if (!fault) return undefined;
    fault.remaining--;
    if (fault.remaining <= 0) faults.splice(index, 1);
    return fault;
  }

  function faultResponse(fault: InjectedFault): Reply {
    if (fault.body === undefined)
      return {
        status: fault.status,
        ...defaultFaultResponse(fault.status, now(), fault.envelope ?? defaultEnvelope),
      };
    const contentType =
      fault.contentType ?? (fault.body.trimStart().startsWith('<') ? 'application/xml' : 'application/json');
    return { status: fault.status, body: fault.body, contentType };
  }

  /** OAuth endpoints (no throttling: Intuit meters the Accounting API, not the token server). */
  function oauth(
    method: string,
    path: string,
    url: URL,
    headers: Record<string, string | undefined>,
    body: string,
  ) {
    if (path === TOKEN_PATH && method === 'POST') {
      const reply = tokens.tokenEndpoint(headers, body);
      if (reply.status === 200) changed();
      return reply;
    }
    if (path === REVOKE_PATH && method === 'POST') {
      const reply = tokens.revokeEndpoint(headers, body);
      changed();
      return reply;
    }
    if (path === AUTHORIZE_PATH && method === 'GET')
      return tokens.authorize(url.searchParams, [...companies.keys()]);
    return undefined;
  }

  async function accounting(
    realmId: string,
    entry: RequestLogEntry,
    req: ApiRequest,
    authorization: string | undefined,
    envelope: FaultEnvelope,
  ): Promise<Reply> {
    const faultReply = (fault: QboFault, nowMs: number) => apiFaultReply(fault, nowMs, envelope);
    const auth = tokens.authenticate(authorization);
    if (!auth.ok) return faultReply(authenticationFailed(auth.reason), now());
    const company = companies.get(realmId);
    if (!company) {
      return faultReply(
        authorizationFailed(
          `Unknown realm ${realmId}: no QuickBooks company with this realmId is connected to the app.`,
        ),
        now(),
      );
    }
    if (auth.realmId !== realmId) {
      return faultReply(
        authenticationFailed(
          `The access token was issued for another company; it cannot be used for realm ${realmId}.`,
        ),
        now(),
      );
    }
    const isBatch = /^\/batch\/?$/i.test(req.subPath) && req.method === 'POST';
    const cost = isBatch ? batchCost(req.body) : 1;
    if (isBatch) entry.batchItems = cost;
    if (!limiter.admit(realmId, cost, isBatch)) {
      return { status: 429, body: throttleXml(now()), contentType: 'application/xml' };
    }
    try {
      if (latencyMs > 0) await sleep(latencyMs);
      if (req.requestId !== undefined && req.method === 'POST') {
        const max = isBatch ? MAX_BATCH_REQUEST_ID : MAX_REQUEST_ID;
        if (req.requestId.length > max) {
          return faultReply(
            invalidProperty(
              `requestid is ${req.requestId.length} characters long; at most ${max} are allowed here.`,
            ),
            now(),
          );
        }
        const stored = company.replays.get(req.requestId);
        // QuickBooks' memory of a requestid is undocumented (external-apis.md §7): configurable here.
        if (stored && now() - (stored.at ?? now()) < requestIdMemoryMs) {
          const { at: _at, ...replay } = stored;
          return { ...replay, ...(isBatch ? { batchItems: cost } : {}) };
        }
      }
      const reply = handleApi({ company, nowMs: now(), queryOptions, envelope }, req);
      if (isMutation(req, reply)) {
        if (req.requestId !== undefined) {
          company.replays.set(req.requestId, {
            status: reply.status,
            body: reply.body,
            contentType: reply.contentType,
            at: now(),
          });
        }
        changed();
      }
      return reply;
    } finally {
      limiter.release(realmId);
    }
  }

  /** No answer: the connection stays open until the client gives up (logged with status 0). */
  function hang(entry: RequestLogEntry, res: ServerResponse): void {
    entry.status = 0;
    log.push(entry);
    res.on('close', () => res.destroy());
    debug(`${entry.method} ${entry.path} → no answer (hang)`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://stand-in.local');
    const path = url.pathname;
    const realmMatch = /^\/v3\/company\/([^/]+)(\/.*)?$/.exec(path);
    const realmId = realmMatch?.[1] ? decodeURIComponent(realmMatch[1]) : undefined;
    const requestId = url.searchParams.get('requestid') ?? undefined;
    const entry: RequestLogEntry = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      ...(realmId !== undefined ? { realmId } : {}),
      status: 0,
      ...(requestId !== undefined ? { requestId } : {}),
      at,
    };
    let reply: Reply;
    try {
      const headers = headerMap(req);
      const raw = await readBody(req);
      let body: string;
      try {
        body = new TextDecoder('utf-8', { fatal: true }).decode(raw);
      } catch {
        throw unsupportedOperation('with a body that is not UTF-8');
      }
      let fault = takeFault(path, url.search, realmId);
      let envelope = defaultEnvelope;
      if (fault?.status === 0) {
        // Not a fault: this request's own fault answers take the given form.
        envelope = fault.envelope ?? defaultEnvelope;
        fault = undefined;
      }
      if (fault?.hang && !fault.afterProcessing) {
        hang(entry, res);
        return;
      }
      if (fault && !fault.afterProcessing) {
        reply = faultResponse(fault);
      } else {
        if (latencyMs > 0 && realmId === undefined) await sleep(latencyMs);
        const viaOAuth = oauth(method, path, url, headers, body);
        if (viaOAuth) {
          reply = viaOAuth;
        } else if (realmId !== undefined) {
          reply = await accounting(
            realmId,
            entry,
            {
              method,
              subPath: realmMatch?.[2] ?? '/',
              query: url.searchParams,
              contentType: headers['content-type'] ?? '',
              body,
              ...(requestId !== undefined ? { requestId } : {}),
            },
            headers.authorization,
            envelope,
          );
        } else {
          reply = {
            status: 404,
            body: JSON.stringify({
              error: 'not_found',
              error_description: `No route ${method} ${path} on the QuickBooks stand-in.`,
            }),
            contentType: JSON_TYPE,
          };
        }
        if (fault?.afterProcessing && fault.hang) {
          hang(entry, res);
          return;
        }
        if (fault?.afterProcessing)
          reply = { ...faultResponse(fault), ...(reply.batchItems ? { batchItems: reply.batchItems } : {}) };
      }
    } catch (e) {
      if (e instanceof QboFault) reply = apiFaultReply(e, now(), defaultEnvelope);
      else if (e instanceof BodyTooLarge) {
        reply = apiFaultReply(
          new QboFault(413, '413', 'Request Entity Too Large', 'The body exceeds 20 MiB.'),
          now(),
          defaultEnvelope,
        );
      } else {
        debug(`internal error on ${method} ${path}: ${(e as Error).stack ?? String(e)}`);
        reply = apiFaultReply(systemFault(500), now(), defaultEnvelope);
      }
    }
    entry.status = reply.status;
    const resHeaders: Record<string, string> = { 'content-type': reply.contentType, intuit_tid: newTid() };
    if (reply.location) resHeaders.location = reply.location;
    res.writeHead(reply.status, resHeaders);
    res.end(reply.body);
    log.push(entry);
    if (log.length > MAX_LOG_ENTRIES) log.splice(0, log.length - MAX_LOG_ENTRIES);
    debug(`${method} ${path} → ${reply.status}${entry.batchItems ? ` (${entry.batchItems} items)` : ''}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      debug(`unhandled: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': JSON_TYPE, intuit_tid: newTid() });
      res.end();
    });
  });
  server.keepAliveTimeout = 5_000;
  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const origin = `http://${shownHost}:${address.port}`;
  debug(`listening on ${origin}`);
  let closed: Promise<void> | undefined;

  return {
    url: origin,
    tokenUrl: `${origin}${TOKEN_PATH}`,
    authorizeUrl: `${origin}${AUTHORIZE_PATH}`,
    revokeUrl: `${origin}${REVOKE_PATH}`,
    clientId,
    clientSecret,
    addCompany(seed: CompanySeed): void {
      if (companies.has(seed.realmId))
        throw new Error(`QuickBooks stand-in: company ${seed.realmId} already exists`);
      companies.set(seed.realmId, Company.fromSeed(seed, now()));
      changed();
    },
    setCompany(realmId, patch): void {
      const s = companyOf(realmId).settings;
      if ('closedBefore' in patch) {
        if (patch.closedBefore === undefined) delete s.closedBefore;
        else s.closedBefore = patch.closedBefore;
      }
      if (patch.multicurrency !== undefined) s.multicurrency = patch.multicurrency;
      if (patch.classTrackingPerTxnLine !== undefined)
        s.classTrackingPerTxnLine = patch.classTrackingPerTxnLine;
      if (patch.homeCurrency !== undefined) s.homeCurrency = patch.homeCurrency.toUpperCase();
      if (patch.exchangeRates !== undefined) s.exchangeRates = exchangeRatesSchema.parse(patch.exchangeRates);
      s.prefsSyncToken++;
      changed();
    },
    issueRefreshToken(realmId: string): string {
      companyOf(realmId);
      const token = tokens.issueRefreshToken(realmId);
      changed();
      return token;
    },
    revokeAll(realmId: string): void {
      tokens.revokeAll(realmId);
      changed();
    },
    editAsPerson(realmId, type, id, patch): Record<string, unknown> {
      const company = companyOf(realmId);
      const current = company.store(type).get(id);
      if (!current) throw new Error(`QuickBooks stand-in: no ${type} ${id} in ${realmId}`);
      const edited = updateTxn({ company, nowMs: now() }, type, {
        ...patch,
        Id: id,
        SyncToken: current.SyncToken,
        sparse: true,
      });
      changed();
      return structuredClone(edited);
    },
    deleteAsPerson(realmId, type, id): void {
      const company = companyOf(realmId);
      const current = company.store(type).get(id);
      if (!current) throw new Error(`QuickBooks stand-in: no ${type} ${id} in ${realmId}`);
      deleteTxn({ company, nowMs: now() }, type, { Id: id, SyncToken: current.SyncToken });
      changed();
    },
    entities(realmId: string, type: StandInEntityType): Record<string, unknown>[] {
      const rows = [...companyOf(realmId).store(type).values()];
      rows.sort((a, b) => Number(a.Id) - Number(b.Id));
      return rows.map((r) => structuredClone(r));
    },
    setFaultEnvelope(envelope: FaultEnvelope): void {
      defaultEnvelope = envelope;
    },
    forgetRequestIds(realmId?: string): void {
      for (const [id, company] of companies)
        if (realmId === undefined || id === realmId) company.replays.clear();
      changed();
    },
    injectFault(fault: InjectedFault): void {
      faults.push({ ...fault, remaining: fault.count ?? 1 });
    },
    setLatency(ms: number): void {
      latencyMs = Math.max(0, ms);
    },
    get requests(): ReadonlyArray<RequestLogEntry> {
      return log;
    },
    clearRequests(): void {
      log.length = 0;
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => stateFile?.flush());
      return closed;
    },
  };
}
