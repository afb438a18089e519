/**
 * The reversing JournalEntries a resync posts for the entries it replaces (`LedgerRecord.earlierReversals`).
 *
 * `payouts resync` of a POSTED payout removes its entry before posting the corrected one; where QuickBooks refuses
 * the deletion (closed books) the entry stays and a reversing JournalEntry cancels it. The row then moves on to the
 * new entry, so the reversing JournalEntry is kept here, with what it held as sent: deleted or edited in QuickBooks,
 * the replaced entry counts in the books again beside the new one (the payout doubled). The drift audit watches
 * them like the live entry (src/app/audit-drift.ts); `payouts accept` records a person's edit or deletion.
 *
 * Bounded: a payout resynced many times keeps its `MAX_EARLIER_REVERSALS` latest reversals, and the snapshot of
 * the newest `EARLIER_SNAPSHOTS` only (older ones are checked for deletion only, like rows reversed before
 * snapshots were kept), so a row stays far below DynamoDB's 400 KB item limit.
 */
import { compareSnapshots, type DriftRecord, earlierReversalHint, snapshotOf } from '../domain/drift.js';
import type { EarlierReversal, LedgerRecord, PostedRef } from './ports.js';
import type { RemovalOutcome } from './reverse-payout.js';

export const MAX_EARLIER_REVERSALS = 20;
export const EARLIER_SNAPSHOTS = 3;

const name = (ref: PostedRef) => `${ref.type} ${ref.id}`;

/**
 * The row's earlier reversals after a resync's removal, or undefined when the removal posted none (the entry was
 * deleted, or already gone). A retry recording the same reversal again does not add it twice.
 */
export function keepEarlierReversal(
  row: LedgerRecord,
  removal: RemovalOutcome,
  currency: string,
): EarlierReversal[] | undefined {
  if (removal.how !== 'reversed') return undefined;
  const kept = (row.earlierReversals ?? []).filter(
    (e) => !(e.reversal.type === removal.reversal.type && e.reversal.id === removal.reversal.id),
  );
  kept.push({
    reverses: removal.removed,
    reversal: removal.reversal,
    expected: snapshotOf(removal.entry, currency),
    drift: null,
  });
  const latest = kept.slice(-MAX_EARLIER_REVERSALS);
  return latest.map((e, i) => (i < latest.length - EARLIER_SNAPSHOTS ? { ...e, expected: null } : e));
}

/** "JournalEntry 45, the reversal of Deposit 12 (replaced by a resync; the payout's entry is now Deposit 13)". */
function reversalName(row: LedgerRecord, item: EarlierReversal): string {
  const now = row.quickbooks ? `; the payout's entry is now ${name(row.quickbooks)}` : '';
  return `${name(item.reversal)}, the reversal of ${name(item.reverses)} (replaced by a resync${now})`;
}

/**
 * The finding for an earlier reversal as QuickBooks has it (`body` undefined: deleted): a record, null when it is
 * as expected, or undefined when it cannot be compared (its snapshot dropped to bound the row).
 */
export function judgeEarlier(
  row: LedgerRecord,
  item: EarlierReversal,
  body: Record<string, unknown> | undefined,
  foundAt: string,
): DriftRecord | null | undefined {
  const what = reversalName(row, item);
  if (body === undefined) {
    if (item.drift?.finding === 'deleted') return item.drift;
    const beside = row.quickbooks ? ` beside ${name(row.quickbooks)}` : '';
    return {
      finding: 'deleted',
      detail: `${what}, was deleted in QuickBooks: ${name(item.reverses)} counts in the books again${beside}`,
      foundAt,
      found: null,
    };
  }
  if (!item.expected) return undefined;
  const found = snapshotOf({ type: item.reversal.type, body }, item.expected.currency);
  const diff = compareSnapshots(item.expected, found);
  if (diff === undefined) return null;
  const detail = `${what}, was edited: ${diff.detail}`;
  if (item.drift && item.drift.finding === diff.finding && item.drift.detail === detail) return item.drift;
  return { finding: diff.finding, detail, foundAt, found };
}

/** The hint of a finding on an earlier reversal. */
export function earlierHint(row: LedgerRecord, item: EarlierReversal, drift: DriftRecord): string {
  return earlierReversalHint(row.payoutId, drift.finding, name(item.reverses), name(item.reversal));
}

/** `payouts accept`: a deleted earlier reversal is no longer watched; an edited one is expected as QuickBooks has it. */
export function acceptEarlier(items: EarlierReversal[]): EarlierReversal[] {
  return items
    .filter((e) => e.drift?.finding !== 'deleted')
    .map((e) => (e.drift ? { ...e, expected: e.drift.found, drift: null } : e));
}
