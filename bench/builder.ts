/**
 * One measured run of the real deposit builder: the deposit-builder Lambda's handler (lambdas/deposit-builder.ts), wired
 * exactly as in AWS by `depositBuilderDepsFromRuntime` over the composition root (src/runtime.ts): the sync-payout use
 * case with the real Stripe, DynamoDB, Secrets Manager and QuickBooks adapters, behind the Powertools idempotency
 * layer. It is given one SQS record for the payout, as the event source mapping would.
 *
 * The runtime is built before the clock starts (a warm container), with fresh clients whose requests are counted and
 * an empty token cache; Stripe and QuickBooks calls are read from the stand-ins' request logs.
 */
import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../lambdas/deposit-builder.js';
import { createLogger } from '../src/adapters/logging.js';
import type { LedgerRecord, PayoutMessage } from '../src/app/ports.js';
import { lambdaContext } from '../src/local/lambda-context.js';
import { toSqsRecord } from '../src/local/poller.js';
import { buildRuntime } from '../src/runtime.js';
import type { CallStats } from './host.js';
import { countedAwsClients, destroyClients, type Measured, measure } from './measure.js';
import { startProfile, stopProfile } from './profile.js';
import { BENCH_QBO_LIMITS, type BenchContext, type PreparedRun, setupLedger } from './setup.js';

/** The deposit builder's Lambda timeout the benchmark gives each invocation (15 minutes, Lambda's maximum). */
const INVOCATION_BUDGET_MS = 900_000;

export interface RunCalls {
  stripe: { requests: number; byRoute: Record<string, number> };
  /** `idempotency`: the requests on the idempotency table (the Powertools layer in front of the use case). */
  dynamodb: { requests: number; idempotency: number; byOperation: Record<string, number> };
  quickbooks: {
    requests: number;
    batchRequests: number;
    batchItems: number;
    units: number;
    tokenRefreshes: number;
    byRoute: Record<string, number>;
  };
  secretsManager: { requests: number };
  sqs: { requests: number };
  /** Failed answers seen by the stand-ins (a healthy run has none but duplicate-name refusals inside batches). */
  failed: { stripe: number; quickbooks: number; throttled: number };
}

export interface RunOutcome {
  status: LedgerRecord['status'] | 'MISSING';
  reason: string | null;
  quickbooks: LedgerRecord['quickbooks'];
  /** The entry was folded to category lines (or the tenant books category lines): it references no customer. */
  withoutCustomers: boolean;
}

export function outcomeOf(row: LedgerRecord | undefined): RunOutcome {
  return row
    ? {
        status: row.status,
        reason: row.reason,
        quickbooks: row.quickbooks,
        withoutCustomers: row.folded === true || row.lineDetailUsed === 'category',
      }
    : { status: 'MISSING', reason: null, quickbooks: null, withoutCustomers: false };
}

/** The measured figures of one invocation or of several together. */
export type RunFigures = Omit<Measured<unknown>, 'result'>;

export interface BuilderRun extends RunFigures {
  /** The invocation on the payout's own message (up to POSTED). */
  posting: RunFigures;
  /** The invocations on the messages that invocation queued (customers created after POSTED, continuations). */
  followUp: RunFigures & { invocations: number; messages: number };
  calls: RunCalls;
  outcome: RunOutcome;
  /** The adapters' own counters, for cross-checking the stand-ins' logs. */
  adapterCounters: {
    customerMap: number;
    ledger: number;
    quickbooksRequests: number;
    quickbooksUnits: number;
  };
  /** CPU used meanwhile by the process the stand-ins run in (ms); same process as the builder in-process. */
  standInsCpuMs: number;
}

export function callsFrom(stats: CallStats, aws: ReturnType<typeof countedAwsClients>['counts']): RunCalls {
  return {
    stripe: { requests: stats.stripe.requests, byRoute: stats.stripe.byRoute },
    dynamodb: {
      requests: aws.dynamodb.total,
      idempotency: Object.entries(aws.dynamodb.byOperation)
        .filter(([operation]) => operation.endsWith(' idempotency'))
        .reduce((n, [, count]) => n + count, 0),
      byOperation: { ...aws.dynamodb.byOperation },
    },
    quickbooks: {
      requests: stats.quickbooks.requests + stats.quickbooks.tokenCalls,
      batchRequests: stats.quickbooks.batchRequests,
      batchItems: stats.quickbooks.batchItems,
      units: stats.quickbooks.units,
      tokenRefreshes: stats.quickbooks.tokenCalls,
      byRoute: stats.quickbooks.byRoute,
    },
    secretsManager: { requests: aws.secretsManager.total },
    sqs: { requests: aws.sqs.total },
    failed: {
      stripe: stats.stripe.failed,
      quickbooks: stats.quickbooks.failed,
      throttled: stats.quickbooks.throttled,
    },
  };
}

export function cpuMsBetween(a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number {
  return Math.round((b.user - a.user + b.system - a.system) / 1000);
}

/** Adds up invocations measured one after the other (peaks: the highest; "before": the first's). */
export function combineFigures(all: readonly RunFigures[]): RunFigures {
  const first = all[0];
  if (first === undefined) {
    return {
      wallMs: 0,
      cpuMs: 0,
      cpuUserMs: 0,
      cpuSystemMs: 0,
      peakRssMb: 0,
      rssBeforeMb: 0,
      peakHeapMb: 0,
      heapBeforeMb: 0,
    };
  }
  const sum = (k: 'wallMs' | 'cpuMs' | 'cpuUserMs' | 'cpuSystemMs') => all.reduce((n, f) => n + f[k], 0);
  return {
    wallMs: sum('wallMs'),
    cpuMs: sum('cpuMs'),
    cpuUserMs: sum('cpuUserMs'),
    cpuSystemMs: sum('cpuSystemMs'),
    peakRssMb: Math.max(...all.map((f) => f.peakRssMb)),
    rssBeforeMb: first.rssBeforeMb,
    peakHeapMb: Math.max(...all.map((f) => f.peakHeapMb)),
    heapBeforeMb: first.heapBeforeMb,
  };
}

/**
 * Delivers what the measured invocation queued (customer work after POSTED, continuations) to the same handler, as
 * the event source mapping would, until the queue is empty; each invocation measured. Receiving and deleting use
 * the uncounted setup client: they are the event source mapping's calls, not the function's.
 */
async function runFollowUps(
  ctx: BenchContext,
  handler: (
    event: SQSEvent,
    context: ReturnType<typeof lambdaContext>,
  ) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
): Promise<BuilderRun['followUp']> {
  const figures: RunFigures[] = [];
  let messages = 0;
  const queueUrl = ctx.resources.queueUrl;
  const arn = `arn:aws:sqs:${ctx.region}:000000000000:bench-payouts.fifo`;
  for (let round = 0, empty = 0; empty < 2 && round < 10_000; round++) {
    const got = await ctx.setup.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const received = got.Messages ?? [];
    if (received.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    messages += received.length;
    const records = received.map((m) => toSqsRecord(m, arn, ctx.region));
    const measured = await measure(() =>
      handler(
        { Records: records },
        lambdaContext('qbo-sync-bench-deposit-builder', INVOCATION_BUDGET_MS, ctx.region),
      ),
    );
    const failed = new Set(measured.result.batchItemFailures.map((f) => f.itemIdentifier));
    if (failed.size > 0) throw new Error(`bench: ${failed.size} follow-up message(s) failed`);
    const { result: _ignored, ...f } = measured;
    figures.push(f);
    await ctx.setup.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
  }
  return { ...combineFigures(figures), invocations: figures.length, messages };
}

function sqsEventFor(message: PayoutMessage, region: string): SQSEvent {
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: `bench-${randomUUID()}`,
        body: JSON.stringify(message),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: '000000000000',
          ApproximateFirstReceiveTimestamp: now,
          MessageGroupId: message.tenantId,
          MessageDeduplicationId: message.eventId,
          SequenceNumber: '1',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${region}:000000000000:bench-payouts.fifo`,
        awsRegion: region,
      },
    ],
  };
}

export async function runBuilder(
  ctx: BenchContext,
  prepared: PreparedRun,
  options: { capture?: boolean; profileDir?: string; label?: string } = {},
): Promise<BuilderRun> {
  const { workload, tenant } = prepared;
  const clients = countedAwsClients(ctx.host.endpoints.aws, ctx.region);
  try {
    const runtime = await buildRuntime(ctx.env, {
      clients,
      settings: ctx.settings,
      // Powertools at POWERTOOLS_LOG_LEVEL: the benchmark sets SILENT unless --logs, so stdout stays clean.
      log: createLogger('qbo-sync-bench'),
      quickbooks: { limits: BENCH_QBO_LIMITS },
    });
    // Exactly the Lambda's wiring (idempotency layer, deadline, DLQ); only the full-batch throw is off, as in local mode.
    const handler = makeDepositBuilderHandler(
      depositBuilderDepsFromRuntime(runtime, { throwOnFullBatchFailure: false }),
    );
    const message: PayoutMessage = {
      eventId: `evt_bench_${randomUUID().replace(/-/g, '')}`,
      eventType: 'payout.paid',
      tenantId: tenant.books.tenantId,
      stripeAccount: workload.stripeAccount,
      payoutId: workload.payoutId,
      receivedAt: new Date().toISOString(),
    };
    const event = sqsEventFor(message, ctx.region);

    await ctx.host.clearRequests(options.capture ?? false);
    for (const c of Object.values(clients.counts)) c.reset();
    const standIns0 = await ctx.host.cpuUsage();
    if (options.profileDir) await startProfile();
    const measured = await measure(() =>
      handler(event, lambdaContext('qbo-sync-bench-deposit-builder', INVOCATION_BUDGET_MS, ctx.region)),
    );
    if (options.profileDir)
      await stopProfile(options.profileDir, `${options.label ?? workload.payoutId}-posting`);
    const failures = measured.result.batchItemFailures;
    const row = await setupLedger(ctx).get(workload.payoutId);
    const outcome = outcomeOf(row);
    if (options.profileDir) await startProfile();
    const followUp = await runFollowUps(ctx, handler);
    if (options.profileDir)
      await stopProfile(options.profileDir, `${options.label ?? workload.payoutId}-after`);
    const standIns1 = await ctx.host.cpuUsage();
    const stats = await ctx.host.stats();
    const calls = callsFrom(stats, clients.counts);
    if (failures.length > 0 && outcome.status === 'POSTED') {
      throw new Error('bench: the handler reported a failed record although the payout is POSTED');
    }
    const qbo = runtime.quickbooks.calls.forRealm(workload.realmId);
    const { result: _ignored, ...posting } = measured;
    return {
      ...combineFigures([posting, followUp]),
      posting,
      followUp,
      calls,
      outcome,
      adapterCounters: {
        customerMap: runtime.customers.calls,
        ledger: runtime.ledger.calls,
        quickbooksRequests: qbo.requests,
        quickbooksUnits: qbo.units,
      },
      standInsCpuMs: cpuMsBetween(standIns0, standIns1),
    };
  } finally {
    destroyClients(clients);
  }
}
