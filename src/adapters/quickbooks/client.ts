/**
 * The QuickBooks Online client: a factory sharing the token manager, limiters and call counters, and one
 * `QuickBooksBooks` per company (realm): entries and the chart here, customers in customers.ts, HTTP with retries,
 * limits and deadline in transport.ts.
 *
 * Every write carries a `requestid`, so a retried write gets QuickBooks' original answer instead of a duplicate.
 */
import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { WrittenIdUnknownError } from '../../app/errors.js';
import type {
  EntryChanges,
  PostedRef,
  QboChart,
  QboCustomer,
  QuickBooksBooks,
  TokenStore,
} from '../../app/ports.js';
import type { ExchangeRateQuote, QboEntry } from '../../domain/types.js';
import { bookCloseDate, changedEntries, readEntries } from './changes.js';
import { QboCallCounters } from './counters.js';
import { QboCustomers } from './customers.js';
import { QboValidationFault } from './faults.js';
import {
  backgroundShare,
  LimiterRegistry,
  processLimiters,
  type RateLimiter,
  SharedAdmission,
} from './limiter.js';
import {
  EntitySchema,
  ExchangeRateResponseSchema,
  PreferencesSchema,
  type QboTxn,
  type QueryResponse,
  toAccount,
  toClass,
} from './responses.js';
import { type QboLogger, QboTokenManager } from './tokens.js';
import { checkRequestId, PAGE_SIZE, QboTransport, type RealmClientDeps } from './transport.js';

export { QboCallCounters, type QboRealmCalls } from './counters.js';

import { qboQuoted } from './customer-rules.js';

export { displayNameCandidate, maskEmail, qboQuoted, rankCustomers } from './customer-rules.js';
export { BATCH_SIZE, MINOR_VERSION, PAGE_SIZE } from './transport.js';

export const DEFAULT_API_BASE = 'https://quickbooks.api.intuit.com';
export const SANDBOX_API_BASE = 'https://sandbox-quickbooks.api.intuit.com';

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
  /**
   * Per-realm limits; omitted: the process-wide limiter (10 in flight, 500 units a minute, 40 batch requests a
   * minute).
   */
  limits?: {
    maxInFlight?: number;
    perMinute?: number;
    batchesPerMinute?: number;
    windowMs?: number;
    marginMs?: number;
  };
  /** After a 429 / 3001, the realm's requests wait this long (Intuit asks for 60 s; default 60 000). */
  throttlePauseMs?: number;
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

/** Background work's share of the process-wide limiters. */
const backgroundLimiters = new LimiterRegistry(backgroundShare());

export class QuickBooksClientFactory {
  readonly apiBase: string;
  readonly tokenManager: QboTokenManager;
  readonly calls: QboCallCounters;
  private readonly limiters: LimiterRegistry;
  /** Background work's share of each realm's limits (see `backgroundShare`). */
  private readonly backgroundLimiters: LimiterRegistry;
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
    this.backgroundLimiters = opts.limits
      ? new LimiterRegistry(backgroundShare(opts.limits))
      : backgroundLimiters;
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

  /**
   * The books of one company. `tenantId` only makes error hints name the right `connect --tenant` command;
   * `background` keeps the client within background work's share of the realm's limits (`backgroundShare`).
   */
  forRealm(realmId: string, ctx: { tenantId?: string; background?: boolean } = {}): QuickBooksRealmClient {
    const key = `${realmId}\u0000${ctx.tenantId ?? ''}\u0000${ctx.background ? 'background' : ''}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new QuickBooksRealmClient({
        realmId,
        tenantId: ctx.tenantId,
        apiBase: this.apiBase,
        http: this.http,
        tokens: this.tokenManager,
        limiter: ctx.background
          ? new SharedAdmission(this.backgroundLimiters.forRealm(realmId), this.limiters.forRealm(realmId))
          : this.limiters.forRealm(realmId),
        calls: this.calls.mutable(realmId),
        options: this.opts,
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

// ---------------------------------------------------------------- the books of one company

export class QuickBooksRealmClient implements QuickBooksBooks {
  readonly realmId: string;
  private readonly http: QboTransport;
  private readonly customers: QboCustomers;

  constructor(private readonly deps: RealmClientDeps) {
    this.realmId = deps.realmId;
    this.http = new QboTransport(deps);
    this.customers = new QboCustomers(this.http);
  }

  // ------------------------------------------------------------ customers

  findCustomersByEmail(emails: readonly string[]): Promise<Map<string, QboCustomer>> {
    return this.customers.findCustomersByEmail(emails);
  }

  createCustomers(
    members: readonly { email: string; displayName: string }[],
  ): Promise<Map<string, QboCustomer>> {
    return this.customers.createCustomers(members);
  }

  listCustomers(onPage?: (readSoFar: number) => void): Promise<QboCustomer[]> {
    return this.customers.listCustomers(onPage);
  }

  findCustomerByName(displayName: string): Promise<QboCustomer | undefined> {
    return this.customers.findCustomerByName(displayName);
  }

  findCustomersById(ids: readonly string[]): Promise<Map<string, QboCustomer>> {
    return this.customers.findCustomersById(ids);
  }

  // ------------------------------------------------------------ entries

  async createEntry(entry: QboEntry, requestId: string): Promise<PostedRef> {
    checkRequestId(requestId, 50);
    const entity = entry.type;
    const { data } = await this.http.send({
      method: 'POST',
      path: `/${entity.toLowerCase()}`,
      params: { requestid: requestId },
      body: entry.body,
      operation: `the ${entity}`,
      schema: z.object({ [entity]: EntitySchema }).loose(),
      write: true,
    });
    const posted = (data as Record<string, z.infer<typeof EntitySchema>>)[entity];
    if (!posted) {
      throw new WrittenIdUnknownError(
        `QuickBooks accepted the ${entity} (requestid ${requestId}) without returning it`,
        'nothing is posted again: `npx qbo-sync payouts sync` replays the same request and records the entry',
      );
    }
    return { type: entity, id: posted.Id };
  }

  async findEntry(entry: QboEntry, notePrefix: string): Promise<PostedRef | undefined> {
    const wanted = entryFacts(entry.body);
    if (wanted.txnDate === undefined) return undefined;
    const pages = await this.pageAll(
      entry.type,
      `WHERE TxnDate = ${qboQuoted(wanted.txnDate)}`,
      `the search for our own ${entry.type}`,
    );
    for (const txn of pages.flatMap((p) => p[entry.type] ?? [])) {
      if (!notedAs(txn.PrivateNote, notePrefix)) continue;
      const found = txnFacts(txn);
      if (found.txnDate !== wanted.txnDate || !sameAmount(found.total, wanted.total)) continue;
      if (wanted.account !== undefined && !found.accounts.has(wanted.account)) continue;
      return { type: entry.type, id: txn.Id };
    }
    return undefined;
  }

  async getEntry(
    ref: PostedRef,
  ): Promise<{ id: string; syncToken: string; body: Record<string, unknown> } | undefined> {
    try {
      const { data } = await this.http.send({
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
        await this.http.send({
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

  // ------------------------------------------------------------ after posting (drift, closed books)

  changedEntries(since: Date): Promise<EntryChanges> {
    return changedEntries(this.http, since);
  }

  readEntries(
    type: PostedRef['type'],
    ids: readonly string[],
  ): Promise<Map<string, Record<string, unknown>>> {
    return readEntries(this.http, type, ids);
  }

  bookCloseDate(): Promise<string | null> {
    return bookCloseDate(this.http);
  }

  // ------------------------------------------------------------ chart

  async getChart(): Promise<QboChart> {
    const [accounts, classes, prefs] = await Promise.all([
      this.pageAll('Account', 'WHERE Active IN (true,false)', 'the account query'),
      this.pageAll('Class', 'WHERE Active IN (true,false)', 'the class query'),
      this.http.send({
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
        ...(p.AccountingInfoPrefs?.BookCloseDate
          ? { bookCloseDate: p.AccountingInfoPrefs.BookCloseDate.slice(0, 10) }
          : {}),
      },
    };
  }

  // ------------------------------------------------------------ exchange rates

  /**
   * `GET /exchangerate?sourcecurrencycode=EUR&asofdate=YYYY-MM-DD` → `{ExchangeRate: {SourceCurrencyCode,
   * TargetCurrencyCode, Rate, AsOfDate}}` (Intuit's API reference, ExchangeRate entity; quickbooks-ruby
   * `Quickbooks::Service::ExchangeRate#fetch_by_currency` sends the same two parameters). An answer without a
   * positive `Rate`, or a "not found" fault, means QuickBooks has no rate: undefined, and the payout is held.
   */
  async getExchangeRate(sourceCurrency: string, asOfDate: string): Promise<ExchangeRateQuote | undefined> {
    const source = sourceCurrency.toUpperCase();
    try {
      const { data } = await this.http.send({
        method: 'GET',
        path: '/exchangerate',
        params: { sourcecurrencycode: source, asofdate: asOfDate },
        operation: `reading the ${source} exchange rate for ${asOfDate}`,
        schema: ExchangeRateResponseSchema,
      });
      const r = data.ExchangeRate;
      if (r?.Rate === undefined || !(r.Rate > 0) || r.TargetCurrencyCode === undefined) return undefined;
      return {
        sourceCurrency: (r.SourceCurrencyCode ?? source).toUpperCase(),
        targetCurrency: r.TargetCurrencyCode.toUpperCase(),
        rate: r.Rate,
        asOfDate: r.AsOfDate ?? asOfDate,
      };
    } catch (e) {
      if (e instanceof QboValidationFault && (e.hasCode('610') || e.status === 404)) return undefined;
      throw e;
    }
  }

  private async pageAll(
    entity: 'Account' | 'Class' | 'Deposit' | 'JournalEntry',
    where: string,
    operation: string,
  ): Promise<QueryResponse[]> {
    const out: QueryResponse[] = [];
    for (let start = 1; ; start += PAGE_SIZE) {
      const r = await this.http.query(
        `SELECT * FROM ${entity} ${where} STARTPOSITION ${start} MAXRESULTS ${PAGE_SIZE}`,
        operation,
      );
      out.push(r);
      if ((r[entity]?.length ?? 0) < PAGE_SIZE) return out;
    }
  }
}

// ---------------------------------------------------------------- our own entry (CONTRACT §4)

/** `PrivateNote` begins `prefix`, and the id does not go on (`po_1` is not `po_12`). */
function notedAs(note: string | null | undefined, prefix: string): boolean {
  return !!note?.startsWith(prefix) && !/[A-Za-z0-9_]/.test(note.charAt(prefix.length));
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
};

const sameAmount = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && Math.abs(a - b) < 0.0005;

/**
 * What identifies an entry we send: its date, its total as QuickBooks computes `TotalAmt` (a Deposit: the lines
 * less CashBack; a JournalEntry: its debits), and its deposit account (a JournalEntry: the account it credits).
 */
function entryFacts(body: Record<string, unknown>): { txnDate?: string; total?: number; account?: string } {
  const lines = Array.isArray(body.Line) ? (body.Line as Record<string, unknown>[]) : [];
  const txnDate = typeof body.TxnDate === 'string' ? body.TxnDate : undefined;
  const depositTo = (body.DepositToAccountRef as { value?: unknown } | undefined)?.value;
  if (depositTo !== undefined) {
    const sum = lines.reduce((t, l) => t + (num(l.Amount) ?? 0), 0);
    const cashBack = num((body.CashBack as { Amount?: unknown } | undefined)?.Amount) ?? 0;
    return { ...(txnDate ? { txnDate } : {}), total: sum - cashBack, account: String(depositTo) };
  }
  let debits = 0;
  let credited: string | undefined;
  for (const l of lines) {
    const d = l.JournalEntryLineDetail as
      | { PostingType?: string; AccountRef?: { value?: unknown } }
      | undefined;
    if (d?.PostingType === 'Debit') debits += num(l.Amount) ?? 0;
    else if (credited === undefined && d?.AccountRef?.value !== undefined)
      credited = String(d.AccountRef.value);
  }
  return { ...(txnDate ? { txnDate } : {}), total: debits, ...(credited ? { account: credited } : {}) };
}

function txnFacts(txn: QboTxn): { txnDate?: string; total?: number; accounts: Set<string> } {
  const accounts = new Set<string>();
  if (txn.DepositToAccountRef?.value !== undefined) accounts.add(txn.DepositToAccountRef.value);
  for (const l of txn.Line ?? []) {
    const a = l.JournalEntryLineDetail?.AccountRef?.value;
    if (a !== undefined) accounts.add(a);
  }
  const total = num(txn.TotalAmt);
  return {
    ...(txn.TxnDate ? { txnDate: txn.TxnDate } : {}),
    ...(total !== undefined ? { total } : {}),
    accounts,
  };
}
