// The DynamoDB adapters (tenant store, customer map, ledger) against dynalite-plus, on tables of their own.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import { DynamoCustomerMap } from '../../src/adapters/aws/customer-map.js';
import { DynamoLedger } from '../../src/adapters/aws/ledger.js';
import type { AwsResourceNames } from '../../src/adapters/aws/provision.js';
import { DynamoTenantStore, StripeAccountTakenError } from '../../src/adapters/aws/tenant-store.js';
import { PermanentError } from '../../src/app/errors.js';
import type { StoredTenant } from '../../src/app/ports.js';
import { provisioned } from './aws-test-helpers.js';

let clients: AwsClients;
let res: AwsResourceNames;

beforeAll(async () => {
  ({ clients, res } = await provisioned('stores'));
});

function tenant(id: string, stripeAccount: string, realmId = '9341453187'): StoredTenant {
  const ref = (value: string, name: string) => ({ value, name });
  return {
    books: {
      tenantId: id,
      stripeAccount,
      realmId,
      depositAccount: { ...ref('35', 'Checking'), currency: 'USD' },
      processingFeesAccount: ref('80', 'Stripe Fees'),
      platformFeesAccount: ref('80', 'Stripe Fees'),
      adjustmentsAccount: ref('81', 'Stripe Adjustments'),
      lineDetail: 'customer',
      maxDepositLines: 1000,
      closedPeriod: 'hold',
      revenue: [{ category: 'Classes', account: ref('79', 'Class Revenue'), class: ref('5', 'Online') }],
      company: { homeCurrency: 'USD', multicurrency: false, classTrackingPerTxnLine: true },
    },
    source: {
      id,
      stripeAccount,
      quickbooks: {
        realmId,
        depositAccount: 'Checking',
        processingFeesAccount: 'Stripe Fees',
        adjustmentsAccount: 'Stripe Adjustments',
        lineDetail: 'customer',
        maxDepositLines: 1000,
        closedPeriod: 'hold',
      },
      revenue: [{ category: 'Classes', account: 'Class Revenue', class: 'Online' }],
    },
    updatedAt: '2026-11-01T10:00:00.000Z',
  };
}

describe('DynamoTenantStore', () => {
  const store = () => new DynamoTenantStore({ doc: clients.doc, tableName: res.tenantsTable });

  it('puts a tenant and finds it by id and by Stripe account', async () => {
    // Prepare
    const t = tenant('downtown-yoga', 'acct_1Down');

    // Act
    await store().put(t);

    // Assess
    expect(await store().get('downtown-yoga')).toEqual(t);
    expect(await store().findByStripeAccount('acct_1Down')).toEqual(t);
    expect(await store().get('nobody')).toBeUndefined();
    expect(await store().findByStripeAccount('acct_unknown')).toBeUndefined();
  });

  it('refuses a Stripe account owned by another tenant, with a clear error, and changes nothing', async () => {
    await store().put(tenant('owner-studio', 'acct_1Owned'));

    const err = await store()
      .put(tenant('thief-studio', 'acct_1Owned'))
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(StripeAccountTakenError);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toBe(
      'Stripe account acct_1Owned already belongs to tenant "owner-studio", so tenant "thief-studio" cannot use it',
    );
    expect(await store().get('thief-studio')).toBeUndefined();
    expect((await store().findByStripeAccount('acct_1Owned'))?.books.tenantId).toBe('owner-studio');
  });

  it('moves a tenant to a new Stripe account and frees the old one', async () => {
    await store().put(tenant('mover', 'acct_1Old'));

    await store().put({ ...tenant('mover', 'acct_1New'), updatedAt: '2026-11-02T00:00:00.000Z' });

    expect((await store().findByStripeAccount('acct_1New'))?.books.tenantId).toBe('mover');
    expect(await store().findByStripeAccount('acct_1Old')).toBeUndefined();
    // The freed account can now go to someone else.
    await store().put(tenant('newcomer', 'acct_1Old'));
    expect((await store().findByStripeAccount('acct_1Old'))?.books.tenantId).toBe('newcomer');
  });

  it('lists tenants by id, leaving pointers and locks out', async () => {
    await clients.doc.send(
      new PutCommand({
        TableName: res.tenantsTable,
        Item: { pk: 'LOCK#qbo-refresh#1', owner: 'x', expiresAt: 1 },
      }),
    );
    const ids = (await store().list()).map((t) => t.books.tenantId);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['downtown-yoga', 'mover', 'owner-studio']));
    expect(ids).not.toContain('thief-studio');
  });

  it('rejects a malformed stored item, naming it', async () => {
    await clients.doc.send(
      new PutCommand({ TableName: res.tenantsTable, Item: { pk: 'TENANT#broken', books: 'x' } }),
    );
    await expect(store().get('broken')).rejects.toThrow(/TENANT#broken is malformed/);
  });
});

describe('DynamoCustomerMap', () => {
  it('reads 250 emails in 3 BatchGetItem calls and writes 60 mappings in 3 BatchWriteItem calls', async () => {
    // Prepare
    const map = new DynamoCustomerMap({ doc: clients.doc, tableName: res.customersTable });
    const emails = Array.from({ length: 250 }, (_, i) => `member${i}@example.com`);
    const known = emails.slice(0, 60).map((email, i) => ({ email, customerId: String(1000 + i) }));

    // Act
    await map.putMany('111', known);
    const writes = map.calls;
    const found = await map.getMany('111', emails);
    const reads = map.calls - writes;

    // Assess
    expect(writes).toBe(3);
    expect(reads).toBe(3);
    expect(found.size).toBe(60);
    expect(found.get('member0@example.com')).toBe('1000');
    expect(found.get('member59@example.com')).toBe('1059');
    expect(found.has('member60@example.com')).toBe(false);
  });

  it('keeps realms apart, de-duplicates, and lets the last write of an email win', async () => {
    const map = new DynamoCustomerMap({ doc: clients.doc, tableName: res.customersTable });
    await map.putMany('222', [
      { email: 'jane@example.com', customerId: '1' },
      { email: 'jane@example.com', customerId: '2' },
    ]);
    const r222 = await map.getMany('222', ['jane@example.com', 'jane@example.com']);
    const r333 = await map.getMany('333', ['jane@example.com']);
    expect([...r222]).toEqual([['jane@example.com', '2']]);
    expect(r333.size).toBe(0);
    expect(await map.getMany('222', [])).toEqual(new Map());
  });
});

describe('DynamoLedger', () => {
  let n = 0;
  const clock = () => new Date(Date.UTC(2026, 10, 1, 0, 0, n++));
  const ledger = () => new DynamoLedger({ doc: clients.doc, tableName: res.ledgerTable, now: clock });

  it('ensure creates a RECEIVED row once and returns the stored row afterwards', async () => {
    // Act
    const l = ledger();
    const first = await l.ensure('po_ens', 'studio-a', 'evt_1');
    const second = await l.ensure('po_ens', 'studio-b', 'evt_2');

    // Assess
    expect(first).toMatchObject({
      payoutId: 'po_ens',
      tenantId: 'studio-a',
      status: 'RECEIVED',
      reason: null,
      hint: null,
      quickbooks: null,
      intent: null,
      generation: 0,
      version: 0,
      attempts: 0,
      lastEventId: 'evt_1',
    });
    expect(second).toEqual(first);
    expect(await l.get('po_ens')).toEqual(first);
    expect(l.calls).toBe(4); // put, put (refused) + get, get
  });

  it('update applies a patch on the expected version only, bumping version and updatedAt', async () => {
    const l = ledger();
    const row = await l.ensure('po_upd', 'studio-a');

    const posting = await l.update('po_upd', row.version, {
      status: 'POSTING',
      intent: { requestId: 'req-1', entryType: 'Deposit' },
      attempts: 1,
    });
    const stale = await l.update('po_upd', row.version, { status: 'HELD', reason: 'late' });
    const missing = await l.update('po_nowhere', 0, { status: 'HELD' });

    expect(posting).toMatchObject({
      status: 'POSTING',
      version: row.version + 1,
      attempts: 1,
      intent: { requestId: 'req-1', entryType: 'Deposit' },
      createdAt: row.createdAt,
    });
    expect((posting?.updatedAt ?? '') > row.updatedAt).toBe(true);
    expect(stale).toBeUndefined();
    expect(missing).toBeUndefined();
    expect(await l.get('po_upd')).toEqual(posting);
  });

  it('lists newest first, by tenant through the index or across tenants, filtered by status, limited', async () => {
    // Prepare: tenant t1 has 3 rows, t2 has 2, each updated at a distinct time.
    const l = ledger();
    for (const [po, t] of [
      ['po_l1', 'list-t1'],
      ['po_l2', 'list-t2'],
      ['po_l3', 'list-t1'],
      ['po_l4', 'list-t2'],
      ['po_l5', 'list-t1'],
    ] as const) {
      await l.ensure(po, t);
    }
    const held = await l.ensure('po_l3', 'list-t1');
    await l.update('po_l3', held.version, { status: 'HELD', reason: 'unmapped category', hint: 'map it' });

    // Act
    const t1 = await l.list({ tenantId: 'list-t1' });
    const t1Held = await l.list({ tenantId: 'list-t1', status: 'HELD' });
    const t1Limited = await l.list({ tenantId: 'list-t1', limit: 2 });
    const all = await l.list({ limit: 1000 });
    const allReceived = await l.list({ status: 'RECEIVED', limit: 1000 });

    // Assess
    expect(t1.map((r) => r.payoutId)).toEqual(['po_l3', 'po_l5', 'po_l1']);
    expect(t1Held.map((r) => r.payoutId)).toEqual(['po_l3']);
    expect(t1Limited.map((r) => r.payoutId)).toEqual(['po_l3', 'po_l5']);
    const listed = all.filter((r) => r.payoutId.startsWith('po_l')).map((r) => r.payoutId);
    expect(listed).toEqual(['po_l3', 'po_l5', 'po_l4', 'po_l2', 'po_l1']);
    expect(all.map((r) => r.updatedAt)).toEqual([...all.map((r) => r.updatedAt)].sort().reverse());
    expect(allReceived.every((r) => r.status === 'RECEIVED')).toBe(true);
    expect(allReceived.map((r) => r.payoutId)).not.toContain('po_l3');
    expect(await l.list({ tenantId: 'nobody' })).toEqual([]);
  });

  it('defaults the limit to 50', async () => {
    const l = ledger();
    await Promise.all(Array.from({ length: 55 }, (_, i) => l.ensure(`po_many_${i}`, 'many')));
    expect(await l.list({ tenantId: 'many' })).toHaveLength(50);
  });
});
