/**
 * syncPayout against the real local parts: the Stripe and QuickBooks stand-ins, DynamoDB/SQS/Secrets Manager
 * emulators, adapters built by buildRuntime. Each test uses its own payout (seed) so they do not interfere.
 */
import { syncPayout } from '../../src/app/sync-payout.js';
import { collectMembers } from '../../src/domain/members.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, linesTotalCents, REALM, startHarness, tenantConfig } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('sync');
  await h.addTenant(tenantConfig());
});

afterAll(async () => {
  await h?.close();
});

function newPayout(
  seed: number,
  patch: Parameters<typeof generatePayout>[0] extends infer O ? Partial<O> : never = {},
) {
  const generated = generatePayout({ seed, transactions: 12, ...patch });
  h.addPayout(generated.payout, generated.transactions);
  return generated;
}

const depositsOf = (payoutId: string) =>
  h.deposits().filter((d) => String(d.PrivateNote ?? '').startsWith(`Stripe payout ${payoutId}`));

it('posts a paid payout as one Deposit whose lines sum exactly to the payout', async () => {
  // Prepare
  const { payout, transactions } = newPayout(101);
  const emails = collectMembers(transactions).map((m) => m.email);

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });

  // Assess
  expect(result).toMatchObject({ outcome: 'posted', status: 'POSTED', quickbooks: { type: 'Deposit' } });
  const deposits = depositsOf(payout.id);
  expect(deposits).toHaveLength(1);
  const [deposit] = deposits;
  expect(linesTotalCents(deposit as Record<string, unknown>)).toBe(payout.amount);
  expect(Math.round(Number(deposit?.TotalAmt) * 100)).toBe(payout.amount);
  const row = await h.runtime.ledger.get(payout.id);
  expect(row).toMatchObject({
    status: 'POSTED',
    quickbooks: { type: 'Deposit', id: String(deposit?.Id) },
    intent: null,
    lineDetailUsed: 'customer',
    folded: false,
  });
  // Every member's customer is mapped (email → QuickBooks id), and the lines name those customers.
  expect(emails.length).toBeGreaterThan(0);
  const mapped = await h.runtime.customers.getMany(REALM, emails);
  expect([...mapped.keys()].sort()).toEqual([...emails].sort());
  const entities = new Set(
    ((deposit?.Line ?? []) as { DepositLineDetail?: { Entity?: { value?: string } } }[])
      .map((l) => l.DepositLineDetail?.Entity?.value)
      .filter((v) => v !== undefined),
  );
  for (const id of mapped.values()) expect(entities.has(id)).toBe(true);
});

it('processes the same message twice, or two events at once, into one deposit', async () => {
  // Prepare
  const { payout } = newPayout(102);
  const message = h.message(payout.id);

  // Act: twice in a row, then two different events at the same time
  const first = await syncPayout(h.runtime.syncDeps(), { message });
  const second = await syncPayout(h.runtime.syncDeps(), { message });
  const concurrent = await Promise.allSettled([
    syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.reconciliation_completed') }),
    syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.paid') }),
  ]);

  // Assess
  expect(first.outcome).toBe('posted');
  expect(second).toMatchObject({ outcome: 'unchanged', status: 'POSTED', quickbooks: first.quickbooks });
  for (const c of concurrent) expect(c.status).toBe('fulfilled');
  expect(depositsOf(payout.id)).toHaveLength(1);
});

it('two concurrent first deliveries still make one deposit (a loser retries and finds it posted)', async () => {
  // Prepare
  const { payout } = newPayout(103);
  const message = h.message(payout.id);

  // Act
  const results = await Promise.allSettled([
    syncPayout(h.runtime.syncDeps(), { message }),
    syncPayout(h.runtime.syncDeps(), { message: { ...message, eventId: `${message.eventId}b` } }),
  ]);
  // A loser is retried by the queue.
  const retry = await syncPayout(h.runtime.syncDeps(), { message });

  // Assess
  expect(results.some((r) => r.status === 'fulfilled' && r.value.outcome === 'posted')).toBe(true);
  for (const r of results) {
    if (r.status === 'rejected') expect(String(r.reason)).toMatch(/changed while|retried/);
  }
  expect(retry.status).toBe('POSTED');
  expect(depositsOf(payout.id)).toHaveLength(1);
});

it('waits while Stripe reconciles, then posts once on payout.reconciliation_completed', async () => {
  // Prepare
  const { payout } = newPayout(104);
  h.stripe.updatePayout('platform', payout.id, { reconciliation_status: 'in_progress' });

  // Act
  const waiting = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.paid') });
  const depositsWhileWaiting = depositsOf(payout.id).length;
  h.stripe.updatePayout('platform', payout.id, { reconciliation_status: 'completed' });
  const done = await syncPayout(h.runtime.syncDeps(), {
    message: h.message(payout.id, 'payout.reconciliation_completed'),
  });

  // Assess
  expect(waiting).toMatchObject({ outcome: 'waiting', status: 'WAITING_FOR_RECONCILIATION' });
  expect(waiting.reason).toMatch(/reconcil/);
  expect(depositsWhileWaiting).toBe(0);
  expect(done).toMatchObject({ outcome: 'posted', status: 'POSTED' });
  expect(depositsOf(payout.id)).toHaveLength(1);
});

it('rides out QuickBooks 503s (retried with the same request id) into one deposit', async () => {
  // Prepare
  const { payout } = newPayout(105);
  h.qbo.injectFault({ status: 503, count: 2, path: '/deposit' });

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });

  // Assess
  expect(result.outcome).toBe('posted');
  expect(depositsOf(payout.id)).toHaveLength(1);
  const posts = h.qbo.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/deposit'));
  const ids = new Set(posts.slice(-3).map((r) => r.requestId));
  expect(ids.size).toBe(1);
});

it('a crash after QuickBooks accepted the deposit, then redelivery: still one deposit', async () => {
  // Prepare: QuickBooks processes the deposit but every answer is lost until the client gives up (4 attempts).
  const { payout } = newPayout(106);
  h.qbo.injectFault({ status: 500, count: 4, path: '/deposit', afterProcessing: true });
  const message = h.message(payout.id);

  // Act
  const firstDelivery = syncPayout(h.runtime.syncDeps(), { message, receiveCount: 1, maxReceiveCount: 5 });
  await expect(firstDelivery).rejects.toThrow(/QuickBooks|500/);
  const afterCrash = await h.runtime.ledger.get(payout.id);
  const redelivery = await syncPayout(h.runtime.syncDeps(), { message, receiveCount: 2, maxReceiveCount: 5 });

  // Assess
  expect(afterCrash).toMatchObject({ status: 'POSTING', attempts: 1 });
  expect(afterCrash?.intent?.requestId).toEqual(expect.any(String));
  expect(afterCrash?.reason).toMatch(/attempt 1 failed/);
  expect(redelivery.outcome).toBe('posted');
  expect(depositsOf(payout.id)).toHaveLength(1);
  const requestIds = new Set(
    h.qbo.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/deposit')).map((r) => r.requestId),
  );
  expect(requestIds.has(afterCrash?.intent?.requestId)).toBe(true);
});

it('marks the row FAILED on the last delivery, and a later replay posts it once', async () => {
  // Prepare
  const { payout } = newPayout(107);
  h.qbo.injectFault({ status: 503, count: 4, path: '/deposit' });
  const message = h.message(payout.id);

  // Act
  await expect(
    syncPayout(h.runtime.syncDeps(), { message, receiveCount: 5, maxReceiveCount: 5 }),
  ).rejects.toThrow();
  const failed = await h.runtime.ledger.get(payout.id);
  const replayed = await syncPayout(h.runtime.syncDeps(), { message, receiveCount: 1 });

  // Assess
  expect(failed).toMatchObject({ status: 'FAILED', attempts: 1 });
  expect(failed?.reason).toMatch(/503/);
  expect(failed?.hint).toMatch(/dlq replay --payout/);
  expect(replayed.outcome).toBe('posted');
  expect(depositsOf(payout.id)).toHaveLength(1);
});

it('holds a payout with an unmapped category, naming it, and posts nothing', async () => {
  // Prepare
  const { payout } = newPayout(108, { categories: [{ category: 'Retail' }, { category: 'Class Packs' }] });

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });

  // Assess
  expect(result).toMatchObject({ outcome: 'held', status: 'HELD' });
  expect(result.reason).toMatch(/Retail/);
  const row = await h.runtime.ledger.get(payout.id);
  expect(row?.hint).toEqual(expect.any(String));
  expect(depositsOf(payout.id)).toHaveLength(0);
  // HELD stays HELD for Stripe events; only a person's sync re-runs it.
  const again = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.paid') });
  expect(again).toMatchObject({ outcome: 'unchanged', status: 'HELD' });
});

it('posts a negative payout as one balanced JournalEntry crediting the deposit account', async () => {
  // Prepare: one sale of 10.00 (fee 0.59) and a 25.00 reserve hold → payout −15.59
  const now = Math.floor(Date.now() / 1000);
  const payoutId = 'po_1NegativePayoutTest0001';
  h.addPayout(
    {
      id: payoutId,
      object: 'payout',
      amount: -1559,
      currency: 'usd',
      arrival_date: now - 86_400,
      created: now - 2 * 86_400,
      automatic: true,
      balance_transaction: 'txn_1NegPayoutOwn00000001',
      status: 'paid',
      reconciliation_status: 'completed',
      livemode: false,
      metadata: {},
    },
    [
      {
        id: 'txn_1NegCharge000000000001',
        object: 'balance_transaction',
        amount: 1000,
        currency: 'usd',
        net: 941,
        fee: 59,
        fee_details: [
          { amount: 59, currency: 'usd', type: 'stripe_fee', description: 'Stripe processing fees' },
        ],
        type: 'charge',
        created: now - 3 * 86_400,
        status: 'available',
        source: {
          id: 'ch_1NegCharge000000000001',
          object: 'charge',
          amount: 1000,
          currency: 'usd',
          metadata: {
            revenue_category: 'Class Packs',
            member_email: 'jane@example.com',
            member_name: 'Jane Doe',
          },
          created: now - 3 * 86_400,
        },
      },
      {
        id: 'txn_1NegReserve00000000001',
        object: 'balance_transaction',
        amount: -2500,
        currency: 'usd',
        net: -2500,
        fee: 0,
        fee_details: [],
        type: 'reserve_transaction',
        created: now - 3 * 86_400,
        status: 'available',
        source: null,
      },
    ],
  );

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(payoutId) });

  // Assess
  expect(result).toMatchObject({ outcome: 'posted', quickbooks: { type: 'JournalEntry' } });
  const entries = h
    .journalEntries()
    .filter((j) => String(j.PrivateNote ?? '').startsWith(`Stripe payout ${payoutId}`));
  expect(entries).toHaveLength(1);
  const lines = (entries[0]?.Line ?? []) as {
    Amount: number;
    JournalEntryLineDetail: { PostingType: string };
  }[];
  const sum = (type: string) =>
    lines
      .filter((l) => l.JournalEntryLineDetail.PostingType === type)
      .reduce((s, l) => s + Math.round(l.Amount * 100), 0);
  expect(sum('Debit')).toBe(sum('Credit'));
  expect(sum('Debit')).toBeGreaterThan(0);
  expect(depositsOf(payoutId)).toHaveLength(0);
});

it('payout.failed after posting deletes the deposit and records REVERSED; more events change nothing', async () => {
  // Prepare
  const { payout } = newPayout(109);
  const posted = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });
  h.stripe.updatePayout('platform', payout.id, { status: 'failed', failure_code: 'account_closed' });

  // Act
  const reversed = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.failed') });
  const later = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.paid') });

  // Assess
  expect(posted.outcome).toBe('posted');
  expect(reversed).toMatchObject({ outcome: 'reversed', status: 'REVERSED', quickbooks: null });
  expect(reversed.reason).toMatch(new RegExp(`Deposit ${posted.quickbooks?.id} deleted`));
  expect(reversed.reason).toMatch(/account_closed/);
  expect(depositsOf(payout.id)).toHaveLength(0);
  expect(later).toMatchObject({ outcome: 'unchanged', status: 'REVERSED' });
});

it('payout.failed for a payout that was never posted is SKIPPED', async () => {
  // Prepare
  const { payout } = newPayout(110);
  h.stripe.updatePayout('platform', payout.id, { status: 'canceled' });

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.canceled') });

  // Assess
  expect(result).toMatchObject({ outcome: 'skipped', status: 'SKIPPED' });
  expect(result.reason).toMatch(/canceled/);
  expect(depositsOf(payout.id)).toHaveLength(0);
});

it('a payout.failed that Stripe contradicts (still paid) leaves the deposit alone', async () => {
  // Prepare
  const { payout } = newPayout(111);
  await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.failed') });

  // Assess
  expect(result).toMatchObject({ outcome: 'unchanged', status: 'POSTED' });
  expect(depositsOf(payout.id)).toHaveLength(1);
});
