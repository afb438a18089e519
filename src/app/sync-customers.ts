/**
 * `qbo-sync customers sync --tenant T` (CONTRACT §5): every active QuickBooks customer of the tenant's company is
 * read (paged by the adapter, 1000 a page) and the mapping table gets email → customer Id and the customer's
 * currency (`CurrencyRef`, which decides the entries it may be named on in a multicurrency company).
 *
 * Several customers may share an email: the oldest one (earliest `MetaData.CreateTime`, then the lowest Id) wins
 * and the others are reported, the winner first, so a person can merge them in QuickBooks. Customers without an
 * email are counted and left out of the mapping.
 */
import type { CustomerMap, QboCustomer, QuickBooksBooks, TenantStore } from './ports.js';
import { configuredTenant } from './tenant-config.js';

export interface SyncCustomersDeps {
  tenants: Pick<TenantStore, 'get'>;
  quickbooks: (realmId: string, ctx: { tenantId: string }) => Pick<QuickBooksBooks, 'listCustomers'>;
  customers: Pick<CustomerMap, 'putMany'>;
}

export interface SharedEmail {
  email: string;
  /** Every customer with this email, the winner (the one mapped) first. */
  ids: string[];
}

export interface SyncCustomersResult {
  tenant: string;
  realmId: string;
  /** Active customers read from QuickBooks. */
  customers: number;
  /** Emails stored in the mapping table. */
  mapped: number;
  /** Active customers without an email. */
  withoutEmail: number;
  sharedEmails: SharedEmail[];
}

const createdAt = (c: QboCustomer): number => {
  const t = c.createTime !== undefined ? Date.parse(c.createTime) : Number.NaN;
  return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
};

const numericId = (id: string): number => (/^\d+$/.test(id) ? Number(id) : Number.POSITIVE_INFINITY);

/** Oldest first (`MetaData.CreateTime`), then the lowest Id: the first one is the customer an email maps to. */
export function oldestFirst(customers: readonly QboCustomer[]): QboCustomer[] {
  return [...customers].sort(
    (a, b) => createdAt(a) - createdAt(b) || numericId(a.id) - numericId(b.id) || a.id.localeCompare(b.id),
  );
}

export async function syncCustomers(
  deps: SyncCustomersDeps,
  input: { tenantId: string; onProgress?: (readSoFar: number) => void },
): Promise<SyncCustomersResult> {
  const stored = await configuredTenant(deps.tenants, input.tenantId);
  const { realmId, tenantId } = stored.books;
  const books = deps.quickbooks(realmId, { tenantId });
  const all = await books.listCustomers(input.onProgress);
  const active = all.filter((c) => c.active);

  const byEmail = new Map<string, QboCustomer[]>();
  let withoutEmail = 0;
  for (const customer of active) {
    const email = customer.email?.trim().toLowerCase();
    if (!email) {
      withoutEmail += 1;
      continue;
    }
    const list = byEmail.get(email) ?? [];
    list.push(customer);
    byEmail.set(email, list);
  }

  const entries: { email: string; customerId: string; currency?: string }[] = [];
  const sharedEmails: SharedEmail[] = [];
  for (const [email, list] of byEmail) {
    const ranked = oldestFirst(list);
    const winner = ranked[0];
    if (winner === undefined) continue;
    entries.push({
      email,
      customerId: winner.id,
      ...(winner.currency !== undefined ? { currency: winner.currency } : {}),
    });
    if (ranked.length > 1) sharedEmails.push({ email, ids: ranked.map((c) => c.id) });
  }
  if (entries.length > 0) await deps.customers.putMany(realmId, entries);
  sharedEmails.sort((a, b) => a.email.localeCompare(b.email));

  return {
    tenant: tenantId,
    realmId,
    customers: active.length,
    mapped: entries.length,
    withoutEmail,
    sharedEmails,
  };
}
