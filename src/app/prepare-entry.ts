/**
 * The deposit builder's preparation, shared by the worker (`syncPayout`) and the dry run (`previewPayout`): a
 * payout's balance transactions → its members → their QuickBooks customers → the entry (or HELD / SKIPPED).
 * With `dryRun`, customers are resolved without creating or storing anything (one that would be created carries
 * `value: null` and the DisplayName it would get).
 *
 * Post first (CONTRACT §5): an entry that will reference no customer — `lineDetail: category`, or a payout whose
 * lines fold to category lines — does not wait for them. Whether the payout folds is decided from the members'
 * emails alone, before any customer is looked up or created: the entry is drafted with one provisional customer
 * per email (`provisionalDirectory`); when that draft folds, it is the entry (category lines name no customer),
 * and the members come back as `deferred`, for the caller to create and map after posting.
 */
import {
  allTransactions,
  MAX_RETURN_DEPTH,
  type ReturnedPayouts,
  returnedPayoutIds,
} from '../domain/classify.js';
import { customersForEntry, type LeftOffCustomer } from '../domain/customer-currency.js';
import { buildEntry, needsExchangeRate, utcDate } from '../domain/deposit.js';
import { collectMembers } from '../domain/members.js';
import type { BalanceTransaction, Payout } from '../domain/stripe.js';
import type { BuildResult, CustomerDirectory, Member, TenantBooks } from '../domain/types.js';
import { PermanentError } from './errors.js';
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
  /**
   * Members whose customers the entry does not reference (category lines): to be created and mapped after the
   * entry is posted. Absent when the customers were resolved first (or there are none).
   */
  deferred?: Member[];
  /** Every member's customer (empty with `category` lines, or when no transaction names a member). */
  customers: CustomerDirectory;
  /** How the customers were found; undefined when there were none to resolve. */
  resolved?: ResolveCustomersResult;
  /**
   * Members whose customer is in a currency the entry cannot name (neither the home nor the entry currency): their
   * lines carry no customer (CONTRACT §4).
   */
  leftOff?: LeftOffCustomer[];
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
  const returned = await listReturnedPayouts(deps.payouts, tenant.stripeAccount, payout.id, transactions);
  // A foreign-currency entry of a multicurrency company carries QuickBooks' rate for its date (CONTRACT §4); without
  // one, buildEntry holds the payout.
  const rate =
    payout.automatic &&
    payout.amount !== 0 &&
    payout.status !== 'failed' &&
    payout.status !== 'canceled' &&
    needsExchangeRate(payout, tenant)
      ? await deps.books().getExchangeRate(payout.currency, utcDate(payout.arrival_date))
      : undefined;
  const withRate = rate === undefined ? {} : { exchangeRate: rate };
  const members = collectMembers(allTransactions(transactions, returned));
  let customers: CustomerDirectory = new Map();
  let resolved: ResolveCustomersResult | undefined;
  if (members.length > 0 && tenant.lineDetail === 'category') {
    return {
      build: buildEntry({ payout, transactions, tenant, customers, returned, ...withRate }),
      customers,
      deferred: members,
    };
  }
  if (members.length > 0) {
    // The fold decision, from the emails alone (one provisional customer each).
    const draft = buildEntry({
      payout,
      transactions,
      tenant,
      customers: provisionalDirectory(members),
      returned,
      ...withRate,
    });
    if (draft.outcome === 'POST' && draft.folded) return { build: draft, customers, deferred: members };
  }
  if (members.length > 0) {
    resolved = await resolveCustomers(
      { books: deps.books(), customerMap: deps.customers },
      {
        realmId: tenant.realmId,
        members,
        ...(input.dryRun ? { dryRun: true } : {}),
        ...(tenant.walkInCustomer !== undefined ? { walkIn: tenant.walkInCustomer } : {}),
        ...(deps.isOutOfTime !== undefined ? { isOutOfTime: deps.isOutOfTime } : {}),
        ...(tenant.company.multicurrency ? { customerCurrencies: true } : {}),
      },
    );
    customers = resolved.directory;
  }
  // A customer in neither the home nor the entry currency would make QuickBooks refuse the entry: not on a line.
  const usable = customersForEntry(
    customers,
    resolved?.currencies ?? new Map(),
    payout.currency,
    tenant.company,
  );
  return {
    build: buildEntry({ payout, transactions, tenant, customers: usable.directory, returned, ...withRate }),
    customers,
    ...(resolved !== undefined ? { resolved } : {}),
    ...(usable.leftOff.length > 0 ? { leftOff: usable.leftOff } : {}),
  };
}

/**
 * The transactions of every failed payout whose funds come back in `transactions` (`payout_reversal`), listed by
 * `payout=<po_…>` (CONTRACT §3), and of failed payouts returned inside those, up to `MAX_RETURN_DEPTH` levels. A
 * payout Stripe refuses to list (a manual one, one it no longer knows, one it cannot read) is left out: the domain
 * then books its funds as an adjustment naming it. A transient failure propagates, so the message is retried.
 */
export async function listReturnedPayouts(
  payouts: Pick<PayoutSource, 'listPayoutTransactions'>,
  stripeAccount: string,
  payoutId: string,
  transactions: readonly BalanceTransaction[],
): Promise<ReturnedPayouts> {
  const out = new Map<string, BalanceTransaction[]>();
  const tried = new Set<string>([payoutId]);
  let level = returnedPayoutIds(transactions);
  for (let depth = 0; depth < MAX_RETURN_DEPTH && level.length > 0; depth++) {
    const next: BalanceTransaction[] = [];
    for (const id of level) {
      if (tried.has(id)) continue;
      tried.add(id);
      try {
        const listed = await payouts.listPayoutTransactions(stripeAccount, id);
        out.set(id, listed);
        next.push(...listed);
      } catch (error) {
        if (!(error instanceof PermanentError)) throw error;
      }
    }
    level = returnedPayoutIds(next);
  }
  return out;
}

/**
 * One customer per member email, none of them real (`value: null`): enough for `buildEntry` to count the customer
 * lines a payout would need, so the fold decision is made before any customer exists.
 */
export function provisionalDirectory(members: readonly Member[]): CustomerDirectory {
  return new Map(members.map((m) => [m.email, { value: null, name: m.email }]));
}
