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
import type { SQSEvent } from 'aws-lambda';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../lambdas/deposit-builder.js';
import { createLogger } from '../src/adapters/logging.js';
import type { LedgerRecord, PayoutMessage } from '../src/app/ports.js';
import { lambdaContext } from '../src/local/lambda-context.js';
import { buildRuntime } from '../src/runtime.js';
import type { CallStats } from './host.js';
import { countedAwsClients, destroyClients, type Measured, measure } from './measure.js';
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
}

export interface BuilderRun extends Omit<Measured<unknown>, 'result'> {
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

export async function runBuilder(ctx: BenchContext, prepared: PreparedRun): Promise<BuilderRun> {
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

    await ctx.host.clearRequests();
    for (const c of Object.values(clients.counts)) c.reset();
    const standIns0 = await ctx.host.cpuUsage();
    const measured = await measure(() =>
      handler(event, lambdaContext('qbo-sync-bench-deposit-builder', INVOCATION_BUDGET_MS, ctx.region)),
    );
    const standIns1 = await ctx.host.cpuUsage();
    const stats = await ctx.host.stats();
    const calls = callsFrom(stats, clients.counts);
    const failures = measured.result.batchItemFailures;
    const row = await setupLedger(ctx).get(workload.payoutId);
    const outcome: RunOutcome = row
      ? { status: row.status, reason: row.reason, quickbooks: row.quickbooks }
      : { status: 'MISSING', reason: null, quickbooks: null };
    if (failures.length > 0 && outcome.status === 'POSTED') {
      throw new Error('bench: the handler reported a failed record although the payout is POSTED');
    }
    const qbo = runtime.quickbooks.calls.forRealm(workload.realmId);
    const { result: _ignored, ...figures } = measured;
    return {
      ...figures,
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
