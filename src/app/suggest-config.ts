/**
 * `qbo-sync config suggest --tenant T [--days N]` (CONTRACT §8): the mappings discovered from the data, the way the
 * booking platform's own QuickBooks setup goes (review the categories, map each to an account or class, save, make a
 * test deposit). Reads the tenant's paid payouts of the last N days and their charges' revenue categories
 * (`revenue_category` / `revenue_subcategory`, or each part of a `revenue_split`), and the company's income accounts
 * and classes; proposes a mapping for each category whose account is clearly right by name (domain/suggest-mapping.ts)
 * and leaves the rest TODO with candidates. Reads only: nothing is stored or posted.
 */
import { allocateAmount, type CategoryKey, chargeAllocations, nameKey } from '../domain/categories.js';
import { kindOfTransaction } from '../domain/classify.js';
import type { SyncConfigFile } from '../domain/config.js';
import { isCharge } from '../domain/stripe.js';
import {
  type CategorySuggestion,
  type FoundCategory,
  incomeAccounts,
  suggestMappings,
} from '../domain/suggest-mapping.js';
import type { QboAccount, QboClass } from '../domain/types.js';
import type { PayoutSource, QuickBooksBooks, TenantStore } from './ports.js';
import { configuredTenant } from './tenant-config.js';

export interface SuggestConfigDeps {
  tenants: Pick<TenantStore, 'get'> & Partial<Pick<TenantStore, 'list'>>;
  payouts: Pick<PayoutSource, 'listPayouts' | 'listPayoutTransactions'>;
  books(realmId: string, tenantId: string): QuickBooksBooks;
  now?: () => Date;
}

export interface SuggestConfigInput {
  tenantId: string;
  /** How far back to read payouts (by arrival date). */
  days: number;
  /** Called once the payouts are listed (total), then after each payout read (done). */
  onProgress?: (done: number, total: number) => void;
}

export interface SuggestConfigResult {
  tenant: string;
  /** Payouts read, and their arrival dates (ISO dates), oldest first. */
  payouts: number;
  from: string | null;
  to: string | null;
  days: number;
  /** The most recent payout read: the one to preview as a test deposit. */
  latestPayout: string | null;
  /** Each category found, most revenue first, with the suggested account or the candidates. */
  categories: SuggestedCategory[];
  /** The company's active income accounts and classes (FullyQualifiedName). */
  incomeAccounts: string[];
  classes: string[];
  /** The tenant's stored config with `revenue` replaced by the suggestions (TODO where none is clear). */
  draft: SyncConfigFile;
  /** Categories left TODO. */
  todo: number;
}

/** A category found, with the tenant's current mapping for it (kept in the draft) or the suggestion. */
export interface SuggestedCategory extends CategorySuggestion {
  /** The tenant's own mapping that already covers this category (the draft keeps it). */
  mapped?: { account: string; class?: string };
}

type ConfigRevenue = SyncConfigFile['tenants'][number]['revenue'];

/** The tenant's mapping for a category: (category, subcategory), then (category) alone. */
function currentMapping(revenue: ConfigRevenue, key: CategoryKey): ConfigRevenue[number] | undefined {
  const c = nameKey(key.category);
  const s = key.subcategory === undefined ? undefined : nameKey(key.subcategory);
  return (
    (s === undefined
      ? undefined
      : revenue.find(
          (m) => nameKey(m.category) === c && m.subcategory !== undefined && nameKey(m.subcategory) === s,
        )) ?? revenue.find((m) => nameKey(m.category) === c && m.subcategory === undefined)
  );
}

/** The account value a TODO entry carries in the draft (config validate refuses it, naming the entry). */
export const TODO_ACCOUNT = 'TODO';

const isoDate = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().slice(0, 10);

export async function suggestConfig(
  deps: SuggestConfigDeps,
  input: SuggestConfigInput,
): Promise<SuggestConfigResult> {
  const tenant = await configuredTenant(deps.tenants, input.tenantId);
  const { stripeAccount, realmId, tenantId } = tenant.books;
  const now = (deps.now ?? (() => new Date()))();
  const since = Math.floor(now.getTime() / 1000) - input.days * 86_400;

  const payouts = [];
  // A payout the product cannot read has no categories to suggest from: the suggestion reads the others.
  for await (const p of deps.payouts.listPayouts(stripeAccount, { status: 'paid', arrivalSince: since })) {
    if ('payout' in p && p.payout.automatic) payouts.push(p.payout);
  }
  input.onProgress?.(0, payouts.length);

  const found = new Map<string, FoundCategory>();
  for (const [i, payout] of payouts.entries()) {
    const transactions = await deps.payouts.listPayoutTransactions(stripeAccount, payout.id);
    for (const bt of transactions) {
      if (kindOfTransaction(bt) !== 'revenue' || !isCharge(bt.source)) continue;
      const allocation = chargeAllocations(bt.source);
      if (!allocation.ok) continue;
      for (const part of allocateAmount(allocation.allocations, bt.amount)) {
        const key = `${part.category}\u0000${part.subcategory ?? ''}\u0000${bt.currency}`;
        const entry = found.get(key) ?? {
          category: part.category,
          ...(part.subcategory !== undefined ? { subcategory: part.subcategory } : {}),
          charges: 0,
          total: 0,
          currency: bt.currency.toUpperCase(),
        };
        entry.charges += 1;
        entry.total += part.amount;
        found.set(key, entry);
      }
    }
    input.onProgress?.(i + 1, payouts.length);
  }

  const chart = await deps.books(realmId, tenantId).getChart();
  const current = tenant.source.revenue;
  const categories: SuggestedCategory[] = suggestMappings([...found.values()], chart).map((s) => {
    const m = currentMapping(current, s.found);
    return m === undefined
      ? s
      : { ...s, mapped: { account: m.account, ...(m.class !== undefined ? { class: m.class } : {}) } };
  });
  const activeClasses = chart.classes.filter((c: QboClass) => c.active);
  // The tenant's own mappings stay as they are; each category they do not cover gets the suggestion, or TODO.
  const revenue: ConfigRevenue = [
    ...current,
    ...categories
      .filter((s) => s.mapped === undefined)
      .map((s) => ({
        category: s.found.category,
        ...(s.found.subcategory !== undefined ? { subcategory: s.found.subcategory } : {}),
        account: s.account ?? TODO_ACCOUNT,
      })),
  ];
  const { refreshToken: _secret, ...quickbooks } = tenant.source.quickbooks;
  const arrivals = payouts.map((p) => p.arrival_date).sort((a, b) => a - b);
  return {
    tenant: tenantId,
    payouts: payouts.length,
    from: arrivals.length > 0 ? isoDate(arrivals[0] as number) : null,
    to: arrivals.length > 0 ? isoDate(arrivals[arrivals.length - 1] as number) : null,
    days: input.days,
    latestPayout: [...payouts].sort((a, b) => b.arrival_date - a.arrival_date)[0]?.id ?? null,
    categories,
    incomeAccounts: incomeAccounts(chart).map((a: QboAccount) => a.fullyQualifiedName),
    classes: activeClasses.map((c) => c.fullyQualifiedName).sort(),
    draft: { tenants: [{ ...tenant.source, quickbooks, revenue }] } as SyncConfigFile,
    todo: categories.filter((s) => s.mapped === undefined && s.account === undefined).length,
  };
}
