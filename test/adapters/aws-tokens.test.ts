// The token store: tokens in Secrets Manager, the refresh lock as a lease item in the tenants table.
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { AwsResourceNames } from '../../src/adapters/aws/provision.js';
import { SecretsTokenStore, type SecretsTokenStoreOptions } from '../../src/adapters/aws/token-store.js';
import { ReconnectRequiredError, TransientError } from '../../src/app/errors.js';
import type { QboTokens } from '../../src/app/ports.js';
import { provisioned } from './aws-test-helpers.js';

let clients: AwsClients;
let res: AwsResourceNames;
let prefix: string;

beforeAll(async () => {
  ({ clients, res, prefix } = await provisioned('tokens'));
});

const store = (extra: Partial<SecretsTokenStoreOptions> = {}) =>
  new SecretsTokenStore({
    secrets: clients.secrets,
    doc: clients.doc,
    tenantsTable: res.tenantsTable,
    secretPrefix: `${prefix}/qbo-tokens/`,
    pollMs: 10,
    ...extra,
  });

const tokens = (realmId: string, n: number): QboTokens => ({
  realmId,
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  accessTokenExpiresAt: 1_800_000_000_000 + n,
  refreshTokenExpiresAt: 1_900_000_000_000,
  updatedAt: `2026-11-0${n}T00:00:00.000Z`,
});

describe('SecretsTokenStore tokens', () => {
  it('stores tokens in a per-realm secret (created on first put) and reads the latest back', async () => {
    const s = store();
    expect(await s.get('4001')).toBeUndefined();

    await s.put(tokens('4001', 1));
    await s.put(tokens('4001', 2));

    expect(await s.get('4001')).toEqual(tokens('4001', 2));
    expect(s.secretName('4001')).toBe(`${prefix}/qbo-tokens/4001`);
  });

  it('refuses incomplete tokens, and reports a secret that holds something else without quoting it', async () => {
    const s = store();
    await expect(s.put({ ...tokens('4002', 1), refreshToken: '' })).rejects.toThrow(/refreshToken/);
    await clients.secrets.send(
      new CreateSecretCommand({
        Name: s.secretName('4003'),
        SecretString: 'not json at all: refresh-SECRET',
      }),
    );
    const err = await s.get('4003').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReconnectRequiredError);
    expect((err as Error).message).not.toContain('refresh-SECRET');
  });
});

describe('SecretsTokenStore.withRefreshLock', () => {
  it('runs two concurrent holders for one realm strictly one after the other', async () => {
    // Prepare
    const events: string[] = [];
    const critical = (name: string) => async () => {
      events.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, 150));
      events.push(`${name}:end`);
      return name;
    };

    // Act: two stores, as two Lambda instances would be.
    const results = await Promise.all([
      store().withRefreshLock('5001', critical('a')),
      store().withRefreshLock('5001', critical('b')),
    ]);

    // Assess
    expect(results).toEqual(['a', 'b']);
    expect([
      ['a:start', 'a:end', 'b:start', 'b:end'],
      ['b:start', 'b:end', 'a:start', 'a:end'],
    ]).toContainEqual(events);
    const lock = await clients.doc.send(
      new GetCommand({
        TableName: res.tenantsTable,
        Key: { pk: 'LOCK#qbo-refresh#5001' },
        ConsistentRead: true,
      }),
    );
    expect(lock.Item).toBeUndefined();
  });

  it('does not make different realms wait for each other', async () => {
    const events: string[] = [];
    const critical = (name: string) => async () => {
      events.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, 100));
      events.push(`${name}:end`);
    };
    await Promise.all([
      store().withRefreshLock('5101', critical('a')),
      store().withRefreshLock('5102', critical('b')),
    ]);
    expect(events.slice(0, 2).sort()).toEqual(['a:start', 'b:start']);
  });

  it('takes over a stale lock left by a crashed holder', async () => {
    // Prepare
    await clients.doc.send(
      new PutCommand({
        TableName: res.tenantsTable,
        Item: { pk: 'LOCK#qbo-refresh#5002', owner: 'crashed', expiresAt: Date.now() - 1000 },
      }),
    );

    // Act
    const started = Date.now();
    const out = await store({ waitTimeoutMs: 2000 }).withRefreshLock('5002', async () => 'ran');

    // Assess
    expect(out).toBe('ran');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('gives up with a TransientError when the lock stays held past the wait timeout', async () => {
    await clients.doc.send(
      new PutCommand({
        TableName: res.tenantsTable,
        Item: { pk: 'LOCK#qbo-refresh#5003', owner: 'someone', expiresAt: Date.now() + 60_000 },
      }),
    );
    let ran = false;
    const err = await store({ waitTimeoutMs: 100 })
      .withRefreshLock('5003', async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/refresh lock of realm 5003/);
    expect(ran).toBe(false);
    // Someone else's lock is left alone.
    const lock = await clients.doc.send(
      new GetCommand({
        TableName: res.tenantsTable,
        Key: { pk: 'LOCK#qbo-refresh#5003' },
        ConsistentRead: true,
      }),
    );
    expect(lock.Item?.owner).toBe('someone');
  });

  it('keeps the lease alive while a long holder runs, and releases it when fn throws', async () => {
    // A lease of 600 ms, beaten every 200 ms: wide enough that a loaded 2-core machine does not lose it.
    const s = store({ leaseMs: 600 });
    const waiter = store({ leaseMs: 600, waitTimeoutMs: 8000 });
    const events: string[] = [];
    const long = s.withRefreshLock('5004', async () => {
      events.push('long:start');
      await new Promise((r) => setTimeout(r, 2000)); // more than 3 leases: only the heartbeat keeps it
      events.push('long:end');
      throw new Error('refresh failed');
    });
    await new Promise((r) => setTimeout(r, 20));
    const second = waiter.withRefreshLock('5004', async () => {
      events.push('second');
    });
    await expect(long).rejects.toThrow('refresh failed');
    await second;
    expect(events).toEqual(['long:start', 'long:end', 'second']);
  });
});
