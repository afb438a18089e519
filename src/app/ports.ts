/**
 * The ports: small interfaces named for what the application needs. Adapters in `src/adapters/*`
 * implement them against Stripe, QuickBooks, DynamoDB, SQS and Secrets Manager; the use cases in
 * `src/app/*` depend only on these. Dependencies point inwards: adapters → app → domain.
 */

import type { SyncConfigFile } from '../domain/config.js';
import type { AcceptedDrift, DriftRecord, EntrySnapshot } from '../domain/drift.js';
import type { BalanceTransaction, Payout } from '../domain/stripe.js';
import type {
  ExchangeRateQuote,
  LedgerStatus,
  QboChart,
  QboCustomer,
  QboEntry,
  TenantBooks,
} from '../domain/types.js';

// ---------------------------------------------------------------- Stripe

export interface PayoutSource {
  /** The payout, read as the connected account (`stripeAccount` `platform` → the platform itself). */
  getPayout(stripeAccount: string, payoutId: string): Promise<Payout>;
  /** Every balance transaction of an automatic payout: auto-paginated (100 a page), `source` expanded. */
  listPayoutTransactions(stripeAccount: string, payoutId: string): Promise<BalanceTransaction[]>;
  /**
   * Payouts in a status (`paid`, `failed`, `canceled`) arriving at or after `arrivalSince` (unix seconds), newest
   * first. A payout the product cannot read is yielded as `{ id, problem }`, so one bad object never stops a listing.
   */
  listPayouts(stripeAccount: string, filter: PayoutListFilter): AsyncIterable<ListedPayout>;
}

export interface PayoutListFilter {
  status: 'paid' | 'failed' | 'canceled';
  /** Unix seconds: payouts whose `arrival_date` is at or after it. */
  arrivalSince: number;
}

/** One payout of a listing: read, or unreadable (its id, and what could not be read). */
export type ListedPayout = { id: string; payout: Payout } | { id: string; problem: string };

// ---------------------------------------------------------------- QuickBooks

// The plain data types of the chart live in the domain (the pure chart resolver reads them); re-exported here.
export type { QboAccount, QboChart, QboClass, QboCustomer } from '../domain/types.js';

export interface PostedRef {
  type: 'Deposit' | 'JournalEntry';
  id: string;
}

/** A Deposit or JournalEntry changed in QuickBooks (change data capture). */
export interface EntryChange {
  ref: PostedRef;
  /** QuickBooks answered it with `status: "Deleted"`. */
  deleted: boolean;
  /** The object as QuickBooks has it now (absent when deleted). */
  body?: Record<string, unknown>;
  /** `MetaData.LastUpdatedTime`, when sent. */
  at?: string;
}

export interface EntryChanges {
  changes: EntryChange[];
  /** False when QuickBooks' 1,000-object cap was reached: some changes may be missing. */
  complete: boolean;
}

/** One QuickBooks company (realm), authenticated, rate-limited and retried by the adapter. */
export interface QuickBooksBooks {
  readonly realmId: string;
  /** Customers whose PrimaryEmailAddr matches (checked client-side, case-insensitive). Missing emails are absent. */
  findCustomersByEmail(emails: readonly string[]): Promise<Map<string, QboCustomer>>;
  /** Creates customers in batches of ≤ 30, DisplayName made unique when taken. Keyed by email. */
  createCustomers(
    members: readonly { email: string; displayName: string }[],
  ): Promise<Map<string, QboCustomer>>;
  /** Every active customer, paged 1000 at a time. */
  listCustomers(onPage?: (readSoFar: number) => void): Promise<QboCustomer[]>;
  /** Customer by exact DisplayName (for `walkInCustomer`). */
  findCustomerByName(displayName: string): Promise<QboCustomer | undefined>;
  /** The active customers among `ids`, by Id (with their currencies); an inactive or deleted one is absent. */
  findCustomersById(ids: readonly string[]): Promise<Map<string, QboCustomer>>;
  /**
   * Our own live entry (CONTRACT §4): same type, `TxnDate`, total and deposit account as `entry`, its
   * `PrivateNote` beginning `notePrefix` (followed by anything but more of the id). Undefined when there is none.
   */
  findEntry(entry: QboEntry, notePrefix: string): Promise<PostedRef | undefined>;
  /** Posts the entry once: `requestId` makes a retry return the original response. */
  createEntry(entry: QboEntry, requestId: string): Promise<PostedRef>;
  /** Reads a posted entry; undefined when it no longer exists. */
  getEntry(
    ref: PostedRef,
  ): Promise<{ id: string; syncToken: string; body: Record<string, unknown> } | undefined>;
  /** Deletes a posted entry. `refused` when QuickBooks will not delete it (closed period, deposited…). */
  deleteEntry(ref: PostedRef, requestId: string): Promise<'deleted' | 'gone' | 'refused'>;
  /** Deposits and JournalEntries changed or deleted since `since` (change data capture; at most 30 days back). */
  changedEntries(since: Date): Promise<EntryChanges>;
  /** The live entries among `ids`, by Id (a deleted one is absent). */
  readEntries(type: PostedRef['type'], ids: readonly string[]): Promise<Map<string, Record<string, unknown>>>;
  /** `Preferences.AccountingInfoPrefs.BookCloseDate` (YYYY-MM-DD), or null when the books have no closing date. */
  bookCloseDate(): Promise<string | null>;
  /** Accounts, classes and company preferences, for config validation. */
  getChart(): Promise<QboChart>;
  /**
   * QuickBooks' exchange rate (ExchangeRate entity) from `sourceCurrency` into the home currency on `asOfDate`
   * (YYYY-MM-DD), for a multicurrency company. Undefined when QuickBooks has no usable rate.
   */
  getExchangeRate(sourceCurrency: string, asOfDate: string): Promise<ExchangeRateQuote | undefined>;
}

// ---------------------------------------------------------------- stores

export interface StoredTenant {
  books: TenantBooks;
  /** The tenant entry as written in the config file, for `config export`. */
  source: SyncConfigFile['tenants'][number];
  updatedAt: string;
}

export interface TenantStore {
  get(tenantId: string): Promise<StoredTenant | undefined>;
  findByStripeAccount(stripeAccount: string): Promise<StoredTenant | undefined>;
  /** The id of the tenant owning the Stripe account, from the account index alone (the webhook reads nothing else). */
  accountOwner(stripeAccount: string): Promise<string | undefined>;
  list(): Promise<StoredTenant[]>;
  /** Writes the tenant and its stripeAccount index; refuses a stripeAccount owned by another tenant. */
  put(tenant: StoredTenant): Promise<void>;
}

/** One mapping row: the customer's Id and, when stored, its QuickBooks currency (upper case). */
export interface CustomerMapping {
  customerId: string;
  /** Absent in rows written before currencies were stored: unknown, read from QuickBooks when it matters. */
  currency?: string;
}

/** email (normalised) → QuickBooks customer id (and currency), per realm. */
export interface CustomerMap {
  /** BatchGetItem, ≤ 100 keys a call: email → customer Id. */
  getMany(realmId: string, emails: readonly string[]): Promise<Map<string, string>>;
  /** The same rows with the customer's currency where stored. */
  getMappings(realmId: string, emails: readonly string[]): Promise<Map<string, CustomerMapping>>;
  /** BatchWriteItem, ≤ 25 items a call. */
  putMany(
    realmId: string,
    entries: readonly { email: string; customerId: string; currency?: string }[],
  ): Promise<void>;
}

/** A person's request recorded on the payout's ledger row: who asked for what, when, from where. */
export interface LedgerAction {
  action: 'sync' | 'resync' | 'replay' | 'preview';
  /** The person: the console's signed-in user (email), or the operating-system user running the CLI. */
  by: string;
  /** Where it was asked: the CLI, or the support console. */
  via: 'cli' | 'console';
  /** ISO time. */
  at: string;
}

export interface WriteIntent {
  requestId: string;
  entryType: 'Deposit' | 'JournalEntry';
  createdAt?: string;
}

/** What a REVERSED row keeps about its reversing JournalEntry (`LedgerRecord.reversal`). */
export interface ReversalRecord {
  /** The posted entry the reversing JournalEntry cancels (still in QuickBooks: its deletion was refused). */
  reverses: PostedRef;
  /** What the reversing JournalEntry should hold. */
  expected: EntrySnapshot;
}

/**
 * A reversing JournalEntry a resync posted for the entry it replaced, when QuickBooks would not delete that entry
 * (closed books): the replaced entry stays in QuickBooks and only this JournalEntry keeps it out of the books
 * (`LedgerRecord.earlierReversals`).
 */
export interface EarlierReversal {
  /** The replaced entry (an earlier generation of the payout's entry). */
  reverses: PostedRef;
  /** The reversing JournalEntry. */
  reversal: PostedRef;
  /** What it should hold (as sent, or as a person accepted it); null once dropped to bound the row: deletion only. */
  expected: EntrySnapshot | null;
  /** The drift audit's open finding on it (cleared by `payouts accept`, or when found as expected again). */
  drift?: DriftRecord | null;
}

export interface LedgerRecord {
  payoutId: string;
  tenantId: string;
  status: LedgerStatus;
  reason: string | null;
  hint: string | null;
  quickbooks: PostedRef | null;
  /**
   * The write about to be sent to QuickBooks; recorded before sending so a crash can never double-post.
   * `createdAt` (ISO): an intent older than a day is checked against QuickBooks before its request id is reused
   * (QuickBooks' memory of a requestid is undocumented; CONTRACT §4). Absent on rows written before it existed.
   */
  intent: WriteIntent | null;
  /** Bumped by each resync: the generation of the posted object. */
  generation: number;
  /** Status-change counter for optimistic concurrency. */
  version: number;
  lineDetailUsed?: string;
  folded?: boolean;
  /** Members whose customers were queued for creation after posting (the entry references none of them). */
  customersAfterPosting?: number;
  attempts: number;
  lastEventId?: string;
  /** What the live entry should hold (as posted, or as a person accepted it): the drift audit compares with it. */
  posted?: EntrySnapshot | null;
  /** The drift audit's finding on the live entry: a finding, not a status (cleared by a resync or an accept). */
  drift?: DriftRecord | null;
  /** The last finding a person accepted as intended (`payouts accept`). */
  accepted?: AcceptedDrift | null;
  /**
   * REVERSED rows whose entry QuickBooks would not delete (`quickbooks` is then the reversing JournalEntry): the
   * entry it cancels and what the reversing JournalEntry should hold (as posted, or as a person accepted it), which
   * the drift audit compares with. Absent on rows reversed before it was kept.
   */
  reversal?: ReversalRecord | null;
  /**
   * The reversing JournalEntries resyncs posted for this payout's earlier entries, oldest first, which the drift
   * audit watches like the live entry (at most `MAX_EARLIER_REVERSALS`, the newest `EARLIER_SNAPSHOTS` with their
   * snapshot). Absent on rows resynced before they were kept (nothing to audit).
   */
  earlierReversals?: EarlierReversal[] | null;
  /** closedPeriod nextOpenDate: the payout's own date, when its entry was posted on the first open day. */
  originalDate?: string | null;
  /** The latest requests people made for this payout, oldest first (at most `MAX_LEDGER_ACTIONS`). */
  actions?: LedgerAction[];
  createdAt: string;
  updatedAt: string;
}

export interface Ledger {
  get(payoutId: string): Promise<LedgerRecord | undefined>;
  /** Creates the row as RECEIVED if absent; returns the current row either way. */
  ensure(payoutId: string, tenantId: string, eventId?: string): Promise<LedgerRecord>;
  /**
   * Conditional update: applies `patch` only if the stored `version` equals `expectedVersion`;
   * returns the new row, or undefined when someone else changed it first.
   */
  update(
    payoutId: string,
    expectedVersion: number,
    patch: Partial<Omit<LedgerRecord, 'payoutId' | 'version' | 'createdAt'>>,
  ): Promise<LedgerRecord | undefined>;
  /** Newest first (by updatedAt), optionally filtered. */
  list(filter: { status?: LedgerStatus; tenantId?: string; limit?: number }): Promise<LedgerRecord[]>;
}

/** Records people's requests on ledger rows without touching their status or version (the worker owns those). */
export interface ActionRecorder {
  /** Appends `action` to the row's `actions` (keeping the latest `MAX_LEDGER_ACTIONS`); no-op for an unknown row. */
  noteAction(payoutId: string, action: LedgerAction): Promise<void>;
}

/** How many actions a ledger row keeps. */
export const MAX_LEDGER_ACTIONS = 20;

// ---------------------------------------------------------------- queue

/** The message the webhook (and the CLI, and the catch-up job) put on the FIFO queue. */
export interface PayoutMessage {
  /** Stripe event id, or a generated id for CLI / catch-up / continuation messages. */
  eventId: string;
  /**
   * A Stripe payout event type, or `sync` (CLI, catch-up), `resync`, `continue` (work split across invocations),
   * `customers` (customers created after the payout was posted).
   */
  eventType: string;
  tenantId: string;
  stripeAccount: string;
  payoutId: string;
  /** ISO time the event was accepted. */
  receivedAt: string;
  /** `customers` messages only: the members of the posted payout whose customers are created afterwards. */
  customers?: CustomerWork;
}

/** Customers to create and map after their payout was posted (CONTRACT §5), packed by `packMembers`. */
export interface CustomerWork {
  realmId: string;
  /** Members in `packed`. */
  count: number;
  /** The members, gzip + base64 of JSON `[[email, name?], …]`. */
  packed: string;
}

export interface PayoutQueue {
  /** FIFO: MessageGroupId = `messageGroupOf(message)` (the tenant), MessageDeduplicationId = eventId. */
  enqueue(message: PayoutMessage): Promise<void>;
}

// ---------------------------------------------------------------- tokens

export interface QboTokens {
  realmId: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  refreshTokenExpiresAt?: number;
  updatedAt: string;
}

export interface TokenStore {
  get(realmId: string): Promise<QboTokens | undefined>;
  put(tokens: QboTokens): Promise<void>;
  /** Runs `fn` holding the realm's refresh lock (cross-process), so concurrent refreshes never strand each other. */
  withRefreshLock<T>(realmId: string, fn: () => Promise<T>): Promise<T>;
}
