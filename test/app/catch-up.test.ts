/**
 * The daily catch-up on the real local parts: it lists each tenant's recently paid payouts in the Stripe stand-in
 * and queues a `sync` for those the ledger has not settled.
 */
import { makeCatchUpHandler } from '../../lambdas/catch-up.js';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { catchUp } from '../../src/app/catch-up.js';
import type { PayoutMessage } from '../../src/app/ports.js';
import type { LedgerStatus } from '../../src/domain/types.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, lambdaContext, sqsRecord, startHarness, tenantConfig } from './harness.js';

let h: Harness;
const DAY = 86_400;
const CONNECTED = 'acct_1CatchUpConnected01';

beforeAll(async () => {
  h = await startHarness('catchup');
  await h.addTenant(tenantConfig());
  await h.addTenant(tenantConfig({ id: 'connected-studio', stripeAccount: CONNECTED }));
});

afterAll(async () => {
  await h?.close();
});

async function payoutWithRow(seed: number, daysAgo: number, status?: LedgerStatus) {
  const now = Math.floor(Date.now() / 1000);
  const { payout, transactions } = generatePayout({
    seed,
    transactions: 6,
    arrivalDate: now - daysAgo * DAY,
  });
  h.addPayout(payout, transactions);
  if (status !== undefined) {
    const row = await h.runtime.ledger.ensure(payout.id, 'downtown-yoga');
    await h.runtime.ledger.update(payout.id, row.version, { status });
  }
  return payout.id;
}

it('queues a sync for paid payouts the ledger misses or has not settled; a second run adds nothing', async () => {
  // Prepare
  const missing = await payoutWithRow(501, 1);
  const waiting = await payoutWithRow(502, 2, 'WAITING_FOR_RECONCILIATION');
  const failed = await payoutWithRow(503, 3, 'FAILED');
  const posted = await payoutWithRow(504, 1, 'POSTED');
  const held = await payoutWithRow(505, 2, 'HELD');
  const old = await payoutWithRow(506, 9);

  // Act
  const result = await catchUp(h.runtime.catchUpDeps());
  const again = await catchUp(h.runtime.catchUpDeps());
  const queued = await h.takeQueue();

  // Assess
  const enqueued = result.enqueued.map((e) => e.payoutId).sort();
  expect(enqueued).toEqual([missing, waiting, failed].sort());
  expect(result.failures).toEqual([]);
  expect(result.tenants).toBe(2);
  for (const id of [posted, held, old]) expect(enqueued).not.toContain(id);
  expect(again.enqueued).toHaveLength(3);
  // The same ids the same day: the FIFO queue deduplicates the second run.
  expect(queued.map((m) => m.payoutId).sort()).toEqual(enqueued);
  for (const m of queued) {
    expect(m).toMatchObject({ eventType: 'sync', tenantId: 'downtown-yoga', stripeAccount: 'platform' });
    expect(m.eventId).toMatch(/^catchup-po_/);
  }

  // And the deposit builder settles them.
  const builder = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));
  const response = await builder(
    { Records: queued.map((m) => sqsRecord({ body: JSON.stringify(m), groupId: m.tenantId })) },
    lambdaContext(),
  );
  expect(response.batchItemFailures).toEqual([]);
  expect((await h.runtime.ledger.get(missing))?.status).toBe('POSTED');
  expect((await h.runtime.ledger.get(waiting))?.status).toBe('POSTED');
});

it('the handler fails when a tenant could not be read, after processing the others', async () => {
  // Prepare: the first listing (connected-studio, ids sort first) fails
  h.stripe.injectFault({ status: 500, path: '/v1/payouts', count: 1 });
  const handler = makeCatchUpHandler(h.runtime.catchUpDeps());

  // Act
  const run = handler();

  // Assess
  await expect(run).rejects.toThrow(/catch-up failed for 1 of 2 tenant\(s\).*connected-studio/);
});

it('ten payouts, one unreadable: the nine are queued (one with metadata null, its refunds too) and the one is reported', async () => {
  // Prepare: a tenant of its own, ten payouts; #3 has metadata null, #6 an amount Stripe never sends
  const account = 'acct_1CatchUpTenPayouts';
  await h.addTenant(tenantConfig({ id: 'ten-payouts', stripeAccount: account }));
  const now = Math.floor(Date.now() / 1000);
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const g = generatePayout({
      seed: 700 + i,
      transactions: 6,
      arrivalDate: now - (1 + (i % 5)) * DAY,
      account,
    });
    const raw = g.payout as unknown as Record<string, unknown>;
    if (i === 3) {
      raw.metadata = null;
      for (const t of g.transactions) {
        const source = t.source as unknown as Record<string, unknown> | null;
        if (source?.object === 'refund') source.metadata = null;
      }
    }
    if (i === 6) raw.amount = 12.5;
    h.stripe.addPayout({ account, ...g });
    ids.push(g.payout.id);
  }
  const bad = ids[6] as string;

  // Act
  const result = await catchUp(h.runtime.catchUpDeps());
  const run = makeCatchUpHandler(h.runtime.catchUpDeps())();
  await expect(run).rejects.toThrow(
    new RegExp(`could not read 1 payout\\(s\\).*: ${bad} \\(ten-payouts\\): .*amount`),
  );
  const queued = (await h.takeQueue()).filter((m) => m.tenantId === 'ten-payouts');

  // Assess
  const mine = result.enqueued.filter((e) => e.tenantId === 'ten-payouts').map((e) => e.payoutId);
  expect(mine.sort()).toEqual(ids.filter((id) => id !== bad).sort());
  expect(result.unreadable).toEqual([
    {
      tenantId: 'ten-payouts',
      payoutId: bad,
      reason: expect.stringContaining('whole number of minor units'),
    },
  ]);
  expect(queued.map((m) => m.payoutId).sort()).toEqual(mine.sort());

  // And the one with metadata null (and refunds with metadata null) posts.
  const builder = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));
  const nullMetadata = queued.filter((m) => m.payoutId === ids[3]);
  const response = await builder(
    { Records: nullMetadata.map((m) => sqsRecord({ body: JSON.stringify(m), groupId: m.tenantId })) },
    lambdaContext(),
  );
  expect(response.batchItemFailures).toEqual([]);
  expect((await h.runtime.ledger.get(ids[3] as string))?.status).toBe('POSTED');
});

it('a payout that failed after posting, its payout.failed lost: the catch-up queues it and its deposit is removed', async () => {
  // Prepare: a paid payout synced and POSTED; then it fails in Stripe and no event arrives
  const now = Math.floor(Date.now() / 1000);
  const { payout, transactions } = generatePayout({ seed: 801, transactions: 5, arrivalDate: now - DAY });
  h.addPayout(payout, transactions);
  const canceled = generatePayout({ seed: 802, transactions: 3, arrivalDate: now - DAY });
  canceled.payout.status = 'canceled';
  h.addPayout(canceled.payout, canceled.transactions);
  const builder = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));
  const deliver = async (messages: PayoutMessage[]) => {
    const r = await builder(
      { Records: messages.map((m) => sqsRecord({ body: JSON.stringify(m), groupId: m.tenantId })) },
      lambdaContext(),
    );
    expect(r.batchItemFailures).toEqual([]);
  };
  await catchUp(h.runtime.catchUpDeps());
  await deliver((await h.takeQueue()).filter((m) => m.payoutId === payout.id));
  const posted = await h.runtime.ledger.get(payout.id);
  expect(posted?.status).toBe('POSTED');
  h.stripe.updatePayout('platform', payout.id, { status: 'failed', failure_code: 'account_closed' });

  // Act: the same day
  const result = await catchUp(h.runtime.catchUpDeps());
  const queued = (await h.takeQueue()).filter(
    (m) => m.payoutId === payout.id || m.payoutId === canceled.payout.id,
  );
  await deliver(queued);

  // Assess: queued once, as failed; the canceled one never seen by the ledger is not queued; the deposit is gone
  expect(result.enqueued.filter((e) => e.payoutId === payout.id)).toEqual([
    { tenantId: 'downtown-yoga', payoutId: payout.id, status: 'POSTED', payoutStatus: 'failed' },
  ]);
  expect(queued.map((m) => m.payoutId)).toEqual([payout.id]);
  expect((await h.runtime.ledger.get(payout.id))?.status).toBe('REVERSED');
  const live = h
    .deposits()
    .filter((d) => String(d.PrivateNote ?? '').startsWith(`Stripe payout ${payout.id}`));
  expect(live).toEqual([]);
});
