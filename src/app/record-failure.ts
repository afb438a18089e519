/**
 * Recording, for `dlq list`, a queue message that will reach the dead-letter queue without `syncPayout` having
 * recorded it itself: a malformed message, or one skipped on its last delivery because an earlier message of
 * its tenant kept failing.
 *
 * The row is the payout's own when the message names a valid payout id and that row is new or still waiting for
 * work (RECEIVED, WAITING_FOR_RECONCILIATION, FAILED): it becomes FAILED. A payout whose row says something a bad
 * message must not overwrite (POSTING, POSTED, HELD, SKIPPED, REVERSED) keeps it, and the message's reason goes to
 * a row keyed `message:<SQS message id>`, as for a message that names no valid payout.
 */
import type { LedgerStatus } from '../domain/types.js';
import type { Ledger, LedgerRecord, PayoutMessage } from './ports.js';

/** The ledger key of a message that names no valid payout. */
export function messageLedgerKey(messageId: string): string {
  return `message:${messageId}`;
}

const PAYOUT_ID = /^po_[A-Za-z0-9_]+$/;
const TENANT_ID = /^[a-z0-9-]{2,64}$/;
/** Statuses a message that could not be processed may turn into FAILED: nothing was decided for the payout yet. */
const OVERWRITABLE: ReadonlySet<LedgerStatus> = new Set(['RECEIVED', 'WAITING_FOR_RECONCILIATION', 'FAILED']);

export async function recordUnprocessedMessage(
  ledger: Pick<Ledger, 'ensure' | 'get' | 'update'>,
  input: { messageId: string; partial: Partial<PayoutMessage>; reason: string; hint: string },
): Promise<LedgerRecord | undefined> {
  const named =
    input.partial.payoutId !== undefined && PAYOUT_ID.test(input.partial.payoutId)
      ? input.partial.payoutId
      : undefined;
  const existing = named === undefined ? undefined : await ledger.get(named);
  const payoutId =
    named !== undefined && (existing === undefined || OVERWRITABLE.has(existing.status))
      ? named
      : messageLedgerKey(input.messageId);
  const tenantId =
    input.partial.tenantId !== undefined && TENANT_ID.test(input.partial.tenantId)
      ? input.partial.tenantId
      : 'unknown';
  let row = await ledger.ensure(payoutId, tenantId, input.partial.eventId);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (payoutId === named && !OVERWRITABLE.has(row.status)) return row;
    const next = await ledger.update(row.payoutId, row.version, {
      status: 'FAILED',
      reason: input.reason,
      hint: input.hint,
      attempts: row.attempts + 1,
    });
    if (next !== undefined) return next;
    row = (await ledger.get(payoutId)) ?? row;
  }
  return undefined;
}
