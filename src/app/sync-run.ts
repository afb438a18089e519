/**
 * One run of `syncPayout` and its steps on QuickBooks: the run's state, the result it returns, and the steps that
 * build, post (under the write intent), remove and reverse an entry.
 */
import { z } from 'zod';
import { type ClosedPeriodDecision, closedPeriodDecision } from '../domain/closed-period.js';
import { leftOffNote } from '../domain/customer-currency.js';
import { snapshotOf } from '../domain/drift.js';
import { payoutNotePrefix, utcDate } from '../domain/entry-common.js';
import { collectMembers } from '../domain/members.js';
import type { Payout } from '../domain/stripe.js';
import type { BuildResult, LedgerStatus, Member, QboEntry, TenantBooks } from '../domain/types.js';
import { PermanentError } from './errors.js';
import { type AppLog, maskEmailsIn } from './log.js';
import { internalEventId, packMembers } from './payout-message.js';
import type {
  CustomerMap,
  Ledger,
  LedgerRecord,
  PayoutMessage,
  PayoutQueue,
  PayoutSource,
  PostedRef,
  QuickBooksBooks,
  TenantStore,
  WriteIntent,
} from './ports.js';
import { prepareEntry } from './prepare-entry.js';
import {
  describeRemoval,
  type RemovalOutcome,
  removePostedEntry,
  updateOrConflict,
} from './reverse-payout.js';
import { describeAdoption, outlivesRequestIdMemory } from './write-intent.js';

export type LedgerPatch = Parameters<Ledger['update']>[2];

/** The queue's default `maxReceiveCount` (CONTRACT §7: then the DLQ). */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

export interface SyncPayoutDeps {
  tenants: Pick<TenantStore, 'get'>;
  ledger: Ledger;
  payouts: PayoutSource;
  /**
   * The QuickBooks company of a realm (authenticated, rate-limited, retried by the adapter), e.g.
   * `(realmId, ctx) => factory.forRealm(realmId, ctx)`; `tenantId` makes error hints name the right tenant.
   */
  quickbooks: (realmId: string, ctx: { tenantId: string; background?: boolean }) => QuickBooksBooks;
  customers: CustomerMap;
  /** For `continue` messages when the work does not fit in one invocation. */
  queue: PayoutQueue;
  log: AppLog;
  now?: () => Date;
  /** Request ids and message ids; default `crypto.randomUUID`. */
  newId?: () => string;
  /** True when the invocation should stop starting QuickBooks work (remaining time is low). */
  isOutOfTime?: () => boolean;
}

export interface SyncPayoutInput {
  message: PayoutMessage;
  /** SQS `ApproximateReceiveCount` of this delivery (1 the first time). */
  receiveCount?: number;
  /** The queue's `maxReceiveCount`: a failure at this delivery sends the message to the DLQ. */
  maxReceiveCount?: number;
}

export type SyncOutcome =
  | 'posted'
  | 'held'
  | 'skipped'
  | 'waiting'
  | 'reversed'
  | 'continued'
  /** Nothing to do: already posted, reversed, held or skipped (see `reason`). */
  | 'unchanged';

export interface SyncPayoutResult {
  payoutId: string;
  tenantId: string;
  outcome: SyncOutcome;
  status: LedgerStatus;
  quickbooks: PostedRef | null;
  reason: string | null;
}

/** Event types that ask to post (or re-check) a payout. */
export const PERSON_REQUESTS = new Set(['sync', 'resync']);
export const FAILURE_EVENTS = new Set(['payout.failed', 'payout.canceled']);

export interface Run {
  deps: SyncPayoutDeps;
  message: PayoutMessage;
  log: AppLog;
  now: () => Date;
  newId: () => string;
  /** The latest row we know (updated after each of our writes). */
  row: LedgerRecord;
  /** Set while QuickBooks is being asked to create the entry: a permanent refusal means nothing was created. */
  postingWithIntent: boolean;
  /** This run has set the row to POSTING (owns it, as far as the version check goes). */
  claimed: boolean;
  books?: QuickBooksBooks;
  /** Set by `restoreReversal`: what happened to the previous reversal, added to the REVERSED row's reason. */
  restoring?: string;
}

export function isZodError(error: unknown): error is z.core.$ZodError {
  return error instanceof z.core.$ZodError;
}

export function zodReason(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export function result(row: LedgerRecord, outcome: SyncOutcome, reason?: string | null): SyncPayoutResult {
  return {
    payoutId: row.payoutId,
    tenantId: row.tenantId,
    outcome,
    status: row.status,
    quickbooks: row.quickbooks,
    reason: reason === undefined ? row.reason : reason,
  };
}

export function isFailedPayout(payout: Payout): boolean {
  return payout.status === 'failed' || payout.status === 'canceled';
}

export function payoutFailure(payout: Payout): string {
  const code = payout.failure_code ? ` (${payout.failure_code})` : '';
  return `payout ${payout.status} in Stripe${code}`;
}

/** Paid, and (for an automatic payout) its balance transactions can be listed. */
export function readyToBook(payout: Payout): boolean {
  if (payout.status !== 'paid') return false;
  return !payout.automatic || payout.reconciliation_status === 'completed';
}

export function booksFor(run: Run, tenant: TenantBooks): QuickBooksBooks {
  run.books ??= run.deps.quickbooks(tenant.realmId, { tenantId: tenant.tenantId });
  return run.books;
}

/**
 * Asks QuickBooks to create the entry under the intent's request id (a retry with the same id replays the object
 * QuickBooks already has instead of making a second one), then records that object on the row, the intent done
 * with, in one write with `patch`. An intent older than QuickBooks is known to remember request ids is not sent
 * again before QuickBooks is searched for our own entry (CONTRACT §4); one found is adopted.
 */
export async function postWithIntent(
  run: Run,
  tenant: TenantBooks,
  entry: QboEntry,
  intent: WriteIntent,
  patch: (posted: PostedRef) => LedgerPatch,
  step: string,
): Promise<PostedRef> {
  const books = booksFor(run, tenant);
  const adopted = outlivesRequestIdMemory(intent, run.now())
    ? await books.findEntry(entry, payoutNotePrefix(run.row.payoutId))
    : undefined;
  run.postingWithIntent = adopted === undefined;
  const posted = adopted ?? (await books.createEntry(entry, intent.requestId));
  run.postingWithIntent = false;
  const recorded = patch(posted);
  if (adopted !== undefined) {
    const note = describeAdoption(adopted, intent);
    recorded.reason = recorded.reason ? `${recorded.reason}; ${note}` : note;
    run.log.info('own entry found in QuickBooks and adopted', {
      payoutId: run.row.payoutId,
      type: adopted.type,
      id: adopted.id,
    });
  }
  run.row = await updateOrConflict(
    run.deps.ledger,
    run.row,
    { ...recorded, quickbooks: posted, intent: null },
    step,
  );
  return posted;
}

/** Removes the object the row names from QuickBooks (deleted, or reversed where deletion is refused). */
export async function removeLive(run: Run, tenant: TenantBooks): Promise<RemovalOutcome> {
  const removal = await removePostedEntry(
    { ledger: run.deps.ledger, books: booksFor(run, tenant), log: run.log, newId: run.newId, now: run.now },
    run.row,
  );
  run.row = removal.row;
  return removal;
}

/**
 * The payout failed or was canceled in Stripe and nothing of it is live in QuickBooks any more: REVERSED. Where a
 * reversing JournalEntry cancels the entry, the row keeps what it holds, for the drift audit (`reversal`).
 */
export async function recordReversal(run: Run, payout: Payout, removal: RemovalOutcome): Promise<void> {
  run.row = await updateOrConflict(
    run.deps.ledger,
    run.row,
    {
      status: 'REVERSED',
      quickbooks: removal.how === 'reversed' ? removal.reversal : null,
      intent: null,
      reason: `${payoutFailure(payout)}: ${describeRemoval(removal)}${run.restoring ? ` (resync: ${run.restoring})` : ''}`,
      hint: null,
      lastEventId: run.message.eventId,
      reversal:
        removal.how === 'reversed'
          ? { reverses: removal.removed, expected: snapshotOf(removal.entry, payout.currency) }
          : null,
      drift: null,
    },
    'recording the reversal',
  );
}

/**
 * Balance transactions → members → customers (mappings stored) → the entry (or HELD / SKIPPED); `deferred`: the
 * members whose customers the entry does not reference, created after it is posted (`queueCustomerWork`).
 */
export async function buildFor(
  run: Run,
  tenant: TenantBooks,
  payout: Payout,
): Promise<{ build: BuildResult; deferred: Member[]; customerNote?: string }> {
  const { deps } = run;
  const { build, resolved, deferred, leftOff } = await prepareEntry(
    {
      payouts: deps.payouts,
      books: () => booksFor(run, tenant),
      customers: deps.customers,
      ...(deps.isOutOfTime !== undefined ? { isOutOfTime: deps.isOutOfTime } : {}),
    },
    { tenant, payout },
  );
  if (resolved !== undefined && (resolved.created > 0 || resolved.lookedUp > 0)) {
    run.log.info('customers resolved', {
      payoutId: payout.id,
      fromMap: resolved.fromMap,
      lookedUp: resolved.lookedUp,
      created: resolved.created,
    });
  }
  const refused = resolved?.refused ?? [];
  const notes: string[] = [];
  if (refused.length > 0) {
    const where = tenant.walkInCustomer
      ? `on the walk-in customer ${tenant.walkInCustomer.name ?? tenant.walkInCustomer.value}`
      : 'without a customer';
    const note = maskEmailsIn(
      `${refused.length} member${refused.length === 1 ? '' : 's'} without a QuickBooks customer, their lines ${where}: ${refused
        .map((r) => `${r.email} (${r.reason})`)
        .join('; ')}`,
    );
    run.log.warn('customers QuickBooks did not take', { payoutId: payout.id, note });
    notes.push(note);
  }
  const offNote = leftOff && leftOffNote(leftOff, payout.currency, tenant.company);
  if (offNote !== undefined) {
    const note = maskEmailsIn(offNote);
    run.log.warn('customers in another currency left off the lines', { payoutId: payout.id, note });
    notes.push(note);
  }
  if (notes.length === 0) return { build, deferred: deferred ?? [] };
  return { build, deferred: deferred ?? [], customerNote: notes.join('; ') };
}

/**
 * Queues the creation of the customers an entry does not reference, in the tenant's customers message group (never
 * in front of its next payouts), once the row says POSTED (with `customersAfterPosting`). A crash between that
 * write and this one is repaired by the redelivery of the same message (`requeueCustomerWork`). The message ids
 * depend only on the payout and the entry's generation, so a second copy is dropped by the FIFO queue's
 * deduplication (5 minutes) or by the idempotency layer; a later copy finds every customer mapped.
 */
export async function queueCustomerWork(
  run: Run,
  tenant: TenantBooks,
  members: readonly Member[],
): Promise<void> {
  const parts = packMembers(members);
  for (const [i, part] of parts.entries()) {
    await run.deps.queue.enqueue({
      eventId: internalEventId('customers', run.message.payoutId, `g${run.row.generation}-${i}`),
      eventType: 'customers',
      tenantId: tenant.tenantId,
      stripeAccount: tenant.stripeAccount,
      payoutId: run.message.payoutId,
      receivedAt: run.now().toISOString(),
      customers: { realmId: tenant.realmId, ...part },
    });
  }
  run.log.info('customers queued for creation after posting', {
    payoutId: run.message.payoutId,
    members: members.length,
    messages: parts.length,
  });
}

/**
 * The redelivery of the message that posted the payout (its id is the row's `lastEventId`) after a crash between
 * the POSTED write and queueing the customers: the members are read from Stripe again and queued (a copy that was
 * queued already is deduplicated). Any other message finds a POSTED row and changes nothing.
 */
export async function requeueCustomerWork(run: Run, tenant: TenantBooks): Promise<void> {
  const transactions = await run.deps.payouts.listPayoutTransactions(tenant.stripeAccount, run.row.payoutId);
  const members = collectMembers(transactions);
  if (members.length > 0) await queueCustomerWork(run, tenant, members);
}

/**
 * The payout failed, but an earlier attempt recorded an intent and may have posted before it was interrupted.
 * Replaying the intent's request id returns that entry if QuickBooks has it (or creates it if it never arrived);
 * either way it is then removed, so nothing stays live.
 */
export async function resolveIntentOfFailedPayout(
  run: Run,
  tenant: TenantBooks,
  payout: Payout,
): Promise<SyncPayoutResult> {
  const { log } = run;
  const intent = run.row.intent;
  if (intent === null) throw new Error('resolveIntentOfFailedPayout called without an intent');
  // buildEntry skips failed payouts; build the entry as it was when it was paid, to replay the request.
  const { build } = await buildFor(run, tenant, { ...payout, status: 'paid' });
  if (build.outcome !== 'POST') {
    throw new PermanentError(
      `${payoutFailure(payout)}, after an interrupted attempt to post it (request id ${intent.requestId}) that cannot be replayed: ${build.reason}`,
      `look in QuickBooks for an entry whose memo begins "Stripe payout ${payout.id}" and delete it if present`,
    );
  }
  await postWithIntent(
    run,
    tenant,
    build.entry,
    intent,
    (posted) => ({
      status: 'POSTING',
      reason: `${payoutFailure(payout)}: removing ${posted.type} ${posted.id}`,
    }),
    'recording the entry to remove',
  );
  const removal = await removeLive(run, tenant);
  await recordReversal(run, payout, removal);
  log.info('interrupted post of a failed payout removed', { payoutId: payout.id, how: removal.how });
  return result(run.row, 'reversed');
}

/**
 * The closed-period policy (CONTRACT §2 `closedPeriod`) for the payout's date, from the company's closing date
 * (`Preferences.AccountingInfoPrefs.BookCloseDate`), read before anything is written to QuickBooks.
 */
export async function closedPeriodFor(
  run: Run,
  tenant: TenantBooks,
  payout: Payout,
): Promise<ClosedPeriodDecision> {
  const bookCloseDate = await booksFor(run, tenant).bookCloseDate();
  return closedPeriodDecision({
    payoutId: payout.id,
    txnDate: utcDate(payout.arrival_date),
    bookCloseDate,
    policy: tenant.closedPeriod,
  });
}
