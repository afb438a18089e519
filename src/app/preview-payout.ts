/**
 * `qbo-sync payouts preview <po> --tenant T`: a dry run of the deposit builder. The payout and its balance
 * transactions are read from Stripe, customers are resolved without creating or storing anything (a customer that
 * would be created carries `value: null` and the DisplayName it would get), and the entry is built exactly as the
 * worker would build it. Nothing is written to QuickBooks or the mapping table; the ledger row, when there is one,
 * only records who previewed it (with `actor`).
 */

import { closedPeriodDecision, movedNote, moveEntry } from '../domain/closed-period.js';
import { leftOffNote } from '../domain/customer-currency.js';
import { utcDate } from '../domain/deposit.js';
import type { Payout } from '../domain/stripe.js';
import type { LineDetailMode, QboEntry } from '../domain/types.js';
import { maskEmailsIn } from './log.js';
import type { ActionRecorder, CustomerMap, PayoutSource, QuickBooksBooks, TenantStore } from './ports.js';
import { prepareEntry } from './prepare-entry.js';
import { type Actor, recordAction } from './record-action.js';
import { configuredTenant } from './tenant-config.js';

export interface PreviewPayoutDeps {
  tenants: Pick<TenantStore, 'get'>;
  payouts: Pick<PayoutSource, 'getPayout' | 'listPayoutTransactions'>;
  customers: Pick<CustomerMap, 'getMany' | 'getMappings'>;
  quickbooks: (realmId: string, ctx: { tenantId: string }) => QuickBooksBooks;
  /** Where the person's request is recorded (the ledger); with `actor` in the input. */
  actions?: ActionRecorder;
}

export interface PreviewPayoutResult {
  payout: string;
  tenant: string;
  outcome: 'POST' | 'HELD' | 'SKIPPED';
  /** Why it would be held or skipped; null when it would post. */
  reason: string | null;
  /** What a person should do about a HELD outcome. */
  hint: string | null;
  /** The exact QuickBooks request body the worker would send; null when nothing would be posted. */
  entry: QboEntry | null;
  amount: number;
  currency: string;
  stripeStatus: string;
  arrivalDate: number;
  /** Balance transactions booked (the payout's own excluded), when it would post. */
  transactions: number;
  lineDetail: LineDetailMode | null;
  folded: boolean;
  /** Customers that posting would create in QuickBooks (DisplayNames). */
  newCustomers: string[];
  /** A label for each existing customer id the entry uses: its DisplayName when known, else the member's email. */
  customerLabels: Record<string, string>;
  /** Why the worker would not post it yet (not paid, not reconciled), even though the entry is shown. */
  note: string | null;
}

function notReadyNote(payout: Payout): string | null {
  if (payout.status === 'failed' || payout.status === 'canceled') return null;
  if (payout.status !== 'paid') {
    return `the payout is ${payout.status} in Stripe: the worker waits until it is paid and reconciled`;
  }
  if (payout.automatic && payout.reconciliation_status !== 'completed') {
    return `Stripe is still reconciling the payout (reconciliation_status ${payout.reconciliation_status ?? 'unknown'}): the worker waits for payout.reconciliation_completed`;
  }
  return null;
}

export async function previewPayout(
  deps: PreviewPayoutDeps,
  input: {
    payoutId: string;
    tenantId: string;
    /** Look the DisplayNames of already mapped customers up in QuickBooks (read-only), for a person to read. */
    customerNames?: boolean;
    /** Who asked: recorded on the payout's ledger row when it has one. */
    actor?: Actor;
  },
): Promise<PreviewPayoutResult> {
  const tenant = (await configuredTenant(deps.tenants, input.tenantId)).books;
  await recordAction(deps.actions, input.actor, input.payoutId, 'preview');
  const payout = await deps.payouts.getPayout(tenant.stripeAccount, input.payoutId);
  // As the worker, but without writing anything.
  const { build, customers, leftOff } = await prepareEntry(
    {
      payouts: deps.payouts,
      books: () => deps.quickbooks(tenant.realmId, { tenantId: tenant.tenantId }),
      customers: {
        getMany: (realmId, emails) => deps.customers.getMany(realmId, emails),
        getMappings: (realmId, emails) => deps.customers.getMappings(realmId, emails),
        putMany: refuseWrite,
      },
    },
    { tenant, payout, dryRun: true },
  );
  const newCustomers = [...customers.values()]
    .filter((c): c is { value: null; name: string } => c !== null && c.value === null)
    .map((c) => c.name)
    .sort((a, b) => a.localeCompare(b));

  const customerLabels: Record<string, string> = {};
  const unnamed = [...customers]
    .filter(([, ref]) => ref !== null && ref.value !== null && ref.name === undefined)
    .map(([e]) => e);
  if (input.customerNames && unnamed.length > 0) {
    const found = await deps
      .quickbooks(tenant.realmId, { tenantId: tenant.tenantId })
      .findCustomersByEmail(unnamed)
      .catch(() => new Map<string, { id: string; displayName: string }>());
    for (const c of found.values()) customerLabels[c.id] = c.displayName;
  }
  for (const [email, ref] of customers) {
    if (ref !== null && ref.value !== null) customerLabels[ref.value] ??= ref.name ?? email;
  }
  if (tenant.walkInCustomer !== undefined) {
    customerLabels[tenant.walkInCustomer.value] = tenant.walkInCustomer.name ?? 'walk-in customer';
  }

  const common = {
    payout: payout.id,
    tenant: tenant.tenantId,
    amount: payout.amount,
    currency: payout.currency.toUpperCase(),
    stripeStatus: payout.status,
    arrivalDate: payout.arrival_date,
    newCustomers,
    customerLabels,
    note: notReadyNote(payout),
  };
  if (build.outcome === 'POST') {
    // The closed-period policy, as the worker applies it (the closing date is read, nothing written).
    const bookCloseDate = await deps
      .quickbooks(tenant.realmId, { tenantId: tenant.tenantId })
      .bookCloseDate();
    const period = closedPeriodDecision({
      payoutId: payout.id,
      txnDate: utcDate(payout.arrival_date),
      bookCloseDate,
      policy: tenant.closedPeriod,
    });
    if (period.action === 'hold') {
      return {
        ...common,
        outcome: 'HELD',
        reason: period.reason,
        hint: period.hint,
        entry: null,
        transactions: 0,
        lineDetail: null,
        folded: false,
      };
    }
    return {
      ...common,
      outcome: 'POST',
      reason:
        [
          period.action === 'move' ? movedNote(period) : undefined,
          leftOff ? leftOffNote(leftOff, payout.currency, tenant.company) : undefined,
        ]
          .filter((r) => r !== undefined)
          .map(maskEmailsIn)
          .join('; ') || null,
      hint: null,
      entry: period.action === 'move' ? moveEntry(build.entry, period) : build.entry,
      transactions: build.transactionCount,
      lineDetail: build.lineDetail,
      folded: build.folded,
    };
  }
  return {
    ...common,
    outcome: build.outcome,
    reason: build.reason,
    hint: build.outcome === 'HELD' ? build.hint : null,
    entry: null,
    transactions: 0,
    lineDetail: null,
    folded: false,
  };
}

/** A dry run never writes the mapping table; resolveCustomers does not call this with `dryRun`. */
async function refuseWrite(): Promise<void> {
  throw new Error('payouts preview must not write the customer map');
}
