/**
 * Members: who paid. A charge's member is read from its metadata (`member_email`, `member_name`), with
 * Stripe's own `billing_details` and `receipt_email` as fallbacks (CONTRACT §3). Refunds and disputes reach
 * the member through the charge they reverse.
 */
import {
  type BalanceTransaction,
  type BalanceTransactionSource,
  type Charge,
  isCharge,
  isDispute,
  isRefund,
} from './stripe.js';
import { tidyText } from './text.js';
import type { Member } from './types.js';

/** An email lower-cased and trimmed; `undefined` when empty. */
export function normaliseEmail(email: string | null | undefined): string | undefined {
  const e = email?.trim().toLowerCase();
  return e === undefined || e === '' ? undefined : e;
}

/** The member's email: `metadata.member_email` → `billing_details.email` → `receipt_email`. */
export function memberEmailOf(charge: Charge): string | undefined {
  return (
    normaliseEmail(charge.metadata.member_email) ??
    normaliseEmail(charge.billing_details?.email) ??
    normaliseEmail(charge.receipt_email)
  );
}

/** The member's name: `metadata.member_name` → `billing_details.name`. */
export function memberNameOf(charge: Charge): string | undefined {
  return tidyText(charge.metadata.member_name) ?? tidyText(charge.billing_details?.name);
}

/** The charge's member, or `undefined` when the charge carries no email at all (a walk-in). */
export function memberOfCharge(charge: Charge): Member | undefined {
  const email = memberEmailOf(charge);
  if (email === undefined) return undefined;
  const name = memberNameOf(charge);
  return name === undefined ? { email } : { email, name };
}

/**
 * Every expanded charge reachable from the transactions (directly, or through a refund or dispute), by its id, and
 * by the id of each expanded refund or dispute of it: a transaction whose source arrives as a bare `re_…` / `du_…`
 * id (an expandable field may, CONTRACT §3), e.g. a refund failure, still finds the sale its refund reversed.
 */
export function indexCharges(transactions: readonly BalanceTransaction[]): Map<string, Charge> {
  const index = new Map<string, Charge>();
  const add = (id: string, c: Charge) => {
    if (!index.has(id)) index.set(id, c);
  };
  const byId = new Map<string, string>(); // refund or dispute id → charge id, for charges given only by id
  for (const bt of transactions) {
    const s = bt.source;
    if (isCharge(s)) add(s.id, s);
    else if (isRefund(s) || isDispute(s)) {
      if (isCharge(s.charge)) {
        add(s.charge.id, s.charge);
        add(s.id, s.charge);
      } else if (typeof s.charge === 'string') byId.set(s.id, s.charge);
    }
  }
  for (const [reversal, chargeId] of byId) {
    const charge = index.get(chargeId);
    if (charge !== undefined) add(reversal, charge);
  }
  return index;
}

/**
 * The charge a transaction's source is, or reverses (refund, dispute). A charge given only by id is looked up
 * in `charges` (see `indexCharges`). `undefined` when it cannot be found.
 */
export function originalCharge(
  source: BalanceTransactionSource,
  charges: ReadonlyMap<string, Charge>,
): Charge | undefined {
  if (source === null) return undefined;
  if (typeof source === 'string') return charges.get(source);
  if (isCharge(source)) return source;
  if (isRefund(source) || isDispute(source)) {
    const ref = source.charge;
    if (ref === null || ref === undefined) return undefined;
    return typeof ref === 'string' ? charges.get(ref) : ref;
  }
  return undefined;
}

/**
 * Every distinct member of the payout's charges (including charges reached through refunds and disputes),
 * sorted by email. The best name wins: a `metadata.member_name` over a `billing_details.name`; between two of
 * the same kind, the more recent charge's (then the greater charge id), so the result does not depend on order.
 */
export function collectMembers(transactions: readonly BalanceTransaction[]): Member[] {
  const charges = indexCharges(transactions);
  const best = new Map<string, { name?: string; rank: number; created: number; id: string }>();
  for (const charge of charges.values()) {
    const email = memberEmailOf(charge);
    if (email === undefined) continue;
    const metaName = tidyText(charge.metadata.member_name);
    const name = metaName ?? tidyText(charge.billing_details?.name);
    const candidate = {
      name,
      rank: metaName !== undefined ? 2 : name !== undefined ? 1 : 0,
      created: charge.created ?? 0,
      id: charge.id,
    };
    const current = best.get(email);
    if (current === undefined || better(candidate, current)) best.set(email, candidate);
  }
  return [...best.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([email, c]) => (c.name === undefined ? { email } : { email, name: c.name }));
}

function better(
  a: { rank: number; created: number; id: string },
  b: { rank: number; created: number; id: string },
): boolean {
  if (a.rank !== b.rank) return a.rank > b.rank;
  if (a.created !== b.created) return a.created > b.created;
  return a.id > b.id;
}
