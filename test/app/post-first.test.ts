/**
 * Post first (CONTRACT §5): the customers message (its packing and its message group), and `lineDetail: category`
 * through the deposit-builder handler on the real FIFO queue: posted at once, its members' customers queued in the
 * tenant's customers group and created afterwards. (Folded payouts through local mode: test/e2e/customers-after-posting.)
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
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
