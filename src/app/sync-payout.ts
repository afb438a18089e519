/**
 * The deposit builder's per-payout process (CONTRACT §1, §4, §6, §7), on the ports only.
 *
 *   ledger ensure → no-op checks → payout re-read from Stripe (the source of truth: events arrive out of order)
 *   → failed/canceled: remove what was posted (REVERSED) or record SKIPPED
 *   → reconciliation not completed: WAITING_FOR_RECONCILIATION
 *   → claim: POSTING + the write intent {requestId} recorded BEFORE anything is sent to QuickBooks
 *   → balance transactions → members → customers (mappings stored first) → build
 *   → HELD / SKIPPED with reason and hint, or createEntry(entry, requestId) → POSTED {type, id}.
 *
 * Exactly once (at most one live QuickBooks object per payout, whatever happens):
 * - Every ledger write is conditional on the row's `version`; a conflict throws a TransientError, so the message is
 *   retried and re-evaluated against the fresh row.
 * - An intent (request id) is stored before the entry is posted and reused by every later attempt until the
 *   outcome is recorded: QuickBooks replays the original response for a known `requestid`, so a crash after
 *   QuickBooks accepted the entry and before the ledger said POSTED never makes a second one. The intent is
 *   discarded only when QuickBooks itself refused the write (nothing was created).
 * - `quickbooks` on a row that is not POSTED (nor REVERSED) means "this object may be live and must be removed
 *   first" (a resync, or a payout that failed after posting): every message resumes that removal before anything
 *   else, and a new entry is posted only once the row says the old one is gone.
 *
 * Errors: a PermanentError (validation fault, unmapped category, `invalid_grant` → "reconnect QuickBooks") or an
 * unreadable Stripe object → HELD with reason and hint, never thrown. A TransientError (or anything unexpected) is
 * recorded (`attempts`, reason) and thrown so the queue retries; on the last delivery the row becomes FAILED (the
 * message goes to the DLQ). An OutOfTimeError enqueues a `continue` message and returns normally.
 */
import { z } from 'zod';
import type { Payout } from '../domain/stripe.js';
import type { BuildResult, LedgerStatus, QboEntry, TenantBooks } from '../domain/types.js';
import { OutOfTimeError, PermanentError } from './errors.js';
import { type AppLog, describeError, maskEmailsIn } from './log.js';
import { internalEventId } from './payout-message.js';
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
} from './ports.js';
import { prepareEntry } from './prepare-entry.js';
import {
  describeRemoval,
  LedgerConflictError,
  type RemovalOutcome,
  removePostedEntry,
  updateOrConflict,
} from './reverse-payout.js';
import { configuredTenant } from './tenant-config.js';

type LedgerPatch = Parameters<Ledger['update']>[2];

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
  quickbooks: (realmId: string, ctx: { tenantId: string }) => QuickBooksBooks;
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
const PERSON_REQUESTS = new Set(['sync', 'resync']);
const FAILURE_EVENTS = new Set(['payout.failed', 'payout.canceled']);

interface Run {
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
}

function isZodError(error: unknown): error is z.core.$ZodError {
  return error instanceof z.core.$ZodError;
}

function zodReason(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

function result(row: LedgerRecord, outcome: SyncOutcome, reason?: string | null): SyncPayoutResult {
  return {
    payoutId: row.payoutId,
    tenantId: row.tenantId,
    outcome,
    status: row.status,
    quickbooks: row.quickbooks,
    reason: reason === undefined ? row.reason : reason,
  };
}

function isFailedPayout(payout: Payout): boolean {
  return payout.status === 'failed' || payout.status === 'canceled';
}

function payoutFailure(payout: Payout): string {
  const code = payout.failure_code ? ` (${payout.failure_code})` : '';
  return `payout ${payout.status} in Stripe${code}`;
}

export async function syncPayout(deps: SyncPayoutDeps, input: SyncPayoutInput): Promise<SyncPayoutResult> {
  const { message } = input;
  const log = deps.log;
  const run: Run = {
    deps,
    message,
    log,
    now: deps.now ?? (() => new Date()),
    newId: deps.newId ?? (() => globalThis.crypto.randomUUID()),
    row: await deps.ledger.ensure(message.payoutId, message.tenantId, message.eventId),
    postingWithIntent: false,
    claimed: false,
  };
  try {
    return await runSync(run);
  } catch (error) {
    if (error instanceof OutOfTimeError) {
      try {
        return await continueLater(run, error);
      } catch (continueError) {
        await recordFailure(
          run,
          continueError,
          input.receiveCount,
          input.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
        );
        throw continueError;
      }
    }
    if (error instanceof PermanentError || isZodError(error)) return await recordPermanent(run, error);
    // Someone else changed the row: nothing failed, the retry re-evaluates (recorded only on the last delivery).
    const lastDelivery = (input.receiveCount ?? 0) >= (input.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT);
    if (error instanceof LedgerConflictError && !lastDelivery) throw error;
    await recordFailure(run, error, input.receiveCount, input.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT);
    throw error;
  }
}

async function runSync(run: Run): Promise<SyncPayoutResult> {
  const { deps, message, log } = run;
  const type = message.eventType;
  const context = { payoutId: message.payoutId, tenantId: run.row.tenantId, eventId: message.eventId, type };

  if (run.row.tenantId !== message.tenantId) {
    throw new PermanentError(
      `the message names tenant "${message.tenantId}" but the ledger has payout ${message.payoutId} under tenant "${run.row.tenantId}"`,
      `check that each Stripe account belongs to one tenant in the sync config; then \`npx qbo-sync payouts sync ${message.payoutId}\``,
    );
  }

  // No-op decisions on the row alone.
  const status = run.row.status;
  if (status === 'REVERSED') {
    log.info('payout already reversed: nothing to do', context);
    return result(run.row, 'unchanged', 'the payout was reversed; nothing to do');
  }
  // A POSTED payout: only a resync, or a failure (event, or found by a person's sync), changes anything.
  if (status === 'POSTED' && !PERSON_REQUESTS.has(type) && !FAILURE_EVENTS.has(type)) {
    log.info('payout already posted: nothing to do', { ...context, quickbooks: run.row.quickbooks });
    return result(run.row, 'unchanged', 'already posted');
  }
  if (
    (status === 'HELD' || status === 'SKIPPED') &&
    !PERSON_REQUESTS.has(type) &&
    !FAILURE_EVENTS.has(type)
  ) {
    log.info(`payout is ${status}: only a sync or resync asked by a person re-runs it`, context);
    return result(run.row, 'unchanged');
  }

  const tenant = (
    await configuredTenant(
      deps.tenants,
      run.row.tenantId,
      'add the tenant to the sync config and import it: `npx qbo-sync config import F`',
    )
  ).books;

  // The payout as Stripe has it now.
  const payout = await deps.payouts.getPayout(tenant.stripeAccount, message.payoutId);
  if (payout.id !== message.payoutId) {
    throw new PermanentError(
      `Stripe returned payout ${payout.id} when asked for ${message.payoutId}`,
      'check STRIPE_API_BASE and the Stripe key',
    );
  }
  const failed = isFailedPayout(payout);

  if (run.row.status === 'POSTED') {
    // resync, or payout.failed / payout.canceled after posting.
    if (type !== 'resync' && !failed) {
      log.info(
        `${type} received but Stripe says the payout is ${payout.status}: the posted entry stays`,
        context,
      );
      return result(run.row, 'unchanged', 'already posted');
    }
    const live = run.row.quickbooks;
    const why = failed ? payoutFailure(payout) : 'resync requested';
    // Mark the removal BEFORE doing it: the row keeps `quickbooks` with a status other than POSTED.
    run.row = await updateOrConflict(
      deps.ledger,
      run.row,
      {
        status: 'POSTING',
        reason: `${why}: removing ${live ? `${live.type} ${live.id}` : 'the posted entry'} from QuickBooks`,
        hint: null,
        lastEventId: message.eventId,
      },
      'claiming the payout for removal',
    );
    run.claimed = true;
    if (live === null) {
      // A POSTED row without a reference cannot be removed: treat it as never posted.
      log.warn('POSTED ledger row without a QuickBooks reference', context);
    }
  }

  // A removal pending (resync, failure after posting, or an interrupted earlier attempt): finish it first.
  if (run.row.quickbooks !== null) {
    const removal = await removeLive(run, tenant);
    if (failed) {
      await recordReversal(run, payout, removal);
      log.info('payout reversed', { ...context, how: removal.how });
      return result(run.row, 'reversed');
    }
    // Resync: the next generation is posted under a new intent, recorded in the same write.
    run.row = await updateOrConflict(
      deps.ledger,
      run.row,
      {
        status: 'POSTING',
        quickbooks: null,
        intent: { requestId: run.newId(), entryType: payout.amount < 0 ? 'JournalEntry' : 'Deposit' },
        generation: run.row.generation + 1,
        reason: `resync: ${describeRemoval(removal)}; posting the corrected entry`,
        hint: null,
        lastEventId: message.eventId,
      },
      'recording the removal',
    );
    run.claimed = true;
  }

  if (failed) {
    if (run.row.intent !== null) return await resolveIntentOfFailedPayout(run, tenant, payout);
    run.row = await updateOrConflict(
      deps.ledger,
      run.row,
      {
        status: 'SKIPPED',
        reason: `${payoutFailure(payout)}: nothing posted`,
        hint: null,
        lastEventId: message.eventId,
      },
      'recording SKIPPED',
    );
    log.info('payout failed or canceled before posting: skipped', context);
    return result(run.row, 'skipped');
  }

  if (run.row.intent === null && !readyToBook(payout)) {
    const reason =
      payout.status !== 'paid'
        ? `payout is ${payout.status} in Stripe; it is synced when Stripe reports it paid and reconciled`
        : `Stripe is still reconciling the payout (reconciliation_status ${payout.reconciliation_status ?? 'unknown'}); payout.reconciliation_completed or the daily catch-up syncs it`;
    run.row = await updateOrConflict(
      deps.ledger,
      run.row,
      { status: 'WAITING_FOR_RECONCILIATION', reason, hint: null, lastEventId: message.eventId },
      'recording WAITING_FOR_RECONCILIATION',
    );
    log.info('payout waiting for reconciliation', {
      ...context,
      reconciliation: payout.reconciliation_status,
    });
    return result(run.row, 'waiting');
  }

  // Claim: POSTING, with the write intent recorded before anything is sent to QuickBooks. An existing intent
  // (an earlier attempt that may have reached QuickBooks) is kept and reused.
  const intent = run.row.intent ?? {
    requestId: run.newId(),
    entryType: payout.amount < 0 ? ('JournalEntry' as const) : ('Deposit' as const),
  };
  if (!run.claimed || run.row.intent === null) {
    run.row = await updateOrConflict(
      deps.ledger,
      run.row,
      { status: 'POSTING', intent, reason: null, hint: null, lastEventId: message.eventId },
      'claiming the payout',
    );
    run.claimed = true;
  }

  const build = await buildFor(run, tenant, payout);
  if (build.outcome !== 'POST') return await recordBuildOutcome(run, build);

  const posted = await postWithIntent(
    run,
    tenant,
    build.entry,
    intent.requestId,
    () => ({
      status: 'POSTED',
      lineDetailUsed: build.lineDetail,
      folded: build.folded,
      reason: build.folded
        ? `posted with category lines: ${tenant.lineDetail} lines would exceed maxDepositLines ${tenant.maxDepositLines}`
        : null,
      hint: null,
      lastEventId: message.eventId,
    }),
    'recording POSTED',
  );
  log.info('payout posted to QuickBooks', {
    ...context,
    type: posted.type,
    id: posted.id,
    lines: build.lineCount,
    transactions: build.transactionCount,
    folded: build.folded,
  });
  return result(run.row, 'posted');
}

/** Paid, and (for an automatic payout) its balance transactions can be listed. */
function readyToBook(payout: Payout): boolean {
  if (payout.status !== 'paid') return false;
  return !payout.automatic || payout.reconciliation_status === 'completed';
}

function booksFor(run: Run, tenant: TenantBooks): QuickBooksBooks {
  run.books ??= run.deps.quickbooks(tenant.realmId, { tenantId: tenant.tenantId });
  return run.books;
}

/**
 * Asks QuickBooks to create the entry under the intent's request id (a retry with the same id replays the object
 * QuickBooks already has instead of making a second one), then records that object on the row, the intent done
 * with, in one write with `patch`.
 */
async function postWithIntent(
  run: Run,
  tenant: TenantBooks,
  entry: QboEntry,
  requestId: string,
  patch: (posted: PostedRef) => LedgerPatch,
  step: string,
): Promise<PostedRef> {
  const books = booksFor(run, tenant);
  run.postingWithIntent = true;
  const posted = await books.createEntry(entry, requestId);
  run.postingWithIntent = false;
  run.row = await updateOrConflict(
    run.deps.ledger,
    run.row,
    { ...patch(posted), quickbooks: posted, intent: null },
    step,
  );
  return posted;
}

/** Removes the object the row names from QuickBooks (deleted, or reversed where deletion is refused). */
async function removeLive(run: Run, tenant: TenantBooks): Promise<RemovalOutcome> {
  const removal = await removePostedEntry(
    { ledger: run.deps.ledger, books: booksFor(run, tenant), log: run.log, newId: run.newId, now: run.now },
    run.row,
  );
  run.row = removal.row;
  return removal;
}

/** The payout failed or was canceled in Stripe and nothing of it is live in QuickBooks any more: REVERSED. */
async function recordReversal(run: Run, payout: Payout, removal: RemovalOutcome): Promise<void> {
  run.row = await updateOrConflict(
    run.deps.ledger,
    run.row,
    {
      status: 'REVERSED',
      quickbooks: removal.how === 'reversed' ? removal.reversal : null,
      intent: null,
      reason: `${payoutFailure(payout)}: ${describeRemoval(removal)}`,
      hint: null,
      lastEventId: run.message.eventId,
    },
    'recording the reversal',
  );
}

/** Balance transactions → members → customers (mappings stored) → the entry (or HELD / SKIPPED). */
async function buildFor(run: Run, tenant: TenantBooks, payout: Payout): Promise<BuildResult> {
  const { deps } = run;
  const { build, resolved } = await prepareEntry(
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
  return build;
}

async function recordBuildOutcome(
  run: Run,
  build: Exclude<BuildResult, { outcome: 'POST' }>,
): Promise<SyncPayoutResult> {
  const { deps, log } = run;
  const pending = run.row.intent;
  if (build.outcome === 'SKIPPED') {
    run.row = await updateOrConflict(
      deps.ledger,
      run.row,
      { status: 'SKIPPED', reason: build.reason, hint: null, lastEventId: run.message.eventId },
      'recording SKIPPED',
    );
    log.info('payout skipped', { payoutId: run.row.payoutId, reason: build.reason });
    return result(run.row, 'skipped');
  }
  // The intent stays: if an earlier attempt reached QuickBooks, the next one replays it (no second entry).
  run.row = await updateOrConflict(
    deps.ledger,
    run.row,
    { status: 'HELD', reason: build.reason, hint: build.hint, lastEventId: run.message.eventId },
    'recording HELD',
  );
  log.warn('payout held', {
    payoutId: run.row.payoutId,
    reason: maskEmailsIn(build.reason),
    intent: pending !== null,
  });
  return result(run.row, 'held');
}

/**
 * The payout failed, but an earlier attempt recorded an intent and may have posted before it was interrupted.
 * Replaying the intent's request id returns that entry if QuickBooks has it (or creates it if it never arrived);
 * either way it is then removed, so nothing stays live.
 */
async function resolveIntentOfFailedPayout(
  run: Run,
  tenant: TenantBooks,
  payout: Payout,
): Promise<SyncPayoutResult> {
  const { log } = run;
  const intent = run.row.intent;
  if (intent === null) throw new Error('resolveIntentOfFailedPayout called without an intent');
  // buildEntry skips failed payouts; build the entry as it was when it was paid, to replay the request.
  const build = await buildFor(run, tenant, { ...payout, status: 'paid' });
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
    intent.requestId,
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

/** Reads the row again (a write of ours may have failed half-way) and applies `patch`, retrying conflicts. */
async function patchLatest(
  run: Run,
  patchFor: (row: LedgerRecord) => LedgerPatch | undefined,
): Promise<LedgerRecord | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = (await run.deps.ledger.get(run.message.payoutId)) ?? run.row;
    const patch = patchFor(row);
    if (patch === undefined) return row;
    const next = await run.deps.ledger.update(row.payoutId, row.version, patch);
    if (next !== undefined) {
      run.row = next;
      return next;
    }
  }
  return undefined;
}

async function recordPermanent(run: Run, error: unknown): Promise<SyncPayoutResult> {
  const { log } = run;
  const zod = isZodError(error);
  const reason = maskEmailsIn(
    zod ? `Stripe sent data the sync cannot read: ${zodReason(error)}` : describeError(error),
  );
  const hint =
    error instanceof PermanentError
      ? error.hint
      : 'the Stripe object did not have the expected shape; check the Stripe API version of the account and report it';
  const refused = run.postingWithIntent;
  const row = await patchLatest(run, (current) => {
    // A live entry stays live and its row POSTED: only the reason is noted.
    if (current.status === 'POSTED') return { reason, hint };
    return {
      status: 'HELD',
      reason,
      hint,
      lastEventId: run.message.eventId,
      // QuickBooks refused the write: nothing was created, so the next attempt needs a fresh request id
      // (the old one would replay the refusal).
      ...(refused && current.quickbooks === null ? { intent: null } : {}),
    };
  });
  log.warn('payout held by a permanent error', { payoutId: run.message.payoutId, reason, hint });
  if (row === undefined) {
    throw new LedgerConflictError(run.message.payoutId, 'recording HELD');
  }
  return result(row, row.status === 'HELD' ? 'held' : 'unchanged', reason);
}

async function recordFailure(
  run: Run,
  error: unknown,
  receiveCount: number | undefined,
  maxReceiveCount: number,
): Promise<void> {
  const { log } = run;
  const message = maskEmailsIn(describeError(error));
  const lastDelivery = receiveCount !== undefined && receiveCount >= maxReceiveCount;
  try {
    await patchLatest(run, (current) => {
      const attempts = current.attempts + 1;
      const keepStatus = current.status === 'POSTED' || current.status === 'REVERSED';
      return {
        attempts,
        reason: `attempt ${attempts} failed: ${message}`,
        hint: lastDelivery
          ? `retries exhausted: the message is in the dead-letter queue. Fix the cause, then \`npx qbo-sync dlq replay --payout ${current.payoutId}\``
          : 'retrying automatically',
        ...(lastDelivery && !keepStatus ? { status: 'FAILED' as const } : {}),
      };
    });
  } catch (recordError) {
    log.error('could not record the failure in the ledger', {
      payoutId: run.message.payoutId,
      reason: describeError(recordError),
    });
  }
  log.warn(
    lastDelivery ? 'payout failed: retries exhausted, going to the DLQ' : 'payout attempt failed: will retry',
    {
      payoutId: run.message.payoutId,
      eventId: run.message.eventId,
      reason: message,
      receiveCount,
      maxReceiveCount,
    },
  );
}

/** The work did not fit in this invocation: progress is saved, a `continue` message picks it up. */
async function continueLater(run: Run, error: OutOfTimeError): Promise<SyncPayoutResult> {
  const { deps, message, log } = run;
  const next: PayoutMessage = {
    eventId: internalEventId('continue', message.payoutId, run.newId()),
    eventType: 'continue',
    tenantId: message.tenantId,
    stripeAccount: message.stripeAccount,
    payoutId: message.payoutId,
    receivedAt: run.now().toISOString(),
  };
  await deps.queue.enqueue(next);
  const reason = `continuing in the next invocation: ${describeError(error)}`;
  await patchLatest(run, (current) =>
    current.status === 'POSTING' ? { reason, hint: null, lastEventId: message.eventId } : undefined,
  );
  log.info('payout continues in the next invocation', {
    payoutId: message.payoutId,
    continueId: next.eventId,
  });
  return result(run.row, 'continued', reason);
}
