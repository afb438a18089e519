/**
 * Post first (CONTRACT §5): the customers message (its packing and its message group), and `lineDetail: category`
 * through the deposit-builder handler on the real FIFO queue: posted at once, its members' customers queued in the
 * tenant's customers group and created afterwards. (Folded payouts through local mode: test/e2e/customers-after-posting.)
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { createCustomersAfterPosting } from '../../src/app/customers-after-posting.js';
import {
  messageGroupOf,
  packMembers,
  parsePayoutMessage,
  unpackMembers,
} from '../../src/app/payout-message.js';
import { generatePayout } from '../../standins/stripe/index.js';
import {
  drainQueue,
  type Harness,
  lambdaContext,
  REALM,
  sqsRecord,
  startHarness,
  tenantConfig,
} from './harness.js';

describe('the customers message', () => {
  it('packs members small and unpacks them as they were', () => {
    const members = Array.from({ length: 2000 }, (_, i) => ({
      email: `member.${i}@example.org`,
      ...(i % 3 === 0 ? {} : { name: `Zoë Ñandú ${i}` }),
    }));
    const parts = packMembers(members);
    expect(parts).toHaveLength(1);
    expect(parts[0]?.packed.length).toBeLessThan(JSON.stringify(members).length / 4);
    expect(unpackMembers(parts[0] ?? { packed: '', count: 0 })).toEqual(members);
  });

  it('splits members over several messages when one would be too large', () => {
    const members = Array.from({ length: 3000 }, (_, i) => ({
      email: `m${i}.${(i * 7919) % 10007}@example.org`,
    }));
    const parts = packMembers(members, 4000);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.packed.length).toBeLessThanOrEqual(4000);
    expect(parts.flatMap((p) => unpackMembers(p))).toEqual(members);
  });

  it('refuses a count that does not match, and text that is not packed members', () => {
    const [part] = packMembers([{ email: 'a@example.org' }]);
    expect(() => unpackMembers({ packed: part?.packed ?? '', count: 2 })).toThrow(
      /says 2 customers but carries 1/,
    );
    expect(() => unpackMembers({ packed: 'bm90IGd6aXA=', count: 1 })).toThrow(/cannot be unpacked/);
  });

  it('goes in a message group of its own, apart from the tenant’s payouts', () => {
    expect(messageGroupOf({ tenantId: 'downtown-yoga', eventType: 'payout.paid' })).toBe('downtown-yoga');
    expect(messageGroupOf({ tenantId: 'downtown-yoga', eventType: 'customers' })).toBe(
      'downtown-yoga.customers',
    );
  });

  it('is read from the queue with its customers, and refused without them', () => {
    const base = {
      eventId: 'customers-po_1-g0-0',
      eventType: 'customers',
      tenantId: 'downtown-yoga',
      stripeAccount: 'platform',
      payoutId: 'po_1',
      receivedAt: '2026-12-03T10:00:00.000Z',
    };
    const [part] = packMembers([{ email: 'a@example.org', name: 'A' }]);
    const ok = parsePayoutMessage(JSON.stringify({ ...base, customers: { realmId: REALM, ...part } }));
    expect(ok.ok && ok.message.customers?.count).toBe(1);
    const missing = parsePayoutMessage(JSON.stringify(base));
    expect(missing.ok).toBe(false);
    expect(missing.ok ? '' : missing.reason).toMatch(/carries its customers/);
  });
});

describe('lineDetail: category', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('category');
    await h.addTenant(tenantConfig({ id: 'category-studio', quickbooks: { lineDetail: 'category' } }));
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('posts without waiting for customers, then creates and maps them from their own message group', async () => {
    // Prepare
    const generated = generatePayout({
      seed: 7301,
      transactions: 12,
      members: { existing: [], newCount: 12 },
    });
    h.addPayout(generated.payout, generated.transactions);
    const builder = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));
    await h.runtime.queue.enqueue(h.message(generated.payout.id, 'payout.paid', 'category-studio'));
    const customersBefore = h.qbo.entities(REALM, 'Customer').length;

    // Act: one invocation on the payout's message only.
    const { Messages = [] } = await h.runtime.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: h.runtime.resources.queueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages).toHaveLength(1);
    await builder({ Records: Messages.map((m) => sqsRecord(m)) }, lambdaContext());
    await h.runtime.clients.sqs.send(
      new DeleteMessageCommand({
        QueueUrl: h.runtime.resources.queueUrl,
        ReceiptHandle: Messages[0]?.ReceiptHandle ?? '',
      }),
    );

    // Assess: POSTED with no customer created yet; the customers wait in their own group.
    const row = await h.runtime.ledger.get(generated.payout.id);
    expect(row?.status).toBe('POSTED');
    expect(row?.customersAfterPosting).toBeGreaterThan(0);
    expect(h.qbo.entities(REALM, 'Customer')).toHaveLength(customersBefore);
    const queued = await h.runtime.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: h.runtime.resources.queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['MessageGroupId'],
        VisibilityTimeout: 0,
      }),
    );
    expect(queued.Messages?.map((m) => m.Attributes?.MessageGroupId)).toEqual(['category-studio.customers']);

    // Act: the customers message.
    const drained = await drainQueue(h, builder);

    // Assess: every member now has a customer, mapped.
    expect(drained.failures).toBe(0);
    expect(h.qbo.entities(REALM, 'Customer').length).toBe(
      customersBefore + (row?.customersAfterPosting ?? 0),
    );
    const emails = [...h.qbo.entities(REALM, 'Customer')].map((c) =>
      String((c.PrimaryEmailAddr as { Address?: string } | undefined)?.Address ?? '').toLowerCase(),
    );
    const mapped = await h.runtime.customers.getMany(REALM, emails.filter(Boolean));
    expect(mapped.size).toBeGreaterThanOrEqual(row?.customersAfterPosting ?? 1);
  }, 60_000);
});

describe('customers after posting, across invocations', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('after-posting');
    await h.addTenant(tenantConfig());
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('continues in a new customers message when the invocation runs out of time, creating each customer once', async () => {
    // Prepare: 100 new members (4 create batches); time runs out once the first batch has started.
    const members = Array.from({ length: 100 }, (_, i) => ({
      email: `later.${i}@example.org`,
      name: `Later Member ${i}`,
    }));
    const [part] = packMembers(members);
    const message = {
      ...h.message('po_AfterPosting1', 'customers'),
      customers: { realmId: REALM, count: members.length, packed: part?.packed ?? '' },
    };
    let checks = 0;
    const deps = { ...h.runtime.syncDeps(), isOutOfTime: () => checks++ > 0 };

    // Act
    const first = await createCustomersAfterPosting(deps, { message });
    const queued = await h.takeQueue();

    // Assess: stopped early, and the same members are queued again in a fresh customers message.
    expect(first.outcome).toBe('continued');
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ eventType: 'customers', payoutId: 'po_AfterPosting1' });
    expect(queued[0]?.eventId).not.toBe(message.eventId);
    const createdSoFar = h.qbo
      .entities(REALM, 'Customer')
      .filter((c) => String(c.DisplayName).startsWith('Later Member')).length;
    expect(createdSoFar).toBeGreaterThan(0);
    expect(createdSoFar).toBeLessThan(members.length);

    // Act: the next invocation, with time enough.
    const next = queued[0];
    if (next === undefined) throw new Error('no continuation');
    const second = await createCustomersAfterPosting(
      { ...h.runtime.syncDeps(), isOutOfTime: () => false },
      { message: next },
    );

    // Assess: every member has exactly one customer, and every one is mapped.
    expect(second.outcome).toBe('customers-created');
    const later = h.qbo
      .entities(REALM, 'Customer')
      .filter((c) => String(c.DisplayName).startsWith('Later Member'));
    expect(later).toHaveLength(members.length);
    const mapped = await h.runtime.customers.getMany(
      REALM,
      members.map((m) => m.email),
    );
    expect(mapped.size).toBe(members.length);
  }, 60_000);

  it('notes on the posted row, at the last delivery, why the customers failed and how to resume', async () => {
    // Prepare: a posted payout's row, and QuickBooks refusing the customer lookup.
    const payoutId = 'po_AfterPostingFails1';
    const row = await h.runtime.ledger.ensure(payoutId, 'downtown-yoga', 'evt_posted');
    await h.runtime.ledger.update(payoutId, row.version, {
      status: 'POSTED',
      quickbooks: { type: 'Deposit', id: '9' },
    });
    const [part] = packMembers([{ email: 'never.created@example.org', name: 'Never Created' }]);
    const message = {
      ...h.message(payoutId, 'customers'),
      customers: { realmId: REALM, count: 1, packed: part?.packed ?? '' },
    };
    const deps = { ...h.runtime.syncDeps(), isOutOfTime: () => false };

    // Act: a delivery before the last, then the last one.
    h.qbo.injectFault({ status: 400, path: /query|batch/, count: 10 });
    await expect(
      createCustomersAfterPosting(deps, { message, receiveCount: 1, maxReceiveCount: 5 }),
    ).rejects.toThrow();
    const before = await h.runtime.ledger.get(payoutId);
    await expect(
      createCustomersAfterPosting(deps, { message, receiveCount: 5, maxReceiveCount: 5 }),
    ).rejects.toThrow();

    // Assess: untouched before the last delivery; then still POSTED, with the reason and the replay command.
    expect(before?.reason).toBeNull();
    const after = await h.runtime.ledger.get(payoutId);
    expect(after?.status).toBe('POSTED');
    expect(after?.reason).toMatch(/creating its members' customers afterwards failed/);
    expect(after?.hint).toContain(`npx qbo-sync dlq replay --payout ${payoutId}`);
  }, 60_000);
});
