import {
  allocateAmount,
  categoryLabel,
  chargeAllocations,
  chargeCategory,
  resolveRevenueTarget,
} from '../../src/domain/categories.js';
import type { RevenueMapping } from '../../src/domain/types.js';
import { ACCOUNTS, CLASSES, charge } from './fixtures.js';

const mappings: RevenueMapping[] = [
  { category: 'Classes', account: ACCOUNTS.classes, class: CLASSES.studio },
  { category: ' classes ', subcategory: 'VIRTUAL', account: ACCOUNTS.virtual, class: CLASSES.online },
  { category: 'Class Packs', account: ACCOUNTS.classPacks },
  { category: 'Workshops', subcategory: 'Outdoor', account: ACCOUNTS.sales },
];

describe('resolveRevenueTarget', () => {
  it.each([
    ['Classes', 'Virtual', ACCOUNTS.virtual],
    ['  CLASSES', ' virtual ', ACCOUNTS.virtual],
    ['Classes', 'In person', ACCOUNTS.classes],
    ['Classes', undefined, ACCOUNTS.classes],
    ['class packs', 'Anything', ACCOUNTS.classPacks],
    ['Workshops', 'Outdoor', ACCOUNTS.sales],
    ['Workshops', undefined, undefined],
    ['Workshops', 'Indoor', undefined],
    ['Memberships', undefined, undefined],
  ])('(%j, %j) → %j', (category, subcategory, account) => {
    expect(resolveRevenueTarget(mappings, category, subcategory)?.account).toEqual(account);
  });
});

describe('chargeCategory / categoryLabel', () => {
  it.each([
    [{ category: 'Classes', subcategory: 'Virtual' }, 'Classes / Virtual'],
    [{ category: ' Classes ', subcategory: '  ' }, 'Classes'],
    [{}, '(none)'],
    [{ subcategory: 'Virtual' }, '(none)'],
  ])('%j → %s', (options, label) => {
    expect(categoryLabel(chargeCategory(charge(options)))).toBe(label);
  });
});

describe('chargeAllocations', () => {
  it('gives the whole amount to the charge category without a split', () => {
    expect(chargeAllocations(charge({ amount: 1000, category: 'Classes' }))).toEqual({
      ok: true,
      allocations: [{ category: 'Classes', amount: 1000 }],
    });
  });

  it('reads a revenue_split that sums to the charge amount', () => {
    const c = charge({
      amount: 10000,
      split: [
        { category: 'Class Packs', amount: 6000 },
        { category: 'Classes', subcategory: 'Virtual', amount: 4000 },
      ],
    });
    expect(chargeAllocations(c)).toEqual({
      ok: true,
      allocations: [
        { category: 'Class Packs', amount: 6000 },
        { category: 'Classes', subcategory: 'Virtual', amount: 4000 },
      ],
    });
  });

  it.each([
    ['not JSON', '[{category', /ch_bad: metadata.revenue_split is not valid JSON/],
    ['not an array', { category: 'A', amount: 1 }, /ch_bad: metadata.revenue_split is invalid/],
    ['empty', [], /at least one category/],
    ['fractional amount', [{ category: 'A', amount: 9.5 }], /at 0.amount: amount must be a whole number/],
    ['negative amount', [{ category: 'A', amount: -1 }], /must not be negative/],
    ['missing category', [{ amount: 1000 }], /at 0.category/],
    [
      'wrong sum',
      [
        { category: 'A', amount: 600 },
        { category: 'B', amount: 300 },
      ],
      /ch_bad: metadata.revenue_split sums to 9.00 USD but the charge is 10.00 USD/,
    ],
  ])('explains a bad split: %s', (_label, split, message) => {
    const result = chargeAllocations(charge({ id: 'ch_bad', amount: 1000, split }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(message);
  });
});

describe('allocateAmount', () => {
  const allocations = [
    { category: 'A', amount: 3333 },
    { category: 'B', amount: 3333 },
    { category: 'C', amount: 3334 },
  ];

  it.each([
    [10000, [3333, 3333, 3334]],
    [9100, [3033, 3033, 3034]],
    [-2500, [-833, -833, -834]],
    [1, [0, 0, 1]],
  ])('splits %i as %j (zero parts dropped)', (amount, parts) => {
    const result = allocateAmount(allocations, amount);
    expect(result.reduce((a, p) => a + p.amount, 0)).toBe(amount);
    const byCategory = Object.fromEntries(result.map((p) => [p.category, p.amount]));
    expect([byCategory.A ?? 0, byCategory.B ?? 0, byCategory.C ?? 0]).toEqual(parts);
  });

  it('passes a single allocation through whatever the amount', () => {
    expect(allocateAmount([{ category: 'A', amount: 1000 }], -1234)).toEqual([
      { category: 'A', amount: -1234 },
    ]);
    expect(allocateAmount([{ category: 'A', amount: 1000 }], 0)).toEqual([]);
  });
});
