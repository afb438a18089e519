/**
 * Deterministic, seedable Stripe payouts for local mode's demo, the benchmark and the e2e tests: an
 * automatic, paid, reconciled payout and its balance transactions as Stripe lists them with
 * `expand[]=data.source&expand[]=data.source.charge` (newest first, sources expanded, a refund's or
 * dispute's `charge` expanded). The plan is made in generate-plan.ts, the objects in generate-build.ts.
 *
 * Invariants (tested for many seeds): the same options give byte-identical output; the nets of every
 * transaction but the payout's own sum exactly to `payout.amount` (> 0); the payout's own transaction
 * (`type: 'payout'`, id = `payout.balance_transaction`) has `amount = net = -payout.amount`; every refund,
 * dispute, partial capture or charge failure reverses an earlier charge of the same payout, each charge at most
 * once; every refund failure an earlier refund.
 *
 * `generateFailedPayout` makes a payout that failed and the later payout its funds come back in
 * (`type: payout_failure`, `reporting_category: payout_reversal`, source the failed payout).
 */
import type { BalanceTransaction, Payout } from '../../src/domain/stripe.js';
import { build, type GeneratedPayout, stableId } from './generate-build.js';
import {
  type GeneratedCategory,
  type GeneratedMember,
  type GenerateMix,
  makePlan,
  prng,
  scaleFor,
} from './generate-plan.js';

export type { GeneratedPayout } from './generate-build.js';
export type { GeneratedCategory, GeneratedMember, GenerateMix } from './generate-plan.js';
export { prng } from './generate-plan.js';

const DAY = 86_400;

export interface GeneratePayoutOptions {
  seed: number;
  /** Default: derived from the seed (and the account). */
  id?: string;
  /**
   * How many balance transactions the payout's list holds, **including** the payout's own (`type: 'payout'`),
   * so listing them takes exactly ⌈transactions / 100⌉ pages. At least 2.
   */
  transactions: number;
  /** Lower-case ISO code, default `usd`. Amounts follow its exponent (JPY 0, USD 2, KWD 3). */
  currency?: string;
  /** Unix seconds (default: a midnight UTC in 2026 derived from the seed). */
  arrivalDate?: number;
  /**
   * The members charges use: `existing` ones (e.g. customers already in QuickBooks) and `newCount` generated
   * ones (`first.last.<seed>.<n>@example.org`). When there are at least as many charges as members, every member
   * is used at least once; otherwise a random subset. Default: no existing, ⌈charges / 4⌉ new.
   */
  members?: { existing: GeneratedMember[]; newCount: number };
  /** Default: Class Packs, Memberships, Classes / Virtual, Classes / In person. */
  categories?: GeneratedCategory[];
  /** Fractions of the non-payout transactions by kind (see `GenerateMix`). */
  mix?: GenerateMix;
  /**
   * Share (0–1) of the nullable fields sent as `null`, as Stripe may (payout and refund `metadata`, descriptions):
   * default 0.25. The amounts, ids and members do not depend on it.
   */
  nulls?: number;
  /** `platform` (default) or an `acct_…`: only changes the ids, so two accounts' payouts never share ids. */
  account?: string;
}

/** A realistic automatic payout with `opts.transactions` balance transactions (see `GeneratePayoutOptions`). */
export function generatePayout(opts: GeneratePayoutOptions): GeneratedPayout {
  if (!Number.isInteger(opts.transactions) || opts.transactions < 2) {
    throw new RangeError(
      `generatePayout: transactions counts the payout's own transaction too, so it must be a whole number ≥ 2, got ${opts.transactions}`,
    );
  }
  if (!Number.isInteger(opts.seed))
    throw new RangeError(`generatePayout: seed must be an integer, got ${opts.seed}`);
  const currency = (opts.currency ?? 'usd').toLowerCase();
  const account = opts.account ?? 'platform';
  const scale = scaleFor(currency);
  const rand = prng(opts.seed);
  const items = makePlan(opts, scale, rand);
  const seedKey = `${account}|${opts.seed}`;
  const dayOfYear = ((opts.seed % 365) + 365) % 365;
  const nulls = opts.nulls ?? 0.25;
  if (!Number.isFinite(nulls) || nulls < 0 || nulls > 1) {
    throw new RangeError(`generatePayout: nulls must be a share in [0, 1], got ${opts.nulls}`);
  }
  return build({
    seedKey,
    payoutId: opts.id ?? stableId('po_', `${seedKey}|payout`),
    currency,
    arrivalDate: opts.arrivalDate ?? Date.UTC(2026, 0, 1) / 1000 + dayOfYear * DAY,
    items,
    nulls,
    nullSeed: opts.seed ^ 0x5eed,
  });
}

/** The payout id of `demoPayout()`. */
export const DEMO_PAYOUT_ID = 'po_1DemoLocalModePayout001';

/**
 * Local mode's sample payout (USD, platform account, arriving 2026-01-15):
 *
 * | # | transaction | member | category | gross | fee | net |
 * |---|---|---|---|---|---|---|
 * | 1 | charge | jane@example.com, Jane Doe (in the QuickBooks demo company) | Class Packs | 120.00 | 3.78 | 116.22 |
 * | 2 | charge | sam.rivera@example.org, Sam Rivera (new) | Classes / Virtual | 25.00 | 1.03 | 23.97 |
 * | 3 | charge | priya.shah@example.org, Priya Shah (new) | Class Packs | 200.00 | 6.10 | 193.90 |
 * | 4 | charge | jane@example.com, Jane Doe | Classes / Virtual | 25.00 | 1.03 | 23.97 |
 * | 5 | charge | sam.rivera@example.org, Sam Rivera | Class Packs | 120.00 | 3.78 | 116.22 |
 * | 6 | refund of #4 (full) | jane@example.com | Classes / Virtual | −25.00 | 0 | −25.00 |
 *
 * plus the payout's own transaction: payout amount 449.28 (44928), fees 15.72 in total.
 */
export function demoPayout(): GeneratedPayout {
  const jane = { email: 'jane@example.com', name: 'Jane Doe' };
  const sam = { email: 'sam.rivera@example.org', name: 'Sam Rivera' };
  const priya = { email: 'priya.shah@example.org', name: 'Priya Shah' };
  const packs = { category: 'Class Packs' };
  const virtual = { category: 'Classes', subcategory: 'Virtual' };
  return build({
    seedKey: 'demo',
    payoutId: DEMO_PAYOUT_ID,
    currency: 'usd',
    arrivalDate: Date.UTC(2026, 0, 15) / 1000,
    items: [
      { kind: 'charge', member: jane, category: packs, amount: 12000 },
      { kind: 'charge', member: sam, category: virtual, amount: 2500 },
      { kind: 'charge', member: priya, category: packs, amount: 20000 },
      { kind: 'charge', member: jane, category: virtual, amount: 2500 },
      { kind: 'charge', member: sam, category: packs, amount: 12000 },
      { kind: 'refund', of: 3, amount: 2500 },
    ],
  });
}

export interface FailedPayoutPair {
  /** The payout that failed (`status: failed`, `failure_code: account_closed`); its transactions stay listed by it. */
  failed: GeneratedPayout;
  /** The later payout its funds come back in: its own transactions plus a `payout_failure` of the whole amount. */
  returning: GeneratedPayout;
}

/**
 * A payout that failed and the later payout its funds come back in (docs.stripe.com/payouts#payout-failures: the
 * funds return to the balance and go out with the next payout). Stripe's shapes: the failed payout names the
 * `payout_failure` transaction in `failure_balance_transaction` (Payouts.d.ts); that transaction has
 * `reporting_category: payout_reversal` and the failed payout as `source` (BalanceTransactionSources.d.ts lists
 * `Payout`). `opts` is used for both payouts (the returning one with `seed + 1` and the arrival a week later).
 */
export function generateFailedPayout(opts: GeneratePayoutOptions): FailedPayoutPair {
  const failed = generatePayout(opts);
  const account = opts.account ?? 'platform';
  const returning = generatePayout({
    ...opts,
    seed: opts.seed + 1,
    id: opts.id === undefined ? undefined : `${opts.id}R`,
    arrivalDate: failed.payout.arrival_date + 7 * DAY,
  } as GeneratePayoutOptions);
  const returnId = stableId('txn_', `${account}|${failed.payout.id}|payout_failure`);
  const failedPayout = failed.payout as unknown as Record<string, unknown>;
  failedPayout.status = 'failed';
  failedPayout.failure_code = 'account_closed';
  failedPayout.failure_message = 'The bank account has been closed.';
  failedPayout.failure_balance_transaction = returnId;
  const amount = failed.payout.amount;
  const created = failed.payout.arrival_date + DAY;
  const back = {
    id: returnId,
    object: 'balance_transaction',
    amount,
    available_on: created,
    balance_type: 'payments',
    created,
    currency: failed.payout.currency,
    description: 'STRIPE PAYOUT FAILURE',
    exchange_rate: null,
    fee: 0,
    fee_details: [],
    net: amount,
    reporting_category: 'payout_reversal',
    source: structuredClone(failed.payout),
    status: 'available',
    type: 'payout_failure',
  } as unknown as BalanceTransaction;
  const [own, ...rest] = returning.transactions;
  if (own === undefined) throw new Error('generateFailedPayout: the returning payout has no transactions');
  const total = returning.payout.amount + amount;
  const payout = { ...returning.payout, amount: total } as Payout;
  const ownTxn = {
    ...own,
    amount: -total,
    net: -total,
    source: structuredClone(payout),
  } as BalanceTransaction;
  const transactions = [ownTxn, ...[...rest, back].sort((a, b) => b.created - a.created)];
  return { failed, returning: { payout, transactions } };
}
