/**
 * How a run of `syncPayout` ends when it does not post: HELD or SKIPPED by the build, HELD by a permanent error,
 * a failure recorded for the queue's retry (FAILED on the last delivery), or a `continue` message when the work
 * does not fit in one invocation.
 */
import type { BuildResult } from '../domain/types.js';
import { isRefusedWrite, type OutOfTimeError, PermanentError } from './errors.js';
import { describeError, maskEmailsIn } from './log.js';
import { internalEventId } from './payout-message.js';
import type { LedgerRecord, PayoutMessage } from './ports.js';
import { LedgerConflictError, updateOrConflict } from './reverse-payout.js';
import {
  isZodError,
  type LedgerPatch,
  type Run,
  result,
  type SyncPayoutResult,
  zodReason,
} from './sync-run.js';

export async function recordBuildOutcome(
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
/** Reads the row again (a write of ours may have failed half-way) and applies `patch`, retrying conflicts. */
export async function patchLatest(
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

export async function recordPermanent(run: Run, error: unknown): Promise<SyncPayoutResult> {
  const { log } = run;
  const zod = isZodError(error);
  const reason = maskEmailsIn(
    zod ? `Stripe sent data the sync cannot read: ${zodReason(error)}` : describeError(error),
  );
  const hint =
    error instanceof PermanentError
      ? error.hint
      : 'the Stripe object did not have the expected shape; check the Stripe API version of the account and report it';
  // Only QuickBooks' definite refusal of the write means nothing was created under the request id. Anything else
  // after the write was sent (a timeout, then invalid_grant on the retry; a 2xx that cannot be read) may have
  // posted it: the intent stays, so the next attempt replays the same request id (CONTRACT §7).
  const refused = run.postingWithIntent && isRefusedWrite(error);
  const row = await patchLatest(run, (current) => {
    // A live entry stays live and its row POSTED (a reversed payout REVERSED): only the reason is noted.
    if (current.status === 'POSTED' || current.status === 'REVERSED') return { reason, hint };
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

export async function recordFailure(
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
export async function continueLater(run: Run, error: OutOfTimeError): Promise<SyncPayoutResult> {
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
