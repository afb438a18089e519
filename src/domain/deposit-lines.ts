/**
 * Deposit lines (CONTRACT §4 `lineDetail`): booked items grouped into lines per mode, ordered and described.
 *
 * Line order: by kind (revenue, refunds, disputes, adjustments, processing fees, platform fees), then account
 * name, class name, customer name, sign (positive first), then balance transaction id (transaction mode).
 */
import { categoryLabel } from './categories.js';
import { type BookedItem, type BookingKind, distinctLabels } from './classify.js';
import { type CustomerRef, cmp, held, idList, plural, refName } from './entry-common.js';
import type { BuildResult, CustomerDirectory, LineDetailMode, Minor, Ref, TenantBooks } from './types.js';

/** QuickBooks' limit on a line `Description`. */
export const MAX_DESCRIPTION_LENGTH = 4000;
/** How many Stripe ids a description lists before it switches to counts. */
export const MAX_DESCRIPTION_IDS = 3;

const KIND_ORDER: Record<BookingKind, number> = {
  revenue: 0,
  refund: 1,
  dispute: 2,
  adjustment: 3,
  processingFee: 4,
  platformFee: 5,
};

/** A line before it is written as QuickBooks JSON: amounts still in minor units. */
export interface DraftLine {
  kind: BookingKind;
  account: Ref;
  class?: Ref;
  customer?: CustomerRef;
  /** Signed minor units, never 0. */
  amount: Minor;
  description: string;
}

interface LineGroup {
  kind: BookingKind;
  account: Ref;
  class?: Ref;
  customer?: CustomerRef;
  amount: Minor;
  sign: 1 | -1;
  items: BookedItem[];
  /** A failed payout's funds returned but not itemised: always a line of its own, naming the payout. */
  returnedPayout?: string;
  /** Set in transaction mode for per-transaction lines. */
  transactionId?: string;
}

function customerFor(
  item: BookedItem,
  tenant: TenantBooks,
  customers: CustomerDirectory,
  missing: Set<string>,
): CustomerRef | undefined {
  if (item.member === undefined) return tenant.walkInCustomer;
  const found = customers.get(item.member.email);
  if (found === undefined) missing.add(item.member.email);
  // null: QuickBooks refused to create the member's customer and there is no walk-in: a line without Entity.
  return found ?? undefined;
}

/**
 * One string per distinct tuple, whatever the parts contain (a customer's name is free text): each part is written
 * with its length, an absent one as `-`.
 */
function groupKey(parts: readonly (string | number | null | undefined)[]): string {
  let key = '';
  for (const part of parts) {
    if (part === undefined || part === null) key += '-|';
    else {
      const text = String(part);
      key += `${text.length}:${text}|`;
    }
  }
  return key;
}

/** Groups booked items into lines for a line-detail mode; HELD when a member has no customer. */
export function draftLines(
  items: readonly BookedItem[],
  mode: LineDetailMode,
  tenant: TenantBooks,
  customers: CustomerDirectory,
): DraftLine[] | BuildResult {
  const groups = new Map<string, LineGroup>();
  const missing = new Set<string>();
  for (const item of items) {
    if (item.amount === 0) continue;
    const sign: 1 | -1 = item.amount > 0 ? 1 : -1;
    const sale = item.kind === 'revenue' || item.kind === 'refund' || item.kind === 'dispute';
    const customer = sale && mode !== 'category' ? customerFor(item, tenant, customers, missing) : undefined;
    const perTransaction = mode === 'transaction' && (sale || item.kind === 'adjustment');
    const returnedPayout =
      item.kind === 'adjustment' && item.viaTransactionId === undefined ? item.returnedFrom : undefined;
    const key = groupKey([
      item.kind,
      item.account.value,
      item.class?.value,
      customer === undefined ? undefined : (customer.value ?? `new:${customer.name}`),
      sign,
      perTransaction ? item.transactionId : undefined,
      returnedPayout,
    ]);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        kind: item.kind,
        account: item.account,
        ...(item.class === undefined ? {} : { class: item.class }),
        ...(customer === undefined ? {} : { customer }),
        amount: 0,
        sign,
        items: [],
        ...(perTransaction ? { transactionId: item.transactionId } : {}),
        ...(returnedPayout === undefined ? {} : { returnedPayout }),
      };
      groups.set(key, group);
    }
    group.amount += item.amount;
    group.items.push(item);
  }
  if (missing.size > 0) {
    const emails = [...missing].sort(cmp);
    return held(
      `no QuickBooks customer was resolved for ${plural(emails.length, 'member email')} (${idList(emails.map(maskEmail))}); this is an ordering error in the sync, not a data problem`,
      'resolve customers for every member email before building the deposit (collectMembers), then retry',
    );
  }
  const sorted = [...groups.values()].sort(compareGroups);
  return sorted.map((g): DraftLine => {
    const line: DraftLine = {
      kind: g.kind,
      account: g.account,
      amount: g.amount,
      description: describe(g),
    };
    if (g.class !== undefined) line.class = g.class;
    if (g.customer !== undefined) line.customer = g.customer;
    return line;
  });
}

function maskEmail(email: string): string {
  const at = email.indexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

function compareGroups(a: LineGroup, b: LineGroup): number {
  return (
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    cmp(refName(a.account), refName(b.account)) ||
    cmp(a.account.value, b.account.value) ||
    cmp(refName(a.class), refName(b.class)) ||
    cmp(a.class?.value ?? '', b.class?.value ?? '') ||
    cmp(refName(a.customer), refName(b.customer)) ||
    cmp(a.customer?.value ?? '', b.customer?.value ?? '') ||
    b.sign - a.sign ||
    cmp(a.returnedPayout ?? '', b.returnedPayout ?? '') ||
    cmp(a.transactionId ?? '', b.transactionId ?? '')
  );
}

const NOUNS: Record<string, string> = {
  charge: 'charge',
  payment: 'payment',
  refund: 'refund',
  payment_refund: 'payment refund',
  payment_failure_refund: 'payment failure refund',
  refund_failure: 'refund failure',
  adjustment: 'adjustment',
};

/** Reporting categories that name a transaction better than its type does. */
const CATEGORY_NOUNS: Record<string, string> = {
  refund_failure: 'refund failure',
  partial_capture_reversal: 'partial capture reversal',
  charge_failure: 'charge failure',
  dispute_reversal: 'dispute reversal',
  fee: 'fee',
  payout_reversal: 'payout failure',
};

function nounOf(item: BookedItem): string {
  if (item.kind === 'dispute')
    return item.transactionCategory === 'dispute_reversal' ? 'dispute reversal' : 'dispute';
  return (
    CATEGORY_NOUNS[item.transactionCategory] ??
    NOUNS[item.transactionType] ??
    item.transactionType.replace(/_/g, ' ')
  );
}

/** "12 charges, 1 refund": counts of distinct references by noun, most first, then alphabetical. */
function counts(entries: ReadonlyMap<string, string>): string {
  const byNoun = new Map<string, number>();
  for (const noun of entries.values()) byNoun.set(noun, (byNoun.get(noun) ?? 0) + 1);
  return [...byNoun.entries()]
    .sort(([na, a], [nb, b]) => b - a || cmp(na, nb))
    .map(([noun, n]) => plural(n, noun))
    .join(', ');
}

const KIND_TITLES: Record<BookingKind, string> = {
  revenue: '',
  refund: 'Refunds',
  dispute: 'Disputes',
  adjustment: 'Stripe adjustments',
  processingFee: 'Stripe processing fees',
  platformFee: 'Platform fees',
};

function describe(group: LineGroup): string {
  const refs = new Map<string, string>(); // reference → noun
  let text: string;
  if (group.kind === 'processingFee' || group.kind === 'platformFee') {
    for (const item of group.items) refs.set(item.transactionId, 'transaction');
    text = `${KIND_TITLES[group.kind]}: ${refList(refs)}`;
  } else if (group.returnedPayout !== undefined) {
    const ids = [...new Set(group.items.map((i) => i.transactionId))].sort(cmp);
    text = `${KIND_TITLES.adjustment}: funds of failed payout ${group.returnedPayout} returned, not itemised (${idList(ids)})`;
  } else if (group.kind === 'adjustment') {
    for (const item of group.items) refs.set(item.transactionId, nounOf(item));
    const ids = [...refs.entries()].sort(([a], [b]) => cmp(a, b));
    const body =
      ids.length <= MAX_DESCRIPTION_IDS ? ids.map(([id, noun]) => `${noun} ${id}`).join(', ') : counts(refs);
    text = `${KIND_TITLES.adjustment}: ${body}`;
  } else {
    const categories = new Set<string>();
    for (const item of group.items) {
      refs.set(item.reference, nounOf(item));
      if (item.category !== undefined) categories.add(categoryLabel(item.category));
    }
    const labels = distinctLabels(categories.keys());
    const named =
      labels.length <= MAX_DESCRIPTION_IDS ? labels.join(', ') : plural(labels.length, 'category');
    const title = group.kind === 'refund' && group.sign > 0 ? 'Refunds reversed' : KIND_TITLES[group.kind];
    text = `${title === '' ? '' : `${title}, `}${named}: ${refList(refs)}`;
  }
  if (group.transactionId !== undefined && !text.includes(group.transactionId)) {
    text = `${text} (${group.transactionId})`;
  }
  return text.length <= MAX_DESCRIPTION_LENGTH ? text : `${text.slice(0, MAX_DESCRIPTION_LENGTH - 1)}…`;
}

function refList(refs: ReadonlyMap<string, string>): string {
  if (refs.size <= MAX_DESCRIPTION_IDS) return [...refs.keys()].sort(cmp).join(', ');
  return counts(refs);
}
