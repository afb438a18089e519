/**
 * Which customers an entry may name in a multicurrency company (src/domain/customer-currency.ts): only those in the
 * entry's currency or the home currency; the others are left off (no Entity) and named in the ledger's note.
 */
import { customersForEntry, leftOffNote } from '../../src/domain/customer-currency.js';
import type { CompanyFacts, CustomerDirectory } from '../../src/domain/types.js';

const MULTI: CompanyFacts = { homeCurrency: 'USD', multicurrency: true, classTrackingPerTxnLine: true };

const directory: CustomerDirectory = new Map([
  ['usd@example.com', { value: '1', name: 'Usd One' }],
  ['eur@example.com', { value: '2', name: 'Eur Two' }],
  ['gbp@example.com', { value: '3' }],
  ['unknown@example.com', { value: '4' }],
  ['walkin-or-none@example.com', null],
  ['preview@example.com', { value: null, name: 'Would Be Made' }],
]);
const currencies = new Map([
  ['usd@example.com', 'USD'],
  ['eur@example.com', 'eur'],
  ['gbp@example.com', 'GBP'],
]);

it('a EUR entry keeps EUR and USD customers, leaves the GBP one off, keeps unknown currencies', () => {
  const { directory: out, leftOff } = customersForEntry(directory, currencies, 'eur', MULTI);
  expect(out.get('usd@example.com')).toEqual({ value: '1', name: 'Usd One' });
  expect(out.get('eur@example.com')).toEqual({ value: '2', name: 'Eur Two' });
  expect(out.get('gbp@example.com')).toBeNull();
  expect(out.get('unknown@example.com')).toEqual({ value: '4' });
  expect(out.get('preview@example.com')).toEqual({ value: null, name: 'Would Be Made' });
  expect(leftOff).toEqual([{ email: 'gbp@example.com', customer: { value: '3' }, currency: 'GBP' }]);
  expect(directory.get('gbp@example.com')).toEqual({ value: '3' });
});

it('a home-currency (USD) entry leaves off EUR and GBP customers alike', () => {
  const { leftOff } = customersForEntry(directory, currencies, 'usd', MULTI);
  expect(leftOff.map((l) => l.email)).toEqual(['eur@example.com', 'gbp@example.com']);
  expect(leftOffNote(leftOff, 'usd', MULTI)).toBe(
    '2 members\' customers left off the lines: eur@example.com (customer 2 "Eur Two" is in EUR; a USD entry of a ' +
      'USD company can name only USD customers); gbp@example.com (customer 3 is in GBP; a USD entry of a USD ' +
      'company can name only USD customers)',
  );
});

it('without multicurrency nothing is left off, whatever the currencies say', () => {
  const single = { ...MULTI, multicurrency: false };
  const result = customersForEntry(directory, currencies, 'usd', single);
  expect(result.leftOff).toEqual([]);
  expect(result.directory).toBe(directory);
  expect(leftOffNote([], 'usd', single)).toBeUndefined();
});
