/**
 * The deposit builder's per-payout process (CONTRACT §1, §4, §6, §7), on the ports only.
 *
 *   ledger ensure → no-op checks → payout re-read from Stripe (the source of truth: events arrive out of order)
 *   → failed/canceled: remove what was posted (REVERSED) or record SKIPPED
 *   → reconciliation not completed: WAITING_FOR_RECONCILIATION
 *   → claim: POSTING + the write intent {requestId} recorded BEFORE anything is sent to QuickBooks
 *   → closed books (company closing date read first): HELD, or the entry moved to the first open day
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
import { movedNote, moveEntry } from '../domain/closed-period.js';
import { exchangeRateNote } from '../domain/deposit.js';
import { snapshotOf } from '../domain/drift.js';
import { keepEarlierReversal } from './earlier-reversals.js';
import { OutOfTimeError, PermanentError } from './errors.js';
import { restoreReversal } from './restore-reversal.js';
import { describeRemoval, LedgerConflictError, updateOrConflict } from './reverse-payout.js';
import { continueLater, recordBuildOutcome, recordFailure, recordPermanent } from './sync-recording.js';
import {
  buildFor,
  closedPeriodFor,
  DEFAULT_MAX_RECEIVE_COUNT,
  FAILURE_EVENTS,
  isFailedPayout,
  isZodError,
  PERSON_REQUESTS,
  payoutFailure,
  postWithIntent,
  queueCustomerWork,
  type Run,
  readyToBook,
  recordReversal,
  removeLive,
  requeueCustomerWork,
  resolveIntentOfFailedPayout,
  result,
  type SyncPayoutDeps,
  type SyncPayoutInput,
  type SyncPayoutResult,
} from './sync-run.js';
import { configuredTenant } from './tenant-config.js';
import { newIntent } from './write-intent.js';

export {
  DEFAULT_MAX_RECEIVE_COUNT,
  type SyncOutcome,
  type SyncPayoutDeps,
  type SyncPayoutInput,
  type SyncPayoutResult,
} from './sync-run.js';

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
  // A reversed payout: only a resync after the audit found its reversing JournalEntry deleted or edited.
  if (status === 'REVERSED' && (type !== 'resync' || !run.row.drift)) {
    log.info('payout already reversed: nothing to do', context);
    return result(run.row, 'unchanged', 'the payout was reversed; nothing to do');
  }
  // A POSTED payout: only a resync, or a failure (event, or found by a person's sync), changes anything.
  if (status === 'POSTED' && !PERSON_REQUESTS.has(type) && !FAILURE_EVENTS.has(type)) {
    if ((run.row.customersAfterPosting ?? 0) > 0 && run.row.lastEventId === message.eventId) {
      // This very message posted it, and its delivery ended before it was done: queue the customers again.
      const books = (await configuredTenant(deps.tenants, run.row.tenantId, 'import the tenant again')).books;
      await requeueCustomerWork(run, books);
    }
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
  // The entry is to be removed again (POSTING, `quickbooks` = the entry), like a payout that failed after posting.
  if (run.row.status === 'REVERSED') await restoreReversal(run, tenant, payout);

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
    // Resync: the next generation is posted under a new intent, recorded in the same write; a reversing
    // JournalEntry of the replaced entry is kept for the drift audit (the row moves on to the new entry).
    const earlierReversals = keepEarlierReversal(run.row, removal, payout.currency);
    run.row = await updateOrConflict(
      deps.ledger,
      run.row,
      {
        status: 'POSTING',
        quickbooks: null,
        intent: newIntent(run.newId(), payout.amount < 0 ? 'JournalEntry' : 'Deposit', run.now()),
        generation: run.row.generation + 1,
        reason: `resync: ${describeRemoval(removal)}; posting the corrected entry`,
        hint: null,
        lastEventId: message.eventId,
        ...(earlierReversals ? { earlierReversals } : {}),
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
  const intent =
    run.row.intent ?? newIntent(run.newId(), payout.amount < 0 ? 'JournalEntry' : 'Deposit', run.now());
  if (!run.claimed || run.row.intent === null) {
    run.row = await updateOrConflict(
      deps.ledger,
      run.row,
      { status: 'POSTING', intent, reason: null, hint: null, lastEventId: message.eventId },
      'claiming the payout',
    );
    run.claimed = true;
  }

  // Closed books: decided from the company's closing date before anything is written to QuickBooks.
  const period = await closedPeriodFor(run, tenant, payout);
  if (period.action === 'hold') return await recordBuildOutcome(run, { outcome: 'HELD', ...period });
  const { build, deferred, customerNote } = await buildFor(run, tenant, payout);
  if (build.outcome !== 'POST') return await recordBuildOutcome(run, build);
  const entry = period.action === 'move' ? moveEntry(build.entry, period) : build.entry;

  const posted = await postWithIntent(
    run,
    tenant,
    entry,
    intent,
    () => ({
      status: 'POSTED',
      lineDetailUsed: build.lineDetail,
      folded: build.folded,
      customersAfterPosting: deferred.length,
      reason:
        [
          period.action === 'move' ? movedNote(period) : undefined,
          build.folded
            ? `posted with category lines: ${tenant.lineDetail} lines would exceed maxDepositLines ${tenant.maxDepositLines}${deferred.length > 0 ? `; the ${deferred.length} members' customers are created after posting` : ''}`
            : undefined,
          build.exchangeRate !== undefined ? exchangeRateNote(build.exchangeRate) : undefined,
          customerNote,
        ]
          .filter((r) => r !== undefined)
          .join('; ') || null,
      hint: null,
      lastEventId: message.eventId,
      // What the drift audit compares QuickBooks with; a new entry has no finding yet.
      posted: snapshotOf(entry, payout.currency),
      drift: null,
      originalDate: period.action === 'move' ? period.from : null,
    }),
    'recording POSTED',
  );
  if (deferred.length > 0) await queueCustomerWork(run, tenant, deferred);
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
