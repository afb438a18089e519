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
import {
  DEMO_PAYOUT_ID,
  demoPayout,
  generateFailedPayout,
  generatePayout,
} from '../../standins/stripe/generate.js';

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

describe('the rarer reporting categories, nullable fields and failed payouts', () => {
  const mix = {
    refunds: 0.1,
    refundFailures: 0.05,
    partialCaptures: 0.05,
    chargeFailures: 0.05,
    feeRefunds: 0.05,
  };

  it('gives each category its Stripe type and source, reversing only what came earlier; the nets still add up', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const g = generatePayout({ seed, transactions: 10 + seed * 7, mix });
      const payout = PayoutSchema.parse(g.payout);
      const txns = g.transactions.map((t) => BalanceTransactionSchema.parse(t));
      expect(sumNet(txns)).toBe(payout.amount);
      expect(payout.amount).toBeGreaterThan(0);
      const createdOf = new Map<string, number>();
      for (const t of txns) {
        const id = typeof t.source === 'object' && t.source !== null ? t.source.id : undefined;
        if (id !== undefined && !createdOf.has(id)) createdOf.set(id, t.created);
      }
      const problems: string[] = [];
      for (const t of txns) {
        const category = t.reporting_category ?? '';
        seen.add(category);
        if (t.net !== t.amount - t.fee) problems.push(`${t.id}: net ≠ amount − fee`);
        const source = t.source as Record<string, unknown> | null;
        if (category === 'refund_failure') {
          const earlier = txns.find(
            (x) =>
              x.reporting_category === 'refund' &&
              x.created < t.created &&
              isRefund(x.source) &&
              x.source.id === source?.id,
          );
          if (t.type !== 'adjustment' || !isRefund(t.source) || source?.status !== 'failed')
            problems.push(`${t.id}: shape`);
          if (!earlier || -earlier.amount !== t.amount)
            problems.push(`${t.id}: fails no earlier refund of its amount`);
        } else if (category === 'partial_capture_reversal') {
          if (!isCharge(t.source) || t.amount >= 0 || -t.amount >= t.source.amount)
            problems.push(`${t.id}: shape`);
        } else if (category === 'charge_failure') {
          const charge = isRefund(t.source) ? t.source.charge : undefined;
          if (
            t.type !== 'payment_failure_refund' ||
            !String(source?.id).startsWith('pyr_') ||
            !isCharge(charge)
          )
            problems.push(`${t.id}: shape`);
          else if (-t.amount !== charge.amount) problems.push(`${t.id}: not the whole charge`);
        } else if (category === 'fee') {
          if (
            t.type !== 'adjustment' ||
            source?.object !== 'fee_refund' ||
            !String(source?.id).startsWith('fr_') ||
            t.amount <= 0
          )
            problems.push(`${t.id}: shape`);
        }
      }
      expect(problems).toEqual([]);
    }
    for (const c of [
      'charge',
      'refund',
      'refund_failure',
      'partial_capture_reversal',
      'charge_failure',
      'fee',
      'payout',
    ])
      expect(seen).toContain(c);
  });

  it('sends a share of nullable fields as null (payout and refund metadata among them), amounts unchanged', () => {
    const none = generatePayout({ seed: 5, transactions: 300, nulls: 0, mix });
    const all = generatePayout({ seed: 5, transactions: 300, nulls: 1, mix });
    expect(all.transactions.map((t) => [t.id, t.net])).toEqual(none.transactions.map((t) => [t.id, t.net]));
    expect(none.payout.metadata).toEqual({});
    expect(all.payout.metadata).toBeNull();
    const refundMetadata = (g: typeof all) =>
      g.transactions.flatMap((t) =>
        isRefund(t.source) ? [(t.source as unknown as Record<string, unknown>).metadata] : [],
      );
    expect(refundMetadata(all).length).toBeGreaterThan(0);
    expect(refundMetadata(all).every((m) => m === null)).toBe(true);
    expect(refundMetadata(none).every((m) => m !== null)).toBe(true);
    // The default: some payouts with metadata null, most with {}.
    const metas = Array.from(
      { length: 40 },
      (_, seed) => generatePayout({ seed, transactions: 5 }).payout.metadata,
    );
    expect(metas.filter((m) => m === null).length).toBeGreaterThan(2);
    expect(metas.filter((m) => m !== null).length).toBeGreaterThan(20);
  });

  it('generateFailedPayout: the failed payout, and the later one whose payout_failure returns exactly its amount', () => {
    const { failed, returning } = generateFailedPayout({ seed: 77, transactions: 30, mix });
    expect(failed.payout).toMatchObject({ status: 'failed', failure_code: 'account_closed' });
    const back = returning.transactions.filter((t) => t.reporting_category === 'payout_reversal');
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({
      id: (failed.payout as unknown as Record<string, unknown>).failure_balance_transaction,
      type: 'payout_failure',
      amount: failed.payout.amount,
      net: failed.payout.amount,
    });
    expect(back[0]?.source).toMatchObject({ id: failed.payout.id });
    expect(sumNet(returning.transactions)).toBe(returning.payout.amount);
    expect(sumNet(failed.transactions)).toBe(failed.payout.amount);
    expect(returning.transactions[0]).toMatchObject({ type: 'payout', amount: -returning.payout.amount });
    expect(returning.payout.arrival_date).toBeGreaterThan(failed.payout.arrival_date);
    const created = returning.transactions.map((t) => t.created);
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });
});
