/**
 * Property-based tests of the deposit builder: random payouts made of random mixes of every kind of balance
 * transaction, in random currencies, with random amounts (negatives included).
 */
import fc from 'fast-check';
import { classifyPayout, contributionOf } from '../../src/domain/classify.js';
import { buildEntry } from '../../src/domain/deposit.js';
import { MAX_DESCRIPTION_LENGTH } from '../../src/domain/deposit-lines.js';
import { fromQboAmount } from '../../src/domain/money.js';
import { buildReversalEntry } from '../../src/domain/reversal-entry.js';
import type { BalanceTransaction, Charge } from '../../src/domain/stripe.js';
import type {
  BuildResult,
  CustomerDirectory,
  LineDetailMode,
  QboEntry,
  TenantBooks,
} from '../../src/domain/types.js';
import { ACCOUNTS, CLASSES, charge, payout, tenant, txn } from './fixtures.js';

const RUNS = 1000;

const TXN_KINDS = [
  'charge',
  'payment',
  'refund',
  'payment_refund',
  'payment_failure_refund',
  'refund_failure',
  'dispute_lost',
  'dispute_won',
  'stripe_fee',
  'stripe_fx_fee',
  'tax_fee',
  'application_fee_refund',
  'reserve_transaction',
  'payout_minimum_balance_hold',
  'payout_minimum_balance_release',
  'transfer',
  'adjustment',
  'quantum_settlement',
] as const;

const FEE_TYPES = [
  'stripe_fee',
  'tax',
  'withheld_tax',
  'payment_method_passthrough_fee',
  'application_fee',
  'future_fee',
] as const;

const EMAILS = ['jane@example.com', 'bob@example.com', 'ann@example.com', 'zed@example.com'];
const CATEGORIES: [string, string | undefined][] = [
  ['Classes', undefined],
  ['Classes', 'Virtual'],
  ['Classes', 'Outdoor'],
  ['Class Packs', undefined],
  ['Memberships', undefined],
  ['Workshops', undefined],
  ['', undefined],
];

const chargeSpec = fc.record({
  amount: fc.integer({ min: 0, max: 5_000_000 }),
  category: fc.integer({ min: 0, max: CATEGORIES.length - 1 }),
  email: fc.option(fc.constantFrom(...EMAILS), { nil: undefined }),
  split: fc.option(
    fc.array(
      fc.record({ category: fc.integer({ min: 0, max: 5 }), amount: fc.integer({ min: 0, max: 2_000_000 }) }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
    { nil: undefined },
  ),
  currency: fc.constantFrom('same', 'eur', 'gbp'),
});

const txnSpec = fc.record({
  kind: fc.constantFrom(...TXN_KINDS),
  charge: fc.nat(),
  amount: fc.integer({ min: -5_000_000, max: 5_000_000 }),
  settleAtChargeAmount: fc.boolean(),
  expandCharge: fc.boolean(),
  fees: fc.array(
    fc.record({ type: fc.constantFrom(...FEE_TYPES), amount: fc.integer({ min: -1_000, max: 200_000 }) }),
    { maxLength: 3 },
  ),
  unexplainedFee: fc.oneof(fc.constant(0), fc.integer({ min: -500, max: 500 })),
});

const scenario = fc.record({
  currency: fc.constantFrom('usd', 'jpy', 'kwd', 'eur'),
  charges: fc.array(chargeSpec, { minLength: 1, maxLength: 8 }),
  transactions: fc.array(txnSpec, { minLength: 0, maxLength: 25 }),
  includeOwn: fc.boolean(),
  delta: fc.oneof(
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  ),
  lineDetail: fc.constantFrom<LineDetailMode>('customer', 'category', 'transaction'),
  maxDepositLines: fc.oneof(fc.constant(1000), fc.integer({ min: 1, max: 12 })),
  uncategorized: fc.boolean(),
  disputes: fc.boolean(),
  walkIn: fc.boolean(),
  previewCustomers: fc.boolean(),
  seed: fc.nat(),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  transactions: BalanceTransaction[];
  payoutAmount: number;
  sumOfNets: number;
  currency: string;
  tenant: TenantBooks;
  customers: CustomerDirectory;
}

function construct(s: Scenario): Built {
  const currency = s.currency;
  const charges: Charge[] = s.charges.map((c, i) => {
    const [category, subcategory] = CATEGORIES[c.category] ?? ['Classes', undefined];
    const split = c.split?.map((p) => {
      const [cat, sub] = CATEGORIES[p.category] ?? ['Classes', undefined];
      return {
        category: cat === '' ? 'Classes' : cat,
        ...(sub === undefined ? {} : { subcategory: sub }),
        amount: p.amount,
      };
    });
    return charge({
      id: `ch_${i}`,
      amount: split === undefined ? c.amount : split.reduce((a, p) => a + p.amount, 0),
      currency: c.currency === 'same' ? currency : c.currency,
      ...(category === '' ? {} : { category }),
      ...(subcategory === undefined ? {} : { subcategory }),
      ...(c.email === undefined ? {} : { email: c.email }),
      ...(split === undefined ? {} : { split }),
    });
  });
  const transactions = s.transactions.map((t, i): BalanceTransaction => {
    const c = charges[t.charge % charges.length] as Charge;
    const ref = t.expandCharge ? c : c.id;
    const feeDetails = t.fees.map((f) => ({ type: f.type, amount: f.amount }));
    const fee = feeDetails.reduce((a, f) => a + f.amount, 0) + t.unexplainedFee;
    const base = { id: `txn_${i}`, currency, feeDetails, fee };
    switch (t.kind) {
      case 'charge':
      case 'payment':
        return txn({
          ...base,
          type: t.kind,
          amount: t.settleAtChargeAmount ? c.amount : Math.abs(t.amount),
          source: c,
        });
      case 'refund':
      case 'payment_refund':
      case 'payment_failure_refund':
      case 'refund_failure':
        return txn({
          ...base,
          type: t.kind,
          amount: t.kind === 'refund_failure' ? Math.abs(t.amount) : -Math.abs(t.amount),
          source: { id: `re_${i}`, object: 'refund', charge: ref },
        });
      case 'dispute_lost':
      case 'dispute_won':
        return txn({
          ...base,
          type: 'adjustment',
          amount: t.kind === 'dispute_won' ? Math.abs(t.amount) : -Math.abs(t.amount),
          source: { id: `du_${i}`, object: 'dispute', charge: ref },
        });
      default:
        return txn({ ...base, type: t.kind, amount: t.amount });
    }
  });
  // Every charge also appears in the payout (so refunds given by id can find it) when it is refunded by id.
  const sumOfNets = transactions.reduce((a, t) => a + t.net, 0);
  if (s.includeOwn) {
    transactions.splice(
      s.seed % (transactions.length + 1),
      0,
      txn({ id: 'txn_payout', type: 'payout', amount: -sumOfNets, currency }),
    );
  }
  const books = tenant({
    lineDetail: s.lineDetail,
    maxDepositLines: s.maxDepositLines,
    ...(s.uncategorized ? { uncategorizedAccount: ACCOUNTS.sales } : {}),
    ...(s.disputes ? { disputesAccount: ACCOUNTS.disputes } : {}),
    ...(s.walkIn ? { walkInCustomer: { value: '999', name: 'Walk-in' } } : {}),
    revenue: [
      { category: 'Classes', account: ACCOUNTS.classes, class: CLASSES.studio },
      { category: 'Classes', subcategory: 'Virtual', account: ACCOUNTS.virtual, class: CLASSES.online },
      { category: 'Class Packs', account: ACCOUNTS.classPacks },
      { category: 'Memberships', account: ACCOUNTS.memberships },
    ],
    company: {
      homeCurrency: currency === 'eur' ? 'USD' : currency.toUpperCase(),
      multicurrency: currency === 'eur',
      classTrackingPerTxnLine: true,
    },
    ...(currency === 'eur' ? { depositAccount: { ...ACCOUNTS.checking, currency: 'EUR' } } : {}),
  });
  const customers = new Map(
    EMAILS.map((e, i) => [
      e,
      s.previewCustomers && i % 2 === 0 ? { value: null, name: e } : { value: `${i + 1}`, name: `C${i}` },
    ]),
  );
  return { transactions, payoutAmount: sumOfNets + s.delta, sumOfNets, currency, tenant: books, customers };
}

interface AnyLine {
  Amount: number;
  Description: string;
  JournalEntryLineDetail?: { PostingType: 'Debit' | 'Credit'; AccountRef: { value: string } };
}

/** The entry's lines as signed minor amounts, as a Deposit would have them (the JE's bank line left out). */
function signedLines(entry: QboEntry, currency: string): number[] {
  const lines = entry.body.Line as AnyLine[];
  if (entry.type === 'Deposit') return lines.map((l) => fromQboAmount(l.Amount, currency));
  return lines.slice(1).map((l) => {
    const minor = fromQboAmount(l.Amount, currency);
    return l.JournalEntryLineDetail?.PostingType === 'Credit' ? minor : -minor;
  });
}

function balance(entry: QboEntry, currency: string): { debits: number; credits: number } {
  let debits = 0;
  let credits = 0;
  for (const l of entry.body.Line as AnyLine[]) {
    const minor = fromQboAmount(l.Amount, currency);
    if (l.JournalEntryLineDetail?.PostingType === 'Debit') debits += minor;
    else credits += minor;
  }
  return { debits, credits };
}

function run(b: Built): BuildResult {
  return buildEntry({
    payout: payout({ amount: b.payoutAmount, currency: b.currency }),
    transactions: b.transactions,
    tenant: b.tenant,
    customers: b.customers,
    // A EUR payout on a USD multicurrency company needs QuickBooks' rate for its date (CONTRACT §4).
    ...(b.currency === 'eur'
      ? {
          exchangeRate: {
            sourceCurrency: 'EUR',
            targetCurrency: 'USD',
            rate: 1.0875,
            asOfDate: '2024-03-15',
          },
        }
      : {}),
  });
}

describe('deposit builder properties', () => {
  it('posted lines always sum exactly to payout.amount; a mismatch is never posted', () => {
    let posts = 0;
    let journals = 0;
    let folded = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const b = construct(s);
        const result = run(b);
        if (b.payoutAmount === 0) {
          expect(result.outcome).toBe('SKIPPED');
          return;
        }
        if (b.payoutAmount !== b.sumOfNets) {
          expect(result.outcome).toBe('HELD');
          return;
        }
        if (result.outcome !== 'POST') {
          expect(result.outcome).toBe('HELD');
          return;
        }
        posts += 1;
        if (result.entry.type === 'JournalEntry') journals += 1;
        if (result.folded) folded += 1;
        const lines = signedLines(result.entry, b.currency);
        expect(lines.reduce((a, n) => a + n, 0)).toBe(b.payoutAmount);
        expect(lines.every((n) => n !== 0)).toBe(true);
        expect(result.entry.type).toBe(b.payoutAmount > 0 ? 'Deposit' : 'JournalEntry');
        expect(result.lineCount).toBeLessThanOrEqual(b.tenant.maxDepositLines);
        expect(result.lineCount).toBe((result.entry.body.Line as unknown[]).length);
        for (const l of result.entry.body.Line as AnyLine[]) {
          expect(l.Description.length).toBeLessThanOrEqual(MAX_DESCRIPTION_LENGTH);
          expect(l.Amount).toBeGreaterThan(b.payoutAmount > 0 ? Number.NEGATIVE_INFINITY : 0);
        }
        expect(String(result.entry.body.PrivateNote)).toMatch(/^Stripe payout po_123 · /);
      }),
      { numRuns: RUNS },
    );
    // The generator must actually exercise the POST path.
    expect(posts).toBeGreaterThan(RUNS / 5);
    expect(journals).toBeGreaterThan(RUNS / 50);
    expect(folded).toBeGreaterThan(0);
  });

  it('every non-payout balance transaction is counted exactly once and contributes exactly its net', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const b = construct(s);
        const p = payout({ amount: b.payoutAmount, currency: b.currency });
        const classification = classifyPayout(p, b.transactions, b.tenant);
        const own = b.transactions.filter((t) => t.id === 'txn_payout');
        const others = b.transactions.filter((t) => t.id !== 'txn_payout');
        expect(classification.excluded).toEqual(own.map((t) => t.id));
        expect(classification.transactions.map((t) => t.id)).toEqual(others.map((t) => t.id));
        for (const t of others) expect(contributionOf(classification, t.id)).toBe(t.net);
        const result = run(b);
        if (result.outcome === 'POST') expect(result.transactionCount).toBe(others.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('journal entries (negative payouts and reversals) are balanced', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const b = construct(s);
        const result = run(b);
        if (result.outcome !== 'POST') return;
        if (result.entry.type === 'JournalEntry') {
          const { debits, credits } = balance(result.entry, b.currency);
          expect(debits).toBe(credits);
        }
        const reversal = buildReversalEntry(result.entry, 'po_123', '2024-04-01');
        const { debits, credits } = balance(reversal, b.currency);
        expect(debits).toBe(credits);
        // The reversal moves the deposit account by exactly the payout, the other way.
        const bank = (reversal.body.Line as AnyLine[]).find(
          (l) =>
            l.JournalEntryLineDetail?.AccountRef.value === ACCOUNTS.checking.value &&
            l.Description.startsWith('Reversal'),
        );
        if (result.entry.type === 'Deposit') {
          expect(bank?.JournalEntryLineDetail?.PostingType).toBe('Credit');
          expect(fromQboAmount(bank?.Amount ?? 0, b.currency)).toBe(b.payoutAmount);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the same transactions in any order give the same result', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), (s, shuffleSeed) => {
        const b = construct(s);
        const shuffled = [...b.transactions];
        let seed = shuffleSeed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          seed = (seed * 1103515245 + 12345) % 2147483648;
          const j = seed % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as BalanceTransaction, shuffled[i] as BalanceTransaction];
        }
        expect(run({ ...b, transactions: shuffled })).toEqual(run(b));
      }),
      { numRuns: RUNS },
    );
  });
});
