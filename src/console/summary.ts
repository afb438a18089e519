/** Pure: the payouts page's figures from ledger rows (counts per status, payouts per day by status). */
import type { LedgerRecord } from '../app/ports.js';
import { LEDGER_STATUSES, type LedgerStatus } from '../domain/types.js';

export interface DayCounts {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  counts: Record<LedgerStatus, number>;
  total: number;
}

export function emptyCounts(): Record<LedgerStatus, number> {
  return Object.fromEntries(LEDGER_STATUSES.map((s) => [s, 0])) as Record<LedgerStatus, number>;
}

export function countByStatus(rows: readonly LedgerRecord[]): Record<LedgerStatus, number> {
  const counts = emptyCounts();
  for (const r of rows) counts[r.status] += 1;
  return counts;
}

/**
 * One entry per UTC day from `from` to `to` inclusive (days without payouts included, so the chart's axis is
 * even), counting each row on the day it reached the ledger (`createdAt`).
 */
export function perDay(rows: readonly LedgerRecord[], from: string, to: string): DayCounts[] {
  const days: DayCounts[] = [];
  const index = new Map<string, DayCounts>();
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    const entry = { day, counts: emptyCounts(), total: 0 };
    days.push(entry);
    index.set(day, entry);
  }
  for (const r of rows) {
    const entry = index.get(r.createdAt.slice(0, 10));
    if (entry === undefined) continue;
    entry.counts[r.status] += 1;
    entry.total += 1;
  }
  return days;
}
