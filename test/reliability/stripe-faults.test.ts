/**
 * Stripe misbehaving (CONTRACT §7): 5xx, dropped connections, 429, a pagination cursor Stripe no longer knows
 * half-way through a payout's balance transactions, and a payout that turns `failed` after it was `paid` (→
 * REVERSED, nothing live). Transient trouble is retried (nothing lost, nothing posted from a partial read); the
 * payout ends POSTED exactly once, or REVERSED with nothing live.
 */
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { makeWebhookHandler } from '../../lambdas/webhook.js';
import type { PayoutMessage } from '../../src/app/ports.js';
import { syncPayout } from '../../src/app/sync-payout.js';
import type { Runtime } from '../../src/runtime.js';
import { generatePayout, makePayoutEvent, signWebhook } from '../../standins/stripe/index.js';
import {
  drainQueue,
  type FaultProxy,
  type Harness,
  liveEntries,
  postedProblems,
  purgeQueues,
  REALM,
  startFaultProxy,
  startHarness,
  startWorker,
  tenantConfig,
  WEBHOOK_SECRET,
  webhookEvent,
} from './helpers.js';

let h: Harness;
let proxy: FaultProxy;
let viaProxy: Runtime;
let seed = 9500;

beforeAll(async () => {
  h = await startHarness('stripefaults');
  await h.addTenant(tenantConfig());
  proxy = await startFaultProxy(h.stripe.url);
  viaProxy = await startWorker(h, { stripeApiBase: proxy.url });
});

afterAll(async () => {
  await proxy?.close();
  await h?.close();
});

function newPayout(transactions = 8) {
  const generated = generatePayout({ seed: seed++, transactions, members: { existing: [], newCount: 4 } });
  h.addPayout(generated.payout, generated.transactions);
  return generated;
}

async function deliverUntilDone(runtime: Runtime, message: PayoutMessage, max = 5) {
  const outcomes: string[] = [];
  for (let receiveCount = 1; receiveCount <= max; receiveCount++) {
    try {
      const result = await syncPayout(runtime.syncDeps(), {
        message,
        receiveCount,
        maxReceiveCount: max + 1,
      });
      return { result, outcomes, deliveries: receiveCount };
    } catch (error) {
      outcomes.push(String(error));
      if (receiveCount === max) throw error;
    }
  }
  throw new Error('unreachable');
}

it.each([
  ['500 reading the payout', { status: 500, path: '/v1/payouts' }],
  ['503 listing the balance transactions', { status: 503, path: '/v1/balance_transactions' }],
  ['429 rate limit', { status: 429, path: '/v1/payouts' }],
  ['dropping the connection twice', { status: 0, path: '/v1/balance_transactions' }],
])('Stripe %s: transient, retried, posted once', async (_what, fault) => {
  // Prepare
  const { payout } = newPayout();
  // A dropped connection is retried once by stripe-node itself (a safe GET); two outlast that.
  h.stripe.injectFault({ ...fault, count: fault.status === 0 ? 2 : 1 });

  // Act
  const { result, outcomes, deliveries } = await deliverUntilDone(h.runtime, h.message(payout.id));

  // Assess
  expect(deliveries).toBe(2);
  expect(outcomes[0]).toMatch(/Stripe/);
  expect(result.outcome).toBe('posted');
  const row = await h.runtime.ledger.get(payout.id);
  expect(row?.attempts).toBe(1);
  expect(postedProblems(h.qbo, REALM, payout.id, row)).toEqual([]);
});

it('a pagination cursor Stripe no longer knows, half-way through 250 transactions: nothing partial, posted once', async () => {
  // Prepare: the second page's request is refused the way Stripe refuses an unknown starting_after
  const { payout } = newPayout(250);
  let refused = 0;
  proxy.setRule((req) => {
    const url = new URL(req.url, 'http://x');
    const cursor = url.searchParams.get('starting_after');
    if (url.pathname !== '/v1/balance_transactions' || cursor === null || refused > 0) return undefined;
    refused += 1;
    return {
      status: 400,
      headers: { 'request-id': 'req_expiredcursor01' },
      body: JSON.stringify({
        error: {
          type: 'invalid_request_error',
          code: 'resource_missing',
          param: 'starting_after',
          message: `No such balance_transaction: '${cursor}'`,
        },
      }),
    };
  });

  // Act
  const { result, outcomes } = await deliverUntilDone(viaProxy, h.message(payout.id)).finally(() =>
    proxy.setRule(undefined),
  );

  // Assess
  expect(refused).toBe(1);
  expect(outcomes.every((o) => !/posted/.test(o))).toBe(true);
  expect(result).toMatchObject({ outcome: 'posted', status: 'POSTED' });
  const row = await h.runtime.ledger.get(payout.id);
  expect(postedProblems(h.qbo, REALM, payout.id, row)).toEqual([]);
  const [deposit] = liveEntries(h.qbo, REALM, payout.id);
  expect(Math.round(Number(deposit?.TotalAmt) * 100)).toBe(payout.amount);
});

it('a cursor refused on every restart: a transient failure (never HELD, never partial), posted on redelivery', async () => {
  // Prepare: every second-page request is refused during the first delivery
  const { payout } = newPayout(150);
  let refusing = true;
  let refused = 0;
  proxy.setRule((req) => {
    const url = new URL(req.url, 'http://x');
    if (!refusing || url.pathname !== '/v1/balance_transactions' || !url.searchParams.has('starting_after')) {
      return undefined;
    }
    refused += 1;
    return {
      status: 400,
      body: JSON.stringify({
        error: {
          type: 'invalid_request_error',
          code: 'resource_missing',
          param: 'starting_after',
          message: 'No such balance_transaction',
        },
      }),
    };
  });
  const message = h.message(payout.id);

  // Act
  const first = await syncPayout(viaProxy.syncDeps(), { message, receiveCount: 1 }).then(
    () => 'completed',
    (e: unknown) => String(e),
  );
  const afterFirst = await h.runtime.ledger.get(payout.id);
  refusing = false;
  const second = await syncPayout(viaProxy.syncDeps(), { message, receiveCount: 2 }).finally(() =>
    proxy.setRule(undefined),
  );

  // Assess
  expect(refused).toBe(3);
  expect(first).toMatch(/pagination cursor 3 times/);
  expect(afterFirst).toMatchObject({ status: 'POSTING', attempts: 1 });
  expect(liveEntries(h.qbo, REALM, payout.id)).toHaveLength(1);
  expect(second.outcome).toBe('posted');
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
});

describe('a payout that turns failed after it was paid, through the webhook and the queue', () => {
  beforeEach(async () => {
    await purgeQueues(h.runtime);
  });

  const webhook = () => makeWebhookHandler(h.runtime.webhookDeps());
  const builder = () => makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));
  const send = async (type: string, payout: ReturnType<typeof newPayout>['payout']) => {
    const body = JSON.stringify(makePayoutEvent(type, payout));
    return webhook()(webhookEvent(body, { 'Stripe-Signature': signWebhook(body, WEBHOOK_SECRET) }));
  };

  it('paid → posted; failed → REVERSED with nothing live; a late paid event changes nothing', async () => {
    // Prepare
    const { payout } = newPayout();
    await send('payout.paid', payout);
    await drainQueue(h, builder());
    const posted = await h.runtime.ledger.get(payout.id);
    h.stripe.updatePayout('platform', payout.id, { status: 'failed', failure_code: 'account_closed' });

    // Act
    const failedAnswer = await send('payout.failed', { ...payout, status: 'failed' });
    await drainQueue(h, builder());
    await send('payout.paid', payout); // Stripe retries an old delivery
    const drained = await drainQueue(h, builder());

    // Assess
    expect(posted?.status).toBe('POSTED');
    expect(failedAnswer.statusCode).toBe(200);
    expect(drained.failures).toBe(0);
    const row = await h.runtime.ledger.get(payout.id);
    expect(row).toMatchObject({ status: 'REVERSED', intent: null });
    expect(row?.reason).toMatch(/account_closed/);
    expect(liveEntries(h.qbo, REALM, payout.id)).toHaveLength(0);
  });

  it('failed arriving before paid (out of order): SKIPPED, nothing ever posted', async () => {
    // Prepare
    const { payout } = newPayout();
    h.stripe.updatePayout('platform', payout.id, { status: 'failed', failure_code: 'could_not_process' });

    // Act
    await send('payout.failed', { ...payout, status: 'failed' });
    await send('payout.paid', payout);
    await send('payout.reconciliation_completed', payout);
    const drained = await drainQueue(h, builder());

    // Assess
    expect(drained).toMatchObject({ processed: 3, failures: 0 });
    expect(await h.runtime.ledger.get(payout.id)).toMatchObject({ status: 'SKIPPED' });
    expect(liveEntries(h.qbo, REALM, payout.id)).toHaveLength(0);
  });
});
