/**
 * Resolve customers (CONTRACT §5): the QuickBooks customer of every member of a payout, by email.
 *
 * Primary course:
 *   1. emails normalised (trimmed, lower-cased) and de-duplicated;
 *   2. the mapping table first (one BatchGetItem per 100 emails);
 *   3. the misses looked up in QuickBooks (batched queries, or paging when fewer calls) and the found ones mapped;
 *   4. the rest created in batches of ≤ 30; members sharing a name get "Name (email)" from the start (not after a
 *      duplicate-name refusal), so each is created in one attempt;
 *   5. the mappings (found and created) written in full BatchWriteItem batches of 25 as they accumulate and the rest
 *      before returning or throwing (out of time included): ⌈M/25⌉ writes for M emails missing from the table. A crash
 *      can leave at most 24 created customers unmapped; the next attempt finds them by the lookup (never twice);
 *   6. a dry run (`payouts preview`) creates and stores nothing and returns the DisplayName each would get.
 *
 * Currencies (CONTRACT §4, multicurrency): each customer's QuickBooks currency comes back in `currencies` and is
 * stored with its mapping. Customers are created without `CurrencyRef`, so in the company's home currency, the one
 * currency every entry of the company may name (a home-currency customer fits a EUR entry and a USD one alike;
 * the mapping holds one customer per email and realm). A mapping row stored before currencies were kept has none:
 * with `customerCurrencies` (a multicurrency company), those customers are read by Id (`Id IN (…)`, 100 a query)
 * and the rows completed; one QuickBooks no longer returns (made inactive, deleted) stays unknown.
 */

import type { CustomerDirectory, Member, Ref } from '../domain/types.js';
import { OutOfTimeError } from './errors.js';
import type { CustomerMap, CustomerMapping, QboCustomer, QuickBooksBooks } from './ports.js';

/** QuickBooks' create batch limit. */
export const CREATE_BATCH_SIZE = 30;
/** Create batches in flight at once: QuickBooks allows 10 requests in flight (the adapter's limiter enforces it and the units a minute). */
const CREATE_CONCURRENCY = 10;
/** DynamoDB BatchWriteItem's limit: mappings are written in batches this size. */
const MAPPING_WRITE_BATCH = 25;

/** A DisplayName QuickBooks accepts: no `:`, tab or newline, single spaces, at most 500 characters. */
export function sanitizeDisplayName(name: string): string {
  return name
    .replace(/[:\p{Cc}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 500)
    .trimEnd();
}

/** The DisplayName a new customer gets: the member's name, else the email. */
export function customerDisplayName(member: Member): string {
  return sanitizeDisplayName(member.name ?? '') || sanitizeDisplayName(member.email);
}

const normalise = (email: string) => email.trim().toLowerCase();
/** QuickBooks requires an `@` and a `.` in PrimaryEmailAddr. */
const looksLikeEmail = (email: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);

export interface ResolveCustomersDeps {
  customerMap: CustomerMap;
  books: QuickBooksBooks;
}

export interface ResolveCustomersInput {
  realmId: string;
  members: Member[];
  /** The tenant's walk-in customer: used for members whose email QuickBooks cannot take. */
  walkIn?: Ref;
  dryRun?: boolean;
  /** Checked between create batches; when true, the work stops with `OutOfTimeError` (progress kept). */
  isOutOfTime?: () => boolean;
  /**
   * Every customer's currency is wanted (a multicurrency company's entry): mapped customers whose row has no
   * currency are read from QuickBooks, and their rows completed (not in a dry run).
   */
  customerCurrencies?: boolean;
}

export interface ResolveCustomersResult {
  directory: CustomerDirectory;
  /** Customers created in QuickBooks. */
  created: number;
  /** Customers found by a QuickBooks lookup (and now mapped). */
  lookedUp: number;
  /** Customers found in the mapping table. */
  fromMap: number;
  /**
   * Members whose customer QuickBooks refused to create (an email it finds invalid, say) or whose email cannot be a
   * QuickBooks email: their lines go to the walk-in customer, or carry no customer (CONTRACT §5).
   */
  refused: Array<{ email: string; reason: string }>;
  /** email → the QuickBooks currency (upper case) of the member's customer, where known. */
  currencies: Map<string, string>;
}

function refusedCustomersOf(e: unknown): Map<string, Error> | undefined {
  if (typeof e !== 'object' || e === null || !('refusedCustomers' in e)) return undefined;
  const refused = (e as { refusedCustomers: unknown }).refusedCustomers;
  return refused instanceof Map ? (refused as Map<string, Error>) : undefined;
}

function createdCustomersOf(e: unknown): Map<string, QboCustomer> | undefined {
  if (typeof e !== 'object' || e === null || !('createdCustomers' in e)) return undefined;
  const created = (e as { createdCustomers: unknown }).createdCustomers;
  return created instanceof Map ? (created as Map<string, QboCustomer>) : undefined;
}

export async function resolveCustomers(
  deps: ResolveCustomersDeps,
  input: ResolveCustomersInput,
): Promise<ResolveCustomersResult> {
  const { customerMap, books } = deps;
  const { realmId } = input;
  const directory = new Map<string, Ref | { value: null; name: string } | null>();
  const refused: ResolveCustomersResult['refused'] = [];
  const noCustomer = (email: string, reason: string) => {
    directory.set(email, input.walkIn ?? null);
    refused.push({ email, reason });
  };

  // 1. One member per email; the first non-empty name wins.
  const members = new Map<string, Member>();
  for (const m of input.members) {
    const email = normalise(m.email);
    if (email === '') continue;
    if (!looksLikeEmail(email)) {
      noCustomer(email, 'not an email QuickBooks accepts (it needs an @ and a dot)');
      continue;
    }
    const known = members.get(email);
    if (!known) members.set(email, { email, ...(m.name?.trim() ? { name: m.name.trim() } : {}) });
    else if (!known.name && m.name?.trim()) known.name = m.name.trim();
  }
  const emails = [...members.keys()];

  // 2. The mapping table.
  const currencies = new Map<string, string>();
  const mapped =
    emails.length > 0 ? await customerMap.getMappings(realmId, emails) : new Map<string, CustomerMapping>();
  for (const [email, row] of mapped) {
    if (!members.has(email)) continue;
    directory.set(email, { value: row.customerId });
    if (row.currency !== undefined) currencies.set(email, row.currency);
  }
  const fromMap = emails.filter((e) => mapped.has(e)).length;
  const completed = input.customerCurrencies
    ? await completeCurrencies(books, mapped, currencies, directory)
    : [];

  // 3. QuickBooks lookup for the misses.
  const misses = emails.filter((e) => !mapped.has(e));
  const found = misses.length > 0 ? await books.findCustomersByEmail(misses) : new Map<string, QboCustomer>();
  const foundEntries: MappingEntry[] = [];
  for (const email of misses) {
    const c = found.get(email);
    if (!c) continue;
    directory.set(email, { value: c.id, name: c.displayName });
    if (c.currency !== undefined) currencies.set(email, c.currency);
    foundEntries.push(mappingOf(email, c));
  }
  // 5. Mappings not written yet: written 25 at a time as they accumulate, the rest before returning or throwing.
  const unwritten: MappingEntry[] = input.dryRun ? [] : [...completed, ...foundEntries];
  const writeMappings = async (all: boolean) => {
    const n = all ? unwritten.length : unwritten.length - (unwritten.length % MAPPING_WRITE_BATCH);
    if (n > 0) await customerMap.putMany(realmId, unwritten.splice(0, n));
  };

  // 4. Creation. Members sharing a DisplayName: the first keeps it, the others get "Name (email)" at once.
  const takenNames = new Set<string>();
  const toCreate = misses
    .filter((e) => !found.has(e))
    .map((e) => {
      const member = members.get(e) as Member;
      let displayName = customerDisplayName(member);
      if (takenNames.has(displayName.toLowerCase())) {
        const suffix = ` (${member.email})`;
        displayName = sanitizeDisplayName(
          `${displayName.slice(0, Math.max(1, 500 - suffix.length)).trimEnd()}${suffix}`,
        );
      }
      takenNames.add(displayName.toLowerCase());
      return { email: member.email, displayName };
    });
  if (input.dryRun) {
    for (const m of toCreate) directory.set(m.email, { value: null, name: m.displayName });
    return { directory, created: 0, lookedUp: foundEntries.length, fromMap, refused, currencies };
  }

  let created = 0;
  const record = async (customers: Map<string, QboCustomer>) => {
    const entries = [...customers].map(([email, c]) => mappingOf(email, c));
    if (entries.length === 0) return;
    for (const [email, c] of customers) {
      directory.set(email, { value: c.id, name: c.displayName });
      if (c.currency !== undefined) currencies.set(email, c.currency);
    }
    created += entries.length;
    unwritten.push(...entries);
    await writeMappings(false);
  };

  const batches: { email: string; displayName: string }[][] = [];
  for (let i = 0; i < toCreate.length; i += CREATE_BATCH_SIZE)
    batches.push(toCreate.slice(i, i + CREATE_BATCH_SIZE));
  let next = 0;
  let outOfTime = false;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < batches.length && !failure) {
      if (input.isOutOfTime?.()) {
        outOfTime = true;
        return;
      }
      const batch = batches[next++] as { email: string; displayName: string }[];
      try {
        await record(await books.createCustomers(batch));
      } catch (e) {
        const partial = createdCustomersOf(e);
        if (partial) {
          try {
            await record(partial);
          } catch {
            // The original error matters more; the customers will be found by the lookup next time.
          }
        }
        // Customers QuickBooks refused for a reason of its own do not hold the payout (CONTRACT §5).
        const refusals = refusedCustomersOf(e);
        for (const [email, why] of refusals ?? []) noCustomer(email, why.message);
        const onlyRefusals = refusals !== undefined && [...refusals.values()].includes(e as Error);
        if (!onlyRefusals) failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, batches.length) }, worker));
  try {
    await writeMappings(true);
  } catch (e) {
    failure ??= { error: e };
  }
  if (failure) throw failure.error;
  if (outOfTime) {
    throw new OutOfTimeError(
      `out of time while creating QuickBooks customers: ${created} of ${toCreate.length} created and mapped; the rest continue in the next invocation`,
    );
  }
  return { directory, created, lookedUp: foundEntries.length, fromMap, refused, currencies };
}

type MappingEntry = { email: string; customerId: string; currency?: string };

function mappingOf(email: string, c: QboCustomer): MappingEntry {
  return { email, customerId: c.id, ...(c.currency !== undefined ? { currency: c.currency } : {}) };
}

/**
 * Mapping rows without a currency (stored before currencies were kept): their customers are read by Id and the
 * currencies (and names) filled in; returns the rows to store again, now with their currencies.
 */
async function completeCurrencies(
  books: QuickBooksBooks,
  mapped: ReadonlyMap<string, CustomerMapping>,
  currencies: Map<string, string>,
  directory: Map<string, Ref | { value: null; name: string } | null>,
): Promise<MappingEntry[]> {
  const unknown = [...mapped].filter(([email]) => directory.has(email) && !currencies.has(email));
  if (unknown.length === 0) return [];
  const read = await books.findCustomersById(unknown.map(([, row]) => row.customerId));
  const out: MappingEntry[] = [];
  for (const [email, row] of unknown) {
    const c = read.get(row.customerId);
    if (c?.currency === undefined) continue;
    currencies.set(email, c.currency);
    directory.set(email, { value: c.id, name: c.displayName });
    out.push(mappingOf(email, c));
  }
  return out;
}
