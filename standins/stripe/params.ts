/**
 * Request parameters as Stripe checks them: unknown parameters refused, `limit` 1–100 (default 10), ranges
 * (`created[gte]=…`), `expand[]` limited to what the stand-in can expand, cursors that must exist (an unknown
 * `starting_after` is 400, like an expired cursor) — docs.stripe.com/api/pagination and /api/expanding_objects.
 */
import { invalid, noSuch } from './errors.js';
import type { Query, QueryValue } from './query.js';

export const KNOWN_PAYOUT_STATUSES = ['paid', 'pending', 'in_transit', 'canceled', 'failed'];

export function checkParams(query: Query, allowed: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) throw invalid(`Received unknown parameter: ${key}`, key, 'parameter_unknown');
  }
}

export function intParam(value: QueryValue, param: string): number {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
    throw invalid(`Invalid integer: ${typeof value === 'string' ? value : JSON.stringify(value)}`, param);
  }
  return Number(value);
}

export function stringParam(value: QueryValue | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`Invalid string: ${JSON.stringify(value)}`, param);
  return value;
}

export function limitParam(value: QueryValue | undefined): number {
  if (value === undefined) return 10;
  const n = intParam(value, 'limit');
  if (n < 1)
    throw invalid('This value must be greater than or equal to 1.', 'limit', 'parameter_invalid_integer');
  if (n > 100) {
    throw invalid(
      `This value must be less than or equal to 100 (it currently is '${n}').`,
      'limit',
      'parameter_invalid_integer',
    );
  }
  return n;
}

/** `created=…` or `created[gt|gte|lt|lte]=…` → a predicate. */
export function rangeParam(value: QueryValue | undefined, param: string): (n: number) => boolean {
  if (value === undefined) return () => true;
  if (typeof value === 'string') {
    const exact = intParam(value, param);
    return (n) => n === exact;
  }
  if (Array.isArray(value)) throw invalid(`Invalid hash: ${param} must be an integer or a range`, param);
  const tests: Array<(n: number) => boolean> = [];
  for (const [op, raw] of Object.entries(value)) {
    const name = `${param}[${op}]`;
    const bound = intParam(raw, name);
    if (op === 'gt') tests.push((n) => n > bound);
    else if (op === 'gte') tests.push((n) => n >= bound);
    else if (op === 'lt') tests.push((n) => n < bound);
    else if (op === 'lte') tests.push((n) => n <= bound);
    else throw invalid(`Received unknown parameter: ${name}`, name, 'parameter_unknown');
  }
  return (n) => tests.every((t) => t(n));
}

export function expandParam(value: QueryValue | undefined, allowed: readonly string[]): Set<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) throw invalid('Invalid array', 'expand');
  const out = new Set<string>();
  for (const item of value) {
    if (typeof item !== 'string') throw invalid('Invalid array', 'expand');
    if (!allowed.includes(item)) {
      throw invalid(
        `This property cannot be expanded (${item}). The Stripe stand-in expands only: ${allowed.join(', ')}.`,
        'expand',
      );
    }
    // A nested expansion implies its parents, as on Stripe.
    const parts = item.split('.');
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('.'));
  }
  return out;
}

export function paginate<T extends { id: string }>(
  items: readonly T[],
  query: Query,
  objectName: string,
  positions?: ReadonlyMap<string, number>,
): { data: T[]; has_more: boolean } {
  const limit = limitParam(query.limit);
  const startingAfter = stringParam(query.starting_after, 'starting_after');
  const endingBefore = stringParam(query.ending_before, 'ending_before');
  if (startingAfter !== undefined && endingBefore !== undefined) {
    throw invalid(
      'You may only specify one of these parameters: ending_before, starting_after.',
      'ending_before',
    );
  }
  const find = (id: string, param: string): number => {
    const at = positions ? positions.get(id) : items.findIndex((x) => x.id === id);
    if (at === undefined || at < 0 || items[at]?.id !== id) throw noSuch(objectName, id, param, 400);
    return at;
  };
  if (startingAfter !== undefined) {
    const from = find(startingAfter, 'starting_after') + 1;
    return { data: items.slice(from, from + limit), has_more: from + limit < items.length };
  }
  if (endingBefore !== undefined) {
    const to = find(endingBefore, 'ending_before');
    const from = Math.max(0, to - limit);
    return { data: items.slice(from, to), has_more: from > 0 };
  }
  return { data: items.slice(0, limit), has_more: limit < items.length };
}
