/**
 * Classification: every balance transaction of a payout → the items it books (CONTRACT §3).
 *
 * Each non-payout transaction contributes exactly its `net`: its gross `amount` to the account of its kind,
 * minus each `fee_details` entry to the processing or platform fee account, and any part of `fee` the
 * details do not explain to processing fees. The payout's own transaction is excluded. Nothing is dropped.
 */
import {
  allocateAmount,
  type CategoryKey,
  categoryLabel,
  chargeAllocations,
  NO_CATEGORY,
  nameKey,
  type RevenueAllocation,
  resolveRevenueTarget,
} from './categories.js';
import { indexCharges, memberOfCharge, originalCharge } from './members.js';
import { formatMinor } from './money.js';
import {
  type BalanceTransaction,
  type Charge,
  isDispute,
  type Payout,
  payoutBalanceTransactionId,
  sourceId,
} from './stripe.js';
import type { Member, Minor, Ref, TenantBooks } from './types.js';

export const BOOKING_KINDS = [
  'revenue',
  'refund',
  'dispute',
  'adjustment',
  'processingFee',
  'platformFee',
] as const;
export type BookingKind = (typeof BOOKING_KINDS)[number];

/** Transaction types booked as revenue. */
export const REVENUE_TYPES: ReadonlySet<string> = new Set(['charge', 'payment']);
/** Transaction types that reverse (or re-instate) a sale. */
export const REFUND_TYPES: ReadonlySet<string> = new Set([
  'refund',
  'payment_refund',
  'payment_failure_refund',
  'refund_failure',
]);
/** Transaction types that are Stripe fees as a whole. */
export const PROCESSING_FEE_TYPES: ReadonlySet<string> = new Set(['stripe_fee', 'stripe_fx_fee', 'tax_fee']);
/** Transaction types that are platform (application) fees as a whole. */
export const PLATFORM_FEE_TYPES: ReadonlySet<string> = new Set(['application_fee_refund']);
/** `fee_details` types booked to the platform fee account; every other type (known or not) is a processing fee. */
export const PLATFORM_FEE_DETAIL_TYPES: ReadonlySet<string> = new Set(['application_fee']);

/** One amount a transaction books, before accounts are resolved. */
export interface ClassifiedItem {
  kind: BookingKind;
  /** Signed, in the settlement currency's minor units. */
  amount: Minor;
  transactionId: string;
  transactionType: string;
  /** The Stripe id a description shows: the charge, refund or dispute id; else the balance transaction id. */
  reference: string;
  /** For revenue, refund and dispute items: the sale's category. */
  category?: CategoryKey;
  /** For revenue, refund and dispute items: the sale's member (undefined: a walk-in, or the sale is unknown). */
  member?: Member;
}

export interface ClassifiedTransaction {
  transaction: BalanceTransaction;
  /** The payout's own transaction: not booked, not counted. */
  excluded: boolean;
  items: ClassifiedItem[];
  /** Data problems that stop the payout from being booked (e.g. a bad `revenue_split`). */
  problems: string[];
}

/** True for the payout's own balance transaction (`type: payout`, or the id on `payout.balance_transaction`). */
export function isPayoutOwnTransaction(bt: BalanceTransaction, payout: Payout): boolean {
  return bt.type === 'payout' || bt.id === payoutBalanceTransactionId(payout);
}

function isDisputeAdjustment(bt: BalanceTransaction): boolean {
  if (bt.type !== 'adjustment') return false;
  if (isDispute(bt.source)) return true;
  return typeof bt.source === 'string' && (bt.source.startsWith('du_') || bt.source.startsWith('dp_'));
}

/** The kind of a transaction's main (gross) amount. */
export function kindOfTransaction(bt: BalanceTransaction): BookingKind {
  if (REVENUE_TYPES.has(bt.type)) return 'revenue';
  if (REFUND_TYPES.has(bt.type)) return 'refund';
  if (isDisputeAdjustment(bt)) return 'dispute';
  if (PROCESSING_FEE_TYPES.has(bt.type)) return 'processingFee';
  if (PLATFORM_FEE_TYPES.has(bt.type)) return 'platformFee';
  return 'adjustment';
}

/** The kind a `fee_details` entry books to. */
export function kindOfFeeDetail(type: string): 'processingFee' | 'platformFee' {
  return PLATFORM_FEE_DETAIL_TYPES.has(type) ? 'platformFee' : 'processingFee';
}

/**
 * Classifies one balance transaction. `charges` resolves charges given only by id (see `indexCharges`).
 */
export function classifyTransaction(
  bt: BalanceTransaction,
  payout: Payout,
  charges: ReadonlyMap<string, Charge>,
): ClassifiedTransaction {
  if (isPayoutOwnTransaction(bt, payout)) return { transaction: bt, excluded: true, items: [], problems: [] };
  const problems: string[] = [];
  const items: ClassifiedItem[] = [];
  const base = { transactionId: bt.id, transactionType: bt.type };
  const kind = kindOfTransaction(bt);

  if (bt.net !== bt.amount - bt.fee) {
    problems.push(
      `balance transaction ${bt.id} has net ${formatMinor(bt.net, bt.currency)} but amount − fee is ${formatMinor(bt.amount - bt.fee, bt.currency)}`,
    );
  }

  // The gross amount.
  if (kind === 'revenue' || kind === 'refund' || kind === 'dispute') {
    const charge = originalCharge(bt.source, charges);
    const reference =
      kind === 'revenue' ? (charge?.id ?? sourceId(bt.source) ?? bt.id) : (sourceId(bt.source) ?? bt.id);
    let allocations: RevenueAllocation[] = [{ category: NO_CATEGORY, amount: 1 }];
    if (charge !== undefined) {
      const result = chargeAllocations(charge);
      if (result.ok) allocations = result.allocations;
      else problems.push(result.problem);
    }
    const member = charge === undefined ? undefined : memberOfCharge(charge);
    for (const part of allocateAmount(allocations, bt.amount)) {
      const category: CategoryKey =
        part.subcategory === undefined
          ? { category: part.category }
          : { category: part.category, subcategory: part.subcategory };
      items.push({
        ...base,
        kind,
        amount: part.amount,
        reference,
        category,
        ...(member === undefined ? {} : { member }),
      });
    }
  } else if (bt.amount !== 0) {
    items.push({ ...base, kind, amount: bt.amount, reference: bt.id });
  }

  // The fees.
  let explained = 0;
  for (const fd of bt.fee_details) {
    explained += fd.amount;
    if (fd.currency !== bt.currency) {
      problems.push(
        `balance transaction ${bt.id} has a ${fd.type} fee in ${fd.currency.toUpperCase()}, not its own currency ${bt.currency.toUpperCase()}`,
      );
    }
    if (fd.amount !== 0) {
      items.push({ ...base, kind: kindOfFeeDetail(fd.type), amount: -fd.amount, reference: bt.id });
    }
  }
  const unexplained = bt.fee - explained;
  if (unexplained !== 0)
    items.push({ ...base, kind: 'processingFee', amount: -unexplained, reference: bt.id });

  return { transaction: bt, excluded: false, items, problems };
}

/** An item with its QuickBooks account (and class) resolved. */
export interface BookedItem extends ClassifiedItem {
  account: Ref;
  class?: Ref;
}

export interface Classification {
  /** Every booked item, in transaction order. */
  items: BookedItem[];
  /** Items whose category has no account (no mapping and no `uncategorizedAccount`). */
  unbooked: ClassifiedItem[];
  /** Labels of the unmapped categories, distinct, sorted ("Classes / Outdoor"). */
  unmapped: string[];
  /** The transactions booked (the payout's own excluded), deduplicated by id. */
  transactions: BalanceTransaction[];
  /** Ids of the payout's own transaction(s), excluded. */
  excluded: string[];
  /** Data problems (bad `revenue_split`, inconsistent fees); any one holds the payout. */
  problems: string[];
}

/**
 * Classifies every transaction of the payout and resolves its accounts against the tenant's books.
 * Transactions listed twice (same id) are booked once.
 */
export function classifyPayout(
  payout: Payout,
  transactions: readonly BalanceTransaction[],
  tenant: TenantBooks,
): Classification {
  const charges = indexCharges(transactions);
  const seen = new Set<string>();
  const out: Classification = {
    items: [],
    unbooked: [],
    unmapped: [],
    transactions: [],
    excluded: [],
    problems: [],
  };
  const unmapped = new Set<string>();
  for (const bt of transactions) {
    if (seen.has(bt.id)) continue;
    seen.add(bt.id);
    const classified = classifyTransaction(bt, payout, charges);
    if (classified.excluded) {
      out.excluded.push(bt.id);
      continue;
    }
    out.transactions.push(bt);
    out.problems.push(...classified.problems);
    for (const raw of classified.items) {
      const item = canonicalCategory(raw, tenant);
      const target = accountFor(item, tenant);
      if (target === undefined) {
        out.unbooked.push(item);
        if (item.category !== undefined) unmapped.add(categoryLabel(item.category));
        continue;
      }
      out.items.push(
        target.class === undefined
          ? { ...item, account: target.account }
          : { ...item, account: target.account, class: target.class },
      );
    }
  }
  out.unmapped = distinctLabels(unmapped);
  return out;
}

/**
 * Labels distinct by name (case-insensitive, trimmed), sorted; of several spellings the smallest is kept,
 * so the result does not depend on order.
 */
export function distinctLabels(labels: Iterable<string>): string[] {
  const byKey = new Map<string, string>();
  for (const label of labels) {
    const key = nameKey(label);
    const current = byKey.get(key);
    if (current === undefined || label < current) byKey.set(key, label);
  }
  return [...byKey.values()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A sale item's category spelled as in its revenue mapping (the config's names), when one matches. */
function canonicalCategory(item: ClassifiedItem, tenant: TenantBooks): ClassifiedItem {
  if (item.category === undefined) return item;
  const mapping = resolveRevenueTarget(tenant.revenue, item.category.category, item.category.subcategory);
  if (mapping === undefined) return item;
  const subcategory = mapping.subcategory ?? item.category.subcategory;
  return {
    ...item,
    category:
      subcategory === undefined
        ? { category: mapping.category }
        : { category: mapping.category, subcategory },
  };
}

/** The account (and class) of an item; `undefined` for a sale whose category is unmapped. */
export function accountFor(
  item: ClassifiedItem,
  tenant: TenantBooks,
): { account: Ref; class?: Ref } | undefined {
  switch (item.kind) {
    case 'processingFee':
      return { account: tenant.processingFeesAccount };
    case 'platformFee':
      return { account: tenant.platformFeesAccount };
    case 'adjustment':
      return { account: tenant.adjustmentsAccount };
    default: {
      const category = item.category ?? { category: NO_CATEGORY };
      const mapping = resolveRevenueTarget(tenant.revenue, category.category, category.subcategory);
      const cls = mapping?.class;
      if (item.kind === 'dispute' && tenant.disputesAccount !== undefined) {
        return cls === undefined
          ? { account: tenant.disputesAccount }
          : { account: tenant.disputesAccount, class: cls };
      }
      if (mapping !== undefined)
        return cls === undefined ? { account: mapping.account } : { account: mapping.account, class: cls };
      if (tenant.uncategorizedAccount !== undefined) return { account: tenant.uncategorizedAccount };
      return undefined;
    }
  }
}

/** Σ of every item of one transaction (booked or not): equals the transaction's `net` by construction. */
export function contributionOf(classification: Classification, transactionId: string): Minor {
  let total = 0;
  for (const item of classification.items) if (item.transactionId === transactionId) total += item.amount;
  for (const item of classification.unbooked) if (item.transactionId === transactionId) total += item.amount;
  return total;
}
