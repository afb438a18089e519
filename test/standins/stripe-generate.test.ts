import fc from 'fast-check';
import {
  type BalanceTransaction,
  BalanceTransactionSchema,
  type Charge,
  isCharge,
  isDispute,
  isRefund,
  PayoutSchema,
} from '../../src/domain/stripe.js';
import { DEMO_PAYOUT_ID, demoPayout, generatePayout } from '../../standins/stripe/generate.js';

const nonPayout = (txns: BalanceTransaction[]) => txns.filter((t) => t.type !== 'payout');
const sumNet = (txns: BalanceTransaction[]) => nonPayout(txns).reduce((s, t) => s + t.net, 0);

/** Every invariant a generated payout promises; throws with the first one broken. */
function checkInvariants(g: ReturnType<typeof generatePayout>, count: number): void {
  const payout = PayoutSchema.parse(g.payout);
  const txns = g.transactions.map((t) => BalanceTransactionSchema.parse(t));
  expect(txns).toHaveLength(count);
  expect(payout).toMatchObject({ automatic: true, status: 'paid', reconciliation_status: 'completed' });
  expect(payout.amount).toBeGreaterThan(0);
  expect(sumNet(txns)).toBe(payout.amount);

  const own = txns.filter((t) => t.type === 'payout');
  expect(own).toHaveLength(1);
  expect(own[0]).toMatchObject({
    id: payout.balance_transaction,
    amount: -payout.amount,
    net: -payout.amount,
  });
  expect(txns[0]?.type).toBe('payout');

  expect(new Set(txns.map((t) => t.id)).size).toBe(count);
  const createdOrder = txns.map((t) => t.created);
  expect(createdOrder).toEqual([...createdOrder].sort((a, b) => b - a));

  // Per transaction: collected, then asserted once (fast, and every broken invariant is reported).
  const problems: string[] = [];
  const chargeTxn = new Map<string, BalanceTransaction>();
  for (const t of txns) if (isCharge(t.source)) chargeTxn.set(t.source.id, t);
  const reversed = new Set<string>();
  for (const t of txns) {
    if (![t.amount, t.fee, t.net].every(Number.isSafeInteger))
      problems.push(`${t.id}: amounts are not integers`);
    if (t.net !== t.amount - t.fee) problems.push(`${t.id}: net ≠ amount − fee`);
    if (t.fee !== t.fee_details.reduce((s, f) => s + f.amount, 0))
      problems.push(`${t.id}: fee ≠ Σ fee_details`);
    if (t.type === 'charge') {
      const metadata = isCharge(t.source) ? t.source.metadata : {};
      if (!metadata.revenue_category) problems.push(`${t.id}: charge without revenue_category`);
      if (!metadata.member_email?.includes('@')) problems.push(`${t.id}: charge without member_email`);
      if (t.fee_details.map((f) => f.type).join() !== 'stripe_fee') problems.push(`${t.id}: fee_details`);
    }
    if (isRefund(t.source) || isDispute(t.source)) {
      const charge = t.source.charge;
      if (!isCharge(charge)) {
        problems.push(`${t.id}: reversal without an expanded charge`);
        continue;
      }
      const original = chargeTxn.get(charge.id);
      if (!original || original.created >= t.created) problems.push(`${t.id}: reverses no earlier charge`);
      if (reversed.has(charge.id)) problems.push(`${t.id}: ${charge.id} reversed twice`);
      reversed.add(charge.id);
      if (-t.amount > charge.amount) problems.push(`${t.id}: reverses more than the charge`);
    }
  }
  expect(problems).toEqual([]);
}

describe('generatePayout', () => {
  it('keeps every invariant for many seeds, sizes and mixes', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 2, max: 120 }),
        fc.constantFrom('usd', 'jpy', 'kwd', 'eur'),
        fc.record({
          refunds: fc.double({ min: 0, max: 0.3, noNaN: true }),
          disputes: fc.double({ min: 0, max: 0.1, noNaN: true }),
          adjustments: fc.double({ min: 0, max: 0.1, noNaN: true }),
        }),
        (seed, count, currency, mix) => {
          checkInvariants(generatePayout({ seed, transactions: count, currency, mix }), count);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('stays positive when reversals outweigh the sales (a charge is raised)', () => {
    const standardPrices = new Set(
      [12, 15, 18, 20, 25, 30, 45, 60, 80, 99, 120, 150, 180, 200, 249].flatMap((p) => [
        p * 100,
        p * 100 + 50,
      ]),
    );
    let raised = 0;
    for (let seed = 0; seed < 30; seed++) {
      const g = generatePayout({
        seed,
        transactions: 41,
        mix: { refunds: 0.2, disputes: 0.25, adjustments: 0.05 },
      });
      checkInvariants(g, 41);
      expect(g.transactions.filter((t) => t.type === 'refund')).toHaveLength(8);
      if (g.transactions.some((t) => t.type === 'charge' && !standardPrices.has(t.amount))) raised++;
    }
    // Without the correction some of these seeds would give a negative payout.
    expect(raised).toBeGreaterThan(0);
  });

  it('trims the reversals of tiny payouts so one charge stays unreversed', () => {
    const g = generatePayout({ seed: 3, transactions: 3, mix: { refunds: 0.3 } });

    checkInvariants(g, 3);
    expect(g.transactions.map((t) => t.type).sort()).toEqual(['charge', 'charge', 'payout']);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const opts = { seed: 42, transactions: 300, mix: { refunds: 0.1, disputes: 0.02, adjustments: 0.02 } };

    const a = generatePayout(opts);
    const b = generatePayout(opts);
    const c = generatePayout({ ...opts, seed: 43 });

    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(c.payout.id).not.toBe(a.payout.id);
    expect(c.transactions.map((t) => t.id)).not.toEqual(a.transactions.map((t) => t.id));
  });

  it('gives another account other ids for the same seed', () => {
    const a = generatePayout({ seed: 5, transactions: 5 });
    const b = generatePayout({ seed: 5, transactions: 5, account: 'acct_1Other' });

    expect(b.payout.id).not.toBe(a.payout.id);
  });

  it('uses every member once when there are enough charges, existing and new', () => {
    const existing = [
      { email: 'jane@example.com', name: 'Jane Doe' },
      { email: 'john.smith@example.com', name: 'John Smith' },
    ];

    const g = generatePayout({
      seed: 7,
      transactions: 101,
      members: { existing, newCount: 40 },
      mix: { refunds: 0, disputes: 0, adjustments: 0 },
    });

    const emails = new Set(
      g.transactions.filter((t) => isCharge(t.source)).map((t) => (t.source as Charge).metadata.member_email),
    );
    expect(emails.size).toBe(42);
    expect(emails.has('jane@example.com')).toBe(true);
    expect([...emails].filter((e) => e?.endsWith('@example.org'))).toHaveLength(40);
  });

  it('uses the categories given, with subcategories', () => {
    const categories = [{ category: 'Workshops' }, { category: 'Classes', subcategory: 'Virtual' }];

    const g = generatePayout({ seed: 8, transactions: 60, categories });

    const seen = new Set(
      g.transactions
        .filter((t) => isCharge(t.source))
        .map((t) => {
          const m = (t.source as Charge).metadata;
          return `${m.revenue_category}/${m.revenue_subcategory ?? ''}`;
        }),
    );
    expect(seen).toEqual(new Set(['Workshops/', 'Classes/Virtual']));
  });

  it('honours id, currency and arrival date', () => {
    const g = generatePayout({
      seed: 9,
      id: 'po_1Custom',
      transactions: 4,
      currency: 'JPY',
      arrivalDate: 1_767_225_600,
    });

    expect(g.payout).toMatchObject({ id: 'po_1Custom', currency: 'jpy', arrival_date: 1_767_225_600 });
    expect(g.transactions.every((t) => t.currency === 'jpy')).toBe(true);
    expect(g.payout.created).toBeLessThan(g.payout.arrival_date);
  });

  it('refuses impossible options with a clear message', () => {
    expect(() => generatePayout({ seed: 1, transactions: 1 })).toThrow(/≥ 2/);
    expect(() => generatePayout({ seed: 1, transactions: 11, mix: { refunds: 0.4, disputes: 0.1 } })).toThrow(
      /lower the fractions/,
    );
    expect(() => generatePayout({ seed: 1, transactions: 11, mix: { refunds: 1.5 } })).toThrow(/mix.refunds/);
    expect(() =>
      generatePayout({ seed: 1, transactions: 5, members: { existing: [], newCount: 0 } }),
    ).toThrow(/nobody to charge/);
  });
});

describe('demoPayout', () => {
  it('holds jane@example.com and two new members, two categories, one refund and fees', () => {
    const g = demoPayout();

    checkInvariants(g, 7);
    expect(g.payout.id).toBe(DEMO_PAYOUT_ID);
    expect(g.payout.amount).toBe(44_928);
    const charges = g.transactions.filter((t) => t.type === 'charge');
    const refunds = g.transactions.filter((t) => t.type === 'refund');
    expect(charges).toHaveLength(5);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]?.amount).toBe(-2_500);
    expect(charges.reduce((s, t) => s + t.fee, 0)).toBe(1_572);
    const meta = charges.map((t) => (t.source as Charge).metadata);
    expect(new Set(meta.map((m) => m.member_email))).toEqual(
      new Set(['jane@example.com', 'sam.rivera@example.org', 'priya.shah@example.org']),
    );
    expect(new Set(meta.map((m) => `${m.revenue_category}/${m.revenue_subcategory ?? ''}`))).toEqual(
      new Set(['Class Packs/', 'Classes/Virtual']),
    );
    const refunded = (refunds[0]?.source as { charge: Charge } | undefined)?.charge;
    expect(refunded?.metadata).toMatchObject({
      member_email: 'jane@example.com',
      revenue_subcategory: 'Virtual',
    });
  });

  it('is the same every time', () => {
    expect(JSON.stringify(demoPayout())).toBe(JSON.stringify(demoPayout()));
  });
});
