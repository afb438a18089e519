/**
 * The webhook path: signed `payout.paid` events POSTed to local mode's HTTP endpoint (src/local/http.ts, the API
 * Gateway stand-in) in front of the webhook Lambda's handler (lambdas/webhook.ts over src/runtime.ts), which verifies
 * each signature, finds the tenant and enqueues on a FIFO queue of its own. Then the queue is counted and drained:
 * every accepted event must be there exactly once.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { makeWebhookHandler } from '../lambdas/webhook.js';
import { provisionLocalResources } from '../src/adapters/aws/provision.js';
import { resourcesToEnv } from '../src/adapters/aws/resources.js';
import { DynamoTenantStore } from '../src/adapters/aws/tenant-store.js';
import { createLogger } from '../src/adapters/logging.js';
import type { StoredTenant } from '../src/app/ports.js';
import type { Payout } from '../src/domain/stripe.js';
import { startLocalHttpServer } from '../src/local/http.js';
import { buildRuntime } from '../src/runtime.js';
import { makePayoutEvent, signWebhook } from '../standins/stripe/index.js';
import { percentile } from './bounds.js';
import { countedAwsClients, destroyClients } from './measure.js';
import type { BenchContext } from './setup.js';

export interface WebhookOptions {
  events: number;
  /** Requests in flight at once (default 10). */
  concurrency?: number;
  /** A tenant to clone (its books) for the webhook's own tenant. */
  tenant: StoredTenant;
  /** A payout object to wrap in the events (its id is replaced per event). */
  payout: Payout;
}

export interface WebhookResult {
  events: number;
  /** Answered 200 with `queued: true`. */
  accepted: number;
  /** Messages found on the queue (ApproximateNumberOfMessages) before draining. */
  queued: number;
  /** Accepted events whose message was not found when the queue was drained. */
  lost: number;
  /** Messages drained whose event was not sent, or sent twice (must be 0). */
  unexpected: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  concurrency: number;
  wallMs: number;
  /** Answers other than 200, by status. */
  rejected: Record<string, number>;
}

const AcceptedBody = z.object({ queued: z.literal(true), eventId: z.string() }).loose();
const QueuedMessage = z.object({ eventId: z.string() }).loose();

function post(
  agent: http.Agent,
  url: URL,
  body: string,
  signature: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
          'Stripe-Signature': signature,
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function runWebhookBench(ctx: BenchContext, options: WebhookOptions): Promise<WebhookResult> {
  const concurrency = options.concurrency ?? 10;
  const clients = countedAwsClients(ctx.host.endpoints.aws, ctx.region);
  const prefix = `${ctx.resources.tenantsTable.replace(/-tenants$/, '')}-wh`;
  const names = await provisionLocalResources(clients, { prefix });
  const resources = { ...names, tokenSecretPrefix: ctx.resources.tokenSecretPrefix };
  const stripeAccount = 'acct_BenchWebhook';
  const tenant: StoredTenant = {
    ...options.tenant,
    books: { ...options.tenant.books, tenantId: 'bench-webhook', stripeAccount },
    source: { ...options.tenant.source, id: 'bench-webhook', stripeAccount },
  };
  await new DynamoTenantStore({ doc: clients.doc, tableName: resources.tenantsTable }).put(tenant);
  const runtime = await buildRuntime(
    { ...ctx.env, ...resourcesToEnv(resources) },
    { clients, settings: ctx.settings, log: createLogger('qbo-sync-bench-webhook') },
  );
  const handler = makeWebhookHandler(runtime.webhookDeps());
  const server = await startLocalHttpServer({
    port: 0,
    routes: [{ method: 'POST', path: '/webhooks/stripe', functionName: 'qbo-sync-bench-webhook', handler }],
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL('/webhooks/stripe', server.url);
  const latencies: number[] = [];
  const acceptedIds = new Set<string>();
  const rejected: Record<string, number> = {};
  try {
    const sentIds: string[] = [];
    const bodies = Array.from({ length: options.events }, (_, i) => {
      const payout: Payout = { ...options.payout, id: `po_BenchWebhook${String(i).padStart(6, '0')}` };
      const event = makePayoutEvent('payout.paid', payout, { account: stripeAccount });
      sentIds.push(event.id);
      return JSON.stringify(event);
    });
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++] as string;
        // Signed just before sending, as Stripe does (the timestamp must be within the 300 s tolerance).
        const signature = signWebhook(body, ctx.settings.stripeWebhookSecret ?? '');
        const start = performance.now();
        const { status, text } = await post(agent, url, body, signature);
        latencies.push(performance.now() - start);
        const parsed = status === 200 ? AcceptedBody.safeParse(JSON.parse(text)) : undefined;
        if (parsed?.success) acceptedIds.add(parsed.data.eventId);
        else rejected[String(status)] = (rejected[String(status)] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, worker));
    const wallMs = Math.round(performance.now() - t0);

    const attrs = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: resources.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const queued = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);

    // Drain: every accepted event must come out once.
    const seen = new Map<string, number>();
    for (let empty = 0; empty < 2; ) {
      const got = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: resources.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 60,
        }),
      );
      const messages = got.Messages ?? [];
      if (messages.length === 0) {
        empty++;
        continue;
      }
      empty = 0;
      for (const m of messages) {
        const id = QueuedMessage.parse(JSON.parse(m.Body ?? '{}')).eventId;
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
      await clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: resources.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    const sent = new Set(sentIds);
    let lost = 0;
    for (const id of acceptedIds) if (!seen.has(id)) lost++;
    let unexpected = 0;
    for (const [id, n] of seen) if (!sent.has(id) || n > 1) unexpected += sent.has(id) ? n - 1 : n;
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      events: options.events,
      accepted: acceptedIds.size,
      queued,
      lost,
      unexpected,
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      maxMs: round(Math.max(...latencies)),
      concurrency,
      wallMs,
      rejected,
    };
  } finally {
    agent.destroy();
    await server.close();
    destroyClients(clients);
  }
}
