/**
 * The deposit builder's preparation, shared by the worker (`syncPayout`) and the dry run (`previewPayout`): a
 * payout's balance transactions → its members → their QuickBooks customers → the entry (or HELD / SKIPPED).
 * With `dryRun`, customers are resolved without creating or storing anything (one that would be created carries
 * `value: null` and the DisplayName it would get).
 */
import { buildEntry } from '../domain/deposit.js';
import { collectMembers } from '../domain/members.js';
import type { Payout } from '../domain/stripe.js';
import type { BuildResult, CustomerDirectory, TenantBooks } from '../domain/types.js';
import type { CustomerMap, PayoutSource, QuickBooksBooks } from './ports.js';
import { type ResolveCustomersResult, resolveCustomers } from './resolve-customers.js';

export interface PrepareEntryDeps {
  payouts: Pick<PayoutSource, 'listPayoutTransactions'>;
  /** The tenant's company; asked for only when customers have to be resolved. */
  books: () => QuickBooksBooks;
  /** The mapping table; a dry run only reads it. */
  customers: CustomerMap;
  /** Checked between customer create batches; when true, the work stops with `OutOfTimeError`. */
  isOutOfTime?: () => boolean;
}

export interface PreparedEntry {
  build: BuildResult;
  /** Every member's customer (empty with `category` lines, or when no transaction names a member). */
  customers: CustomerDirectory;
  /** How the customers were found; undefined when there were none to resolve. */
  resolved?: ResolveCustomersResult;
}

export async function prepareEntry(
  deps: PrepareEntryDeps,
  input: { tenant: TenantBooks; payout: Payout; dryRun?: boolean },
): Promise<PreparedEntry> {
  const { tenant, payout } = input;
  // Stripe cannot itemise a manual payout, and a zero payout has nothing to book: buildEntry holds or skips them,
  // so their transactions are not listed.
  const transactions =
    payout.automatic && payout.amount !== 0
      ? await deps.payouts.listPayoutTransactions(tenant.stripeAccount, payout.id)
      : [];
  const members = collectMembers(transactions);
  let customers: CustomerDirectory = new Map();
  let resolved: ResolveCustomersResult | undefined;
  if (members.length > 0 && tenant.lineDetail !== 'category') {
    resolved = await resolveCustomers(
      { books: deps.books(), customerMap: deps.customers },
      {
        realmId: tenant.realmId,
        members,
        ...(input.dryRun ? { dryRun: true } : {}),
        ...(tenant.walkInCustomer !== undefined ? { walkIn: tenant.walkInCustomer } : {}),
        ...(deps.isOutOfTime !== undefined ? { isOutOfTime: deps.isOutOfTime } : {}),
      },
    );
    customers = resolved.directory;
  }
  return {
    build: buildEntry({ payout, transactions, tenant, customers }),
    customers,
    ...(resolved !== undefined ? { resolved } : {}),
  };
}
