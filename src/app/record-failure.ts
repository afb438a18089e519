/**
 * Recording, for `dlq list`, a queue message that will reach the dead-letter queue without `syncPayout` having
 * recorded it itself: a malformed message, or one skipped on its last delivery because an earlier message of
 * its tenant kept failing.
 *
 * The row is the payout's own when the message names a valid payout id (status FAILED, unless the payout is
 * already POSTED or REVERSED: those stay as they are), else a row keyed `message:<SQS message id>`.
 */
import type { Ledger, LedgerRecord, PayoutMessage } from './ports.js';

/** The ledger key of a message that names no valid payout. */
export function messageLedgerKey(messageId: string): string {
  return `message:${messageId}`;
}

const PAYOUT_ID = /^po_[A-Za-z0-9_]+$/;
const TENANT_ID = /^[a-z0-9-]{2,64}$/;

export async function recordUnprocessedMessage(
  ledger: Pick<Ledger, 'ensure' | 'get' | 'update'>,
  input: { messageId: string; partial: Partial<PayoutMessage>; reason: string; hint: string },
): Promise<LedgerRecord | undefined> {
  const payoutId =
    input.partial.payoutId !== undefined && PAYOUT_ID.test(input.partial.payoutId)
      ? input.partial.payoutId
      : messageLedgerKey(input.messageId);
  const tenantId =
    input.partial.tenantId !== undefined && TENANT_ID.test(input.partial.tenantId)
      ? input.partial.tenantId
      : 'unknown';
  let row = await ledger.ensure(payoutId, tenantId, input.partial.eventId);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (row.status === 'POSTED' || row.status === 'REVERSED') return row;
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
