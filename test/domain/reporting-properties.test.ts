/**
 * Property test across every `reporting_category` Stripe documents (stripe 23.1.0 `ReportingCategory`), each with a
 * realistic source: every transaction books exactly its net, the entry sums to the payout, and the same input in any
 * order (the payout's list and a failed payout's list alike) gives the same body.
 */
import fc from 'fast-check';
import { classifyPayout, contributionOf } from '../../src/domain/classify.js';
import { buildEntry } from '../../src/domain/deposit.js';
import { fromQboAmount } from '../../src/domain/money.js';
import { DOCUMENTED_REPORTING_CATEGORIES } from '../../src/domain/reporting.js';
import type { BalanceTransaction, Charge } from '../../src/domain/stripe.js';
import type { QboEntry } from '../../src/domain/types.js';
import { ACCOUNTS, charge, directory, payout, tenant, txn } from './fixtures.js';

const RUNS = 300;

const SALES: Charge[] = [
  charge({ id: 'ch_a', amount: 12000, category: 'Class Packs', email: 'jane@x.io' }),
  charge({ id: 'ch_b', amount: 2500, category: 'Classes', subcategory: 'Virtual', email: 'sam@x.io' }),
  charge({
    id: 'ch_c',
    amount: 10000,
    email: 'ann@x.io',
    split: [
      { category: 'Memberships', amount: 7000 },
      { category: 'Class Packs', amount: 3000 },
    ],
  }),
  charge({ id: 'ch_d', amount: 4000, category: 'Workshops' }), // a walk-in, unmapped category → uncategorized
];
const customers = directory({
  'jane@x.io': { value: '1', name: 'Jane' },
  'sam@x.io': { value: '2', name: 'Sam' },
  'ann@x.io': { value: '3', name: 'Ann' },
});
const books = tenant({
  uncategorizedAccount: ACCOUNTS.sales,
  walkInCustomer: { value: '9', name: 'Walk-in' },
});

/** The sign Stripe gives each category's gross amount (0: either). */
const SIGN: Record<string, 1 | -1 | 0> = {
  charge: 1,
  refund: -1,
  refund_failure: 1,
  partial_capture_reversal: -1,
  charge_failure: -1,
  dispute: -1,
  dispute_reversal: 1,
};

const FEE_TYPES = ['stripe_fee', 'tax', 'withheld_tax', 'payment_method_passthrough_fee', 'application_fee'];

const spec = fc.record({
  category: fc.constantFrom(...DOCUMENTED_REPORTING_CATEGORIES.filter((c) => c !== 'payout')),
  amount: fc.integer({ min: 1, max: 2_000_000 }),
  negative: fc.boolean(),
  sale: fc.integer({ min: 0, max: SALES.length - 1 }),
  /** Expanded source, or only its id (an expandable field may arrive as an id). */
  expanded: fc.boolean(),
  fees: fc.array(
    fc.record({ type: fc.constantFrom(...FEE_TYPES), amount: fc.integer({ min: 0, max: 900 }) }),
    {
      maxLength: 2,
    },
  ),
  unexplainedFee: fc.integer({ min: -50, max: 50 }),
});
type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;

/** A balance transaction of `s.category` with the source Stripe gives it. */
function make(s: Spec, id: string): BalanceTransaction {
  const sale = SALES[s.sale] as Charge;
  const sign = SIGN[s.category] ?? (s.negative ? -1 : 1);
  const amount = sign * s.amount;
  const fee = s.fees.reduce((a, f) => a + f.amount, 0) + s.unexplainedFee;
  const refund = {
    id: `re_${id}`,
    object: 'refund',
    amount: s.amount,
    currency: 'usd',
    charge: sale,
    metadata: null,
  };
  const dispute = { id: `du_${id}`, object: 'dispute', amount: s.amount, currency: 'usd', charge: sale };
  const sources: Record<string, unknown> = {
    charge: s.expanded ? sale : sale.id,
    partial_capture_reversal: s.expanded ? sale : sale.id,
    refund: s.expanded ? refund : { ...refund, charge: sale.id },
    refund_failure: s.expanded ? refund : { ...refund, charge: sale.id },
    charge_failure: { ...refund, id: `pyr_${id}` },
    dispute: s.expanded ? dispute : { ...dispute, charge: sale.id },
    dispute_reversal: dispute,
    fee: `fr_${id}`,
    platform_earning: `fee_${id}`,
    platform_earning_refund: `fr_${id}`,
    transfer: `tr_${id}`,
    topup: `tu_${id}`,
  };
  return txn({
    id,
    type: s.category === 'charge' ? 'charge' : 'adjustment',
    reportingCategory: s.category,
    amount,
    fee,
    net: amount - fee,
    feeDetails: s.fees,
    source: sources[s.category] ?? null,
  });
}

const scenario = fc.record({
  specs: fc.array(spec, { minLength: 1, maxLength: 12 }),
  /** A failed payout whose funds come back here: its own transactions, listed or not. */
  failed: fc.option(
    fc.record({ specs: fc.array(spec, { minLength: 1, maxLength: 6 }), listed: fc.boolean() }),
    { nil: undefined },
  ),
  seed: fc.integer(),
});

interface Built {
  transactions: BalanceTransaction[];
  returned: Map<string, BalanceTransaction[]>;
  amount: number;
}

function build(s: typeof scenario extends fc.Arbitrary<infer T> ? T : never): Built {
  // The sales themselves are in the payout too, so refunds whose charge is only an id find it.
  const transactions = SALES.map((c, i) =>
    txn({ id: `txn_sale${i}`, type: 'charge', reportingCategory: 'charge', amount: c.amount, source: c }),
  );
  transactions.push(...s.specs.map((x, i) => make(x, `txn_${i}`)));
  transactions.push(
    txn({ id: 'txn_payout', type: 'payout', reportingCategory: 'payout', amount: -1, source: 'po_123' }),
  );
  const returned = new Map<string, BalanceTransaction[]>();
  if (s.failed !== undefined) {
    const inner = s.failed.specs.map((x, i) => make(x, `txn_f${i}`));
    const total = inner.reduce((a, t) => a + t.net, 0);
    inner.push(
      txn({ id: 'txn_fpo', type: 'payout', reportingCategory: 'payout', amount: -total, source: 'po_f' }),
    );
    if (s.failed.listed) returned.set('po_f', inner);
    transactions.push(
      txn({
        id: 'txn_back',
        type: 'payout_failure',
        reportingCategory: 'payout_reversal',
        amount: total,
        source: 'po_f',
      }),
    );
  }
  const amount = transactions.filter((t) => t.type !== 'payout').reduce((a, t) => a + t.net, 0);
  return { transactions, returned, amount };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let a = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const j = a % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

type AnyLine = { Amount: number; JournalEntryLineDetail?: { PostingType: string } };

/** The entry's effect on the deposit account, in minor units (a journal's deposit line is its first). */
function total(entry: QboEntry): number {
  const lines = entry.body.Line as AnyLine[];
  if (entry.type === 'Deposit') return lines.reduce((a, l) => a + fromQboAmount(l.Amount, 'usd'), 0);
  const [deposit] = lines;
  return deposit === undefined ? 0 : -fromQboAmount(deposit.Amount, 'usd');
}

describe('every documented reporting_category', () => {
  it('each transaction books exactly its net; the entry sums to the payout; any order gives the same body', () => {
    let posted = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const b = build(s);
        const p = payout({ amount: b.amount });
        const classification = classifyPayout(p, b.transactions, books, b.returned);
        expect(classification.problems).toEqual([]);
        for (const t of b.transactions) {
          if (t.type !== 'payout')
            expect([t.id, contributionOf(classification, t.id)]).toEqual([t.id, t.net]);
        }
        if (b.amount === 0) return;
        const result = buildEntry({
          payout: p,
          transactions: b.transactions,
          tenant: books,
          customers,
          returned: b.returned,
        });
        if (result.outcome !== 'POST') throw new Error(`${result.outcome}: ${result.reason}`);
        posted += 1;
        expect(total(result.entry)).toBe(b.amount);
        const returned = new Map([...b.returned].map(([k, v]) => [k, shuffled(v, s.seed + 1)]));
        const again = buildEntry({
          payout: p,
          transactions: shuffled(b.transactions, s.seed),
          tenant: books,
          customers,
          returned,
        });
        expect(JSON.stringify(again)).toBe(JSON.stringify(result));
      }),
      { numRuns: RUNS },
    );
    expect(posted).toBeGreaterThan(RUNS / 2);
  });
});
