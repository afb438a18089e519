/**
 * Revenue categories: which QuickBooks account (and class) a sale belongs to, and how a cart spanning
 * several categories (`metadata.revenue_split`) is divided (CONTRACT §2, §3).
 */
import { z } from 'zod';
import { formatMinor, splitLargestRemainder } from './money.js';
import type { Charge } from './stripe.js';
import { tidyText } from './text.js';
import type { Minor, RevenueMapping } from './types.js';

/** The category of a charge without `revenue_category` (unmapped unless `uncategorizedAccount` is set). */
export const NO_CATEGORY = '(none)';

export interface CategoryKey {
  category: string;
  subcategory?: string;
}

/** A category with its share of an amount. */
export interface RevenueAllocation extends CategoryKey {
  amount: Minor;
}

/** Names match case-insensitively after trimming (and collapsing inner spaces). */
export function nameKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** "Classes / Virtual", or "Classes" without a subcategory. */
export function categoryLabel(key: CategoryKey): string {
  return key.subcategory === undefined ? key.category : `${key.category} / ${key.subcategory}`;
}

/**
 * The most specific mapping: (category, subcategory), then (category) with no subcategory; `undefined`
 * when neither exists (the caller then uses `uncategorizedAccount`, or holds the payout).
 */
export function resolveRevenueTarget(
  mappings: readonly RevenueMapping[],
  category: string,
  subcategory?: string,
): RevenueMapping | undefined {
  // A payout asks about the same few categories thousands of times: the answer is kept per mappings list.
  let known = resolved.get(mappings);
  if (known === undefined) {
    known = new Map();
    resolved.set(mappings, known);
  }
  const key = subcategory === undefined ? category : `${category}\u0000${subcategory}`;
  if (known.has(key)) return known.get(key);
  const found = findRevenueTarget(mappings, category, subcategory);
  if (known.size < 10_000) known.set(key, found);
  return found;
}

const resolved = new WeakMap<readonly RevenueMapping[], Map<string, RevenueMapping | undefined>>();

function findRevenueTarget(
  mappings: readonly RevenueMapping[],
  category: string,
  subcategory?: string,
): RevenueMapping | undefined {
  const c = nameKey(category);
  const s = subcategory === undefined ? undefined : nameKey(subcategory);
  if (s !== undefined && s !== '') {
    const exact = mappings.find(
      (m) => nameKey(m.category) === c && m.subcategory !== undefined && nameKey(m.subcategory) === s,
    );
    if (exact !== undefined) return exact;
  }
  return mappings.find(
    (m) => nameKey(m.category) === c && (m.subcategory === undefined || nameKey(m.subcategory) === ''),
  );
}

/** The charge's own category from `revenue_category` / `revenue_subcategory` (`(none)` when absent). */
export function chargeCategory(charge: Charge): CategoryKey {
  const category = tidyText(charge.metadata.revenue_category);
  if (category === undefined) return { category: NO_CATEGORY };
  const subcategory = tidyText(charge.metadata.revenue_subcategory);
  return subcategory === undefined ? { category } : { category, subcategory };
}

const RevenueSplitSchema = z
  .array(
    z
      .object({
        category: z.string().trim().min(1, { error: 'category must not be empty' }),
        subcategory: z.string().nullable().optional(),
        amount: z
          .number({ error: 'amount must be a number of minor units' })
          .int({ error: 'amount must be a whole number of minor units' })
          .min(0, { error: 'amount must not be negative' })
          .refine(Number.isSafeInteger, { error: 'amount is too large' }),
      })
      .loose(),
  )
  .min(1, { error: 'it must list at least one category' });

export type AllocationResult =
  | { ok: true; allocations: RevenueAllocation[] }
  | { ok: false; problem: string };

/**
 * How the charge's amount divides over categories, in the charge's minor units: its `revenue_split` when
 * present (validated: it must sum to the charge amount), else the whole amount to its own category.
 */
export function chargeAllocations(charge: Charge): AllocationResult {
  const raw = charge.metadata.revenue_split;
  if (raw === undefined || raw.trim() === '') {
    const own = chargeCategory(charge);
    const allocation: RevenueAllocation =
      own.subcategory === undefined
        ? { category: own.category, amount: charge.amount }
        : { category: own.category, subcategory: own.subcategory, amount: charge.amount };
    return { ok: true, allocations: [allocation] };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return {
      ok: false,
      problem: `charge ${charge.id}: metadata.revenue_split is not valid JSON (expected [{"category","subcategory"?,"amount"}])`,
    };
  }
  const parsed = RevenueSplitSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    return {
      ok: false,
      problem: `charge ${charge.id}: metadata.revenue_split is invalid${where}: ${issue?.message ?? 'unknown problem'} (expected [{"category","subcategory"?,"amount"}] in minor units)`,
    };
  }
  const allocations = parsed.data.map((p): RevenueAllocation => {
    const category = tidyText(p.category) ?? NO_CATEGORY;
    const subcategory = tidyText(p.subcategory);
    return subcategory === undefined
      ? { category, amount: p.amount }
      : { category, subcategory, amount: p.amount };
  });
  const sum = allocations.reduce((a, p) => a + p.amount, 0);
  if (sum !== charge.amount) {
    return {
      ok: false,
      problem: `charge ${charge.id}: metadata.revenue_split sums to ${formatMinor(sum, charge.currency)} but the charge is ${formatMinor(charge.amount, charge.currency)}; the parts must add up to the charge amount`,
    };
  }
  return { ok: true, allocations };
}

/**
 * Divides a settlement amount (a charge's, refund's or dispute's balance transaction `amount`, any sign)
 * over the charge's allocations in proportion, by largest remainder: the parts sum exactly to `amount`.
 * Parts of zero are dropped.
 */
export function allocateAmount(
  allocations: readonly RevenueAllocation[],
  amount: Minor,
): RevenueAllocation[] {
  const [only] = allocations;
  if (allocations.length === 1 && only !== undefined) {
    if (amount === 0) return [];
    return only.subcategory === undefined
      ? [{ category: only.category, amount }]
      : [{ category: only.category, subcategory: only.subcategory, amount }];
  }
  const parts = splitLargestRemainder(
    amount,
    allocations.map((a) => a.amount),
  );
  const out: RevenueAllocation[] = [];
  allocations.forEach((a, i) => {
    const part = parts[i] ?? 0;
    if (part !== 0) out.push({ ...a, amount: part });
  });
  return out;
}
