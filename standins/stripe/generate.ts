/**
 * Deterministic, seedable Stripe payouts for local mode's demo, the benchmark and the e2e tests: an
 * automatic, paid, reconciled payout and its balance transactions as Stripe lists them with
 * `expand[]=data.source&expand[]=data.source.charge` (newest first, sources expanded, a refund's or
 * dispute's `charge` expanded).
 *
 * Invariants (tested for many seeds): the same options give byte-identical output; the nets of every
 * transaction but the payout's own sum exactly to `payout.amount` (> 0); the payout's own transaction
 * (`type: 'payout'`, id = `payout.balance_transaction`) has `amount = net = -payout.amount`; every refund or
 * dispute reverses an earlier charge of the same payout, each charge at most once.
 */
import { createHash } from 'node:crypto';
import { currencyExponent } from '../../src/domain/money.js';
import type { BalanceTransaction, Payout } from '../../src/domain/stripe.js';

export interface GeneratedMember {
  email: string;
  /** Omitted → the charge has no `member_name` (the product then falls back to the email). */
  name?: string;
}

export interface GeneratedCategory {
  category: string;
  subcategory?: string;
}

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
  /** Fractions of the non-payout transactions (rounded): default refunds 0.05, disputes 0.01, adjustments 0.01. */
  mix?: { refunds?: number; disputes?: number; adjustments?: number };
  /** `platform` (default) or an `acct_…`: only changes the ids, so two accounts' payouts never share ids. */
  account?: string;
}

export interface GeneratedPayout {
  payout: Payout;
  /** Newest first, the payout's own transaction first. */
  transactions: BalanceTransaction[];
}

// ------------------------------------------------------------------------------------------------- plan

type PlanItem =
  | { kind: 'charge'; member: GeneratedMember; category: GeneratedCategory; amount: number }
  | { kind: 'refund'; of: number; amount: number }
  | { kind: 'dispute'; of: number }
  | { kind: 'reserve'; amount: number };

/** mulberry32: small, fast and deterministic; good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A Stripe-looking id (`prefix` + 24 base62 characters), a pure function of `key`. */
function stableId(prefix: string, key: string): string {
  const bytes = createHash('sha256').update(key).digest();
  let out = '';
  for (let i = 0; i < 24; i++) out += BASE62[(bytes[i] ?? 0) % 62];
  return `${prefix}${out}`;
}

const FIRST_NAMES =
  'Maya Liam Ava Noah Zoe Ethan Lena Omar Iris Mateo Nora Kai Ruth Theo Aisha Felix Hana Jonah Leila Marco'.split(
    ' ',
  );
const LAST_NAMES =
  'Chen Garcia Okafor Rossi Nguyen Patel Kowalski Haddad Silva Moreau Tanaka Andersen Fischer Lopez Kim Murphy Novak Osei Reyes Weber'.split(
    ' ',
  );

/** Major-unit prices studios charge; scaled by the currency's exponent (zero-decimal currencies ×100). */
const PRICES = [12, 15, 18, 20, 25, 30, 45, 60, 80, 99, 120, 150, 180, 200, 249];

const DEFAULT_CATEGORIES: GeneratedCategory[] = [
  { category: 'Class Packs' },
  { category: 'Memberships' },
  { category: 'Classes', subcategory: 'Virtual' },
  { category: 'Classes', subcategory: 'In person' },
];

interface CurrencyScale {
  exponent: number;
  /** One major unit in minor units (JPY: 100, because a ¥1 class does not exist). */
  unit: number;
  fixedFee: number;
  disputeFee: number;
}

function scaleFor(currency: string): CurrencyScale {
  const exponent = currencyExponent(currency);
  const unit = exponent === 0 ? 100 : 10 ** exponent;
  return { exponent, unit, fixedFee: exponent === 0 ? 0 : 30 * 10 ** (exponent - 2), disputeFee: 15 * unit };
}

/** Stripe's standard card pricing, 2.9 % (rounded half up) + 30¢, in integer arithmetic. */
function chargeFee(amount: number, scale: CurrencyScale): number {
  return Math.floor((amount * 29 + 500) / 1000) + scale.fixedFee;
}

function checkFraction(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || v >= 1) {
    throw new RangeError(`generatePayout: mix.${name} must be a fraction in [0, 1), got ${value}`);
  }
  return v;
}

function planNet(items: readonly PlanItem[], scale: CurrencyScale): number {
  let total = 0;
  for (const item of items) {
    if (item.kind === 'charge') total += item.amount - chargeFee(item.amount, scale);
    else if (item.kind === 'refund') total -= item.amount;
    else if (item.kind === 'dispute') {
      const charge = items[item.of];
      if (charge?.kind === 'charge') total -= charge.amount + scale.disputeFee;
    } else total += item.amount;
  }
  return total;
}

function makePlan(opts: GeneratePayoutOptions, scale: CurrencyScale, rand: () => number): PlanItem[] {
  const n = opts.transactions - 1;
  const fr = checkFraction('refunds', opts.mix?.refunds, 0.05);
  const fd = checkFraction('disputes', opts.mix?.disputes, 0.01);
  const fa = checkFraction('adjustments', opts.mix?.adjustments, 0.01);
  if (2 * (fr + fd) + fa >= 1) {
    throw new RangeError(
      `generatePayout: the mix (refunds ${fr}, disputes ${fd}, adjustments ${fa}) leaves too few charges: each refund ` +
        'or dispute reverses its own earlier charge and some charges must stay unreversed, so 2 × (refunds + ' +
        'disputes) + adjustments must be below 1: lower the fractions',
    );
  }
  let refunds = Math.round(n * fr);
  let disputes = Math.round(n * fd);
  let adjustments = Math.round(n * fa);
  // Small payouts: trim the rounded counts so at least one charge stays unreversed.
  while (n - refunds - disputes - adjustments <= refunds + disputes) {
    if (refunds > 0) refunds--;
    else if (disputes > 0) disputes--;
    else adjustments--;
  }
  const charges = n - refunds - disputes - adjustments;
  const categories = opts.categories ?? DEFAULT_CATEGORIES;
  if (categories.length === 0) throw new RangeError('generatePayout: categories must not be empty');
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;

  // Members: the existing ones, then `newCount` generated ones; shuffled, each used once before any repeats.
  const existing = opts.members?.existing ?? [];
  const newCount = opts.members?.newCount ?? (opts.members ? 0 : Math.max(1, Math.ceil(charges / 4)));
  if (!Number.isInteger(newCount) || newCount < 0) {
    throw new RangeError(`generatePayout: members.newCount must be a whole number ≥ 0, got ${newCount}`);
  }
  const tag = (opts.seed >>> 0).toString(36);
  const pool: GeneratedMember[] = [...existing];
  for (let k = 0; k < newCount; k++) {
    const first = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    pool.push({ email: `${first}.${last}.${tag}.${k}@example.org`.toLowerCase(), name: `${first} ${last}` });
  }
  if (pool.length === 0)
    throw new RangeError('generatePayout: members gives nobody to charge (no existing, newCount 0)');
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pool[i], pool[j]] = [pool[j] as GeneratedMember, pool[i] as GeneratedMember];
  }

  // Kinds: a charge first, the rest shuffled; then every reversal is moved after a charge it can reverse.
  const kinds: Array<PlanItem['kind']> = ['charge'];
  for (let i = 1; i < charges; i++) kinds.push('charge');
  for (let i = 0; i < refunds; i++) kinds.push('refund');
  for (let i = 0; i < disputes; i++) kinds.push('dispute');
  for (let i = 0; i < adjustments; i++) kinds.push('reserve');
  for (let i = kinds.length - 1; i > 1; i--) {
    const j = 1 + Math.floor(rand() * i);
    [kinds[i], kinds[j]] = [kinds[j] as PlanItem['kind'], kinds[i] as PlanItem['kind']];
  }

  const items: PlanItem[] = [];
  const unreversed: number[] = [];
  let chargeNo = 0;
  for (let i = 0; i < kinds.length; i++) {
    let kind = kinds[i] as PlanItem['kind'];
    if ((kind === 'refund' || kind === 'dispute') && unreversed.length === 0) {
      // Nothing to reverse yet: swap with the next charge (one exists, as charges > reversals).
      const j = kinds.indexOf('charge', i + 1);
      kinds[j] = kind;
      kinds[i] = 'charge';
      kind = 'charge';
    }
    if (kind === 'charge') {
      const member = chargeNo < pool.length ? (pool[chargeNo] as GeneratedMember) : pick(pool);
      chargeNo++;
      const major = pick(PRICES);
      const cents = scale.exponent === 2 && rand() < 0.25 ? 50 : 0;
      unreversed.push(items.length);
      items.push({ kind, member, category: pick(categories), amount: major * scale.unit + cents });
    } else if (kind === 'refund' || kind === 'dispute') {
      const at = Math.floor(rand() * unreversed.length);
      const of = unreversed[at] as number;
      unreversed.splice(at, 1);
      const charge = items[of];
      const chargeAmount = charge?.kind === 'charge' ? charge.amount : 0;
      if (kind === 'refund') {
        const amount = rand() < 0.7 ? chargeAmount : Math.max(1, Math.floor(chargeAmount / 2));
        items.push({ kind, of, amount });
      } else {
        items.push({ kind, of });
      }
    } else {
      const amount = (5 + Math.floor(rand() * 21)) * scale.unit;
      items.push({ kind, amount: rand() < 0.7 ? -amount : amount });
    }
  }

  // A payout is positive: if reversals outweigh the sales, raise the last unreversed charge until it is.
  const last = unreversed[unreversed.length - 1] as number;
  for (let total = planNet(items, scale); total <= 0; total = planNet(items, scale)) {
    const item = items[last];
    if (item?.kind !== 'charge') break;
    item.amount += Math.ceil((-total + scale.unit) * 1.05);
  }
  return items;
}

// ------------------------------------------------------------------------------------------------- build

interface BuildSpec {
  seedKey: string;
  payoutId: string;
  currency: string;
  arrivalDate: number;
  items: PlanItem[];
}

const DAY = 86_400;

function build(spec: BuildSpec): GeneratedPayout {
  const { currency, items, payoutId } = spec;
  const scale = scaleFor(currency);
  const key = (what: string, i: number | string): string => `${spec.seedKey}|${payoutId}|${what}|${i}`;
  const payoutCreated = spec.arrivalDate - 2 * DAY;
  const windowStart = payoutCreated - 7 * DAY;
  const step = Math.max(1, Math.floor((7 * DAY) / (items.length + 1)));
  const createdAt = (i: number): number => Math.min(payoutCreated - 1, windowStart + i * step);

  const charges = new Map<number, Record<string, unknown>>();
  const txns: BalanceTransaction[] = [];
  let total = 0;

  const base = (i: number, created: number) => ({
    id: stableId('txn_', key('txn', i)),
    object: 'balance_transaction' as const,
    available_on: payoutCreated,
    balance_type: 'payments',
    created,
    currency,
    exchange_rate: null,
    status: 'available',
  });

  items.forEach((item, i) => {
    const created = createdAt(i);
    const common = base(i, created);
    if (item.kind === 'charge') {
      const fee = chargeFee(item.amount, scale);
      const label = item.category.subcategory
        ? `${item.category.category} / ${item.category.subcategory}`
        : item.category.category;
      const metadata: Record<string, string> = {
        revenue_category: item.category.category,
        ...(item.category.subcategory ? { revenue_subcategory: item.category.subcategory } : {}),
        member_email: item.member.email,
        ...(item.member.name ? { member_name: item.member.name } : {}),
      };
      const charge: Record<string, unknown> = {
        id: stableId('ch_', key('charge', i)),
        object: 'charge',
        amount: item.amount,
        amount_captured: item.amount,
        amount_refunded: 0,
        balance_transaction: common.id,
        billing_details: {
          address: null,
          email: item.member.email,
          name: item.member.name ?? null,
          phone: null,
        },
        captured: true,
        created,
        currency,
        customer: null,
        description: label,
        disputed: false,
        livemode: false,
        metadata,
        paid: true,
        payment_intent: stableId('pi_', key('pi', i)),
        receipt_email: item.member.email,
        refunded: false,
        status: 'succeeded',
      };
      charges.set(i, charge);
      total += item.amount - fee;
      txns.push({
        ...common,
        amount: item.amount,
        description: label,
        fee,
        fee_details: [
          {
            amount: fee,
            application: null,
            currency,
            description: 'Stripe processing fees',
            type: 'stripe_fee',
          },
        ],
        net: item.amount - fee,
        reporting_category: 'charge',
        source: charge as BalanceTransaction['source'],
        type: 'charge',
      });
    } else if (item.kind === 'refund') {
      const charge = charges.get(item.of) as Record<string, unknown>;
      const refunded = (charge.amount_refunded as number) + item.amount;
      charge.amount_refunded = refunded;
      charge.refunded = refunded >= (charge.amount as number);
      const refund = {
        id: stableId('re_', key('refund', i)),
        object: 'refund',
        amount: item.amount,
        balance_transaction: common.id,
        charge,
        created,
        currency,
        metadata: {},
        payment_intent: charge.payment_intent,
        reason: 'requested_by_customer',
        status: 'succeeded',
      };
      total -= item.amount;
      txns.push({
        ...common,
        amount: -item.amount,
        description: `REFUND FOR CHARGE (${String(charge.description)})`,
        fee: 0,
        fee_details: [],
        net: -item.amount,
        reporting_category: 'refund',
        source: refund as BalanceTransaction['source'],
        type: 'refund',
      });
    } else if (item.kind === 'dispute') {
      const charge = charges.get(item.of) as Record<string, unknown>;
      charge.disputed = true;
      const amount = charge.amount as number;
      const dispute = {
        id: stableId('dp_', key('dispute', i)),
        object: 'dispute',
        amount,
        charge,
        created,
        currency,
        metadata: {},
        payment_intent: charge.payment_intent,
        reason: 'fraudulent',
        status: 'needs_response',
      };
      total -= amount + scale.disputeFee;
      txns.push({
        ...common,
        amount: -amount,
        description: `Chargeback withdrawal for ${String(charge.id)}`,
        fee: scale.disputeFee,
        fee_details: [
          {
            amount: scale.disputeFee,
            application: null,
            currency,
            description: 'Dispute fee',
            type: 'stripe_fee',
          },
        ],
        net: -amount - scale.disputeFee,
        reporting_category: 'dispute',
        source: dispute as BalanceTransaction['source'],
        type: 'adjustment',
      });
    } else {
      total += item.amount;
      const reserve = {
        id: stableId('rtx_', key('reserve', i)),
        object: 'reserve_transaction',
        amount: item.amount,
        currency,
        description: item.amount < 0 ? 'Rolling reserve hold' : 'Rolling reserve release',
      };
      txns.push({
        ...common,
        amount: item.amount,
        description: reserve.description,
        fee: 0,
        fee_details: [],
        net: item.amount,
        reporting_category: 'risk_reserved_funds',
        source: reserve as BalanceTransaction['source'],
        type: 'reserve_transaction',
      });
    }
  });

  const payoutTxnId = stableId('txn_', key('txn', 'payout'));
  const payout: Payout = {
    id: payoutId,
    object: 'payout',
    amount: total,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: spec.arrivalDate,
    automatic: true,
    balance_transaction: payoutTxnId,
    created: payoutCreated,
    currency,
    description: 'STRIPE PAYOUT',
    destination: stableId('ba_', key('bank', 0)),
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: {},
    method: 'standard',
    original_payout: null,
    reconciliation_status: 'completed',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: null,
    status: 'paid',
    trace_id: { status: 'supported', value: stableId('', key('trace', 0)).slice(0, 15) },
    type: 'bank_account',
  };
  const payoutTxn: BalanceTransaction = {
    ...base(0, payoutCreated),
    id: payoutTxnId,
    amount: -total,
    description: 'STRIPE PAYOUT',
    fee: 0,
    fee_details: [],
    net: -total,
    reporting_category: 'payout',
    source: structuredClone(payout) as BalanceTransaction['source'],
    type: 'payout',
  };
  return { payout, transactions: [payoutTxn, ...txns.reverse()] };
}

// ------------------------------------------------------------------------------------------------- public

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
  return build({
    seedKey,
    payoutId: opts.id ?? stableId('po_', `${seedKey}|payout`),
    currency,
    arrivalDate: opts.arrivalDate ?? Date.UTC(2026, 0, 1) / 1000 + dayOfYear * DAY,
    items,
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
