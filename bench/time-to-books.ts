/**
 * Time to the books (CONTRACT §10): a payout through the whole pipeline as in local mode — a signed `payout.paid`
 * event POSTed to the HTTP endpoint in front of the webhook Lambda's handler, the FIFO queue, local mode's queue
 * poller (the event source mapping) running the deposit-builder Lambda's handler — against the paced stand-ins
 * (QuickBooks' metering on, each answer delayed as `--latency` says). `timeToPostedMs` runs from the webhook's 200
 * to the ledger's POSTED (read every 10 ms).
 *
 * Customer work that goes on after POSTED (customers the entry does not reference) is not waited for: the poller
 * is stopped once the payout is POSTED, and the bench reports the least time that work needs under QuickBooks'
 * limits instead (`customersAfterFloorMs`).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../lambdas/deposit-builder.js';
import { makeWebhookHandler } from '../lambdas/webhook.js';
import { startLocalHttpServer } from '../src/local/http.js';
import { localLogger } from '../src/local/log.js';
import { QueuePoller } from '../src/local/poller.js';
import { buildRuntime } from '../src/runtime.js';
import { makePayoutEvent, signWebhook } from '../standins/stripe/index.js';
import type { Pace } from './bounds.js';
import { outcomeOf, type RunOutcome } from './builder.js';
import { countedAwsClients, destroyClients } from './measure.js';
import { type BenchContext, type PreparedRun, setupLedger } from './setup.js';

export interface TimeToBooksRun {
  timeToPostedMs: number;
  outcome: RunOutcome;
  /** Whether customer work was still going on when the payout was POSTED (it is left to run out). */
  customersStillRunning: boolean;
}

const TERMINAL = new Set(['POSTED', 'HELD', 'FAILED', 'SKIPPED', 'REVERSED']);

function postEvent(url: URL, body: string, signature: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
          'Stripe-Signature': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function runTimeToBooks(
  ctx: BenchContext,
  prepared: PreparedRun,
  options: { pace: Pace; timeoutMs?: number },
): Promise<TimeToBooksRun> {
  const { workload } = prepared;
  await ctx.host.setPace(options.pace);
  const clients = countedAwsClients(ctx.host.endpoints.aws, ctx.region);
  const log = localLogger();
  // The product's own QuickBooks limits (10 in flight, 500 a minute), as deployed.
  const runtime = await buildRuntime(ctx.env, { clients, settings: ctx.settings, log });
  const depositBuilder = makeDepositBuilderHandler(
    depositBuilderDepsFromRuntime(runtime, { throwOnFullBatchFailure: false }),
  );
  const webhook = makeWebhookHandler(runtime.webhookDeps());
  const server = await startLocalHttpServer({
    port: 0,
    routes: [
      { method: 'POST', path: '/webhooks/stripe', functionName: 'qbo-sync-bench-webhook', handler: webhook },
    ],
  });
  const poller = new QueuePoller({
    sqs: clients.sqs,
    queueUrl: ctx.resources.queueUrl,
    handler: depositBuilder,
    region: ctx.region,
    logger: log,
    budgetMs: 900_000,
    waitTimeSeconds: 1,
    concurrency: 2,
  });
  const ledger = setupLedger(ctx);
  let stopping: Promise<void> | undefined;
  try {
    await poller.start();
    const event = makePayoutEvent('payout.paid', workload.payout, { account: workload.stripeAccount });
    const body = JSON.stringify(event);
    const status = await postEvent(
      new URL('/webhooks/stripe', server.url),
      body,
      signWebhook(body, ctx.settings.stripeWebhookSecret ?? ''),
    );
    const t0 = performance.now();
    if (status !== 200) throw new Error(`bench: the webhook answered ${status} to the payout event`);
    const deadline = t0 + (options.timeoutMs ?? 900_000);
    let row = await ledger.get(workload.payoutId);
    while (row === undefined || !TERMINAL.has(row.status)) {
      if (performance.now() > deadline) throw new Error(`bench: ${workload.payoutId} was not POSTED in time`);
      await new Promise((r) => setTimeout(r, 10));
      row = await ledger.get(workload.payoutId);
    }
    const timeToPostedMs = Math.round(performance.now() - t0);
    stopping = poller.stop();
    // Customer work after POSTED is not waited for: give the poller a moment to finish what it holds, then leave it.
    const settled = await Promise.race([
      stopping.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
    ]);
    return { timeToPostedMs, outcome: outcomeOf(row), customersStillRunning: !settled };
  } finally {
    stopping ??= poller.stop();
    await server.close();
    // Work still running after the report (customers created at the metered rate) ends with the stand-ins.
    void stopping.then(() => destroyClients(clients));
  }
}
