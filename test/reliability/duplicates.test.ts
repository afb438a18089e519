/**
 * Duplicates and replays (CONTRACT §7): the same event many times at once (at the webhook, and straight into the
 * worker), a DLQ replay of a payout that is already posted, a payout that reached the DLQ after QuickBooks had
 * accepted it, and a resync interrupted half-way — each must leave exactly one live QuickBooks entry.
 */

import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { makeWebhookHandler } from '../../lambdas/webhook.js';
import { listDeadLetters, replayDeadLetters } from '../../src/app/dead-letters.js';
import { syncPayout } from '../../src/app/sync-payout.js';
import { generatePayout, makePayoutEvent, signWebhook } from '../../standins/stripe/index.js';
import {
  CrashSwitch,
  crashingSyncDeps,
  deadLetterQueue,
  drainQueue,
  type Harness,
  lambdaContext,
  liveEntries,
  postedProblems,
  purgeQueues,
  queueDepth,
  REALM,
  sqsRecord,
  startHarness,
  tenantConfig,
  WEBHOOK_SECRET,
  webhookEvent,
} from './helpers.js';

let h: Harness;
let seed = 8000;

beforeAll(async () => {
  h = await startHarness('dups', { maxReceiveCount: 2 });
  await h.addTenant(tenantConfig());
});

afterAll(async () => {
  await h?.close();
});

beforeEach(async () => {
  await purgeQueues(h.runtime);
});

function newPayout() {
  const generated = generatePayout({
    seed: seed++,
    transactions: 10,
    members: { existing: [], newCount: 3 },
  });
  h.addPayout(generated.payout, generated.transactions);
  return generated;
}

const builder = () => makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));

it('the same signed event ten times at once at the webhook: ten 200s, one queued message, one deposit', async () => {
  // Prepare
  const { payout } = newPayout();
  const body = JSON.stringify(makePayoutEvent('payout.paid', payout));
  const webhook = makeWebhookHandler(h.runtime.webhookDeps());

  // Act
  const answers = await Promise.all(
    Array.from({ length: 10 }, () =>
      webhook(webhookEvent(body, { 'Stripe-Signature': signWebhook(body, WEBHOOK_SECRET) })),
    ),
  );
  const queued = await queueDepth(h.runtime);
  const drained = await drainQueue(h, builder());

  // Assess
  expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
  expect(queued).toBe(1);
  expect(drained.failures).toBe(0);
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
});

it('ten different events for one payout at once at the webhook, all queued: one deposit', async () => {
  // Prepare
  const { payout } = newPayout();
  const bodies = Array.from({ length: 10 }, (_, i) =>
    JSON.stringify(makePayoutEvent(i % 2 === 0 ? 'payout.paid' : 'payout.reconciliation_completed', payout)),
  );
  const webhook = makeWebhookHandler(h.runtime.webhookDeps());

  // Act
  const answers = await Promise.all(
    bodies.map((body) =>
      webhook(webhookEvent(body, { 'stripe-signature': signWebhook(body, WEBHOOK_SECRET) })),
    ),
  );
  const queued = await queueDepth(h.runtime);
  const drained = await drainQueue(h, builder());

  // Assess
  expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
  expect(queued).toBe(10);
  expect(drained.processed).toBe(10);
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
});

it('the same message delivered ten times at once straight into the worker (ten invocations): one deposit', async () => {
  // Prepare
  const { payout } = newPayout();
  const body = JSON.stringify(h.message(payout.id));
  const handler = builder();
  const event = (): SQSEvent => ({ Records: [sqsRecord({ body, groupId: 'downtown-yoga' })] });

  // Act: ten concurrent invocations; the queue then redelivers whatever failed, one at a time
  const first = await Promise.allSettled(Array.from({ length: 10 }, () => handler(event(), lambdaContext())));
  let redeliveries = 0;
  for (const r of first) {
    const failed = r.status === 'rejected' || r.value.batchItemFailures.length > 0;
    if (!failed) continue;
    redeliveries += 1;
    const again = await handler(event(), lambdaContext());
    expect(again.batchItemFailures).toEqual([]);
  }

  // Assess
  expect(redeliveries).toBeLessThan(10);
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
});

it('ten distinct deliveries of one payout at once into syncPayout (no idempotency layer): one deposit', async () => {
  // Prepare
  const { payout } = newPayout();
  const messages = Array.from({ length: 10 }, () => h.message(payout.id));

  // Act
  const results = await Promise.allSettled(
    messages.map((message) => syncPayout(h.runtime.syncDeps(), { message, receiveCount: 1 })),
  );
  const losers = messages.filter((_, i) => results[i]?.status === 'rejected');
  for (const message of losers) await syncPayout(h.runtime.syncDeps(), { message, receiveCount: 2 });

  // Assess
  for (const r of results)
    if (r.status === 'rejected') expect(String(r.reason)).toMatch(/changed while|retried/);
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
});

it('a DLQ replay of a payout that is already posted changes nothing', async () => {
  // Prepare: posted; then a stale copy of its message lands in the DLQ
  const { payout } = newPayout();
  const message = h.message(payout.id);
  await syncPayout(h.runtime.syncDeps(), { message });
  const posted = await h.runtime.ledger.get(payout.id);
  await h.runtime.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: h.runtime.resources.dlqUrl,
      MessageBody: JSON.stringify(message),
      MessageGroupId: message.tenantId,
      MessageDeduplicationId: `stale-${message.eventId}`,
    }),
  );
  const dlq = deadLetterQueue(h.runtime);

  // Act
  const replay = await replayDeadLetters({ dlq, ledger: h.runtime.ledger }, { payoutId: payout.id });
  const drained = await drainQueue(h, builder());

  // Assess
  expect(replay.replayed).toEqual([payout.id]);
  expect(drained.processed).toBe(1);
  const row = await h.runtime.ledger.get(payout.id);
  expect(postedProblems(h.qbo, REALM, payout.id, row)).toEqual([]);
  expect(row?.quickbooks).toEqual(posted?.quickbooks);
  expect(await dlq.list()).toEqual([]);
});

it('QuickBooks accepted the deposit but every answer was lost until the DLQ: the replay posts nothing new', async () => {
  // Prepare: 2 deliveries × 4 attempts, each processed by QuickBooks and answered 500
  const { payout } = newPayout();
  h.qbo.injectFault({ status: 500, count: 8, path: '/deposit', afterProcessing: true });
  await h.runtime.queue.enqueue(h.message(payout.id));

  // Act
  const first = await drainQueue(h, builder());
  const failed = await h.runtime.ledger.get(payout.id);
  const liveWhileFailed = liveEntries(h.qbo, REALM, payout.id).length;
  const dlq = deadLetterQueue(h.runtime);
  const listed = await listDeadLetters({ dlq, ledger: h.runtime.ledger });
  const replay = await replayDeadLetters({ dlq, ledger: h.runtime.ledger }, { payoutId: payout.id });
  const afterReplay = await h.runtime.ledger.get(payout.id);
  const second = await drainQueue(h, builder());

  // Assess
  expect(first.failures).toBe(2);
  expect(failed).toMatchObject({ status: 'FAILED' });
  expect(failed?.intent?.requestId).toEqual(expect.any(String));
  expect(liveWhileFailed).toBe(1);
  expect(listed).toEqual([expect.objectContaining({ payout: payout.id, status: 'FAILED' })]);
  expect(listed[0]?.reason).toMatch(/500/);
  expect(replay).toMatchObject({ replayed: [payout.id], remaining: 0 });
  expect(afterReplay?.status).toBe('RECEIVED');
  expect(second.failures).toBe(0);
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
});

it('a resync interrupted half-way (crash after the old entry was deleted), then redelivered: one live entry', async () => {
  // Prepare
  const { payout } = newPayout();
  await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });
  const before = await h.runtime.ledger.get(payout.id);
  await h.runtime.queue.enqueue(h.message(payout.id, 'resync'));
  const sw = new CrashSwitch((call) => call.name === 'books.deleteEntry');
  const crashing = makeDepositBuilderHandler({
    ...depositBuilderDepsFromRuntime(h.runtime),
    sync: crashingSyncDeps(h.runtime.syncDeps(), sw),
  });

  // Act
  const interrupted = await drainQueue(h, crashing, { maxRounds: 1 });
  const liveMidway = liveEntries(h.qbo, REALM, payout.id).length;
  const midway = await h.runtime.ledger.get(payout.id);
  const resumed = await drainQueue(h, builder());

  // Assess
  expect(sw.crashed?.name).toBe('books.deleteEntry');
  expect(interrupted.failures).toBe(1);
  expect(liveMidway).toBe(0);
  expect(midway).toMatchObject({ status: 'POSTING', quickbooks: before?.quickbooks });
  expect(resumed.failures).toBe(0);
  const row = await h.runtime.ledger.get(payout.id);
  expect(postedProblems(h.qbo, REALM, payout.id, row)).toEqual([]);
  expect(row?.generation).toBe(1);
  expect(row?.quickbooks?.id).not.toBe(before?.quickbooks?.id);
});
