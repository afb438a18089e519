/**
 * The revenue categories a tenant's recent payouts carry, each with how the tenant's mappings book it: the
 * support console's mappings page lists the ones that have no mapping (they HOLD a payout unless
 * `uncategorizedAccount` is set). Reads Stripe only (the paid payouts of the window and their balance
 * transactions); writes nothing.
 */
import { categoryLabel, chargeAllocations, nameKey, resolveRevenueTarget } from '../domain/categories.js';
import { isCharge } from '../domain/stripe.js';
import type { PayoutSource, TenantStore } from './ports.js';
import { configuredTenant } from './tenant-config.js';

export interface SeenCategory {
  category: string;
  subcategory?: string;
  /** "Classes / Virtual". */
  label: string;
  /** Charges (or revenue_split parts) carrying it. */
  charges: number;
  /** The payouts it was seen on, newest first (at most 5). */
  payouts: string[];
  /** `mapped`: a revenue mapping books it; `uncategorized`: `uncategorizedAccount` does; `unmapped`: it HOLDS. */
  booking: 'mapped' | 'uncategorized' | 'unmapped';
  /** The mapping's account, when mapped. */
  account?: string;
}

export interface RecentCategories {
  tenant: string;
  days: number;
  /** Paid payouts read (at most `maxPayouts`, newest first). */
  payoutsRead: number;
  categories: SeenCategory[];
}

export interface RecentCategoriesDeps {
  tenants: Pick<TenantStore, 'get'>;
  payouts: Pick<PayoutSource, 'listPaidPayouts' | 'listPayoutTransactions'>;
  now?: () => Date;
}

export async function recentCategories(
  deps: RecentCategoriesDeps,
  input: { tenantId: string; days?: number; maxPayouts?: number },
): Promise<RecentCategories> {
  const days = input.days ?? 30;
  const maxPayouts = input.maxPayouts ?? 20;
  const tenant = (await configuredTenant(deps.tenants, input.tenantId)).books;
  const since = Math.floor(((deps.now ?? (() => new Date()))().getTime() - days * 86_400_000) / 1000);
  const seen = new Map<string, SeenCategory>();
  let payoutsRead = 0;
  for await (const payout of deps.payouts.listPaidPayouts(tenant.stripeAccount, since)) {
    if (payoutsRead >= maxPayouts) break;
    payoutsRead += 1;
    if (!payout.automatic) continue; // Stripe cannot itemise a manual payout
    for (const bt of await deps.payouts.listPayoutTransactions(tenant.stripeAccount, payout.id)) {
      if (!isCharge(bt.source)) continue;
      const allocated = chargeAllocations(bt.source);
      if (!allocated.ok) continue;
      for (const part of allocated.allocations) {
        const key = `${nameKey(part.category)}\u0000${nameKey(part.subcategory ?? '')}`;
        let entry = seen.get(key);
        if (entry === undefined) {
          const mapping = resolveRevenueTarget(tenant.revenue, part.category, part.subcategory);
          entry = {
            category: part.category,
            ...(part.subcategory !== undefined ? { subcategory: part.subcategory } : {}),
            label: categoryLabel(part),
            charges: 0,
            payouts: [],
            booking:
              mapping !== undefined
                ? 'mapped'
                : tenant.uncategorizedAccount !== undefined
                  ? 'uncategorized'
                  : 'unmapped',
            ...(mapping !== undefined ? { account: mapping.account.name ?? mapping.account.value } : {}),
          };
          seen.set(key, entry);
        }
        entry.charges += 1;
        if (!entry.payouts.includes(payout.id) && entry.payouts.length < 5) entry.payouts.push(payout.id);
      }
    }
  }
  const order = { unmapped: 0, uncategorized: 1, mapped: 2 } as const;
  const categories = [...seen.values()].sort(
    (a, b) => order[a.booking] - order[b.booking] || a.label.localeCompare(b.label),
  );
  return { tenant: tenant.tenantId, days, payoutsRead, categories };
}
