/**
 * The deposit-builder Lambda handler (Powertools FIFO batch + idempotency) fed from the real SQS FIFO queue on the
 * emulator, and the whole path from the webhook handler to QuickBooks.
 */
import type { SQSEvent } from 'aws-lambda';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { makeWebhookHandler } from '../../lambdas/webhook.js';
import { receiveDlq } from '../../src/adapters/aws/queue.js';
import { messageLedgerKey } from '../../src/app/record-failure.js';
import { generatePayout, makePayoutEvent, signWebhook } from '../../standins/stripe/index.js';
import {
  drainQueue,
  type Harness,
  lambdaContext,
  linesTotalCents,
  OTHER_REALM,
  REALM,
  sqsRecord,
  startHarness,
  tenantConfig,
  WEBHOOK_SECRET,
} from './harness.js';

let h: Harness;
const OTHER = 'acct_1OtherStudioAcct01';

beforeAll(async () => {
  h = await startHarness('builder', { companies: [REALM, OTHER_REALM] });
  await h.addTenant(tenantConfig());
  await h.addTenant(
    tenantConfig({ id: 'other-studio', stripeAccount: OTHER, quickbooks: { realmId: OTHER_REALM } }),
  );
});

afterAll(async () => {
  await h?.close();
});

function newPayout(
  seed: number,
  account = 'platform',
  opts: Partial<Parameters<typeof generatePayout>[0]> = {},
) {
  const generated = generatePayout({ seed, transactions: 8, account, ...opts });
  h.addPayout(generated.payout, generated.transactions, account);
  return generated;
}

const entriesOf = (payoutId: string, realm = REALM) =>
  h.deposits(realm).filter((d) => String(d.PrivateNote ?? '').startsWith(`Stripe payout ${payoutId}`));

function webhookRequest(body: string) {
  return {
    body,
    isBase64Encoded: false,
    headers: { 'stripe-signature': signWebhook(body, WEBHOOK_SECRET) },
    multiValueHeaders: {},
  } as unknown as Parameters<ReturnType<typeof makeWebhookHandler>>[0];
}

it('end to end: a signed webhook → the FIFO queue → the deposit builder → one deposit', async () => {
  // Prepare
  const { payout } = newPayout(401);
  const webhook = makeWebhookHandler(h.runtime.webhookDeps());
  const builder = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));
  const paid = JSON.stringify(makePayoutEvent('payout.paid', payout));
  const reconciled = JSON.stringify(makePayoutEvent('payout.reconciliation_completed', payout));

  // Act: two events for the payout, one of them delivered twice by Stripe
  const answers = [
    await webhook(webhookRequest(paid)),
    await webhook(webhookRequest(paid)),
    await webhook(webhookRequest(reconciled)),
  ];
  const drained = await drainQueue(h, builder);

  // Assess
  expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
  expect(drained.failures).toBe(0);
  const deposits = entriesOf(payout.id);
  expect(deposits).toHaveLength(1);
  expect(linesTotalCents(deposits[0] as Record<string, unknown>)).toBe(payout.amount);
  expect(await h.runtime.ledger.get(payout.id)).toMatchObject({
    status: 'POSTED',
    tenantId: 'downtown-yoga',
  });
});

it('a redelivered record is answered from the idempotency store: syncPayout runs once', async () => {
  // Prepare
  const { payout } = newPayout(402);
  const builder = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));
  const record = sqsRecord({ body: JSON.stringify(h.message(payout.id)), groupId: 'downtown-yoga' });

  // Act
  const first = await builder({ Records: [record] }, lambdaContext());
  const ledgerCalls = h.runtime.ledger.calls;
  const again = await builder(
    { Records: [{ ...record, messageId: `${record.messageId}-2` }] },
    lambdaContext(),
  );

  // Assess: the second delivery never reached syncPayout (not even the ledger)
  expect(first.batchItemFailures).toEqual([]);
  expect(again.batchItemFailures).toEqual([]);
  expect(h.runtime.ledger.calls).toBe(ledgerCalls);
  expect(entriesOf(payout.id)).toHaveLength(1);
});

it('a malformed message goes straight to the DLQ with its reason; the rest of the batch is processed', async () => {
  // Prepare
  const { payout } = newPayout(403);
  const builder = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));
  const notJson = sqsRecord({ body: '{"eventId":', groupId: 'downtown-yoga' });
  const wrongShape = sqsRecord({
    body: JSON.stringify({ ...h.message(payout.id), eventType: 'charge.succeeded' }),
    groupId: 'downtown-yoga',
  });
  const good = sqsRecord({ body: JSON.stringify(h.message(payout.id)), groupId: 'downtown-yoga' });
  const event: SQSEvent = { Records: [notJson, wrongShape, good] };

  // Act
  const response = await builder(event, lambdaContext());

  // Assess
  expect(response.batchItemFailures).toEqual([]);
  expect(entriesOf(payout.id)).toHaveLength(1);
  const notJsonRow = await h.runtime.ledger.get(messageLedgerKey(notJson.messageId));
  expect(notJsonRow).toMatchObject({ status: 'FAILED', tenantId: 'unknown' });
  expect(notJsonRow?.reason).toMatch(/not JSON/);
  const dlq = await receiveDlq({
    sqs: h.runtime.clients.sqs,
    dlqUrl: h.runtime.resources.dlqUrl,
    waitSeconds: 0,
  });
  expect(dlq.map((m) => m.messageId).sort()).toEqual([notJson.messageId, wrongShape.messageId].sort());
  // The wrong-shape message named a valid payout: the reason went on the payout's row, but it was then posted.
  expect(await h.runtime.ledger.get(payout.id)).toMatchObject({ status: 'POSTED' });
});

it('without a DLQ shortcut, a malformed record fails alone: other tenants in the batch go on', async () => {
  // Prepare
  const { payout } = newPayout(404, OTHER);
  const builder = makeDepositBuilderHandler({
    ...depositBuilderDepsFromRuntime(h.runtime),
    deadLetter: undefined,
  });
  const bad = sqsRecord({ body: 'not json at all', groupId: 'downtown-yoga' });
  const good = sqsRecord({
    body: JSON.stringify(h.message(payout.id, 'payout.paid', 'other-studio')),
    groupId: 'other-studio',
  });

  // Act
  const response = await builder({ Records: [bad, good] }, lambdaContext());

  // Assess
  expect(response.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
  expect(entriesOf(payout.id, OTHER_REALM)).toHaveLength(1);
  expect((await h.runtime.ledger.get(messageLedgerKey(bad.messageId)))?.reason).toMatch(/not JSON/);
});

it("one tenant's failure skips only that tenant's later records; on the last delivery they are recorded", async () => {
  // Prepare: QuickBooks for the other studio answers 503 to every deposit
  const failing = newPayout(405, OTHER).payout;
  const blocked = newPayout(406, OTHER).payout;
  const fine = newPayout(407).payout;
  h.qbo.injectFault({ status: 503, count: 8, path: /\/deposit\?/, realmId: OTHER_REALM });
  const builder = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));
  const records = [
    sqsRecord({
      body: JSON.stringify(h.message(failing.id, 'payout.paid', 'other-studio')),
      groupId: 'other-studio',
      receiveCount: 5,
    }),
    sqsRecord({
      body: JSON.stringify(h.message(blocked.id, 'payout.paid', 'other-studio')),
      groupId: 'other-studio',
      receiveCount: 5,
    }),
    sqsRecord({ body: JSON.stringify(h.message(fine.id)), groupId: 'downtown-yoga' }),
  ];

  // Act
  const response = await builder({ Records: records }, lambdaContext());

  // Assess
  expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
    records[0]?.messageId,
    records[1]?.messageId,
  ]);
  expect(entriesOf(fine.id)).toHaveLength(1);
  const failedRow = await h.runtime.ledger.get(failing.id);
  expect(failedRow).toMatchObject({ status: 'FAILED' });
  expect(failedRow?.reason).toMatch(/503/);
  const blockedRow = await h.runtime.ledger.get(blocked.id);
  expect(blockedRow).toMatchObject({ status: 'FAILED' });
  expect(blockedRow?.reason).toMatch(/not processed: an earlier message of tenant other-studio/);
});

it('a short invocation continues the payout in a new message, which the next invocation finishes', async () => {
  // Prepare: 35 new customers to create, and an invocation with 30 s left (under the 60 s margin)
  const { payout } = newPayout(408, 'platform', {
    transactions: 50,
    members: { existing: [], newCount: 35 },
  });
  const builder = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));
  const record = sqsRecord({ body: JSON.stringify(h.message(payout.id)), groupId: 'downtown-yoga' });

  // Act
  const short = await builder({ Records: [record] }, lambdaContext(30_000));
  const midway = await h.runtime.ledger.get(payout.id);
  const drained = await drainQueue(h, builder);

  // Assess
  expect(short.batchItemFailures).toEqual([]);
  expect(midway).toMatchObject({ status: 'POSTING', attempts: 0 });
  expect(drained.processed).toBeGreaterThanOrEqual(1);
  expect(entriesOf(payout.id)).toHaveLength(1);
});

describe('with maxReceiveCount 2', () => {
  let h2: Harness;

  beforeAll(async () => {
    h2 = await startHarness('dlq', { maxReceiveCount: 2 });
    await h2.addTenant(tenantConfig());
  });

  afterAll(async () => {
    await h2?.close();
  });

  it('a payout failing transiently every time ends in the DLQ, FAILED with its reason', async () => {
    // Prepare
    const generated = generatePayout({ seed: 409, transactions: 6 });
    h2.addPayout(generated.payout, generated.transactions);
    h2.qbo.injectFault({ status: 502, count: 1000, path: /\/deposit\?/ });
    const builder = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h2.runtime));
    await h2.runtime.queue.enqueue(h2.message(generated.payout.id));

    // Act
    const drained = await drainQueue(h2, builder);

    // Assess
    expect(drained.failures).toBe(2);
    const row = await h2.runtime.ledger.get(generated.payout.id);
    expect(row).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(row?.reason).toMatch(/502/);
    const dlq = await receiveDlq({
      sqs: h2.runtime.clients.sqs,
      dlqUrl: h2.runtime.resources.dlqUrl,
      waitSeconds: 0,
    });
    expect(dlq.map((m) => m.message?.payoutId)).toEqual([generated.payout.id]);
    expect(h2.deposits()).toHaveLength(0);
  });
});
