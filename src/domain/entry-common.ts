/**
 * Small helpers shared by the deposit builder, its line drafting and the reversal builder: note prefixes, dates,
 * QuickBooks references and the wording of lists in reasons and descriptions.
 */
import type { BuildResult, Ref } from './types.js';

/** A line's customer: an existing one, or one that would be created (a dry run), named. */
export type CustomerRef = Ref | { value: null; name: string };

/** The UTC calendar date of a unix timestamp (seconds), `YYYY-MM-DD`. */
export function utcDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/** The `PrivateNote` prefix every entry of a payout starts with. */
export function payoutNotePrefix(payoutId: string): string {
  return `Stripe payout ${payoutId}`;
}

/** The `PrivateNote` prefix of a reversal. */
export function reversalNotePrefix(payoutId: string): string {
  return `Reversal of Stripe payout ${payoutId}`;
}

export function held(reason: string, hint: string): BuildResult {
  return { outcome: 'HELD', reason, hint };
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function quoteList(values: readonly string[], max = 10): string {
  const shown = values.slice(0, max).map((v) => `"${v}"`);
  const more = values.length > max ? ` and ${values.length - max} more` : '';
  return `${shown.join(', ')}${more}`;
}

export function idList(values: readonly string[], max = 3): string {
  const more = values.length > max ? ` and ${values.length - max} more` : '';
  return `${values.slice(0, max).join(', ')}${more}`;
}

export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function refJson(ref: Ref): { value: string; name?: string } {
  return ref.name === undefined ? { value: ref.value } : { value: ref.value, name: ref.name };
}

export function refName(ref: { value: string | null; name?: string } | undefined): string {
  return ref === undefined ? '' : (ref.name ?? ref.value ?? '');
}
