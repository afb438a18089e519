/**
 * Classification: every balance transaction of a payout → the items it books (CONTRACT §3), read by
 * `reporting_category`, else by `type` (see reporting.ts).
 *
 * Each non-payout transaction contributes exactly its `net`: its gross `amount` to the account of its kind,
 * minus each `fee_details` entry to the processing or platform fee account, and any part of `fee` the
 * details do not explain to processing fees. The payout's own transaction is excluded. Nothing is dropped.
 *
 * A failed payout's funds coming back (`payout_reversal`) are itemised with the failed payout's own balance
 * transactions, when the caller listed them (`returned`) and they add up to the amount returned; otherwise the
 * amount is an adjustment naming the failed payout.
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
import { type BookingKind, categoryOf, grossKindOf, kindOfFeeDetail, returnedPayoutOf } from './reporting.js';
import {
  type BalanceTransaction,
  type Charge,
  type Payout,
  payoutBalanceTransactionId,
  sourceId,
} from './stripe.js';
import type { Member, Minor, Ref, TenantBooks } from './types.js';

export type { BookingKind } from './reporting.js';
export { BOOKING_KINDS } from './reporting.js';

/** How deep failed payouts returned inside failed payouts are itemised before the rest is an adjustment. */
export const MAX_RETURN_DEPTH = 3;

/** The balance transactions of failed payouts, by payout id, as listed by `payout=<po_…>`. */
export type ReturnedPayouts = ReadonlyMap<string, readonly BalanceTransaction[]>;

/** One amount a transaction books, before accounts are resolved. */
export interface ClassifiedItem {
  kind: BookingKind;
  /** Signed, in the settlement currency's minor units. */
  amount: Minor;
  transactionId: string;
  transactionType: string;
  /** `reporting_category`, else `type`. */
  transactionCategory: string;
  /** The Stripe id a description shows: the charge, refund or dispute id; else the balance transaction id. */
  reference: string;
  /** For revenue, refund and dispute items: the sale's category. */
  category?: CategoryKey;
  /** For revenue, refund and dispute items: the sale's member (undefined: a walk-in, or the sale is unknown). */
  member?: Member;
  /** The failed payout whose funds this item returns (an item of its transactions, or the whole amount). */
  returnedFrom?: string;
  /** For an item of a failed payout's transaction: the `payout_reversal` transaction of this payout it itemises. */
  viaTransactionId?: string;
}

export interface ClassifiedTransaction {
  transaction: BalanceTransaction;
  /** The payout's own transaction: not booked, not counted. */
  excluded: boolean;
  items: ClassifiedItem[];
  /** Data problems that stop the payout from being booked (e.g. a bad `revenue_split`). */
  problems: string[];
  /** Failed payouts whose funds this transaction returns. */
  returned: ReturnedFunds[];
}

/** A failed payout's funds returned in this payout: itemised (its transactions booked here), or not. */
export interface ReturnedFunds {
  payoutId: string;
  /** The `payout_reversal` transaction of the payout being booked. */
  transactionId: string;
  /** How many of the failed payout's transactions were booked here; 0 when it could not be itemised. */
  transactions: number;
  /** Why it was booked as an adjustment instead (undefined when itemised). */
  notItemised?: string;
}

/** True for the payout's own balance transaction (`type: payout`, or the id on `payout.balance_transaction`). */
export function isPayoutOwnTransaction(bt: BalanceTransaction, payout: Payout): boolean {
  return bt.type === 'payout' || bt.id === payoutBalanceTransactionId(payout);
}

/** The kind of a transaction's main (gross) amount (a `payout_reversal` not itemised is an adjustment). */
export function kindOfTransaction(bt: BalanceTransaction): BookingKind {
  const kind = grossKindOf(bt);
  return kind === 'payoutReversal' ? 'adjustment' : kind;
}

interface ClassifyContext {
  charges: ReadonlyMap<string, Charge>;
  returned: ReturnedPayouts;
  /** Failed payouts already being itemised on this path (a failed payout inside itself is not followed). */
  path: readonly string[];
}

/**
 * Classifies one balance transaction. `charges` resolves charges given only by id (see `indexCharges`);
 * `returned` holds the listed transactions of failed payouts whose funds come back here.
 */
export function classifyTransaction(
  bt: BalanceTransaction,
  payout: Payout,
  charges: ReadonlyMap<string, Charge>,
  returned: ReturnedPayouts = new Map(),
): ClassifiedTransaction {
  if (isPayoutOwnTransaction(bt, payout)) {
    return { transaction: bt, excluded: true, items: [], problems: [], returned: [] };
  }
  return classifyOne(bt, { charges, returned, path: [payout.id] });
}

/**
 * One item of a transaction, built as one object literal (this runs for every item of a 10,000-transaction payout:
 * no spreads, so every item has the same shape).
 */
function newItem(
  bt: BalanceTransaction,
  transactionCategory: string,
  kind: BookingKind,
  amount: Minor,
  reference: string,
): ClassifiedItem {
  return {
    kind,
    amount,
    transactionId: bt.id,
    transactionType: bt.type,
    transactionCategory,
    reference,
  };
}

function classifyOne(bt: BalanceTransaction, ctx: ClassifyContext): ClassifiedTransaction {
  const problems: string[] = [];
  const items: ClassifiedItem[] = [];
  const returned: ReturnedFunds[] = [];
  const transactionCategory = categoryOf(bt);
  const gross = grossKindOf(bt);

  if (bt.net !== bt.amount - bt.fee) {
    problems.push(
      `balance transaction ${bt.id} has net ${formatMinor(bt.net, bt.currency)} but amount − fee is ${formatMinor(bt.amount - bt.fee, bt.currency)}`,
    );
  }

  // The gross amount.
  if (gross === 'revenue' || gross === 'refund' || gross === 'dispute') {
    const charge = originalCharge(bt.source, ctx.charges);
    const reference =
      gross === 'revenue' ? (charge?.id ?? sourceId(bt.source) ?? bt.id) : (sourceId(bt.source) ?? bt.id);
    let allocations: readonly RevenueAllocation[] = UNCATEGORISED;
    if (charge !== undefined) {
      const result = chargeAllocations(charge);
      if (result.ok) allocations = result.allocations;
      else problems.push(result.problem);
    }
    const member = charge === undefined ? undefined : memberOfCharge(charge);
    for (const part of allocateAmount(allocations, bt.amount)) {
      const item = newItem(bt, transactionCategory, gross, part.amount, reference);
      item.category =
        part.subcategory === undefined
          ? { category: part.category }
          : { category: part.category, subcategory: part.subcategory };
      if (member !== undefined) item.member = member;
      items.push(item);
    }
  } else if (gross === 'payoutReversal') {
    const failed = returnedPayoutOf(bt);
    const itemised = failed === undefined ? undefined : itemiseReturned(bt, failed, ctx);
    if (itemised !== undefined && itemised.notItemised === undefined) {
      items.push(...itemised.items);
      problems.push(...itemised.problems);
      returned.push(...itemised.returned);
    } else if (bt.amount !== 0) {
      const payoutId = failed ?? sourceId(bt.source) ?? 'unknown';
      const item = newItem(bt, transactionCategory, 'adjustment', bt.amount, payoutId);
      item.returnedFrom = payoutId;
      items.push(item);
      returned.push({
        payoutId,
        transactionId: bt.id,
        transactions: 0,
        notItemised: itemised?.notItemised ?? 'its source names no payout',
      });
    }
  } else if (bt.amount !== 0) {
    items.push(newItem(bt, transactionCategory, gross, bt.amount, bt.id));
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
      items.push(newItem(bt, transactionCategory, kindOfFeeDetail(fd.type), -fd.amount, bt.id));
    }
  }
  const unexplained = bt.fee - explained;
  if (unexplained !== 0) items.push(newItem(bt, transactionCategory, 'processingFee', -unexplained, bt.id));

  return { transaction: bt, excluded: false, items, problems, returned };
}

/** A sale whose charge is unknown: all of it to no category. */
const UNCATEGORISED: readonly RevenueAllocation[] = [{ category: NO_CATEGORY, amount: 1 }];

interface Itemised {
  items: ClassifiedItem[];
  problems: string[];
  returned: ReturnedFunds[];
  /** Set when the failed payout's transactions cannot stand for the amount returned. */
  notItemised?: string;
}

/**
 * The items of a failed payout's own transactions, standing for the gross amount of `bt` (its funds coming back):
 * only when they were listed, are all in `bt`'s currency, and their nets add up to the amount returned.
 */
function itemiseReturned(bt: BalanceTransaction, failed: string, ctx: ClassifyContext): Itemised {
  const none = (notItemised: string): Itemised => ({ items: [], problems: [], returned: [], notItemised });
  if (ctx.path.includes(failed)) return none(`payout ${failed} is already being itemised`);
  if (ctx.path.length > MAX_RETURN_DEPTH)
    return none(`failed payouts nested deeper than ${MAX_RETURN_DEPTH}`);
  const listed = ctx.returned.get(failed);
  if (listed === undefined) return none(`the transactions of payout ${failed} could not be listed`);
  const ownId =
    typeof bt.source === 'object' && bt.source !== null && 'balance_transaction' in bt.source
      ? idOfUnknown(bt.source.balance_transaction)
      : undefined;
  const seen = new Set<string>();
  const inner: BalanceTransaction[] = [];
  for (const t of listed) {
    if (seen.has(t.id) || t.type === 'payout' || t.id === ownId) continue;
    seen.add(t.id);
    inner.push(t);
  }
  const foreign = inner.find((t) => t.currency !== bt.currency);
  if (foreign !== undefined) {
    return none(`transaction ${foreign.id} of payout ${failed} is in ${foreign.currency.toUpperCase()}`);
  }
  const total = inner.reduce((a, t) => a + t.net, 0);
  if (total !== bt.amount) {
    return none(
      `the transactions of payout ${failed} add up to ${formatMinor(total, bt.currency)}, not the ${formatMinor(bt.amount, bt.currency)} returned`,
    );
  }
  const out: Itemised = { items: [], problems: [], returned: [] };
  const nested: ClassifyContext = { ...ctx, path: [...ctx.path, failed] };
  for (const t of inner) {
    const c = classifyOne(t, nested);
    out.problems.push(...c.problems);
    out.returned.push(...c.returned);
    for (const item of c.items) {
      out.items.push({ ...item, returnedFrom: item.returnedFrom ?? failed, viaTransactionId: bt.id });
    }
  }
  out.returned.unshift({ payoutId: failed, transactionId: bt.id, transactions: inner.length });
  return out;
}

function idOfUnknown(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string') {
    return (value as { id: string }).id;
  }
  return undefined;
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
  /** Failed payouts whose funds this payout returns, itemised or as adjustments, sorted by payout id. */
  returned: ReturnedFunds[];
}

/** Every transaction a classification may read: the payout's, and those of the failed payouts it returns. */
export function allTransactions(
  transactions: readonly BalanceTransaction[],
  returned: ReturnedPayouts,
): BalanceTransaction[] {
  const out = [...transactions];
  for (const list of returned.values()) out.push(...list);
  return out;
}

/**
 * Classifies every transaction of the payout and resolves its accounts against the tenant's books.
 * Transactions listed twice (same id) are booked once. `returned`: the transactions of failed payouts whose
 * funds come back in this payout, by payout id (see `returnedPayoutIds`).
 */
export function classifyPayout(
  payout: Payout,
  transactions: readonly BalanceTransaction[],
  tenant: TenantBooks,
  returned: ReturnedPayouts = new Map(),
): Classification {
  const charges = indexCharges(allTransactions(transactions, returned));
  const seen = new Set<string>();
  const out: Classification = {
    items: [],
    unbooked: [],
    unmapped: [],
    transactions: [],
    excluded: [],
    problems: [],
    returned: [],
  };
  const unmapped = new Set<string>();
  for (const bt of transactions) {
    if (seen.has(bt.id)) continue;
    seen.add(bt.id);
    const classified = classifyTransaction(bt, payout, charges, returned);
    if (classified.excluded) {
      out.excluded.push(bt.id);
      continue;
    }
    out.transactions.push(bt);
    out.problems.push(...classified.problems);
    out.returned.push(...classified.returned);
    for (const item of classified.items) {
      // The items are this call's own: the category is respelled and the account added in place, not copied.
      const target = bookingTarget(item, tenant);
      if (target === undefined) {
        out.unbooked.push(item);
        if (item.category !== undefined) unmapped.add(categoryLabel(item.category));
        continue;
      }
      const booked = item as BookedItem;
      booked.account = target.account;
      if (target.class !== undefined) booked.class = target.class;
      out.items.push(booked);
    }
  }
  out.unmapped = distinctLabels(unmapped);
  out.returned.sort((a, b) => (a.payoutId < b.payoutId ? -1 : a.payoutId > b.payoutId ? 1 : 0));
  return out;
}

/**
 * The failed payouts whose funds come back in these transactions (`payout_reversal`, source `po_…`), distinct
 * and sorted: the caller lists each one's transactions (`payout=<po_…>`) for `classifyPayout`'s `returned`.
 */
export function returnedPayoutIds(transactions: readonly BalanceTransaction[]): string[] {
  const ids = new Set<string>();
  for (const bt of transactions) {
    const id = returnedPayoutOf(bt);
    if (id !== undefined) ids.add(id);
  }
  return [...ids].sort();
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

/**
 * An item's account (and class), with its sale category respelled as in its revenue mapping (the config's names)
 * when one matches; `undefined` for a sale whose category is unmapped. Changes `item.category` in place.
 */
function bookingTarget(item: ClassifiedItem, tenant: TenantBooks): { account: Ref; class?: Ref } | undefined {
  const category = item.category; // only sale items (revenue, refunds, disputes) have one
  if (category !== undefined) {
    const mapping = resolveRevenueTarget(tenant.revenue, category.category, category.subcategory);
    if (mapping !== undefined) {
      const subcategory = mapping.subcategory ?? category.subcategory;
      item.category =
        subcategory === undefined
          ? { category: mapping.category }
          : { category: mapping.category, subcategory };
    }
  }
  return accountFor(item, tenant);
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

/**
 * Σ of every item of one transaction (booked or not): equals the transaction's `net` by construction. The items
 * of a failed payout's transactions count toward the `payout_reversal` transaction they itemise.
 */
export function contributionOf(classification: Classification, transactionId: string): Minor {
  let total = 0;
  for (const item of [...classification.items, ...classification.unbooked]) {
    if ((item.viaTransactionId ?? item.transactionId) === transactionId) total += item.amount;
  }
  return total;
}
