// The pending-connection store (`qbo-sync connect` writes, the OAuth callback reads and completes) against
// dynalite-plus, on a tenants table of its own.
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import { connectStateKey, DynamoConnectStateStore } from '../../src/adapters/aws/connect-state-store.js';
import type { AwsResourceNames } from '../../src/adapters/aws/provision.js';
import { provisioned } from './aws-test-helpers.js';

let clients: AwsClients;
let res: AwsResourceNames;

beforeAll(async () => {
  ({ clients, res } = await provisioned('connect-state'));
});

const store = () => new DynamoConnectStateStore({ doc: clients.doc, tableName: res.tenantsTable });
const EXPIRES = Date.UTC(2026, 10, 27, 12, 0, 0);

it('stores a pending connection, reads it back, and completes it once', async () => {
  // Prepare
  const pending = { state: 's-1', tenantId: 'downtown-yoga', expiresAt: EXPIRES, redirectUri: 'http://x/cb' };

  // Act
  await store().put(pending);
  const read = await store().get('s-1');
  const first = await store().complete('s-1', { realmId: '9341453187', completedAt: '2026-11-27T11:55:00Z' });
  const second = await store().complete('s-1', { realmId: '1', completedAt: '2026-11-27T11:56:00Z' });

  // Assess
  expect(read).toEqual(pending);
  expect([first, second]).toEqual([true, false]);
  expect(await store().get('s-1')).toEqual({
    ...pending,
    realmId: '9341453187',
    completedAt: '2026-11-27T11:55:00Z',
  });
  const { Item } = await clients.doc.send(
    new GetCommand({ TableName: res.tenantsTable, Key: { pk: connectStateKey('s-1') } }),
  );
  expect(Item).toMatchObject({ kind: 'connect-state', ttl: Math.floor(EXPIRES / 1000) + 86_400 });
});

it('refuses to overwrite an existing state', async () => {
  await store().put({ state: 's-2', tenantId: 'a-studio', expiresAt: EXPIRES });
  await expect(store().put({ state: 's-2', tenantId: 'other', expiresAt: EXPIRES })).rejects.toMatchObject({
    name: 'ConditionalCheckFailedException',
  });
  expect((await store().get('s-2'))?.tenantId).toBe('a-studio');
});

it('does not complete an unknown state, and reads an unknown or unreadable one as undefined', async () => {
  await clients.doc.send(
    new PutCommand({ TableName: res.tenantsTable, Item: { pk: connectStateKey('s-bad'), tenantId: '' } }),
  );
  expect(await store().complete('s-none', { realmId: '1', completedAt: '2026-11-27T11:55:00Z' })).toBe(false);
  expect(await store().get('s-none')).toBeUndefined();
  expect(await store().get('s-bad')).toBeUndefined();
});

it.each([
  ['epoch seconds', Math.floor(EXPIRES / 1000)],
  ['epoch seconds as text', String(Math.floor(EXPIRES / 1000))],
  ['an ISO date', new Date(EXPIRES).toISOString()],
])('reads expiresAt written as %s as epoch ms', async (_what, expiresAt) => {
  const state = `s-exp-${typeof expiresAt}-${String(expiresAt).length}`;
  await clients.doc.send(
    new PutCommand({
      TableName: res.tenantsTable,
      Item: { pk: connectStateKey(state), tenantId: 'a-studio', expiresAt },
    }),
  );
  expect((await store().get(state))?.expiresAt).toBe(EXPIRES);
});
