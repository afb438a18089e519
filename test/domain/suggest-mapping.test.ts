/** `config suggest`'s matching of revenue categories to income accounts by name (pure). */
import { nameWords, suggestMappings } from '../../src/domain/suggest-mapping.js';
import type { QboAccount, QboChart } from '../../src/domain/types.js';

const account = (name: string, accountType = 'Income', active = true, parent?: string): QboAccount => ({
  id: name,
  name,
  fullyQualifiedName: parent ? `${parent}:${name}` : name,
  accountType,
  active,
});

const chart = (accounts: QboAccount[]): QboChart => ({
  accounts,
  classes: [],
  company: { homeCurrency: 'USD', multicurrency: false, classTrackingPerTxnLine: true },
});

const found = (category: string, subcategory?: string, total = 100) => ({
  category,
  ...(subcategory ? { subcategory } : {}),
  charges: 1,
  total,
  currency: 'USD',
});

describe('nameWords', () => {
  test.each([
    ['Class Packs', ['class', 'pack']],
    ['Virtual Class Revenue', ['virtual', 'class']],
    ['In-person Class Revenue', ['in', 'person', 'class']],
    ['Memberships Income', ['membership']],
    ['Workshop Sales & Fees', ['workshop']],
    ['Classes', ['class']],
    ['Accessories', ['accessory']],
  ])('%s → %j', (name, words) => {
    expect([...nameWords(name)].sort()).toEqual([...words].sort());
  });
});

describe('suggestMappings', () => {
  const company = chart([
    account('Sales'),
    account('Class Pack Revenue'),
    account('Virtual Class Revenue'),
    account('In-person Class Revenue'),
    account('Workshop Income'),
    account('Old Membership Revenue', 'Income', false),
    account('Retail Fees', 'Expense'),
    account('Other Income', 'Other Income'),
  ]);

  test('maps a category to the one income account with the same words; others are TODO with candidates', () => {
    // Act
    const s = suggestMappings(
      [
        found('Class Packs', undefined, 500),
        found('Classes', 'Virtual', 400),
        found('Classes', 'In person', 300),
        found('Workshops', undefined, 200),
        found('Retail', undefined, 100),
        found('Memberships', undefined, 50),
        found('Classes', undefined, 10),
      ],
      company,
    );

    // Assess: most revenue first
    expect(s.map((x) => [x.found.category, x.found.subcategory, x.account, x.candidates])).toEqual([
      ['Class Packs', undefined, 'Class Pack Revenue', []],
      ['Classes', 'Virtual', 'Virtual Class Revenue', []],
      ['Classes', 'In person', 'In-person Class Revenue', []],
      ['Workshops', undefined, 'Workshop Income', []],
      // nothing shares a word: the income accounts, for a person to choose from (an expense account never)
      ['Retail', undefined, undefined, ['Class Pack Revenue', 'In-person Class Revenue', 'Other Income']],
      // the only matching account is inactive
      [
        'Memberships',
        undefined,
        undefined,
        ['Class Pack Revenue', 'In-person Class Revenue', 'Other Income'],
      ],
      // "Classes" alone: several accounts share the word, none is clearly the one
      [
        'Classes',
        undefined,
        undefined,
        ['Class Pack Revenue', 'Virtual Class Revenue', 'In-person Class Revenue'],
      ],
    ]);
  });

  test('two accounts with the same words: neither is clearly right', () => {
    const s = suggestMappings(
      [found('Memberships')],
      chart([account('Membership Revenue'), account('Memberships', 'Other Income')]),
    );
    expect(s[0]?.account).toBeUndefined();
    expect(s[0]?.candidates).toEqual(['Membership Revenue', 'Memberships']);
  });

  test('a sub-account is suggested by its FullyQualifiedName', () => {
    const s = suggestMappings(
      [found('Intro Offers')],
      chart([account('Intro Offers', 'Income', true, 'Class Pack Revenue')]),
    );
    expect(s[0]?.account).toBe('Class Pack Revenue:Intro Offers');
  });
});
