import {
  type BookedItem,
  type Classification,
  classifyPayout,
  contributionOf,
  isPayoutOwnTransaction,
  kindOfTransaction,
} from '../../src/domain/classify.js';
import type { BalanceTransaction } from '../../src/domain/stripe.js';
import type { TenantBooks } from '../../src/domain/types.js';
import { ACCOUNTS, charge, chargeTxn, disputeTxn, payout, refundTxn, tenant, txn } from './fixtures.js';

const sale = charge({
  id: 'ch_s',
  amount: 10000,
  category: 'Classes',
  subcategory: 'Virtual',
  email: 'jane@x.io',
});
const split = charge({
  id: 'ch_split',
  amount: 10000,
  email: 'ann@x.io',
  split: [
    { category: 'Class Packs', amount: 7000 },
    { category: 'Memberships', amount: 3000 },
  ],
});

/** [kind, amount, account name, class name?, member email?] */
type Row = [string, number, string, string?, string?];

function rows(items: readonly BookedItem[]): Row[] {
  return items.map((i) => {
    const row: Row = [i.kind, i.amount, i.account.name ?? i.account.value];
    if (i.class !== undefined || i.member !== undefined) row.push(i.class?.name);
    if (i.member !== undefined) row.push(i.member.email);
    return row;
  });
}

function classify(transactions: BalanceTransaction[], books: TenantBooks = tenant()): Classification {
  return classifyPayout(payout(), transactions, books);
}

describe('every kind of balance transaction', () => {
  const cases: [string, BalanceTransaction, Row[]][] = [
    [
      'charge: gross to the category account with class and member, stripe fee to processing',
      chargeTxn(sale, { feeDetails: [{ amount: 320, type: 'stripe_fee' }] }),
      [
        ['revenue', 10000, 'Virtual Class Revenue', 'Online', 'jane@x.io'],
        ['processingFee', -320, 'Stripe Fees'],
      ],
    ],
    [
      'payment (connected account, py_): like a charge',
      txn({
        id: 'txn_py',
        type: 'payment',
        amount: 5000,
        source: charge({ id: 'py_1', amount: 5000, category: 'Class Packs', billingEmail: 'bo@x.io' }),
      }),
      [['revenue', 5000, 'Class Pack Revenue', undefined, 'bo@x.io']],
    ],
    [
      'refund: negative, to the sale account, class and member',
      refundTxn(sale, -2500),
      [['refund', -2500, 'Virtual Class Revenue', 'Online', 'jane@x.io']],
    ],
    [
      'payment_refund',
      refundTxn(sale, -1000, { type: 'payment_refund' }),
      [['refund', -1000, 'Virtual Class Revenue', 'Online', 'jane@x.io']],
    ],
    [
      'payment_failure_refund',
      refundTxn(sale, -10000, { type: 'payment_failure_refund' }),
      [['refund', -10000, 'Virtual Class Revenue', 'Online', 'jane@x.io']],
    ],
    [
      'refund_failure: positive, to the sale account',
      refundTxn(sale, 2500, { type: 'refund_failure' }),
      [['refund', 2500, 'Virtual Class Revenue', 'Online', 'jane@x.io']],
    ],
    [
      'dispute lost: sale account without disputesAccount, plus the dispute fee',
      disputeTxn(sale, -10000),
      [
        ['dispute', -10000, 'Virtual Class Revenue', 'Online', 'jane@x.io'],
        ['processingFee', -1500, 'Stripe Fees'],
      ],
    ],
    [
      'dispute won: positive',
      disputeTxn(sale, 10000),
      [['dispute', 10000, 'Virtual Class Revenue', 'Online', 'jane@x.io']],
    ],
    [
      'dispute given only by id (du_…), sale unknown: category (none)',
      txn({ id: 'txn_du', type: 'adjustment', amount: -500, source: 'du_1' }),
      [['dispute', -500, 'Sales']],
    ],
    [
      'stripe_fee transaction',
      txn({ id: 'txn_f', type: 'stripe_fee', amount: -999 }),
      [['processingFee', -999, 'Stripe Fees']],
    ],
    [
      'stripe_fx_fee transaction',
      txn({ id: 'txn_fx', type: 'stripe_fx_fee', amount: -12 }),
      [['processingFee', -12, 'Stripe Fees']],
    ],
    [
      'tax_fee transaction',
      txn({ id: 'txn_t', type: 'tax_fee', amount: -50 }),
      [['processingFee', -50, 'Stripe Fees']],
    ],
    [
      'fee_details of every type, and an unknown one',
      chargeTxn(sale, {
        feeDetails: [
          { amount: 300, type: 'stripe_fee' },
          { amount: 20, type: 'tax' },
          { amount: 10, type: 'withheld_tax' },
          { amount: 5, type: 'payment_method_passthrough_fee' },
          { amount: 250, type: 'application_fee' },
          { amount: 7, type: 'brand_new_fee' },
        ],
      }),
      [
        ['revenue', 10000, 'Virtual Class Revenue', 'Online', 'jane@x.io'],
        ['processingFee', -300, 'Stripe Fees'],
        ['processingFee', -20, 'Stripe Fees'],
        ['processingFee', -10, 'Stripe Fees'],
        ['processingFee', -5, 'Stripe Fees'],
        ['platformFee', -250, 'Platform Fees'],
        ['processingFee', -7, 'Stripe Fees'],
      ],
    ],
    [
      'fee larger than its details: the remainder to processing fees',
      chargeTxn(sale, { fee: 400, feeDetails: [{ amount: 300, type: 'stripe_fee' }] }),
      [
        ['revenue', 10000, 'Virtual Class Revenue', 'Online', 'jane@x.io'],
        ['processingFee', -300, 'Stripe Fees'],
        ['processingFee', -100, 'Stripe Fees'],
      ],
    ],
    [
      'application_fee_refund: positive, platform fees',
      txn({
        id: 'txn_afr',
        type: 'application_fee_refund',
        amount: 150,
        source: { id: 'fr_1', object: 'fee_refund' },
      }),
      [['platformFee', 150, 'Platform Fees']],
    ],
    [
      'reserve',
      txn({ id: 'txn_res', type: 'reserve_transaction', amount: -5000 }),
      [['adjustment', -5000, 'Stripe Adjustments']],
    ],
    [
      'minimum balance hold',
      txn({ id: 'txn_h', type: 'payout_minimum_balance_hold', amount: -1000 }),
      [['adjustment', -1000, 'Stripe Adjustments']],
    ],
    [
      'minimum balance release',
      txn({ id: 'txn_rel', type: 'payout_minimum_balance_release', amount: 1000 }),
      [['adjustment', 1000, 'Stripe Adjustments']],
    ],
    [
      'transfer',
      txn({ id: 'txn_tr', type: 'transfer', amount: -2000, source: { id: 'tr_1', object: 'transfer' } }),
      [['adjustment', -2000, 'Stripe Adjustments']],
    ],
    [
      'an adjustment that is not a dispute',
      txn({
        id: 'txn_adj',
        type: 'adjustment',
        amount: 75,
        source: { id: 'ia_1', object: 'issuing.transaction' },
      }),
      [['adjustment', 75, 'Stripe Adjustments']],
    ],
    [
      'an unknown future type, with a fee',
      txn({
        id: 'txn_new',
        type: 'teleport_settlement',
        amount: 333,
        feeDetails: [{ amount: 3, type: 'stripe_fee' }],
      }),
      [
        ['adjustment', 333, 'Stripe Adjustments'],
        ['processingFee', -3, 'Stripe Fees'],
      ],
    ],
    [
      'a charge without revenue_category and without email: (none) → uncategorizedAccount, no member',
      chargeTxn(charge({ id: 'ch_walk', amount: 700 }), { feeDetails: [] }),
      [['revenue', 700, 'Sales']],
    ],
  ];

  it.each(cases)('%s', (_label, bt, expected) => {
    // Act
    const result = classify([bt], tenant({ uncategorizedAccount: ACCOUNTS.sales }));

    // Assess
    expect(result.problems).toEqual([]);
    expect(rows(result.items)).toEqual(expected);
    expect(result.transactions.map((t) => t.id)).toEqual([bt.id]);
    expect(contributionOf(result, bt.id)).toBe(bt.net);
  });
});

describe('the payout’s own transaction', () => {
  it.each([
    ['by type', txn({ id: 'txn_other', type: 'payout', amount: -5000 })],
    ['by id', txn({ id: 'txn_payout', type: 'something', amount: -5000 })],
  ])('is excluded %s: not booked, not counted', (_label, own) => {
    const result = classify([chargeTxn(sale), own]);
    expect(isPayoutOwnTransaction(own, payout())).toBe(true);
    expect(result.excluded).toEqual([own.id]);
    expect(result.transactions).toHaveLength(1);
    expect(result.items.some((i) => i.transactionId === own.id)).toBe(false);
  });
});

describe('disputes', () => {
  it('go to disputesAccount when set, keeping the sale’s class and member', () => {
    const result = classify(
      [disputeTxn(sale, -10000, { feeDetails: [] })],
      tenant({ disputesAccount: ACCOUNTS.disputes }),
    );
    expect(rows(result.items)).toEqual([['dispute', -10000, 'Chargebacks', 'Online', 'jane@x.io']]);
  });

  it('go to disputesAccount even when the sale’s category is unmapped', () => {
    const odd = charge({ id: 'ch_odd', amount: 100, category: 'Nope' });
    const result = classify(
      [disputeTxn(odd, -100, { feeDetails: [] })],
      tenant({ disputesAccount: ACCOUNTS.disputes }),
    );
    expect(result.unmapped).toEqual([]);
    expect(rows(result.items)).toEqual([['dispute', -100, 'Chargebacks']]);
  });

  it('of an adjustment with a non-dispute source are adjustments', () => {
    expect(kindOfTransaction(txn({ id: 'txn_1', type: 'adjustment', amount: 1, source: 'tr_1' }))).toBe(
      'adjustment',
    );
  });
});

describe('revenue_split', () => {
  it('splits the charge over its categories', () => {
    const result = classify([chargeTxn(split, { feeDetails: [] })]);
    expect(rows(result.items)).toEqual([
      ['revenue', 7000, 'Class Pack Revenue', undefined, 'ann@x.io'],
      ['revenue', 3000, 'Membership Revenue', undefined, 'ann@x.io'],
    ]);
  });

  it('splits a settlement amount different from the charge amount (cross-currency) in proportion, exactly', () => {
    const eur = charge({
      id: 'ch_eur',
      amount: 9999,
      currency: 'eur',
      split: [
        { category: 'Class Packs', amount: 3333 },
        { category: 'Memberships', amount: 6666 },
      ],
    });
    const bt = chargeTxn(eur, { amount: 10867, feeDetails: [{ amount: 345, type: 'stripe_fee' }] });
    const result = classify([bt]);
    expect(rows(result.items)).toEqual([
      ['revenue', 3622, 'Class Pack Revenue'],
      ['revenue', 7245, 'Membership Revenue'],
      ['processingFee', -345, 'Stripe Fees'],
    ]);
    expect(contributionOf(result, bt.id)).toBe(bt.net);
  });

  it('splits a partial refund of a split charge in the same proportions', () => {
    const result = classify([refundTxn(split, -3333)]);
    expect(rows(result.items)).toEqual([
      ['refund', -2333, 'Class Pack Revenue', undefined, 'ann@x.io'],
      ['refund', -1000, 'Membership Revenue', undefined, 'ann@x.io'],
    ]);
  });

  it('reaches the split through a refund that names its charge by id, when the charge is in the payout', () => {
    const result = classify([chargeTxn(split, { feeDetails: [] }), refundTxn('ch_split', -1000)]);
    expect(rows(result.items).slice(2)).toEqual([
      ['refund', -700, 'Class Pack Revenue', undefined, 'ann@x.io'],
      ['refund', -300, 'Membership Revenue', undefined, 'ann@x.io'],
    ]);
  });

  it('reports a split that does not sum to the charge, naming the charge', () => {
    const bad = charge({ id: 'ch_bad', amount: 1000, split: [{ category: 'Class Packs', amount: 900 }] });
    const result = classify([chargeTxn(bad)]);
    expect(result.problems).toEqual([
      'charge ch_bad: metadata.revenue_split sums to 9.00 USD but the charge is 10.00 USD; the parts must add up to the charge amount',
    ]);
  });
});

describe('unmapped categories', () => {
  it('are listed (distinct, sorted, with subcategory) and their items kept aside, not dropped', () => {
    const a = charge({ id: 'ch_a', amount: 100, category: 'Workshops' });
    const b = charge({ id: 'ch_b', amount: 200, category: 'Classes', subcategory: 'Outdoor' });
    const c = charge({ id: 'ch_c', amount: 300, category: 'Workshops' });
    const books = tenant({ revenue: [{ category: 'Memberships', account: ACCOUNTS.memberships }] });
    const result = classify([chargeTxn(a), chargeTxn(b), chargeTxn(c)], books);
    expect(result.unmapped).toEqual(['Classes / Outdoor', 'Workshops']);
    expect(result.unbooked.map((i) => i.amount)).toEqual([100, 200, 300]);
    for (const bt of result.transactions) expect(contributionOf(result, bt.id)).toBe(bt.net);
  });
});

describe('data problems', () => {
  it('flags a net that is not amount − fee, and a fee in another currency', () => {
    const result = classify([
      txn({ id: 'txn_n', type: 'charge', amount: 100, fee: 0, net: 90, source: sale }),
      txn({
        id: 'txn_c',
        type: 'charge',
        amount: 100,
        feeDetails: [{ amount: 5, type: 'stripe_fee', currency: 'eur' }],
      }),
    ]);
    expect(result.problems).toEqual([
      'balance transaction txn_n has net 0.90 USD but amount − fee is 1.00 USD',
      'balance transaction txn_c has a stripe_fee fee in EUR, not its own currency USD',
    ]);
  });

  it('books a transaction listed twice once', () => {
    const bt = chargeTxn(sale);
    const result = classify([bt, bt]);
    expect(result.transactions).toHaveLength(1);
    expect(contributionOf(result, bt.id)).toBe(bt.net);
  });
});
