import { randomUUID } from 'node:crypto';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { DynamoCustomerMap } from '../../src/adapters/aws/customer-map.js';
import { provisionLocalResources } from '../../src/adapters/aws/provision.js';
import { QuickBooksClientFactory } from '../../src/adapters/quickbooks/client.js';
import { OutOfTimeError } from '../../src/app/errors.js';
import type { QboCustomer, QuickBooksBooks, TokenStore } from '../../src/app/ports.js';
import {
  customerDisplayName,
  resolveCustomers,
  sanitizeDisplayName,
} from '../../src/app/resolve-customers.js';
import type { Member } from '../../src/domain/types.js';
import { type QuickBooksStandIn, startQuickBooksStandIn } from '../../standins/quickbooks/index.js';
import {
  apiCalls,
  FAST_RETRY,
  REALM,
  seedTokens,
  tokenStoreForTest,
} from '../adapters/quickbooks-helpers.js';

let qbo: QuickBooksStandIn;
let store: TokenStore;
let customerMap: DynamoCustomerMap;
let factory: QuickBooksClientFactory;

beforeAll(async () => {
  qbo = await startQuickBooksStandIn();
  ({ store } = await tokenStoreForTest('resolve'));
  const clients = awsClients();
  const resources = await provisionLocalResources(clients, { prefix: `resolve-${randomUUID().slice(0, 8)}` });
  customerMap = new DynamoCustomerMap({ doc: clients.doc, tableName: resources.customersTable });
  await seedTokens(store, qbo);
  factory = new QuickBooksClientFactory({
    tokens: store,
    clientId: qbo.clientId,
    clientSecret: qbo.clientSecret,
    apiBase: qbo.url,
    tokenUrl: qbo.tokenUrl,
    retry: FAST_RETRY,
    limits: { maxInFlight: 10, perMinute: 500 },
  });
});

afterAll(async () => {
  await qbo?.close();
});

beforeEach(() => qbo.clearRequests());

/** Every test works with its own emails, so the shared company and mapping table do not interfere. */
const fresh = (n: number, tag = randomUUID().slice(0, 6)): Member[] =>
  Array.from({ length: n }, (_, i) => ({ email: `m${i}-${tag}@example.com`, name: `Member ${tag} ${i}` }));

const customersWithEmail = (email: string) =>
  qbo
    .entities(REALM, 'Customer')
    .filter(
      (c) => (c.PrimaryEmailAddr as { Address?: string } | undefined)?.Address?.toLowerCase() === email,
    );

/** The real books, failing on the n-th createCustomers call (a crash mid-way). */
function crashingOn(books: QuickBooksBooks, n: number): QuickBooksBooks {
  let calls = 0;
  return {
    realmId: books.realmId,
    findCustomersByEmail: (e) => books.findCustomersByEmail(e),
    createCustomers: async (m) => {
      calls += 1;
      if (calls === n) throw new Error('worker crashed');
      return books.createCustomers(m);
    },
    listCustomers: (p) => books.listCustomers(p),
    findCustomerByName: (d) => books.findCustomerByName(d),
    findCustomersById: (ids) => books.findCustomersById(ids),
    findEntry: (e, p) => books.findEntry(e, p),
    createEntry: (e, r) => books.createEntry(e, r),
    getEntry: (r) => books.getEntry(r),
    deleteEntry: (r, id) => books.deleteEntry(r, id),
    getChart: () => books.getChart(),
    changedEntries: (s) => books.changedEntries(s),
    readEntries: (t, ids) => books.readEntries(t, ids),
    bookCloseDate: () => books.bookCloseDate(),
    getExchangeRate: (c, d) => books.getExchangeRate(c, d),
  };
}

describe('resolveCustomers', () => {
  it('uses the mapping table first, then a QuickBooks lookup, then creates the rest, storing every mapping', async () => {
    // Prepare
    const mappedEmail = `mapped-${randomUUID().slice(0, 6)}@example.com`;
    await customerMap.putMany(REALM, [{ email: mappedEmail, customerId: '4242' }]);
    const created = fresh(2);
    const members: Member[] = [
      { email: `  ${mappedEmail.toUpperCase()} ` },
      { email: 'Jane@Example.com', name: 'Jane' },
      { email: 'sam@example.com' },
      ...created,
      { email: created[0]?.email ?? '', name: 'Duplicate entry' },
      { email: `no-name-${randomUUID().slice(0, 6)}@example.com` },
    ];
    const books = factory.forRealm(REALM);

    // Act
    const result = await resolveCustomers({ customerMap, books }, { realmId: REALM, members });

    // Assess
    expect(result).toMatchObject({ fromMap: 1, lookedUp: 2, created: 3 });
    expect(result.directory.get(mappedEmail)).toEqual({ value: '4242' });
    expect(result.directory.get('jane@example.com')).toMatchObject({ name: 'Jane Doe' });
    expect(result.directory.get('sam@example.com')).toMatchObject({ name: 'Sam Lee (old)' });
    const first = created[0] as Member;
    expect(result.directory.get(first.email)).toMatchObject({ name: first.name });
    const noName = members[members.length - 1] as Member;
    expect(result.directory.get(noName.email)).toMatchObject({ name: noName.email });
    const stored = await customerMap.getMany(REALM, [...result.directory.keys()]);
    for (const [email, ref] of result.directory)
      expect(stored.get(email)).toBe((ref as { value: string }).value);
    expect(customersWithEmail(first.email)).toHaveLength(1);
  });

  it('costs nothing in QuickBooks when every member is mapped', async () => {
    // Prepare
    const members = fresh(3);
    await resolveCustomers({ customerMap, books: factory.forRealm(REALM) }, { realmId: REALM, members });
    qbo.clearRequests();

    // Act
    const again = await resolveCustomers(
      { customerMap, books: factory.forRealm(REALM) },
      { realmId: REALM, members },
    );

    // Assess
    expect(again).toMatchObject({ fromMap: 3, lookedUp: 0, created: 0 });
    expect(apiCalls(qbo)).toHaveLength(0);
  });

  it('dry run: creates and stores nothing, and names the DisplayName each new customer would get', async () => {
    // Prepare
    const members: Member[] = [
      ...fresh(2),
      { email: `x-${randomUUID().slice(0, 6)}@example.com`, name: 'A:B\tC' },
    ];
    const before = qbo.entities(REALM, 'Customer').length;

    // Act
    const result = await resolveCustomers(
      { customerMap, books: factory.forRealm(REALM) },
      { realmId: REALM, members, dryRun: true },
    );

    // Assess
    expect(result.created).toBe(0);
    expect(qbo.entities(REALM, 'Customer')).toHaveLength(before);
    expect(result.directory.get(members[0]?.email ?? '')).toEqual({ value: null, name: members[0]?.name });
    expect(result.directory.get(members[2]?.email ?? '')).toEqual({ value: null, name: 'A B C' });
    expect(
      (
        await customerMap.getMany(
          REALM,
          members.map((m) => m.email),
        )
      ).size,
    ).toBe(0);
    expect(apiCalls(qbo).every((r) => r.method === 'GET' || r.path.endsWith('/batch'))).toBe(true);
    expect(apiCalls(qbo).some((r) => r.requestId !== undefined)).toBe(false);
  });

  it('stores the mappings of each created batch at once, so a crash mid-way keeps them', async () => {
    // Prepare: 65 new members = 3 create batches; the third call crashes
    const members = fresh(65);
    const books = crashingOn(factory.forRealm(REALM), 3);

    // Act
    const error = await resolveCustomers({ customerMap, books }, { realmId: REALM, members }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect((error as Error).message).toBe('worker crashed');
    const stored = await customerMap.getMany(
      REALM,
      members.map((m) => m.email),
    );
    expect(stored.size).toBe(60);
    for (const [email, id] of stored) expect(customersWithEmail(email).map((c) => c.Id)).toEqual([id]);
  });

  it('out of time: stops between batches with OutOfTimeError, created customers stay mapped, the next run continues', async () => {
    // Prepare
    const members = fresh(65);
    let checks = 0;

    // Act
    const error = await resolveCustomers(
      { customerMap, books: factory.forRealm(REALM) },
      { realmId: REALM, members, isOutOfTime: () => ++checks > 1 },
    ).catch((e: unknown) => e);
    const mappedAfterStop = await customerMap.getMany(
      REALM,
      members.map((m) => m.email),
    );
    const next = await resolveCustomers(
      { customerMap, books: factory.forRealm(REALM) },
      { realmId: REALM, members },
    );

    // Assess
    expect(error).toBeInstanceOf(OutOfTimeError);
    expect((error as Error).message).toMatch(/30 of 65 created/);
    expect(mappedAfterStop.size).toBe(30);
    expect(next).toMatchObject({ fromMap: 30, created: 35, lookedUp: 0 });
    for (const m of members) expect(customersWithEmail(m.email)).toHaveLength(1);
  });

  it('maps members whose email QuickBooks cannot take to the walk-in customer', async () => {
    const result = await resolveCustomers(
      { customerMap, books: factory.forRealm(REALM) },
      { realmId: REALM, members: [{ email: 'not-an-email' }], walkIn: { value: '3', name: 'Walk-in' } },
    );
    expect(result.directory.get('not-an-email')).toEqual({ value: '3', name: 'Walk-in' });
    expect(result.created).toBe(0);
    expect(apiCalls(qbo)).toHaveLength(0);
  });

  it('maps customers created by a batch that failed part-way before passing the error on', async () => {
    // Prepare: a fake QuickBooks whose create fails after creating one of two customers
    const members = fresh(2);
    const partial: QboCustomer = {
      id: '777',
      displayName: 'Made',
      email: members[0]?.email ?? '',
      active: true,
    };
    const books: QuickBooksBooks = {
      ...crashingOn(factory.forRealm(REALM), 99),
      findCustomersByEmail: async () => new Map(),
      createCustomers: async () => {
        throw Object.assign(new Error('second one refused'), {
          createdCustomers: new Map([[partial.email, partial]]),
        });
      },
    };

    // Act
    const error = await resolveCustomers({ customerMap, books }, { realmId: REALM, members }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect((error as Error).message).toBe('second one refused');
    const stored = await customerMap.getMany(
      REALM,
      members.map((m) => m.email),
    );
    expect([...stored]).toEqual([[partial.email, '777']]);
  });
});

describe('customer DisplayNames', () => {
  it('uses the name, else the email, without ":" tabs or newlines, at most 500 characters', () => {
    expect(customerDisplayName({ email: 'a@b.co', name: '  Jane   Doe ' })).toBe('Jane Doe');
    expect(customerDisplayName({ email: 'a@b.co' })).toBe('a@b.co');
    expect(customerDisplayName({ email: 'a@b.co', name: ' : ' })).toBe('a@b.co');
    expect(sanitizeDisplayName('x:y\tz\nw')).toBe('x y z w');
    expect(sanitizeDisplayName('n'.repeat(600))).toHaveLength(500);
  });
});
