/**
 * Customers on real companies (CONTRACT §5): an email stored in another case is found whatever QuickBooks' query
 * comparison does (the stand-in compares exactly here), and a customer QuickBooks refuses to create for a reason
 * other than a duplicate name does not hold the payout: the member's lines go to the walk-in customer, or carry no
 * customer, and the refusal is listed.
 */
import { randomUUID } from 'node:crypto';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { DynamoCustomerMap } from '../../src/adapters/aws/customer-map.js';
import { provisionLocalResources } from '../../src/adapters/aws/provision.js';
import { QuickBooksClientFactory } from '../../src/adapters/quickbooks/client.js';
import type { TokenStore } from '../../src/app/ports.js';
import { resolveCustomers } from '../../src/app/resolve-customers.js';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import { FAST_RETRY, REALM, seedTokens, tokenStoreForTest } from './quickbooks-helpers.js';

let qbo: QuickBooksStandIn;
let store: TokenStore;
let customerMap: DynamoCustomerMap;

beforeAll(async () => {
  const seed = demoCompanySeed();
  seed.customers = [
    ...(seed.customers ?? []),
    { DisplayName: 'Surf School', Email: 'Surf@Intuit.com', CreateTime: '2020-01-01T10:00:00.000-07:00' },
  ];
  qbo = await startQuickBooksStandIn({ companies: [seed], emailMatch: 'exact' });
  ({ store } = await tokenStoreForTest('custreal'));
  await seedTokens(store, qbo, REALM);
  const clients = awsClients();
  const resources = await provisionLocalResources(clients, {
    prefix: `custreal-${randomUUID().slice(0, 8)}`,
  });
  customerMap = new DynamoCustomerMap({ doc: clients.doc, tableName: resources.customersTable });
});

afterAll(async () => {
  await qbo?.close();
});

const books = () =>
  new QuickBooksClientFactory({
    tokens: store,
    clientId: qbo.clientId,
    clientSecret: qbo.clientSecret,
    apiBase: qbo.url,
    tokenUrl: qbo.tokenUrl,
    retry: FAST_RETRY,
    limits: { maxInFlight: 10, perMinute: 500 },
    throttlePauseMs: 20,
  }).forRealm(REALM);

it('finds Surf@Intuit.com for surf@intuit.com although the query compares exactly, and creates no duplicate', async () => {
  // Prepare
  const before = qbo.entities(REALM, 'Customer').length;

  // Act
  const resolved = await resolveCustomers(
    { books: books(), customerMap },
    { realmId: REALM, members: [{ email: 'surf@intuit.com', name: 'Surf School' }] },
  );

  // Assess
  const surf = qbo.entities(REALM, 'Customer').find((c) => c.DisplayName === 'Surf School');
  expect(resolved.directory.get('surf@intuit.com')).toMatchObject({ value: String(surf?.Id) });
  expect(resolved.created).toBe(0);
  expect(qbo.entities(REALM, 'Customer')).toHaveLength(before);
  expect(surf?.PrimaryEmailAddr).toEqual({ Address: 'Surf@Intuit.com' });
});

it.each([
  ['the walk-in customer', { value: '999', name: 'Walk-in' }],
  ['no customer', undefined],
])(
  'a creation QuickBooks refuses (not a duplicate name): the member goes to %s, the others are made, it is listed',
  async (_name, walkIn) => {
    // Prepare: QuickBooks refuses one item of the creation batch (an email it finds invalid), in the lower-case form
    const bad = `bad.${randomUUID().slice(0, 6)}@example.com`;
    const good = `good.${randomUUID().slice(0, 6)}@example.com`;
    qbo.injectFault({
      status: 200,
      path: /\/batch\?.*requestid=/, // the creation batch (a write), not the lookup
      body: JSON.stringify({
        BatchItemResponse: [
          {
            bId: '0',
            fault: {
              error: [{ message: 'Invalid Email Address', detail: null, code: '6000', element: null }],
              type: 'ValidationFault',
            },
          },
          {
            bId: '1',
            Customer: { Id: '8801', DisplayName: `Good ${good}`, PrimaryEmailAddr: { Address: good } },
          },
        ],
      }),
      count: 1,
    });
    const b = books();

    // Act
    const resolved = await resolveCustomers(
      { books: b, customerMap },
      {
        realmId: REALM,
        members: [
          { email: bad, name: 'Bad Email' },
          { email: good, name: `Good ${good}` },
        ],
        ...(walkIn ? { walkIn } : {}),
      },
    );

    // Assess
    expect(resolved.directory.get(bad)).toEqual(walkIn ?? null);
    expect(resolved.directory.get(good)).toMatchObject({ value: '8801' });
    expect(resolved.refused).toEqual([
      { email: bad, reason: expect.stringMatching(/6000 Invalid Email Address/) },
    ]);
    expect(resolved.refused[0]?.reason).not.toContain(bad);
  },
);
