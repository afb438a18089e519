/**
 * The plan of a generated payout: which balance transactions it holds (charges, refunds, disputes, reserve
 * movements, and on request refund failures, partial-capture reversals, charge failures and fee refunds), for whom,
 * in which category, for how much. Pure and deterministic for a seed; generate-build.ts turns it into Stripe objects.
 */
import { currencyExponent } from '../../src/domain/money.js';

export interface GeneratedMember {
  email: string;
  /** Omitted → the charge has no `member_name` (the product then falls back to the email). */
  name?: string;
}

export interface GeneratedCategory {
  category: string;
  subcategory?: string;
}

/**
 * Fractions of the non-payout transactions (rounded). Default: refunds 0.05, disputes 0.01, adjustments 0.01, and 0
 * for the rest. Refunds, disputes, partial captures and charge failures each reverse an earlier charge of their own;
 * a refund failure reverses an earlier refund.
 */
export interface GenerateMix {
  refunds?: number;
  disputes?: number;
  /** Rolling-reserve holds and releases (`reporting_category: risk_reserved_funds`). */
  adjustments?: number;
  /** `type: adjustment`, `reporting_category: refund_failure`, source the refund that failed. */
  refundFailures?: number;
  /** `reporting_category: partial_capture_reversal`, source the charge: the uncaptured part of an authorisation. */
  partialCaptures?: number;
  /** `type: payment_failure_refund`, `reporting_category: charge_failure`: a payment that failed after succeeding. */
  chargeFailures?: number;
  /** `type: adjustment`, `reporting_category: fee`, source a fee refund (`fr_…`). */
  feeRefunds?: number;
}

export interface PlanOptions {
  seed: number;
  transactions: number;
  members?: { existing: GeneratedMember[]; newCount: number };
  categories?: GeneratedCategory[];
  mix?: GenerateMix;
}

export type PlanItem =
  | { kind: 'charge'; member: GeneratedMember; category: GeneratedCategory; amount: number }
  | { kind: 'refund'; of: number; amount: number }
  | { kind: 'dispute'; of: number }
  | { kind: 'reserve'; amount: number }
  | { kind: 'refundFailure'; of: number }
  | { kind: 'partialCapture'; of: number; amount: number }
  | { kind: 'chargeFailure'; of: number }
  | { kind: 'feeRefund'; amount: number };

type Kind = PlanItem['kind'];

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

export interface CurrencyScale {
  exponent: number;
  /** One major unit in minor units (JPY: 100, because a ¥1 class does not exist). */
  unit: number;
  fixedFee: number;
  disputeFee: number;
}

export function scaleFor(currency: string): CurrencyScale {
  const exponent = currencyExponent(currency);
  const unit = exponent === 0 ? 100 : 10 ** exponent;
  return { exponent, unit, fixedFee: exponent === 0 ? 0 : 30 * 10 ** (exponent - 2), disputeFee: 15 * unit };
}

/** Stripe's standard card pricing, 2.9 % (rounded half up) + 30¢, in integer arithmetic. */
export function chargeFee(amount: number, scale: CurrencyScale): number {
  return Math.floor((amount * 29 + 500) / 1000) + scale.fixedFee;
}

function checkFraction(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || v >= 1) {
    throw new RangeError(`generatePayout: mix.${name} must be a fraction in [0, 1), got ${value}`);
  }
  return v;
}

/** The amount a charge item reverses, for the item at `of`. */
function chargeAmountAt(items: readonly PlanItem[], of: number): number {
  const charge = items[of];
  return charge?.kind === 'charge' ? charge.amount : 0;
}

/** Σ net of the planned transactions (the payout's amount). */
export function planNet(items: readonly PlanItem[], scale: CurrencyScale): number {
  let total = 0;
  for (const item of items) {
    if (item.kind === 'charge') total += item.amount - chargeFee(item.amount, scale);
    else if (item.kind === 'refund') total -= item.amount;
    else if (item.kind === 'dispute') total -= chargeAmountAt(items, item.of) + scale.disputeFee;
    else if (item.kind === 'refundFailure') {
      const refund = items[item.of];
      if (refund?.kind === 'refund') total += refund.amount;
    } else if (item.kind === 'partialCapture') total -= item.amount;
    else if (item.kind === 'chargeFailure') total -= chargeAmountAt(items, item.of);
    else total += item.amount;
  }
  return total;
}

/** Kinds that consume an unreversed charge of their own. */
const CHARGE_REVERSALS: ReadonlySet<Kind> = new Set(['refund', 'dispute', 'partialCapture', 'chargeFailure']);

export function makePlan(opts: PlanOptions, scale: CurrencyScale, rand: () => number): PlanItem[] {
  const n = opts.transactions - 1;
  const m = opts.mix ?? {};
  const fr = checkFraction('refunds', m.refunds, 0.05);
  const fd = checkFraction('disputes', m.disputes, 0.01);
  const fa = checkFraction('adjustments', m.adjustments, 0.01);
  const frf = checkFraction('refundFailures', m.refundFailures, 0);
  const fpc = checkFraction('partialCaptures', m.partialCaptures, 0);
  const fcf = checkFraction('chargeFailures', m.chargeFailures, 0);
  const ffr = checkFraction('feeRefunds', m.feeRefunds, 0);
  if (2 * (fr + fd + fpc + fcf) + fa + frf + ffr >= 1) {
    throw new RangeError(
      `generatePayout: the mix (${JSON.stringify(m)}) leaves too few charges: each refund, dispute, partial capture ` +
        'or charge failure reverses its own earlier charge and some charges must stay unreversed, so 2 × (refunds + ' +
        'disputes + partialCaptures + chargeFailures) + adjustments + refundFailures + feeRefunds must be below 1: ' +
        'lower the fractions',
    );
  }
  const counts: Record<Exclude<Kind, 'charge'>, number> = {
    refund: Math.round(n * fr),
    dispute: Math.round(n * fd),
    reserve: Math.round(n * fa),
    refundFailure: Math.round(n * frf),
    partialCapture: Math.round(n * fpc),
    chargeFailure: Math.round(n * fcf),
    feeRefund: Math.round(n * ffr),
  };
  const others = () => Object.values(counts).reduce((a, b) => a + b, 0);
  const reversals = () => counts.refund + counts.dispute + counts.partialCapture + counts.chargeFailure;
  // Small payouts: trim the rounded counts so at least one charge stays unreversed.
  const trimOrder: Array<Exclude<Kind, 'charge'>> = [
    'refundFailure',
    'refund',
    'dispute',
    'partialCapture',
    'chargeFailure',
    'feeRefund',
    'reserve',
  ];
  while (n - others() <= reversals()) {
    const k = trimOrder.find((x) => counts[x] > 0);
    if (k === undefined) break;
    counts[k] -= 1;
  }
  if (counts.refundFailure > counts.refund) counts.refundFailure = counts.refund;
  const charges = n - others();
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

  // Kinds: a charge first, the rest shuffled; then every reversal is moved after what it can reverse.
  const kinds: Kind[] = ['charge'];
  for (let i = 1; i < charges; i++) kinds.push('charge');
  const order: Array<Exclude<Kind, 'charge'>> = [
    'refund',
    'dispute',
    'reserve',
    'refundFailure',
    'partialCapture',
    'chargeFailure',
    'feeRefund',
  ];
  for (const k of order) for (let i = 0; i < counts[k]; i++) kinds.push(k);
  for (let i = kinds.length - 1; i > 1; i--) {
    const j = 1 + Math.floor(rand() * i);
    [kinds[i], kinds[j]] = [kinds[j] as Kind, kinds[i] as Kind];
  }

  const items: PlanItem[] = [];
  const unreversed: number[] = [];
  const refunds: number[] = [];
  let chargeNo = 0;
  for (let i = 0; i < kinds.length; i++) {
    let kind = kinds[i] as Kind;
    if (CHARGE_REVERSALS.has(kind) && unreversed.length === 0) {
      // Nothing to reverse yet: swap with the next charge (one exists, as charges > reversals).
      const j = kinds.indexOf('charge', i + 1);
      kinds[j] = kind;
      kinds[i] = 'charge';
      kind = 'charge';
    }
    if (kind === 'refundFailure' && refunds.length === 0) {
      // No refund to fail yet: the next refund comes first (or, with none left, a charge).
      const j = kinds.indexOf('refund', i + 1);
      if (j >= 0 && unreversed.length > 0) {
        kinds[j] = kind;
        kinds[i] = 'refund';
        kind = 'refund';
      } else {
        kinds[i] = 'charge';
        kind = 'charge';
      }
    }
    if (kind === 'charge') {
      const member = chargeNo < pool.length ? (pool[chargeNo] as GeneratedMember) : pick(pool);
      chargeNo++;
      const major = pick(PRICES);
      const cents = scale.exponent === 2 && rand() < 0.25 ? 50 : 0;
      unreversed.push(items.length);
      items.push({ kind, member, category: pick(categories), amount: major * scale.unit + cents });
    } else if (CHARGE_REVERSALS.has(kind)) {
      const at = Math.floor(rand() * unreversed.length);
      const of = unreversed[at] as number;
      unreversed.splice(at, 1);
      const chargeAmount = chargeAmountAt(items, of);
      if (kind === 'refund') {
        const amount = rand() < 0.7 ? chargeAmount : Math.max(1, Math.floor(chargeAmount / 2));
        refunds.push(items.length);
        items.push({ kind, of, amount });
      } else if (kind === 'partialCapture') {
        items.push({
          kind,
          of,
          amount: Math.max(1, Math.floor((chargeAmount * (2 + Math.floor(rand() * 4))) / 10)),
        });
      } else if (kind === 'chargeFailure') {
        items.push({ kind, of });
      } else {
        items.push({ kind: 'dispute', of });
      }
    } else if (kind === 'refundFailure') {
      const at = Math.floor(rand() * refunds.length);
      const of = refunds[at] as number;
      refunds.splice(at, 1);
      items.push({ kind, of });
    } else if (kind === 'feeRefund') {
      items.push({
        kind,
        amount: Math.max(1, Math.floor(((30 + Math.floor(rand() * 170)) * scale.unit) / 100)),
      });
    } else {
      const amount = (5 + Math.floor(rand() * 21)) * scale.unit;
      items.push({ kind: 'reserve', amount: rand() < 0.7 ? -amount : amount });
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
