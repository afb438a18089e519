/**
 * A failing message backs off on its own (CONTRACT §7): the deposit builder makes each failed record invisible for a
 * growing time, and for 0 s on its last delivery, so the tenant's FIFO group is blocked for minutes, not hours.
 * The queue is the real FIFO queue on the emulator, fed to the handler the way Lambda's event source mapping does
 * (failed records are left alone: they come back when their visibility timeout runs out).
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { receiveDlq } from '../../src/adapters/aws/queue.js';
import { AWS_BACKOFF, retryVisibilitySeconds, scaledSchedule } from '../../src/app/retry-backoff.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, lambdaContext, sqsRecord, startHarness, tenantConfig } from './harness.js';

describe('the schedule deployed to AWS', () => {
  const middle = () => 0.5; // no jitter
  it('grows 30 s, 1, 2, 4 min, never below what the service asked for', () => {
    expect([1, 2, 3, 4].map((n) => retryVisibilitySeconds(n, { random: middle }))).toEqual([
      30, 60, 120, 240,
    ]);
    expect(retryVisibilitySeconds(1, { random: middle, retryAfterMs: 60_000 })).toBe(60);
    expect(retryVisibilitySeconds(20, { random: () => 1 })).toBe(900 * 1.2);
  });

  it('brings a thrice-failing message to its third attempt within 2 minutes, and to the DLQ within 10', () => {
    const worst = () => 1; // the longest jitter
    const waits = [1, 2, 3, 4].map((n) => retryVisibilitySeconds(n, { random: worst }));
    expect(waits[0]! + waits[1]!).toBeLessThanOrEqual(120);
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(600);
    // Before: every failure waited the queue's visibility timeout (6 × 180 s) before the next delivery.
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual((4 * 6 * 180) / 8);
  });
});

describe('on the FIFO queue', () => {
  let h: Harness;
  // The AWS schedule, 30 times faster: 1 s, 2 s (instead of 30 s, 60 s).
  const SCALE = 1 / 30;

  beforeAll(async () => {
    h = await startHarness('backoff', { maxReceiveCount: 3 });
    await h.addTenant(tenantConfig());
  });

  afterAll(async () => {
    await h?.close();
  });

  it("a message failing three times gets its third attempt within the schedule; the tenant's next payout posts after it", async () => {
    // Prepare: payout A cannot be read from Stripe (5xx every time); payout B of the same tenant is fine.
    const a = generatePayout({ seed: 1301, transactions: 4 });
    const b = generatePayout({ seed: 1302, transactions: 4 });
    h.addPayout(a.payout, a.transactions);
    h.addPayout(b.payout, b.transactions);
    h.stripe.injectFault({
      status: 500,
      count: Number.POSITIVE_INFINITY,
      path: `/v1/payouts/${a.payout.id}`,
    });
    const builder = makeDepositBuilderHandler(
      depositBuilderDepsFromRuntime(h.runtime, { backoff: scaledSchedule(AWS_BACKOFF, SCALE) }),
    );
    await h.runtime.queue.enqueue(h.message(a.payout.id));
    await h.runtime.queue.enqueue(h.message(b.payout.id));
    const { sqs } = h.runtime.clients;
    const queueUrl = h.runtime.resources.queueUrl;

    // Act: Lambda's event source mapping in miniature: long-poll, invoke, delete what succeeded, nothing else.
    const start = Date.now();
    const deliveriesOfA: number[] = [];
    let postedB: number | undefined;
    while (postedB === undefined && Date.now() - start < 30_000) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) continue;
      const records: SQSRecord[] = Messages.map((m) => sqsRecord(m));
      for (const r of records) {
        if (r.body.includes(a.payout.id)) deliveriesOfA.push(Date.now() - start);
      }
      let failed: Set<string>;
      try {
        const response = await builder({ Records: records }, lambdaContext());
        failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      } catch {
        failed = new Set(records.map((r) => r.messageId)); // a fully failed batch: Lambda retries all of it
      }
      for (const m of Messages) {
        if (failed.has(m.MessageId ?? '')) continue;
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle ?? '' }),
        );
        if (m.Body?.includes(b.payout.id)) postedB = Date.now() - start;
      }
    }

    // Assess: three deliveries of A, spaced by the growing waits (1 s, then 2 s, ±20 %, whole seconds).
    expect(deliveriesOfA).toHaveLength(3);
    const [first = 0, second = 0, third = 0] = deliveriesOfA;
    expect(second - first).toBeGreaterThanOrEqual(900);
    expect(third - second).toBeGreaterThanOrEqual(1_900);
    // The third attempt comes within the scaled schedule (≤ 1.2 × 3 s) plus the attempts themselves.
    expect(third - first).toBeLessThan(3 * 1.2 * 1000 + 2_000);
    // A is FAILED in the DLQ, and B, queued behind it in the tenant's group, was posted after it.
    expect(await h.runtime.ledger.get(a.payout.id)).toMatchObject({ status: 'FAILED', attempts: 3 });
    expect(await h.runtime.ledger.get(b.payout.id)).toMatchObject({ status: 'POSTED' });
    expect(postedB).toBeGreaterThan(third);
    expect(postedB! - third).toBeLessThan(5_000);
    const dlq = await receiveDlq({ sqs, dlqUrl: h.runtime.resources.dlqUrl, waitSeconds: 0 });
    expect(dlq.map((m) => m.message?.payoutId)).toEqual([a.payout.id]);
  }, 40_000);
});
