/**
 * The QuickBooks client's customers (CONTRACT §5), against the stand-in: lookups by email (batched queries or
 * paging, whichever costs fewer calls; misses confirmed case-insensitively), creation in batches with unique names.
 * Split from quickbooks-client.test.ts (retries, limits, entries and chart stay there).
 */
import type { QuickBooksClientFactory } from '../../src/adapters/quickbooks/client.js';
import { QboValidationFault } from '../../src/adapters/quickbooks/faults.js';
import type { TokenStore } from '../../src/app/ports.js';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import {
  apiCalls,
  BIG_COUNT,
  BIG_REALM,
  bigCompany,
  bigEmail,
  clientFactory,
  connectedClient,
  REALM,
  tokenStoreForTest,
} from './quickbooks-helpers.js';

let qbo: QuickBooksStandIn;
let refusing: QuickBooksStandIn;
let store: TokenStore;

beforeAll(async () => {
  [qbo, refusing] = await Promise.all([
    startQuickBooksStandIn({ companies: [demoCompanySeed(), bigCompany()] }),
    startQuickBooksStandIn({ emailQuery: 'refused' }),
  ]);
  ({ store } = await tokenStoreForTest('client'));
});

afterAll(async () => {
  await Promise.all([qbo?.close(), refusing?.close()]);
});

beforeEach(() => {
  qbo.clearRequests();
  qbo.setLatency(0);
  refusing.clearRequests();
});

const _factory = (
  standIn: QuickBooksStandIn = qbo,
  extra: Partial<ConstructorParameters<typeof QuickBooksClientFactory>[0]> = {},
) => clientFactory(store, standIn, extra);

/** A fresh access token for the realm, so the tests count API calls only. */
const connected = (standIn: QuickBooksStandIn, realmId = REALM) => connectedClient(store, standIn, realmId);

describe('QuickBooksRealmClient: customers', () => {
  it('finds customers by email in one batch, case-insensitively; the oldest active one wins; inactive ones are absent', async () => {
    // Prepare
    const f = await connected(qbo);

    // Act
    const found = await f
      .forRealm(REALM)
      .findCustomersByEmail([
        ' JANE@example.com ',
        'sam@example.com',
        'former@example.com',
        'nobody@example.com',
      ]);

    // Assess
    expect([...found.keys()].sort()).toEqual(['jane@example.com', 'sam@example.com']);
    expect(found.get('jane@example.com')).toMatchObject({
      displayName: 'Jane Doe',
      email: 'jane@example.com',
      active: true,
    });
    expect(found.get('sam@example.com')?.displayName).toBe('Sam Lee (old)');
    const calls = apiCalls(qbo);
    // One lookup batch (no count query for a single batch), then the two emails it did not find are confirmed
    // against the list of every customer (one page here), compared case-insensitively by the client.
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ method: 'POST', batchItems: 4, status: 200 });
    expect(calls[0]?.query.minorversion).toBe('75');
    expect(calls[1]?.query.query).toBe('SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 1000');
  });

  it('pages a company of 2,500 customers 1,000 at a time', async () => {
    // Prepare
    const f = await connected(qbo, BIG_REALM);
    const progress: number[] = [];

    // Act
    const all = await f.forRealm(BIG_REALM).listCustomers((n) => progress.push(n));

    // Assess
    expect(all).toHaveLength(BIG_COUNT);
    expect(new Set(all.map((c) => c.id)).size).toBe(BIG_COUNT);
    expect(progress).toEqual([1000, 2000, 2500]);
    expect(apiCalls(qbo).map((r) => r.query.query)).toEqual([
      'SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 1000',
      'SELECT * FROM Customer STARTPOSITION 1001 MAXRESULTS 1000',
      'SELECT * FROM Customer STARTPOSITION 2001 MAXRESULTS 1000',
    ]);
  });

  it('pages instead of querying when ⌈K/1000⌉ pages take fewer calls than ⌈M/30⌉ lookup batches', async () => {
    // Prepare: 100 emails = 4 lookup batches; 2,500 customers = 3 pages
    const f = await connected(qbo, BIG_REALM);
    const emails = [
      ...Array.from({ length: 50 }, (_, i) => bigEmail(i * 40)),
      ...Array.from({ length: 50 }, (_, i) => `new${i}@example.com`),
    ];

    // Act
    const found = await f.forRealm(BIG_REALM).findCustomersByEmail(emails);

    // Assess
    expect(found.size).toBe(50);
    expect(found.get(bigEmail(40))?.displayName).toBe('Member 40');
    const calls = apiCalls(qbo);
    expect(calls.map((r) => r.query.query ?? 'batch')).toEqual([
      'SELECT COUNT(*) FROM Customer',
      ...Array.from({ length: 3 }, () =>
        expect.stringMatching(/^SELECT \* FROM Customer STARTPOSITION \d+ MAXRESULTS 1000$/),
      ),
    ]);
    expect(f.calls.forRealm(BIG_REALM)).toMatchObject({ requests: 4, batchRequests: 0 });
  });

  it('queries in batches of 30 when that takes fewer calls than paging', async () => {
    // Prepare: 40 emails = 2 lookup batches < 3 pages
    const f = await connected(qbo, BIG_REALM);
    const emails = Array.from({ length: 40 }, (_, i) => bigEmail(i * 7));

    // Act
    const found = await f.forRealm(BIG_REALM).findCustomersByEmail(emails);

    // Assess
    expect(found.size).toBe(40);
    const calls = apiCalls(qbo);
    expect(calls[0]?.query.query).toBe('SELECT COUNT(*) FROM Customer');
    expect(calls.slice(1).map((r) => r.batchItems)).toEqual([30, 10]);
    expect(f.calls.forRealm(BIG_REALM)).toMatchObject({
      requests: 3,
      batchRequests: 2,
      batchItems: 40,
      units: 41,
    });
  });

  it('falls back to paging when QuickBooks refuses the email query (4001), and remembers it', async () => {
    // Prepare
    const f = await connected(refusing);
    const books = f.forRealm(REALM);

    // Act
    const first = await books.findCustomersByEmail(['jane@example.com', 'sam@example.com']);
    const second = await books.findCustomersByEmail(['john.smith@example.com']);

    // Assess
    expect(first.get('jane@example.com')?.displayName).toBe('Jane Doe');
    expect(first.get('sam@example.com')?.displayName).toBe('Sam Lee (old)');
    expect(second.get('john.smith@example.com')?.displayName).toBe('John Smith');
    expect(apiCalls(refusing).map((r) => (r.path.endsWith('/batch') ? 'batch' : r.query.query))).toEqual([
      'batch',
      'SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 1000',
      'SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 1000',
    ]);
  });

  it('creates customers in batches of at most 30, each with a requestid', async () => {
    // Prepare
    const f = await connected(qbo);
    const members = Array.from({ length: 31 }, (_, i) => ({
      email: `Batch${i}@Example.com`,
      displayName: `Batch Member ${i}`,
    }));

    // Act
    const created = await f.forRealm(REALM).createCustomers(members);

    // Assess
    expect(created.size).toBe(31);
    expect(created.get('batch7@example.com')).toMatchObject({
      displayName: 'Batch Member 7',
      email: 'batch7@example.com',
    });
    const calls = apiCalls(qbo);
    expect(calls.map((r) => r.batchItems)).toEqual([30, 1]);
    for (const c of calls) expect(c.requestId?.length).toBeLessThanOrEqual(36);
    expect(new Set(calls.map((c) => c.requestId)).size).toBe(2);
    const stored = qbo.entities(REALM, 'Customer').find((c) => c.DisplayName === 'Batch Member 30');
    expect(stored?.PrimaryEmailAddr).toEqual({ Address: 'batch30@example.com' });
  });

  it('makes a taken DisplayName unique: "Name (email)", then a counter; strips ":" tabs and newlines', async () => {
    // Prepare
    const f = await connected(qbo);
    const books = f.forRealm(REALM);
    await books.createCustomers([{ email: 'twin@example.com', displayName: 'Jane Doe (jane2@example.com)' }]);
    qbo.clearRequests();

    // Act
    const created = await books.createCustomers([
      { email: 'jane2@example.com', displayName: 'Jane Doe' }, // "Jane Doe" and "Jane Doe (jane2@…)" are taken
      { email: 'jane3@example.com', displayName: 'Jane Doe' },
      { email: 'odd@example.com', displayName: 'Odd:\tName\nHere' },
      { email: 'noname@example.com', displayName: '' },
    ]);

    // Assess
    expect(created.get('jane2@example.com')?.displayName).toBe('Jane Doe (jane2@example.com) 2');
    expect(created.get('jane3@example.com')?.displayName).toBe('Jane Doe (jane3@example.com)');
    expect(created.get('odd@example.com')?.displayName).toBe('Odd Name Here');
    expect(created.get('noname@example.com')?.displayName).toBe('noname@example.com');
    // Round 1: 4 items (2 refused); round 2: 2 items (1 refused); round 3: 1 item
    expect(apiCalls(qbo).map((r) => r.batchItems)).toEqual([4, 2, 1]);
  });

  it('reports a batch with partial faults: the others are created and handed back with the error', async () => {
    // Prepare
    const f = await connected(qbo);

    // Act
    const error = await f
      .forRealm(REALM)
      .createCustomers([
        { email: 'good1@example.com', displayName: 'Good One' },
        { email: 'broken@nodot', displayName: 'Broken Email' },
        { email: 'good2@example.com', displayName: 'Good Two' },
      ])
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(QboValidationFault);
    expect((error as QboValidationFault).message).toMatch(/b\*\*\*@nodot/);
    expect((error as QboValidationFault).message).not.toContain('broken@nodot');
    const partial = (error as { createdCustomers?: Map<string, unknown> }).createdCustomers;
    expect([...(partial?.keys() ?? [])].sort()).toEqual(['good1@example.com', 'good2@example.com']);
    expect(apiCalls(qbo)).toHaveLength(1);
  });

  it('escapes an apostrophe in a looked-up email, and finds a customer by DisplayName', async () => {
    const f = await connected(qbo);
    const books = f.forRealm(REALM);
    await books.createCustomers([{ email: "o'brien@example.com", displayName: "Pat O'Brien" }]);

    const found = await books.findCustomersByEmail(["O'Brien@example.com"]);
    expect(found.get("o'brien@example.com")?.displayName).toBe("Pat O'Brien");
    await expect(books.findCustomerByName("Pat O'Brien")).resolves.toMatchObject({
      email: "o'brien@example.com",
    });
    await expect(books.findCustomerByName('Nobody At All')).resolves.toBeUndefined();
  });
});
