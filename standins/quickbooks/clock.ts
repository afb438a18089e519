/**
 * QuickBooks writes times in the US Pacific zone with an explicit offset ("2017-09-29T09:17:31.892-07:00").
 * The stand-in uses a fixed -07:00 offset: valid ISO 8601, parseable by `Date`, close enough to the real thing.
 */
const OFFSET_MS = -7 * 3600 * 1000;

export function qboTime(nowMs: number): string {
  return `${new Date(nowMs + OFFSET_MS).toISOString().slice(0, 23)}-07:00`;
}

/** "Today" on the QuickBooks server (the default TxnDate). */
export function qboDate(nowMs: number): string {
  return new Date(nowMs + OFFSET_MS).toISOString().slice(0, 10);
}

/** True when `s` is a real calendar date written YYYY-MM-DD. */
export function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
