/**
 * The closed-period policy (CONTRACT §2 `closedPeriod`, §4): QuickBooks refuses a transaction dated on or before
 * the company's closing date (`Preferences.AccountingInfoPrefs.BookCloseDate`). The product reads that date
 * before any write and decides here, without asking QuickBooks to refuse first:
 *   hold          → HELD "the books are closed through <date>", nothing written (no customer, no entry);
 *   nextOpenDate  → posted on the first open day, the original date kept in the entry's note and the ledger.
 * Pure: no I/O.
 */
import type { ClosedPeriodPolicy, QboEntry } from './types.js';

export type ClosedPeriodDecision =
  | { action: 'post' }
  | { action: 'hold'; reason: string; hint: string }
  | { action: 'move'; from: string; to: string; closedThrough: string };

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The day after `date` (YYYY-MM-DD), by the calendar. */
export function nextDay(date: string): string {
  if (!DATE.test(date)) throw new RangeError(`date must be YYYY-MM-DD, got "${date}"`);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/**
 * What to do with an entry dated `txnDate` when the books are closed through `bookCloseDate` (null or empty: no
 * closing date set, so nothing is closed).
 */
export function closedPeriodDecision(input: {
  payoutId: string;
  txnDate: string;
  bookCloseDate: string | null;
  policy: ClosedPeriodPolicy;
}): ClosedPeriodDecision {
  const { payoutId, txnDate, policy } = input;
  const closed = input.bookCloseDate?.slice(0, 10) ?? '';
  if (!DATE.test(closed) || txnDate > closed) return { action: 'post' };
  if (policy === 'nextOpenDate') {
    return { action: 'move', from: txnDate, to: nextDay(closed), closedThrough: closed };
  }
  return {
    action: 'hold',
    reason: `the books are closed through ${closed}; the payout is dated ${txnDate}`,
    hint: `reopen the period in QuickBooks (or move its closing date), then \`npx qbo-sync payouts sync ${payoutId}\`; or set closedPeriod: nextOpenDate for the tenant to post such payouts on the first open day`,
  };
}

/** The note added to an entry moved out of a closed period. */
export function movedNote(decision: Extract<ClosedPeriodDecision, { action: 'move' }>): string {
  return `dated ${decision.from}, posted on ${decision.to}: the books are closed through ${decision.closedThrough}`;
}

/** The entry dated on the first open day, its `PrivateNote` (still beginning `Stripe payout <po_…>`) saying why. */
export function moveEntry(
  entry: QboEntry,
  decision: Extract<ClosedPeriodDecision, { action: 'move' }>,
): QboEntry {
  const note = typeof entry.body.PrivateNote === 'string' ? entry.body.PrivateNote : '';
  return {
    type: entry.type,
    body: {
      ...entry.body,
      TxnDate: decision.to,
      PrivateNote: note === '' ? movedNote(decision) : `${note} · ${movedNote(decision)}`,
    },
  };
}
