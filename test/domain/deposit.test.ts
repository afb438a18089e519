import { buildEntry, exchangeRateNote, needsExchangeRate } from '../../src/domain/deposit.js';
import { utcDate } from '../../src/domain/entry-common.js';
import { fromQboAmount } from '../../src/domain/money.js';
import { buildReversalEntry } from '../../src/domain/reversal-entry.js';
import type { BalanceTransaction, Payout } from '../../src/domain/stripe.js';
import type {
  BuildResult,
  CustomerDirectory,
  ExchangeRateQuote,
  QboEntry,
  TenantBooks,
} from '../../src/domain/types.js';
import {
  ACCOUNTS,
  CLASSES,
  charge,
  chargeTxn,
  directory,
  disputeTxn,
  payout,
  refundTxn,
  tenant,
  txn,
} from './fixtures.js';

const JANE = { value: '58', name: 'Jane Doe' };
const EUR_RATE: ExchangeRateQuote = {
  sourceCurrency: 'EUR',
  targetCurrency: 'USD',
  rate: 1.0875,
  asOfDate: '2024-03-15',
};
const customers = directory({
  'jane@example.com': JANE,
  'bob@example.com': { value: null, name: 'Bob Stone' },
});

function build(
  transactions: BalanceTransaction[],
  options: {
    payout?: Partial<Record<keyof Payout, unknown>>;
    tenant?: Partial<TenantBooks>;
    customers?: CustomerDirectory;
    exchangeRate?: ExchangeRateQuote;
  } = {},
): BuildResult {
  const own = transactions.filter((t) => t.type !== 'payout' && t.id !== 'txn_payout');
  const amount = own.reduce((a, t) => a + t.net, 0);
  return buildEntry({
    payout: payout({ amount, ...options.payout }),
    transactions,
    tenant: tenant(options.tenant),
    customers: options.customers ?? customers,
    ...(options.exchangeRate !== undefined ? { exchangeRate: options.exchangeRate } : {}),
  });
}

function posted(result: BuildResult): Extract<BuildResult, { outcome: 'POST' }> {
  if (result.outcome !== 'POST') throw new Error(`expected POST, got ${JSON.stringify(result)}`);
  return result;
}

interface JeLine {
  Amount: number;
  JournalEntryLineDetail: { PostingType: 'Debit' | 'Credit' };
}

function journalTotals(entry: QboEntry, currency: string): { debits: number; credits: number } {
  let debits = 0;
  let credits = 0;
  for (const line of entry.body.Line as JeLine[]) {
    const minor = fromQboAmount(line.Amount, currency);
    if (line.JournalEntryLineDetail.PostingType === 'Debit') debits += minor;
    else credits += minor;
  }
  return { debits, credits };
}

const jane1 = charge({
  id: 'ch_1',
  amount: 2000,
  category: 'Classes',
  subcategory: 'Virtual',
  email: 'jane@example.com',
});
const jane2 = charge({
  id: 'ch_2',
  amount: 3000,
  category: 'classes',
  subcategory: 'virtual',
  email: 'Jane@Example.com',
});
const bob = charge({ id: 'ch_3', amount: 5000, category: 'Class Packs', billingEmail: 'bob@example.com' });

/** A small, realistic payout: 3 charges, a refund, a reserve, and the payout's own transaction. */
const golden: BalanceTransaction[] = [
  chargeTxn(jane1, { id: 'txn_1', feeDetails: [{ amount: 88, type: 'stripe_fee' }] }),
  chargeTxn(jane2, { id: 'txn_2', feeDetails: [{ amount: 117, type: 'stripe_fee' }] }),
  chargeTxn(bob, { id: 'txn_3', feeDetails: [{ amount: 175, type: 'stripe_fee' }] }),
  refundTxn(jane1, -500, { id: 'txn_4', refundId: 're_1' }),
  txn({ id: 'txn_res', type: 'reserve_transaction', amount: -1000 }),
  txn({ id: 'txn_payout', type: 'payout', amount: -8120 }),
];

describe('golden bodies (written out by hand)', () => {
  it('customer lines: a Deposit', () => {
    // Act
    const result = posted(
      buildEntry({ payout: payout({ amount: 8120 }), transactions: golden, tenant: tenant(), customers }),
    );

    // Assess
    expect(result).toEqual({
      outcome: 'POST',
      lineDetail: 'customer',
      folded: false,
      lineCount: 5,
      transactionCount: 5,
      entry: {
        type: 'Deposit',
        body: {
          DepositToAccountRef: { value: '35', name: 'Checking' },
          TxnDate: '2024-03-15',
          PrivateNote: 'Stripe payout po_123 · 5 transactions · tenant downtown-yoga',
          Line: [
            {
              Amount: 50,
              DetailType: 'DepositLineDetail',
              Description: 'Class Packs: ch_3',
              DepositLineDetail: {
                Entity: { value: null, name: 'Bob Stone' },
                AccountRef: { value: '90', name: 'Class Pack Revenue' },
              },
            },
            {
              Amount: 50,
              DetailType: 'DepositLineDetail',
              Description: 'Classes / Virtual: ch_1, ch_2',
              DepositLineDetail: {
                Entity: { value: '58', name: 'Jane Doe', type: 'Customer' },
                AccountRef: { value: '92', name: 'Virtual Class Revenue' },
                ClassRef: { value: '5000', name: 'Online' },
              },
            },
            {
              Amount: -5,
              DetailType: 'DepositLineDetail',
              Description: 'Refunds, Classes / Virtual: re_1',
              DepositLineDetail: {
                Entity: { value: '58', name: 'Jane Doe', type: 'Customer' },
                AccountRef: { value: '92', name: 'Virtual Class Revenue' },
                ClassRef: { value: '5000', name: 'Online' },
              },
            },
            {
              Amount: -10,
              DetailType: 'DepositLineDetail',
              Description: 'Stripe adjustments: reserve transaction txn_res',
              DepositLineDetail: { AccountRef: { value: '83', name: 'Stripe Adjustments' } },
            },
            {
              Amount: -3.8,
              DetailType: 'DepositLineDetail',
              Description: 'Stripe processing fees: txn_1, txn_2, txn_3',
              DepositLineDetail: { AccountRef: { value: '80', name: 'Stripe Fees' } },
            },
          ],
        },
      },
    });
  });

  it('category lines in JPY: no Entity, one line per account, class and sign', () => {
    // Prepare
    const a = charge({
      id: 'ch_a',
      amount: 1500,
      currency: 'jpy',
      category: 'Classes',
      email: 'jane@example.com',
    });
    const b = charge({
      id: 'ch_b',
      amount: 3000,
      currency: 'jpy',
      category: 'Classes',
      billingEmail: 'bob@example.com',
    });
    const transactions = [
      chargeTxn(a, { id: 'txn_a', currency: 'jpy', feeDetails: [{ amount: 54, type: 'stripe_fee' }] }),
      chargeTxn(b, { id: 'txn_b', currency: 'jpy', feeDetails: [{ amount: 100, type: 'application_fee' }] }),
    ];
    const books = tenant({
      lineDetail: 'category',
      company: { homeCurrency: 'JPY', multicurrency: false, classTrackingPerTxnLine: true },
    });

    // Act
    const result = posted(
      buildEntry({
        payout: payout({ amount: 4346, currency: 'jpy' }),
        transactions,
        tenant: books,
        customers: new Map(),
      }),
    );

    // Assess
    expect(result.entry.body).toEqual({
      DepositToAccountRef: { value: '35', name: 'Checking' },
      TxnDate: '2024-03-15',
      PrivateNote: 'Stripe payout po_123 · 2 transactions · tenant downtown-yoga',
      Line: [
        {
          Amount: 4500,
          DetailType: 'DepositLineDetail',
          Description: 'Classes: ch_a, ch_b',
          DepositLineDetail: {
            AccountRef: { value: '91', name: 'Class Revenue' },
            ClassRef: { value: '5001', name: 'Studio' },
          },
        },
        {
          Amount: -54,
          DetailType: 'DepositLineDetail',
          Description: 'Stripe processing fees: txn_a',
          DepositLineDetail: { AccountRef: { value: '80', name: 'Stripe Fees' } },
        },
        {
          Amount: -100,
          DetailType: 'DepositLineDetail',
          Description: 'Platform fees: txn_b',
          DepositLineDetail: { AccountRef: { value: '81', name: 'Platform Fees' } },
        },
      ],
    });
  });

  it('a negative payout in KWD with multicurrency: one balanced JournalEntry', () => {
    // Prepare
    const c = charge({
      id: 'ch_k',
      amount: 12345,
      currency: 'kwd',
      category: 'Class Packs',
      email: 'jane@example.com',
    });
    const transactions = [
      chargeTxn(c, { id: 'txn_k', currency: 'kwd', feeDetails: [{ amount: 345, type: 'stripe_fee' }] }),
      txn({ id: 'txn_hold', type: 'payout_minimum_balance_hold', amount: -20005, currency: 'kwd' }),
    ];
    const books = tenant({
      depositAccount: { value: '36', name: 'KWD Bank', currency: 'KWD' },
      company: { homeCurrency: 'USD', multicurrency: true, classTrackingPerTxnLine: true },
    });

    // Act
    const result = posted(
      buildEntry({
        payout: payout({ amount: -8005, currency: 'kwd' }),
        transactions,
        tenant: books,
        customers,
        exchangeRate: { sourceCurrency: 'KWD', targetCurrency: 'USD', rate: 3.25, asOfDate: '2024-03-15' },
      }),
    );

    // Assess
    expect(result.entry).toEqual({
      type: 'JournalEntry',
      body: {
        TxnDate: '2024-03-15',
        CurrencyRef: { value: 'KWD' },
        ExchangeRate: 3.25,
        PrivateNote: 'Stripe payout po_123 · 2 transactions · tenant downtown-yoga',
        Line: [
          {
            Amount: 8.005,
            DetailType: 'JournalEntryLineDetail',
            Description: 'Stripe payout po_123: negative payout, 8.005 KWD withdrawn',
            JournalEntryLineDetail: { PostingType: 'Credit', AccountRef: { value: '36', name: 'KWD Bank' } },
          },
          {
            Amount: 12.345,
            DetailType: 'JournalEntryLineDetail',
            Description: 'Class Packs: ch_k',
            JournalEntryLineDetail: {
              PostingType: 'Credit',
              AccountRef: { value: '90', name: 'Class Pack Revenue' },
              Entity: { Type: 'Customer', EntityRef: { value: '58', name: 'Jane Doe' } },
            },
          },
          {
            Amount: 20.005,
            DetailType: 'JournalEntryLineDetail',
            Description: 'Stripe adjustments: payout minimum balance hold txn_hold',
            JournalEntryLineDetail: {
              PostingType: 'Debit',
              AccountRef: { value: '83', name: 'Stripe Adjustments' },
            },
          },
          {
            Amount: 0.345,
            DetailType: 'JournalEntryLineDetail',
            Description: 'Stripe processing fees: txn_k',
            JournalEntryLineDetail: {
              PostingType: 'Debit',
              AccountRef: { value: '80', name: 'Stripe Fees' },
            },
          },
        ],
      },
    });
    expect(journalTotals(result.entry, 'kwd')).toEqual({ debits: 20350, credits: 20350 });
  });
});

describe('outcomes before any line', () => {
  it.each([
    ['failed', { status: 'failed' }, 'payout is failed in Stripe'],
    ['canceled', { status: 'canceled' }, 'payout is canceled in Stripe'],
    ['zero', { amount: 0 }, 'payout amount is zero: nothing to book'],
  ])('%s → SKIPPED', (_label, override, reason) => {
    expect(build(golden, { payout: override })).toEqual({ outcome: 'SKIPPED', reason });
  });

  it('a manual payout → HELD: Stripe cannot itemise it', () => {
    expect(build(golden, { payout: { automatic: false } })).toEqual({
      outcome: 'HELD',
      reason:
        'a manual payout cannot be itemised by Stripe (only automatic payouts list their balance transactions)',
      hint: 'book it by hand in QuickBooks',
    });
  });
});

describe('currencies', () => {
  it('a payout not in the home currency without multicurrency → HELD', () => {
    const eur = [txn({ id: 'txn_e', type: 'transfer', amount: 100, currency: 'eur' })];
    const result = build(eur, { payout: { currency: 'eur' } });
    expect(result).toMatchObject({
      outcome: 'HELD',
      reason:
        "the payout is in EUR but the QuickBooks company's home currency is USD and multicurrency is off",
    });
    expect(result.outcome === 'HELD' && result.hint).toMatch(/turn on multicurrency/);
  });

  it('with multicurrency, the deposit account must be in the payout currency', () => {
    const eur = [txn({ id: 'txn_e', type: 'transfer', amount: 100, currency: 'eur' })];
    const company = { homeCurrency: 'USD', multicurrency: true, classTrackingPerTxnLine: true };
    expect(
      build(eur, {
        payout: { currency: 'eur' },
        tenant: { company, depositAccount: { ...ACCOUNTS.checking, currency: 'USD' } },
      }),
    ).toMatchObject({
      outcome: 'HELD',
      reason: 'the payout is in EUR but the deposit account "Checking" is in USD',
    });
    const ok = posted(
      build(eur, {
        payout: { currency: 'eur' },
        tenant: { company, depositAccount: { ...ACCOUNTS.checking, currency: 'EUR' } },
        exchangeRate: EUR_RATE,
      }),
    );
    expect(ok.entry.body.CurrencyRef).toEqual({ value: 'EUR' });
  });

  it("a foreign-currency entry carries QuickBooks' ExchangeRate for its date, and the result names it", () => {
    const eur = [txn({ id: 'txn_e', type: 'transfer', amount: 100, currency: 'eur' })];
    const company = { homeCurrency: 'USD', multicurrency: true, classTrackingPerTxnLine: true };
    const ok = posted(
      build(eur, {
        payout: { currency: 'eur' },
        tenant: { company, depositAccount: { ...ACCOUNTS.checking, currency: 'EUR' } },
        exchangeRate: EUR_RATE,
      }),
    );
    expect(ok.entry.body).toMatchObject({ CurrencyRef: { value: 'EUR' }, ExchangeRate: 1.0875 });
    expect(ok.exchangeRate).toEqual(EUR_RATE);
    expect(exchangeRateNote(EUR_RATE)).toBe(
      "booked at QuickBooks' exchange rate 1.0875 USD per EUR (as of 2024-03-15)",
    );
  });

  it('a foreign-currency entry without a usable rate (none, another currency, not positive) → HELD', () => {
    const eur = [txn({ id: 'txn_e', type: 'transfer', amount: 100, currency: 'eur' })];
    const company = { homeCurrency: 'USD', multicurrency: true, classTrackingPerTxnLine: true };
    const opts = {
      payout: { currency: 'eur' },
      tenant: { company, depositAccount: { ...ACCOUNTS.checking, currency: 'EUR' } },
    };
    for (const exchangeRate of [
      undefined,
      { ...EUR_RATE, sourceCurrency: 'GBP' },
      { ...EUR_RATE, targetCurrency: 'CAD' },
      { ...EUR_RATE, rate: 0 },
    ]) {
      const result = build(eur, { ...opts, ...(exchangeRate ? { exchangeRate } : {}) });
      expect(result).toMatchObject({
        outcome: 'HELD',
        reason: expect.stringMatching(
          /^QuickBooks has no usable exchange rate from EUR to USD for 2024-03-15/,
        ),
        hint: expect.stringMatching(/enter the EUR rate for 2024-03-15 in QuickBooks/),
      });
    }
  });

  it('a home-currency entry carries no ExchangeRate, even when a rate is given', () => {
    const company = { homeCurrency: 'USD', multicurrency: true, classTrackingPerTxnLine: true };
    const usd = { ...EUR_RATE, sourceCurrency: 'USD', rate: 1 };
    expect(posted(build(golden, { tenant: { company }, exchangeRate: usd })).entry.body).not.toHaveProperty(
      'ExchangeRate',
    );
    expect(needsExchangeRate(payout({ currency: 'usd' }), tenant({ company }))).toBe(false);
    expect(needsExchangeRate(payout({ currency: 'eur' }), tenant({ company }))).toBe(true);
    expect(
      needsExchangeRate(
        payout({ currency: 'eur' }),
        tenant({ company: { ...company, multicurrency: false } }),
      ),
    ).toBe(false);
  });

  it('a home-currency payout in a multicurrency company carries CurrencyRef; without multicurrency it does not', () => {
    const company = { homeCurrency: 'USD', multicurrency: true, classTrackingPerTxnLine: true };
    expect(posted(build(golden, { tenant: { company } })).entry.body.CurrencyRef).toEqual({ value: 'USD' });
    expect(posted(build(golden)).entry.body).not.toHaveProperty('CurrencyRef');
  });

  it('a transaction in another currency than the payout → HELD', () => {
    const mixed = [...golden, txn({ id: 'txn_eur', type: 'transfer', amount: 100, currency: 'eur' })];
    expect(build(mixed)).toMatchObject({
      outcome: 'HELD',
      reason: '1 balance transaction of the payout is not in USD: txn_eur (EUR)',
    });
  });

  it('books a cross-currency charge at its settlement amount', () => {
    const eur = charge({
      id: 'ch_eur',
      amount: 1000,
      currency: 'eur',
      category: 'Class Packs',
      email: 'jane@example.com',
    });
    const result = posted(
      build([chargeTxn(eur, { amount: 1087, feeDetails: [{ amount: 62, type: 'stripe_fee' }] })]),
    );
    const lines = result.entry.body.Line as { Amount: number }[];
    expect(lines.map((l) => l.Amount)).toEqual([10.87, -0.62]);
  });
});

describe('categories and classes', () => {
  const workshop = charge({ id: 'ch_w', amount: 4000, category: 'Workshops', email: 'jane@example.com' });
  const outdoor = charge({
    id: 'ch_o',
    amount: 1000,
    category: 'Classes',
    subcategory: 'Outdoor',
    email: 'jane@example.com',
  });
  const none = charge({ id: 'ch_n', amount: 100, email: 'jane@example.com' });
  const books = { revenue: [{ category: 'Class Packs', account: ACCOUNTS.classPacks }] };

  it('unmapped categories → HELD naming every one', () => {
    const result = build([chargeTxn(workshop), chargeTxn(outdoor), chargeTxn(none)], { tenant: books });
    expect(result).toEqual({
      outcome: 'HELD',
      reason: 'unmapped revenue categories: "(none)", "Classes / Outdoor", "Workshops"',
      hint: 'add a revenue mapping (or set uncategorizedAccount) in the sync config and import it, then `npx qbo-sync payouts sync po_123`',
    });
  });

  it('with uncategorizedAccount they are booked there, without class', () => {
    const result = posted(
      build([chargeTxn(workshop, { feeDetails: [] }), chargeTxn(outdoor, { feeDetails: [] })], {
        tenant: { ...books, uncategorizedAccount: ACCOUNTS.sales },
      }),
    );
    expect(result.entry.body.Line).toEqual([
      {
        Amount: 50,
        DetailType: 'DepositLineDetail',
        Description: 'Classes / Outdoor, Workshops: ch_o, ch_w',
        DepositLineDetail: {
          Entity: { value: '58', name: 'Jane Doe', type: 'Customer' },
          AccountRef: { value: '79', name: 'Sales' },
        },
      },
    ]);
  });

  it('a mapped class while the company has no per-line class tracking → HELD', () => {
    const company = { homeCurrency: 'USD', multicurrency: false, classTrackingPerTxnLine: false };
    const result = build(golden, { tenant: { company } });
    expect(result).toMatchObject({
      outcome: 'HELD',
      reason:
        'revenue mappings use class "Online" but the QuickBooks company does not track classes per transaction line',
    });
    expect(result.outcome === 'HELD' && result.hint).toMatch(/turn on class tracking per line/);
    // Without classes in play, the same company is fine.
    expect(build([chargeTxn(bob)], { tenant: { company } }).outcome).toBe('POST');
  });

  it('a bad revenue_split → HELD naming the charge', () => {
    const bad = charge({
      id: 'ch_bad',
      amount: 1000,
      email: 'jane@example.com',
      split: [{ category: 'Class Packs', amount: 1 }],
    });
    expect(build([chargeTxn(bad)])).toMatchObject({
      outcome: 'HELD',
      reason: expect.stringContaining(
        'charge ch_bad: metadata.revenue_split sums to 0.01 USD but the charge is 10.00 USD',
      ),
    });
  });
});

describe('customers', () => {
  const walkIn = charge({ id: 'ch_walk', amount: 800, category: 'Class Packs' });

  it('a charge without email goes to walkInCustomer when set', () => {
    const walk = { value: '99', name: 'Walk-in' };
    const lines = posted(build([chargeTxn(walkIn, { feeDetails: [] })], { tenant: { walkInCustomer: walk } }))
      .entry.body.Line as { DepositLineDetail: Record<string, unknown> }[];
    expect(lines[0]?.DepositLineDetail.Entity).toEqual({ value: '99', name: 'Walk-in', type: 'Customer' });
  });

  it('else on a line without Entity', () => {
    const lines = posted(build([chargeTxn(walkIn, { feeDetails: [] })])).entry.body.Line as {
      DepositLineDetail: Record<string, unknown>;
    }[];
    expect(lines[0]?.DepositLineDetail).toEqual({ AccountRef: ACCOUNTS.classPacks });
  });

  it('a member email missing from the directory → HELD as an ordering error (email masked)', () => {
    const result = build(golden, { customers: directory({ 'jane@example.com': JANE }) });
    expect(result).toMatchObject({
      outcome: 'HELD',
      reason:
        'no QuickBooks customer was resolved for 1 member email (b***@example.com); this is an ordering error in the sync, not a data problem',
    });
  });

  it('category lines need no customers at all', () => {
    expect(build(golden, { tenant: { lineDetail: 'category' }, customers: new Map() }).outcome).toBe('POST');
  });
});

describe('line detail modes', () => {
  const many = [
    chargeTxn(jane1, { id: 'txn_1', feeDetails: [{ amount: 10, type: 'stripe_fee' }] }),
    chargeTxn(jane2, { id: 'txn_2', feeDetails: [{ amount: 20, type: 'stripe_fee' }] }),
    chargeTxn(bob, {
      id: 'txn_3',
      feeDetails: [
        { amount: 30, type: 'stripe_fee' },
        { amount: 40, type: 'application_fee' },
      ],
    }),
    txn({ id: 'txn_h', type: 'payout_minimum_balance_hold', amount: -100 }),
    txn({ id: 'txn_r', type: 'payout_minimum_balance_release', amount: 300 }),
    txn({ id: 'txn_x', type: 'reserve_transaction', amount: -200 }),
  ];

  function descriptions(result: BuildResult): string[] {
    return (posted(result).entry.body.Line as { Description: string }[]).map((l) => l.Description);
  }

  it('customer: per (customer, account, class, sign); adjustments per (account, sign)', () => {
    expect(descriptions(build(many))).toEqual([
      'Class Packs: ch_3',
      'Classes / Virtual: ch_1, ch_2',
      'Stripe adjustments: payout minimum balance release txn_r',
      'Stripe adjustments: payout minimum balance hold txn_h, reserve transaction txn_x',
      'Stripe processing fees: txn_1, txn_2, txn_3',
      'Platform fees: txn_3',
    ]);
  });

  it('category: per (account, class, sign), no Entity', () => {
    const result = posted(build(many, { tenant: { lineDetail: 'category' } }));
    expect(descriptions(result)).toHaveLength(6);
    for (const line of result.entry.body.Line as { DepositLineDetail: Record<string, unknown> }[]) {
      expect(line.DepositLineDetail).not.toHaveProperty('Entity');
    }
  });

  it('category merges customers of the same account', () => {
    const twoPeople = [
      chargeTxn(jane1, { feeDetails: [] }),
      chargeTxn(
        charge({
          id: 'ch_9',
          amount: 700,
          category: 'Classes',
          subcategory: 'Virtual',
          billingEmail: 'bob@example.com',
        }),
        {
          feeDetails: [],
        },
      ),
    ];
    expect(posted(build(twoPeople)).lineCount).toBe(2);
    expect(posted(build(twoPeople, { tenant: { lineDetail: 'category' } })).lineCount).toBe(1);
  });

  it('transaction: one line per balance transaction; fees still one per account and sign', () => {
    const result = posted(build(many, { tenant: { lineDetail: 'transaction' } }));
    expect(descriptions(result)).toEqual([
      'Class Packs: ch_3 (txn_3)',
      'Classes / Virtual: ch_1 (txn_1)',
      'Classes / Virtual: ch_2 (txn_2)',
      'Stripe adjustments: payout minimum balance release txn_r',
      'Stripe adjustments: payout minimum balance hold txn_h',
      'Stripe adjustments: reserve transaction txn_x',
      'Stripe processing fees: txn_1, txn_2, txn_3',
      'Platform fees: txn_3',
    ]);
    expect(result.lineDetail).toBe('transaction');
  });

  it('counts instead of ids beyond three', () => {
    const charges = Array.from({ length: 12 }, (_, i) =>
      chargeTxn(charge({ id: `ch_${i + 10}`, amount: 1000, category: 'Class Packs' }), {
        feeDetails: [{ amount: 1, type: 'stripe_fee' }],
      }),
    );
    const refund = refundTxn(charge({ id: 'ch_99', amount: 1000, category: 'Class Packs' }), -1000, {
      type: 'payment_refund',
    });
    const result = posted(build([...charges, refund], { tenant: { lineDetail: 'category' } }));
    expect(descriptions(result)).toEqual([
      'Class Packs: 12 charges',
      'Refunds, Class Packs: re_ch_99',
      'Stripe processing fees: 12 transactions',
    ]);
  });

  it('gives the same body whatever the order of the transactions', () => {
    const a = posted(build(many));
    const b = posted(build([...many].reverse()));
    expect(b.entry).toEqual(a.entry);
  });
});

describe('maxDepositLines', () => {
  const people = Array.from({ length: 5 }, (_, i) =>
    chargeTxn(charge({ id: `ch_p${i}`, amount: 1000 + i, category: 'Class Packs', email: `p${i}@x.io` }), {
      feeDetails: [],
    }),
  );
  const dir = directory(
    Object.fromEntries(people.map((_, i) => [`p${i}@x.io`, { value: `${i + 1}`, name: `P${i}` }])),
  );

  it('folds customer lines into category lines when over the limit, and says so', () => {
    const result = posted(build(people, { tenant: { maxDepositLines: 3 }, customers: dir }));
    expect(result).toMatchObject({ folded: true, lineDetail: 'category', lineCount: 1 });
    expect(result.entry.body.PrivateNote).toBe(
      'Stripe payout po_123 · 5 transactions · tenant downtown-yoga · folded to category lines (over 3)',
    );
  });

  it('does not fold at the limit', () => {
    expect(posted(build(people, { tenant: { maxDepositLines: 5 }, customers: dir }))).toMatchObject({
      folded: false,
      lineCount: 5,
    });
  });

  it('→ HELD when even category lines are too many', () => {
    expect(build(golden, { tenant: { maxDepositLines: 2 } })).toMatchObject({
      outcome: 'HELD',
      reason: 'the payout needs 5 lines even as category lines, more than maxDepositLines (2)',
    });
  });
});

describe('the sum invariant', () => {
  it('→ HELD with the difference when the transactions do not add up to the payout', () => {
    const result = build(golden, { payout: { amount: 123456 } });
    expect(result).toEqual({
      outcome: 'HELD',
      reason: 'lines sum to 81.20 USD but the payout is 1,234.56 USD (difference 1,153.36 USD)',
      hint: "Stripe's itemisation may be incomplete; sync it again later (`npx qbo-sync payouts sync po_123`)",
    });
  });

  it('excludes the payout’s own transaction however it is marked', () => {
    const marked = [...golden.slice(0, 5), txn({ id: 'txn_payout', type: 'unmarked', amount: -8120 })];
    expect(posted(build(marked, { payout: { amount: 8120 } })).transactionCount).toBe(5);
  });
});

describe('dispute lines', () => {
  it('lost and won disputes keep the member and class, to disputesAccount when set', () => {
    const transactions = [
      chargeTxn(bob, { feeDetails: [] }),
      disputeTxn(jane1, -2000),
      disputeTxn(jane1, 2000, { disputeId: 'du_ch_1' }),
    ];
    const result = posted(build(transactions, { tenant: { disputesAccount: ACCOUNTS.disputes } }));
    expect((result.entry.body.Line as unknown[]).slice(1)).toEqual([
      {
        Amount: 20,
        DetailType: 'DepositLineDetail',
        Description: 'Disputes, Classes / Virtual: du_ch_1',
        DepositLineDetail: {
          Entity: { value: '58', name: 'Jane Doe', type: 'Customer' },
          AccountRef: ACCOUNTS.disputes,
          ClassRef: CLASSES.online,
        },
      },
      {
        Amount: -20,
        DetailType: 'DepositLineDetail',
        Description: 'Disputes, Classes / Virtual: du_ch_1',
        DepositLineDetail: {
          Entity: { value: '58', name: 'Jane Doe', type: 'Customer' },
          AccountRef: ACCOUNTS.disputes,
          ClassRef: CLASSES.online,
        },
      },
      {
        Amount: -15,
        DetailType: 'DepositLineDetail',
        Description: 'Stripe processing fees: txn_du_ch_1_lost',
        DepositLineDetail: { AccountRef: ACCOUNTS.fees },
      },
    ]);
  });
});

describe('buildReversalEntry', () => {
  it('reverses a posted Deposit exactly (as QuickBooks returns it, with extra fields)', () => {
    // Prepare
    const deposit = posted(build(golden)).entry;
    const asReturned: QboEntry = {
      type: 'Deposit',
      body: { ...deposit.body, Id: '146', SyncToken: '0', TotalAmt: 81.2, domain: 'QBO' },
    };

    // Act
    const reversal = buildReversalEntry(asReturned, 'po_123', '2024-03-20');

    // Assess
    expect(reversal.type).toBe('JournalEntry');
    expect(reversal.body.PrivateNote).toBe('Reversal of Stripe payout po_123 · reverses Deposit 146');
    expect(reversal.body.TxnDate).toBe('2024-03-20');
    const lines = reversal.body.Line as {
      Amount: number;
      JournalEntryLineDetail: {
        PostingType: string;
        AccountRef: { value: string };
        Entity?: unknown;
        ClassRef?: unknown;
      };
    }[];
    expect(
      lines.map((l) => [
        l.JournalEntryLineDetail.PostingType,
        l.JournalEntryLineDetail.AccountRef.value,
        l.Amount,
      ]),
    ).toEqual([
      ['Credit', '35', 81.2],
      ['Debit', '90', 50],
      ['Debit', '92', 50],
      ['Credit', '92', 5],
      ['Credit', '83', 10],
      ['Credit', '80', 3.8],
    ]);
    expect(lines[2]?.JournalEntryLineDetail.Entity).toEqual({
      Type: 'Customer',
      EntityRef: { value: '58', name: 'Jane Doe' },
    });
    expect(lines[2]?.JournalEntryLineDetail.ClassRef).toEqual(CLASSES.online);
    expect(journalTotals(reversal, 'usd')).toEqual({ debits: 10000, credits: 10000 });
  });

  it('reverses a posted JournalEntry by swapping every posting type', () => {
    const c = charge({ id: 'ch_k', amount: 100, category: 'Class Packs' });
    const je = posted(
      build(
        [chargeTxn(c, { feeDetails: [] }), txn({ id: 'txn_x', type: 'reserve_transaction', amount: -500 })],
        {
          payout: { amount: -400 },
        },
      ),
    ).entry;
    const reversal = buildReversalEntry(je, 'po_123', '2024-03-21');
    const swap = (t: string) => (t === 'Debit' ? 'Credit' : 'Debit');
    const original = je.body.Line as JeLine[];
    const reversed = reversal.body.Line as JeLine[];
    expect(reversed.map((l) => l.JournalEntryLineDetail.PostingType)).toEqual(
      original.map((l) => swap(l.JournalEntryLineDetail.PostingType)),
    );
    expect(reversed.map((l) => l.Amount)).toEqual(original.map((l) => l.Amount));
    expect(reversal.body.PrivateNote).toBe('Reversal of Stripe payout po_123 · reverses JournalEntry');
    expect(journalTotals(reversal, 'usd')).toEqual({ debits: 500, credits: 500 });
  });

  it('refuses a body it cannot read, saying why', () => {
    expect(() => buildReversalEntry({ type: 'Deposit', body: { Line: [] } }, 'po_1', '2024-03-20')).toThrow(
      /cannot reverse the posted Deposit/,
    );
    expect(() => buildReversalEntry({ type: 'Deposit', body: {} }, 'po_1', '20/03/2024')).toThrow(
      /YYYY-MM-DD/,
    );
  });
});

describe('utcDate', () => {
  it('is the UTC calendar date', () => {
    expect(utcDate(1710547199)).toBe('2024-03-15');
    expect(utcDate(1710547200)).toBe('2024-03-16');
  });
});
