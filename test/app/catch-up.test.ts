/**
 * The daily catch-up on the real local parts: it lists each tenant's recently paid payouts in the Stripe stand-in
 * and queues a `sync` for those the ledger has not settled.
 */
import { makeCatchUpHandler } from '../../lambdas/catch-up.js';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { catchUp } from '../../src/app/catch-up.js';
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
