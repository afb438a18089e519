/**
 * Customers' currencies on an entry (CONTRACT §4, multicurrency companies). In QuickBooks Online a customer has one
 * currency (`CurrencyRef`, fixed once set: Intuit's Accounting API reference, Customer entity), and a transaction
 * line may name a customer only in the transaction's currency or the home currency; otherwise QuickBooks refuses
 * the whole entry (the rule as integrators quote QuickBooks: "The currency of … must be either in home currency or
 * the transaction currency", Webgility and Connex help pages; external-apis.md §6b). So such a member's lines carry
 * no customer (the entry is still posted, its amounts unchanged) and the ledger names the member and why.
 *
 * A customer whose currency is unknown (a mapping the product could not complete) is kept on its line: if
 * QuickBooks then refuses the entry, the payout is HELD with QuickBooks' words, never posted wrong.
 */
import type { CompanyFacts, CustomerDirectory, Ref } from './types.js';

export interface LeftOffCustomer {
  /** The member's email (normalised). */
  email: string;
  customer: Ref;
  /** The customer's currency (upper case). */
  currency: string;
}

/** The currencies a line of an entry in `entryCurrency` may name a customer in. */
export function usableCustomerCurrencies(entryCurrency: string, company: CompanyFacts): string[] {
  const entry = entryCurrency.toUpperCase();
  const home = company.homeCurrency.toUpperCase();
  return entry === home ? [home] : [entry, home];
}

/**
 * The directory an entry in `entryCurrency` may use: each member whose customer is in a currency the entry cannot
 * name (`currencies`: email → the customer's currency, where known) gets no customer (`null`, a line without
 * `Entity`). Without multicurrency every customer is in the home currency: nothing changes.
 */
export function customersForEntry(
  directory: CustomerDirectory,
  currencies: ReadonlyMap<string, string>,
  entryCurrency: string,
  company: CompanyFacts,
): { directory: CustomerDirectory; leftOff: LeftOffCustomer[] } {
  if (!company.multicurrency) return { directory, leftOff: [] };
  const usable = new Set(usableCustomerCurrencies(entryCurrency, company));
  const out = new Map(directory);
  const leftOff: LeftOffCustomer[] = [];
  for (const [email, ref] of directory) {
    if (ref === null || ref.value === null) continue;
    const currency = currencies.get(email)?.toUpperCase();
    if (currency === undefined || usable.has(currency)) continue;
    out.set(email, null);
    leftOff.push({
      email,
      customer: { value: ref.value, ...(ref.name ? { name: ref.name } : {}) },
      currency,
    });
  }
  leftOff.sort((a, b) => a.email.localeCompare(b.email));
  return { directory: out, leftOff };
}

/**
 * The ledger's words for the members left off, e.g. `1 member's customer left off the lines: jane@example.com
 * (customer 58 "Jane Doe" is in GBP; a EUR entry of a USD company can name only EUR or USD customers)`. Emails are
 * given whole: the caller masks them before they are stored or logged.
 */
export function leftOffNote(
  leftOff: readonly LeftOffCustomer[],
  entryCurrency: string,
  company: CompanyFacts,
): string | undefined {
  if (leftOff.length === 0) return undefined;
  const entry = entryCurrency.toUpperCase();
  const home = company.homeCurrency.toUpperCase();
  const usable = usableCustomerCurrencies(entry, company).join(' or ');
  const who = leftOff.length === 1 ? "1 member's customer" : `${leftOff.length} members' customers`;
  const each = leftOff.map(
    (l) =>
      `${l.email} (customer ${l.customer.value}${l.customer.name ? ` "${l.customer.name}"` : ''} is in ${l.currency}; ` +
      `a ${entry} entry of a ${home} company can name only ${usable} customers)`,
  );
  return `${who} left off the lines: ${each.join('; ')}`;
}
