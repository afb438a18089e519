/**
 * QuickBooks Online Accounting API v3 over axios: one `QuickBooksBooks` per company (realm), authenticated by the
 * token manager, kept within QuickBooks' limits by the per-realm limiter, retried with exponential backoff and full
 * jitter on throttling, 5xx, network errors and timeouts (never on validation faults), and giving up with a
 * `TransientError` before the caller's deadline (a Lambda's remaining time).
 *
 * Every write carries a `requestid`, so a retried write gets QuickBooks' original answer instead of a duplicate.
 */
import { randomUUID } from 'node:crypto';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { z } from 'zod';
import { PermanentError } from '../../app/errors.js';
import type {
  PostedRef,
  QboAccount,
  QboChart,
  QboClass,
  QboCustomer,
  QuickBooksBooks,
  TokenStore,
} from '../../app/ports.js';
import { sanitizeDisplayName } from '../../app/resolve-customers.js';
import { normaliseEmail } from '../../domain/members.js';
import type { QboEntry } from '../../domain/types.js';
import {
  errorForResponse,
  FaultSchema,
  faultFromObject,
  QboReconnectRequiredError,
  QboTransientError,
  QboValidationFault,
} from './faults.js';
import { LimiterRegistry, processLimiters, type RateLimiter } from './limiter.js';
import { type QboLogger, QboTokenManager } from './tokens.js';

export const DEFAULT_API_BASE = 'https://quickbooks.api.intuit.com';
export const SANDBOX_API_BASE = 'https://sandbox-quickbooks.api.intuit.com';
export const MINOR_VERSION = 75;
/** QuickBooks' batch limit. */
export const BATCH_SIZE = 30;
/** QuickBooks' query page limit. */
export const PAGE_SIZE = 1000;
const MAX_NAME_ATTEMPTS = 10;

export interface QuickBooksClientOptions {
  tokens: TokenStore;
  clientId: string;
  clientSecret: string;
  /** API origin (`QBO_API_BASE`); default `QBO_API_BASE` from the environment, else production. */
  apiBase?: string;
  /** Token endpoint (`QBO_OAUTH_TOKEN_URL`); default from the environment, else Intuit's. */
  tokenUrl?: string;
  retry?: {
    /** Attempts per request, the first included (default 6). */
    maxAttempts?: number;
    /** Backoff base: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs·2ⁿ⁻¹)] (default 500 ms). */
    baseDelayMs?: number;
    /** Default 20 s. */
    maxDelayMs?: number;
  };
  /** Per-realm limits; omitted: the process-wide limiter (10 in flight, 500 units a minute). */
  limits?: { maxInFlight?: number; perMinute?: number; windowMs?: number };
  /** Epoch ms by which calls must give up (a Lambda's remaining time); a `TransientError` is thrown before it. */
  deadline?: () => number;
  /** Margin kept before the deadline (default 1 s). */
  deadlineReserveMs?: number;
  /** Per-request timeout (default 30 s; never beyond the deadline). */
  timeoutMs?: number;
  /** Shares a token manager (e.g. with the connect flow); built from the options above when omitted. */
  tokenManager?: QboTokenManager;
  logger?: QboLogger;
}

/** Calls made to QuickBooks for one realm (the benchmark reports them). */
export interface QboRealmCalls {
  /** HTTP requests to the API, retries included. */
  requests: number;
  batchRequests: number;
  batchItems: number;
  /** Request units (a batch of n items counts n). */
  units: number;
  /** Requests that were attempts after a failure. */
  retries: number;
  /** 429 / 3001 answers. */
  throttled: number;
  /** Calls to the token endpoint that refreshed the access token. */
  tokenRefreshes: number;
}

const emptyCalls = (): QboRealmCalls => ({
  requests: 0,
  batchRequests: 0,
  batchItems: 0,
  units: 0,
  retries: 0,
  throttled: 0,
  tokenRefreshes: 0,
});

export class QboCallCounters {
  private readonly byRealm = new Map<string, QboRealmCalls>();
  /** Token refreshes already made at the last `reset()`. */
  private readonly refreshBaseline = new Map<string, number>();
  constructor(private readonly refreshes: (realmId: string) => number) {}

  /** @internal The live counters of a realm, updated by its client. */
  mutable(realmId: string): QboRealmCalls {
    let calls = this.byRealm.get(realmId);
    if (!calls) {
      calls = emptyCalls();
      this.byRealm.set(realmId, calls);
    }
    return calls;
  }

  forRealm(realmId: string): QboRealmCalls {
    const tokenRefreshes = this.refreshes(realmId) - (this.refreshBaseline.get(realmId) ?? 0);
    return { ...(this.byRealm.get(realmId) ?? emptyCalls()), tokenRefreshes };
  }

  realms(): string[] {
    return [...this.byRealm.keys()];
  }

  total(): QboRealmCalls {
    const sum = emptyCalls();
    for (const realm of this.byRealm.keys()) {
      const c = this.forRealm(realm);
      for (const k of Object.keys(sum) as (keyof QboRealmCalls)[]) sum[k] += c[k];
    }
    return sum;
  }

  /** Zeroes every counter (the benchmark measures one run at a time). */
  reset(): void {
    for (const [realm, calls] of this.byRealm) {
      Object.assign(calls, emptyCalls());
      this.refreshBaseline.set(realm, this.refreshes(realm));
    }
  }
}

export class QuickBooksClientFactory {
  readonly apiBase: string;
  readonly tokenManager: QboTokenManager;
  readonly calls: QboCallCounters;
  private readonly limiters: LimiterRegistry;
  private readonly http: AxiosInstance;
  private readonly clients = new Map<string, QuickBooksRealmClient>();

  constructor(private readonly opts: QuickBooksClientOptions) {
    this.apiBase = (opts.apiBase ?? process.env.QBO_API_BASE ?? DEFAULT_API_BASE).replace(/\/+$/, '');
    this.tokenManager =
      opts.tokenManager ??
      new QboTokenManager({
        store: opts.tokens,
        clientId: opts.clientId,
        clientSecret: opts.clientSecret,
        ...(opts.tokenUrl !== undefined ? { tokenUrl: opts.tokenUrl } : {}),
        ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
      });
    this.calls = new QboCallCounters((realmId) => this.tokenManager.refreshes(realmId));
    this.limiters = opts.limits ? new LimiterRegistry(opts.limits) : processLimiters;
    this.http = axios.create({
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      maxRedirects: 0,
    });
  }

  /** The limiter used for a realm (tests read its counters). */
  limiter(realmId: string): RateLimiter {
    return this.limiters.forRealm(realmId);
  }

  /** The books of one company. `tenantId` only makes error hints name the right `connect --tenant` command. */
  forRealm(realmId: string, ctx: { tenantId?: string } = {}): QuickBooksRealmClient {
    const key = `${realmId}\u0000${ctx.tenantId ?? ''}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new QuickBooksRealmClient({
        realmId,
        tenantId: ctx.tenantId,
        apiBase: this.apiBase,
        http: this.http,
        tokens: this.tokenManager,
        limiter: this.limiters.forRealm(realmId),
        calls: this.calls.mutable(realmId),
        options: this.opts,
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

// ---------------------------------------------------------------- response schemas (only the fields used)

const IdSchema = z.union([z.string(), z.number()]).transform(String);

const CustomerSchema = z
  .object({
    Id: IdSchema,
    DisplayName: z.string().default(''),
    PrimaryEmailAddr: z.object({ Address: z.string().optional() }).loose().optional(),
    Active: z.boolean().default(true),
    MetaData: z.object({ CreateTime: z.string().optional() }).loose().optional(),
  })
  .loose();

const AccountSchema = z
  .object({
    Id: IdSchema,
    Name: z.string(),
    FullyQualifiedName: z.string().optional(),
    AccountType: z.string(),
    AccountSubType: z.string().optional(),
    Active: z.boolean().default(true),
    CurrencyRef: z.object({ value: z.string() }).loose().optional(),
  })
  .loose();

const ClassSchema = z
  .object({
    Id: IdSchema,
    Name: z.string(),
    FullyQualifiedName: z.string().optional(),
    Active: z.boolean().default(true),
  })
  .loose();

const QueryResponseSchema = z
  .object({
    Customer: z.array(CustomerSchema).optional(),
    Account: z.array(AccountSchema).optional(),
    Class: z.array(ClassSchema).optional(),
    totalCount: z.number().optional(),
  })
  .loose();

const QueryEnvelopeSchema = z.object({ QueryResponse: QueryResponseSchema.default({}) }).loose();

const BatchItemResponseSchema = z
  .object({
    bId: IdSchema,
    Fault: FaultSchema.optional(),
    QueryResponse: QueryResponseSchema.optional(),
    Customer: CustomerSchema.optional(),
  })
  .loose();

const BatchEnvelopeSchema = z.object({ BatchItemResponse: z.array(BatchItemResponseSchema) }).loose();

const EntitySchema = z.object({ Id: IdSchema, SyncToken: IdSchema.optional() }).loose();

const PreferencesSchema = z
  .object({
    Preferences: z
      .object({
        AccountingInfoPrefs: z.object({ ClassTrackingPerTxnLine: z.boolean().optional() }).loose().optional(),
        CurrencyPrefs: z
          .object({
            MultiCurrencyEnabled: z.boolean().optional(),
            HomeCurrency: z.object({ value: z.string() }).loose().optional(),
          })
          .loose()
          .optional(),
      })
      .loose(),
  })
  .loose();

type QueryResponse = z.infer<typeof QueryResponseSchema>;
type BatchItemResponse = z.infer<typeof BatchItemResponseSchema>;

// ---------------------------------------------------------------- helpers

/** A QuickBooks query string literal: `'` escaped as `\'` (and `\` as `\\`). */
export function qboQuoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function toCustomer(c: z.infer<typeof CustomerSchema>): QboCustomer {
  const email = normaliseEmail(c.PrimaryEmailAddr?.Address);
  return {
    id: c.Id,
    displayName: c.DisplayName,
    ...(email !== undefined ? { email } : {}),
    active: c.Active,
    ...(c.MetaData?.CreateTime !== undefined ? { createTime: c.MetaData.CreateTime } : {}),
  };
}

function toAccount(a: z.infer<typeof AccountSchema>): QboAccount {
  return {
    id: a.Id,
    name: a.Name,
    fullyQualifiedName: a.FullyQualifiedName ?? a.Name,
    accountType: a.AccountType,
    ...(a.AccountSubType !== undefined ? { accountSubType: a.AccountSubType } : {}),
    active: a.Active,
    ...(a.CurrencyRef?.value !== undefined ? { currency: a.CurrencyRef.value.toUpperCase() } : {}),
  };
}

function toClass(c: z.infer<typeof ClassSchema>): QboClass {
  return { id: c.Id, name: c.Name, fullyQualifiedName: c.FullyQualifiedName ?? c.Name, active: c.Active };
}

const createdAt = (c: QboCustomer) => {
  const t = c.createTime ? Date.parse(c.createTime) : Number.NaN;
  return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
};

/**
 * Orders customers sharing an email: active before inactive, then the oldest (`MetaData.CreateTime`), then the
 * lowest Id. The first one is the winner.
 */
export function rankCustomers(customers: readonly QboCustomer[]): QboCustomer[] {
  return [...customers].sort(
    (a, b) =>
      Number(b.active) - Number(a.active) ||
      createdAt(a) - createdAt(b) ||
      Number(a.id) - Number(b.id) ||
      a.id.localeCompare(b.id),
  );
}

/** The DisplayName to try for a member after `attempt` duplicate-name refusals. */
export function displayNameCandidate(displayName: string, email: string, attempt: number): string {
  const base = sanitizeDisplayName(displayName) || sanitizeDisplayName(email);
  const named = base.toLowerCase() !== email.toLowerCase();
  let suffix = '';
  if (attempt >= 1) {
    if (named) suffix = attempt === 1 ? ` (${email})` : ` (${email}) ${attempt}`;
    else suffix = ` (${attempt + 1})`;
  }
  const room = 500 - suffix.length;
  return sanitizeDisplayName(`${base.slice(0, Math.max(1, room)).trimEnd()}${suffix}`);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `j***@example.com`: emails never reach logs in full. */
export function maskEmail(email: string): string {
  const at = email.indexOf('@');
  return at <= 0 ? '***' : `${email[0]}***${email.slice(at)}`;
}

/** Attaches the customers already created to an error thrown part-way, so the caller can still map them. */
function withCreated(e: unknown, created: Map<string, QboCustomer>): unknown {
  if (created.size > 0 && e instanceof Error) Object.assign(e, { createdCustomers: created });
  return e;
}

interface SendRequest<T> {
  method: 'GET' | 'POST';
  /** Below `/v3/company/<realm>`. */
  path: string;
  params?: Record<string, string>;
  body?: unknown;
  /** Request units for the limiter (a batch of n items costs n). */
  units?: number;
  batchItems?: number;
  /** For messages: "the deposit", "the customer query"… */
  operation: string;
  schema: z.ZodType<T>;
}

interface RealmClientDeps {
  realmId: string;
  tenantId: string | undefined;
  apiBase: string;
  http: AxiosInstance;
  tokens: QboTokenManager;
  limiter: RateLimiter;
  calls: QboRealmCalls;
  options: QuickBooksClientOptions;
}

// ---------------------------------------------------------------- the books of one company

export class QuickBooksRealmClient implements QuickBooksBooks {
  readonly realmId: string;
  private readonly tenantId: string | undefined;
  private readonly deps: RealmClientDeps;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly reserveMs: number;
  private readonly timeoutMs: number;
  /** Set after a 4001 on a PrimaryEmailAddr query: this company is matched by paging from then on. */
  private emailQueryRefused = false;

  constructor(deps: RealmClientDeps) {
    this.deps = deps;
    this.realmId = deps.realmId;
    this.tenantId = deps.tenantId;
    const retry = deps.options.retry ?? {};
    this.maxAttempts = Math.max(1, retry.maxAttempts ?? 6);
    this.baseDelayMs = Math.max(0, retry.baseDelayMs ?? 500);
    this.maxDelayMs = Math.max(this.baseDelayMs, retry.maxDelayMs ?? 20_000);
    this.reserveMs = deps.options.deadlineReserveMs ?? 1000;
    this.timeoutMs = deps.options.timeoutMs ?? 30_000;
  }

  // ------------------------------------------------------------ customers

  async findCustomersByEmail(emails: readonly string[]): Promise<Map<string, QboCustomer>> {
    const wanted = [
      ...new Set(emails.map((e) => normaliseEmail(e)).filter((e): e is string => e !== undefined)),
    ];
    if (wanted.length === 0) return new Map();
    if (this.emailQueryRefused) return this.matchByPaging(wanted);
    const lookupBatches = Math.ceil(wanted.length / BATCH_SIZE);
    // With a single lookup batch, paging can never take fewer calls: skip the count.
    if (lookupBatches > 1) {
      const count = await this.countCustomers();
      if (Math.ceil(count / PAGE_SIZE) < lookupBatches) return this.matchByPaging(wanted, count);
    }
    try {
      return await this.lookupByEmail(wanted);
    } catch (e) {
      if (e instanceof QboValidationFault && e.hasCode('4001')) {
        this.emailQueryRefused = true;
        this.deps.options.logger?.warn(
          'QuickBooks refused a query on PrimaryEmailAddr (4001); matching by paging',
          {
            realmId: this.realmId,
          },
        );
        return this.matchByPaging(wanted);
      }
      throw e;
    }
  }

  async createCustomers(
    members: readonly { email: string; displayName: string }[],
  ): Promise<Map<string, QboCustomer>> {
    const created = new Map<string, QboCustomer>();
    const byEmail = new Map<string, string>();
    for (const m of members) {
      const email = normaliseEmail(m.email);
      if (email !== undefined && !byEmail.has(email)) byEmail.set(email, m.displayName);
    }
    let pending = [...byEmail].map(([email, displayName]) => ({ email, displayName, attempt: 0 }));
    while (pending.length > 0) {
      const retry: typeof pending = [];
      // Every batch is awaited (settled) before an error is thrown, so nothing created goes unreported.
      const outcomes = await Promise.allSettled(
        chunk(pending, BATCH_SIZE).map(async (group) => {
          const items = group.map((m, i) => ({
            bId: String(i),
            operation: 'create',
            Customer: {
              DisplayName: displayNameCandidate(m.displayName, m.email, m.attempt),
              PrimaryEmailAddr: { Address: m.email },
            },
          }));
          const responses = await this.batch(items, 'the customer creation batch', true);
          let firstFailure: Error | undefined;
          group.forEach((m, i) => {
            const r = responses.get(String(i));
            if (r?.Customer) {
              created.set(m.email, { ...toCustomer(r.Customer), email: m.email });
              return;
            }
            const fault = r?.Fault
              ? new QboValidationFault(faultFromObject(r.Fault), {
                  status: 200,
                  operation: `the creation of customer ${maskEmail(m.email)}`,
                  tenantId: this.tenantId,
                })
              : new QboTransientError(
                  `QuickBooks returned no answer for customer ${maskEmail(m.email)} in a batch`,
                );
            if (
              fault instanceof QboValidationFault &&
              fault.hasCode('6240') &&
              m.attempt + 1 < MAX_NAME_ATTEMPTS
            ) {
              retry.push({ ...m, attempt: m.attempt + 1 });
            } else {
              firstFailure ??= fault;
            }
          });
          if (firstFailure) throw firstFailure;
        }),
      );
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw withCreated(failed.reason, created);
      pending = retry;
    }
    return created;
  }

  listCustomers(onPage?: (readSoFar: number) => void): Promise<QboCustomer[]> {
    return this.pageCustomers(undefined, onPage);
  }

  async findCustomerByName(displayName: string): Promise<QboCustomer | undefined> {
    const name = displayName.trim();
    const r = await this.query(
      `SELECT * FROM Customer WHERE DisplayName = ${qboQuoted(name)}`,
      'the customer query',
    );
    const found = (r.Customer ?? []).map(toCustomer);
    return (
      rankCustomers(found.filter((c) => c.displayName === name))[0] ??
      rankCustomers(found.filter((c) => c.displayName.trim().toLowerCase() === name.toLowerCase()))[0]
    );
  }

  // ------------------------------------------------------------ entries

  async createEntry(entry: QboEntry, requestId: string): Promise<PostedRef> {
    checkRequestId(requestId, 50);
    const entity = entry.type;
    const { data } = await this.send({
      method: 'POST',
      path: `/${entity.toLowerCase()}`,
      params: { requestid: requestId },
      body: entry.body,
      operation: `the ${entity}`,
      schema: z.object({ [entity]: EntitySchema }).loose(),
    });
    const posted = (data as Record<string, z.infer<typeof EntitySchema>>)[entity];
    if (!posted) throw new QboTransientError(`QuickBooks accepted the ${entity} without returning it`);
    return { type: entity, id: posted.Id };
  }

  async getEntry(
    ref: PostedRef,
  ): Promise<{ id: string; syncToken: string; body: Record<string, unknown> } | undefined> {
    try {
      const { data } = await this.send({
        method: 'GET',
        path: `/${ref.type.toLowerCase()}/${encodeURIComponent(ref.id)}`,
        operation: `reading ${ref.type} ${ref.id}`,
        schema: z.object({ [ref.type]: EntitySchema }).loose(),
      });
      const entity = (data as Record<string, z.infer<typeof EntitySchema>>)[ref.type];
      if (!entity) return undefined;
      return { id: entity.Id, syncToken: entity.SyncToken ?? '0', body: entity as Record<string, unknown> };
    } catch (e) {
      if (e instanceof QboValidationFault && (e.hasCode('610') || e.status === 404)) return undefined;
      throw e;
    }
  }

  async deleteEntry(ref: PostedRef, requestId: string): Promise<'deleted' | 'gone' | 'refused'> {
    checkRequestId(requestId, 50);
    for (let attempt = 0; attempt < 2; attempt++) {
      const current = await this.getEntry(ref);
      if (!current) return 'gone';
      try {
        await this.send({
          method: 'POST',
          path: `/${ref.type.toLowerCase()}`,
          params: {
            operation: 'delete',
            requestid: attempt === 0 ? requestId : `${requestId.slice(0, 47)}-s${attempt}`,
          },
          body: { Id: current.id, SyncToken: current.syncToken },
          operation: `deleting ${ref.type} ${ref.id}`,
          schema: z.unknown(),
        });
        return 'deleted';
      } catch (e) {
        if (!(e instanceof QboValidationFault)) throw e;
        if (e.hasCode('610') || e.status === 404) return 'gone';
        if (e.hasCode('5010') && attempt === 0) continue; // changed meanwhile: re-read the SyncToken once
        this.deps.options.logger?.warn('QuickBooks refused to delete the entry', {
          realmId: this.realmId,
          type: ref.type,
          id: ref.id,
          code: e.code,
          intuitTid: e.intuitTid,
        });
        return 'refused';
      }
    }
    return 'refused';
  }

  // ------------------------------------------------------------ chart

  async getChart(): Promise<QboChart> {
    const [accounts, classes, prefs] = await Promise.all([
      this.pageAll('Account', 'WHERE Active IN (true,false)', 'the account query'),
      this.pageAll('Class', 'WHERE Active IN (true,false)', 'the class query'),
      this.send({
        method: 'GET',
        path: '/preferences',
        operation: 'reading the company preferences',
        schema: PreferencesSchema,
      }),
    ]);
    const p = prefs.data.Preferences;
    return {
      accounts: accounts.flatMap((r) => (r.Account ?? []).map(toAccount)),
      classes: classes.flatMap((r) => (r.Class ?? []).map(toClass)),
      company: {
        homeCurrency: (p.CurrencyPrefs?.HomeCurrency?.value ?? 'USD').toUpperCase(),
        multicurrency: p.CurrencyPrefs?.MultiCurrencyEnabled ?? false,
        classTrackingPerTxnLine: p.AccountingInfoPrefs?.ClassTrackingPerTxnLine ?? false,
      },
    };
  }

  // ------------------------------------------------------------ customer lookups

  private async countCustomers(): Promise<number> {
    const r = await this.query('SELECT COUNT(*) FROM Customer', 'the customer count');
    return r.totalCount ?? 0;
  }

  /** Batched `PrimaryEmailAddr = …` queries, 30 a batch; the first batch alone, so a 4001 costs one call. */
  private async lookupByEmail(wanted: readonly string[]): Promise<Map<string, QboCustomer>> {
    const found = new Map<string, QboCustomer>();
    const groups = chunk(wanted, BATCH_SIZE);
    const runGroup = async (group: string[]) => {
      const items = group.map((email, i) => ({
        bId: String(i),
        Query: `SELECT * FROM Customer WHERE PrimaryEmailAddr = ${qboQuoted(email)}`,
      }));
      const responses = await this.batch(items, 'the customer lookup batch', false);
      group.forEach((email, i) => {
        const r = responses.get(String(i));
        if (r?.Fault) {
          throw new QboValidationFault(faultFromObject(r.Fault), {
            status: 200,
            operation: 'the customer lookup by email',
            tenantId: this.tenantId,
          });
        }
        if (!r) throw new QboTransientError('QuickBooks returned no answer for a lookup in a batch');
        // The server-side match is not trusted: re-check it case-insensitively.
        const matches = (r.QueryResponse?.Customer ?? []).map(toCustomer).filter((c) => c.email === email);
        const winner = rankCustomers(matches)[0];
        if (winner?.active) found.set(email, winner);
      });
    };
    const [first, ...rest] = groups;
    if (first) await runGroup(first);
    const outcomes = await Promise.allSettled(rest.map(runGroup));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return found;
  }

  private async matchByPaging(
    wanted: readonly string[],
    knownCount?: number,
  ): Promise<Map<string, QboCustomer>> {
    const set = new Set(wanted);
    const candidates = new Map<string, QboCustomer[]>();
    if (knownCount === 0) return new Map();
    for (const c of await this.pageCustomers(knownCount)) {
      if (c.email === undefined || !set.has(c.email)) continue;
      const list = candidates.get(c.email) ?? [];
      list.push(c);
      candidates.set(c.email, list);
    }
    const found = new Map<string, QboCustomer>();
    for (const [email, list] of candidates) {
      const winner = rankCustomers(list)[0];
      if (winner?.active) found.set(email, winner);
    }
    return found;
  }

  /**
   * Every active customer, 1000 a page. With a known count the pages are fetched concurrently (the limiter keeps
   * them within bounds); paging continues while pages come back full.
   */
  private async pageCustomers(
    knownCount?: number,
    onPage?: (readSoFar: number) => void,
  ): Promise<QboCustomer[]> {
    const pageAt = (start: number) =>
      this.query(
        `SELECT * FROM Customer STARTPOSITION ${start} MAXRESULTS ${PAGE_SIZE}`,
        'the customer list query',
      ).then((r) => (r.Customer ?? []).map(toCustomer));
    const byId = new Map<string, QboCustomer>();
    let readSoFar = 0;
    const add = (page: QboCustomer[]) => {
      for (const c of page) byId.set(c.id, c);
      readSoFar += page.length;
      onPage?.(readSoFar);
    };
    let next = 1;
    let lastFull = true;
    if (knownCount !== undefined && knownCount > 0) {
      const pages = Math.ceil(knownCount / PAGE_SIZE);
      const starts = Array.from({ length: pages }, (_, i) => i * PAGE_SIZE + 1);
      const results = await Promise.all(starts.map(pageAt));
      for (const page of results) add(page);
      next = pages * PAGE_SIZE + 1;
      lastFull = (results[results.length - 1]?.length ?? 0) === PAGE_SIZE;
    }
    while (lastFull) {
      const page = await pageAt(next);
      add(page);
      next += PAGE_SIZE;
      lastFull = page.length === PAGE_SIZE;
    }
    return [...byId.values()].filter((c) => c.active);
  }

  private async pageAll(
    entity: 'Account' | 'Class',
    where: string,
    operation: string,
  ): Promise<QueryResponse[]> {
    const out: QueryResponse[] = [];
    for (let start = 1; ; start += PAGE_SIZE) {
      const r = await this.query(
        `SELECT * FROM ${entity} ${where} STARTPOSITION ${start} MAXRESULTS ${PAGE_SIZE}`,
        operation,
      );
      out.push(r);
      if ((r[entity]?.length ?? 0) < PAGE_SIZE) return out;
    }
  }

  private async query(q: string, operation: string): Promise<QueryResponse> {
    const { data } = await this.send({
      method: 'GET',
      path: '/query',
      params: { query: q },
      operation,
      schema: QueryEnvelopeSchema,
    });
    return data.QueryResponse;
  }

  /** One batch request (≤ 30 items, costing one unit each); answers by bId. */
  private async batch(
    items: readonly Record<string, unknown>[],
    operation: string,
    write: boolean,
  ): Promise<Map<string, BatchItemResponse>> {
    if (items.length > BATCH_SIZE) throw new Error(`a QuickBooks batch holds at most ${BATCH_SIZE} items`);
    const { data } = await this.send({
      method: 'POST',
      path: '/batch',
      // A UUID is 36 characters: the batch requestid limit. Queries get one too; it is harmless.
      params: write ? { requestid: randomUUID() } : {},
      body: { BatchItemRequest: items },
      units: items.length,
      batchItems: items.length,
      operation,
      schema: BatchEnvelopeSchema,
    });
    return new Map(data.BatchItemResponse.map((r) => [r.bId, r]));
  }

  // ------------------------------------------------------------ transport

  private deadlineAt(): number | undefined {
    const d = this.deps.options.deadline?.();
    return d === undefined ? undefined : d - this.reserveMs;
  }

  private async send<T>(req: SendRequest<T>): Promise<{ data: T; intuitTid?: string }> {
    const { calls, limiter, tokens, http } = this.deps;
    const units = req.units ?? 1;
    const url = `${this.deps.apiBase}/v3/company/${encodeURIComponent(this.realmId)}${req.path}`;
    let refreshedAfter401 = false;
    let lastError: QboTransientError | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; ) {
      const giveUpAt = this.deadlineAt();
      if (giveUpAt !== undefined && Date.now() >= giveUpAt) {
        throw lastError ?? new QboTransientError(`no time left for ${req.operation} before the deadline`);
      }
      const token = await tokens.accessToken(this.realmId, { tenantId: this.tenantId });
      const release = await limiter.acquire(units, giveUpAt !== undefined ? { giveUpAt } : {});
      let response: AxiosResponse<unknown> | undefined;
      let networkError: unknown;
      try {
        calls.requests += 1;
        calls.units += units;
        if (req.batchItems !== undefined) {
          calls.batchRequests += 1;
          calls.batchItems += req.batchItems;
        }
        if (attempt > 1) calls.retries += 1;
        const timeout =
          giveUpAt !== undefined
            ? Math.max(1, Math.min(this.timeoutMs, giveUpAt - Date.now()))
            : this.timeoutMs;
        response = await http.request({
          method: req.method,
          url,
          params: { ...req.params, minorversion: String(MINOR_VERSION) },
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/json',
            ...(req.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          },
          ...(req.body !== undefined ? { data: JSON.stringify(req.body) } : {}),
          timeout,
        });
      } catch (e) {
        networkError = e;
      } finally {
        release();
      }

      let failure: QboTransientError;
      if (response === undefined) {
        const code = axios.isAxiosError(networkError) ? networkError.code : undefined;
        failure = new QboTransientError(
          `could not reach QuickBooks for ${req.operation}: ${code ?? (networkError instanceof Error ? networkError.message : 'network error')}`,
          { ...(code !== undefined ? { code } : {}), cause: networkError },
        );
      } else {
        const intuitTid = headerValue(response.headers, 'intuit_tid');
        if (response.status === 401) {
          if (refreshedAfter401) {
            throw new QboReconnectRequiredError(
              this.realmId,
              'unauthorized',
              'QuickBooks refused a freshly refreshed access token (401)',
              { intuitTid, tenantId: this.tenantId },
            );
          }
          refreshedAfter401 = true;
          await tokens.accessTokenAfterUnauthorized(this.realmId, token, { tenantId: this.tenantId });
          continue; // the retry after a refresh is not counted as a failed attempt
        }
        const problem = errorForResponse(response.status, response.data, {
          intuitTid,
          retryAfter: headerValue(response.headers, 'retry-after'),
          operation: req.operation,
          tenantId: this.tenantId,
        });
        if (problem === undefined) return { data: this.parse(req, response.data, intuitTid), intuitTid };
        if (problem instanceof QboValidationFault) throw problem;
        failure = problem;
        if (failure.code === '3001') calls.throttled += 1;
      }

      lastError = failure;
      if (attempt >= this.maxAttempts) break;
      const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.max(Math.random() * ceiling, Math.min(failure.retryAfterMs ?? 0, this.maxDelayMs));
      const limit = this.deadlineAt();
      if (limit !== undefined && Date.now() + delay >= limit) break;
      this.deps.options.logger?.debug('QuickBooks request failed; retrying', {
        realmId: this.realmId,
        operation: req.operation,
        attempt,
        delayMs: Math.round(delay),
        status: failure.status,
        intuitTid: failure.intuitTid,
      });
      await sleep(delay);
      attempt += 1;
    }
    throw lastError ?? new QboTransientError(`QuickBooks did not complete ${req.operation}`);
  }

  private parse<T>(req: SendRequest<T>, raw: unknown, intuitTid: string | undefined): T {
    let json: unknown = raw;
    if (typeof raw === 'string') {
      try {
        json = raw.trim() === '' ? {} : (JSON.parse(raw) as unknown);
      } catch {
        throw new QboTransientError(`QuickBooks answered ${req.operation} with a body that is not JSON`, {
          ...(intuitTid !== undefined ? { intuitTid } : {}),
        });
      }
    }
    const parsed = req.schema.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new PermanentError(
        `QuickBooks answered ${req.operation} with an unexpected shape (${where})${intuitTid ? ` [intuit_tid ${intuitTid}]` : ''}`,
        'this is a bug or an API change; report it with the intuit_tid',
      );
    }
    return parsed.data;
  }
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function checkRequestId(requestId: string, max: number): void {
  if (requestId.length === 0 || requestId.length > max) {
    throw new Error(`a QuickBooks requestid must be 1–${max} characters (got ${requestId.length})`);
  }
}
