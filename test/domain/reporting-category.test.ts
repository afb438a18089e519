/**
 * Classification by `reporting_category`, falling back to `type` (CONTRACT §3), through the pure domain: each case
 * of issue 12 lands in its account, and the whole deposit still sums to the payout.
 */
import {
  type BookedItem,
  classifyPayout,
  contributionOf,
  kindOfTransaction,
  returnedPayoutIds,
} from '../../src/domain/classify.js';
import { buildEntry } from '../../src/domain/deposit.js';
import { DOCUMENTED_REPORTING_CATEGORIES, grossKindOf } from '../../src/domain/reporting.js';
import type { BalanceTransaction } from '../../src/domain/stripe.js';
import type { BuildResult, QboEntry } from '../../src/domain/types.js';
import { ACCOUNTS, charge, chargeTxn, directory, payout, tenant, txn } from './fixtures.js';

const sale = charge({
  id: 'ch_s',
  amount: 10000,
  category: 'Classes',
  subcategory: 'Virtual',
  email: 'jane@x.io',
});
const pack = charge({ id: 'ch_p', amount: 5000, category: 'Class Packs', email: 'sam@x.io' });
const customers = directory({
  'jane@x.io': { value: '7', name: 'Jane' },
  'sam@x.io': { value: '8', name: 'Sam' },
});

type Row = [string, number, string, string?];
const rows = (items: readonly BookedItem[]): Row[] =>
  items.map((i) => {
    const row: Row = [i.kind, i.amount, i.account.name ?? i.account.value];
    if (i.class !== undefined) row.push(i.class.name);
    return row;
  });

function classifyOne(bt: BalanceTransaction) {
  const result = classifyPayout(payout(), [bt], tenant());
  expect(result.problems).toEqual([]);
  expect(contributionOf(result, bt.id)).toBe(bt.net);
  return rows(result.items);
}

function posted(result: BuildResult): QboEntry {
  if (result.outcome !== 'POST') throw new Error(`expected POST, got ${result.outcome}: ${result.reason}`);
  return result.entry;
}

type Line = { Amount: number; Description: string; DepositLineDetail: { AccountRef: { name?: string } } };
const linesOf = (entry: QboEntry) => entry.body.Line as Line[];

describe('issue 12: the cases that were wrong when classified by type', () => {
  it('a failed refund (adjustment, refund_failure, source a refund) goes back to the sale’s revenue and class', () => {
    const bt = txn({
      id: 'txn_rf',
      type: 'adjustment',
      reportingCategory: 'refund_failure',
      amount: 4000,
      source: { id: 're_9', object: 'refund', amount: 4000, currency: 'usd', charge: sale, metadata: null },
    });
    expect(classifyOne(bt)).toEqual([['refund', 4000, 'Virtual Class Revenue', 'Online']]);
  });

  it('a failed refund whose refund’s charge is only an id finds the charge elsewhere in the payout', () => {
    const bt = txn({
      id: 'txn_rf',
      type: 'adjustment',
      reportingCategory: 'refund_failure',
      amount: 4000,
      source: { id: 're_9', object: 'refund', amount: 4000, currency: 'usd', charge: 'ch_s', metadata: null },
    });
    const result = classifyPayout(payout(), [chargeTxn(sale, { feeDetails: [] }), bt], tenant());
    expect(rows(result.items)).toContainEqual(['refund', 4000, 'Virtual Class Revenue', 'Online']);
  });

  it('a failed refund whose source is only the refund’s id finds the sale through that refund', () => {
    const refund = txn({
      id: 'txn_re',
      type: 'refund',
      reportingCategory: 'refund',
      amount: -4000,
      source: { id: 're_9', object: 'refund', amount: 4000, currency: 'usd', charge: 'ch_s', metadata: null },
    });
    const failure = txn({
      id: 'txn_rf',
      type: 'adjustment',
      reportingCategory: 'refund_failure',
      amount: 4000,
      source: 're_9',
    });
    const result = classifyPayout(payout(), [chargeTxn(sale, { feeDetails: [] }), refund, failure], tenant());
    expect(rows(result.items.filter((i) => i.transactionId === 'txn_rf'))).toEqual([
      ['refund', 4000, 'Virtual Class Revenue', 'Online'],
    ]);
  });

  it('a partial-capture reversal (source the charge) reduces the sale’s revenue', () => {
    const bt = txn({
      id: 'txn_pcr',
      type: 'adjustment',
      reportingCategory: 'partial_capture_reversal',
      amount: -2500,
      source: sale,
    });
    expect(classifyOne(bt)).toEqual([['refund', -2500, 'Virtual Class Revenue', 'Online']]);
  });

  it('a charge failure reverses the sale’s revenue', () => {
    const bt = txn({
      id: 'txn_cf',
      type: 'payment_failure_refund',
      reportingCategory: 'charge_failure',
      amount: -5000,
      source: { id: 'pyr_1', object: 'refund', amount: 5000, currency: 'usd', charge: pack, metadata: null },
    });
    expect(classifyOne(bt)).toEqual([['refund', -5000, 'Class Pack Revenue']]);
  });

  it('a fee refund (adjustment, reporting_category fee, an fr_ source) goes to processing fees', () => {
    const bt = txn({
      id: 'txn_fr',
      type: 'adjustment',
      reportingCategory: 'fee',
      amount: 320,
      source: 'fr_1',
    });
    expect(classifyOne(bt)).toEqual([['processingFee', 320, 'Stripe Fees']]);
  });

  it('without reporting_category (an old API version) the type and the source decide', () => {
    expect(kindOfTransaction(txn({ id: 'txn_1', type: 'adjustment', amount: 320, source: 'fr_1' }))).toBe(
      'processingFee',
    );
    expect(kindOfTransaction(txn({ id: 'txn_2', type: 'adjustment', amount: -1, source: 'du_1' }))).toBe(
      'dispute',
    );
    expect(kindOfTransaction(txn({ id: 'txn_3', type: 'refund_failure', amount: 1, source: 're_1' }))).toBe(
      'refund',
    );
    expect(grossKindOf(txn({ id: 'txn_4', type: 'payout_failure', amount: 1, source: 'po_1' }))).toBe(
      'payoutReversal',
    );
    expect(kindOfTransaction(txn({ id: 'txn_5', type: 'adjustment', amount: 1, source: 'tr_1' }))).toBe(
      'adjustment',
    );
  });

  it('reporting_category wins over type, and an unknown category is an adjustment', () => {
    // A dispute adjustment that Stripe categorises `other_adjustment` is booked as Stripe says.
    expect(
      kindOfTransaction(
        txn({
          id: 'txn_1',
          type: 'adjustment',
          reportingCategory: 'other_adjustment',
          amount: -1,
          source: 'du_1',
        }),
      ),
    ).toBe('adjustment');
    expect(
      kindOfTransaction(txn({ id: 'txn_2', type: 'charge', reportingCategory: 'moon_dust', amount: 1 })),
    ).toBe('adjustment');
    expect(
      kindOfTransaction(
        txn({ id: 'txn_3', type: 'stripe_fee', reportingCategory: 'platform_earning', amount: 1 }),
      ),
    ).toBe('platformFee');
  });

  it('knows every documented reporting_category: each books exactly its net', () => {
    for (const category of DOCUMENTED_REPORTING_CATEGORIES) {
      if (category === 'payout') continue; // the payout's own: excluded when type is payout
      const bt = txn({
        id: `txn_${category}`,
        type: 'adjustment',
        reportingCategory: category,
        amount: -700,
        fee: 30,
      });
      const result = classifyPayout(payout(), [bt], tenant({ uncategorizedAccount: ACCOUNTS.sales }));
      expect([category, contributionOf(result, bt.id)]).toEqual([category, bt.net]);
    }
  });

  it('the deposit lines: each case in its account, the refund failure described as such', () => {
    const bts = [
      chargeTxn(sale, { feeDetails: [{ amount: 320, type: 'stripe_fee' }] }),
      chargeTxn(pack, { feeDetails: [{ amount: 175, type: 'stripe_fee' }] }),
      txn({
        id: 'txn_rf',
        type: 'adjustment',
        reportingCategory: 'refund_failure',
        amount: 1000,
        source: { id: 're_9', object: 'refund', amount: 1000, currency: 'usd', charge: sale, metadata: null },
      }),
      txn({
        id: 'txn_pcr',
        type: 'adjustment',
        reportingCategory: 'partial_capture_reversal',
        amount: -500,
        source: pack,
      }),
      txn({ id: 'txn_fr', type: 'adjustment', reportingCategory: 'fee', amount: 100, source: 'fr_1' }),
    ];
    const total = bts.reduce((a, t) => a + t.net, 0);
    const entry = posted(
      buildEntry({ payout: payout({ amount: total }), transactions: bts, tenant: tenant(), customers }),
    );
    const summary = linesOf(entry).map((l) => [l.DepositLineDetail.AccountRef.name, l.Amount, l.Description]);
    expect(summary).toEqual([
      ['Class Pack Revenue', 50, 'Class Packs: ch_p'],
      ['Virtual Class Revenue', 100, 'Classes / Virtual: ch_s'],
      ['Class Pack Revenue', -5, 'Refunds, Class Packs: ch_p'],
      ['Virtual Class Revenue', 10, 'Refunds reversed, Classes / Virtual: re_9'],
      ['Stripe Fees', 1, 'Stripe processing fees: txn_fr'],
      ['Stripe Fees', -4.95, 'Stripe processing fees: txn_ch_p, txn_ch_s'],
    ]);
  });
});

describe('a failed payout’s funds returned in a later payout (payout_reversal)', () => {
  const failedSale = charge({ id: 'ch_f', amount: 8000, category: 'Memberships', email: 'sam@x.io' });
  const failedList: BalanceTransaction[] = [
    txn({ id: 'txn_fpo', type: 'payout', reportingCategory: 'payout', amount: -7737, source: 'po_failed' }),
    chargeTxn(failedSale, { feeDetails: [{ amount: 263, type: 'stripe_fee' }] }),
  ];
  const returnBt = txn({
    id: 'txn_pf',
    type: 'payout_failure',
    reportingCategory: 'payout_reversal',
    amount: 7737,
    source: 'po_failed',
  });
  const current = chargeTxn(pack, { feeDetails: [{ amount: 175, type: 'stripe_fee' }] });
  const amount = current.net + returnBt.net;

  it('names the failed payouts to list', () => {
    expect(returnedPayoutIds([current, returnBt, returnBt])).toEqual(['po_failed']);
  });

  it('itemises the failed payout’s own transactions: its sale and fee reach their accounts', () => {
    const result = classifyPayout(
      payout({ amount }),
      [current, returnBt],
      tenant(),
      new Map([['po_failed', failedList]]),
    );
    expect(result.problems).toEqual([]);
    expect(rows(result.items)).toEqual([
      ['revenue', 5000, 'Class Pack Revenue'],
      ['processingFee', -175, 'Stripe Fees'],
      ['revenue', 8000, 'Membership Revenue'],
      ['processingFee', -263, 'Stripe Fees'],
    ]);
    expect(contributionOf(result, returnBt.id)).toBe(returnBt.net);
    expect(result.returned).toEqual([{ payoutId: 'po_failed', transactionId: 'txn_pf', transactions: 1 }]);
    const entry = posted(
      buildEntry({
        payout: payout({ amount }),
        transactions: [current, returnBt],
        tenant: tenant(),
        customers,
        returned: new Map([['po_failed', failedList]]),
      }),
    );
    expect(linesOf(entry).reduce((a, l) => a + Math.round(l.Amount * 100), 0)).toBe(amount);
    expect(entry.body.PrivateNote).toContain('returns failed payout po_failed (1 transaction itemised)');
  });

  it('where the listing is impossible: adjustments, naming the failed payout', () => {
    const entry = posted(
      buildEntry({
        payout: payout({ amount }),
        transactions: [current, returnBt],
        tenant: tenant(),
        customers,
      }),
    );
    const adjustment = linesOf(entry).find(
      (l) => l.DepositLineDetail.AccountRef.name === 'Stripe Adjustments',
    );
    expect(adjustment?.Amount).toBe(77.37);
    expect(adjustment?.Description).toContain('failed payout po_failed');
    expect(entry.body.PrivateNote).toContain('returns failed payout po_failed as an adjustment');
  });

  it('a listing that does not add up to the amount returned is not itemised', () => {
    const short = [failedList[0] as BalanceTransaction];
    const result = classifyPayout(
      payout({ amount }),
      [current, returnBt],
      tenant(),
      new Map([['po_failed', short]]),
    );
    expect(rows(result.items)).toContainEqual(['adjustment', 7737, 'Stripe Adjustments']);
    expect(result.returned[0]?.notItemised).toContain('add up to');
  });

  it('a failed payout returned inside a failed payout is itemised too, and a loop is not followed', () => {
    const inner = txn({
      id: 'txn_pf2',
      type: 'payout_failure',
      reportingCategory: 'payout_reversal',
      amount: 7737,
      source: 'po_failed',
    });
    const outerList = [inner];
    const returnOuter = txn({
      id: 'txn_pf1',
      type: 'payout_failure',
      reportingCategory: 'payout_reversal',
      amount: 7737,
      source: 'po_outer',
    });
    const returned = new Map([
      ['po_outer', outerList],
      ['po_failed', failedList],
    ]);
    const result = classifyPayout(payout({ amount: 7737 }), [returnOuter], tenant(), returned);
    expect(rows(result.items)).toEqual([
      ['revenue', 8000, 'Membership Revenue'],
      ['processingFee', -263, 'Stripe Fees'],
    ]);
    expect(contributionOf(result, 'txn_pf1')).toBe(7737);
    const loop = new Map([['po_outer', [returnOuter]]]);
    const looped = classifyPayout(payout({ amount: 7737 }), [returnOuter], tenant(), loop);
    expect(rows(looped.items)).toEqual([['adjustment', 7737, 'Stripe Adjustments']]);
  });
});
