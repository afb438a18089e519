/**
 * `npm run bench` (CONTRACT §10): for generated payouts of 100, 1,000 and 10,000 balance transactions, the real deposit
 * builder's wall time, CPU time, peak memory and calls to Stripe, DynamoDB and QuickBooks beside their lower bounds
 * and beside a naive one-call-per-item baseline; the CPU as ratios to the naive run and to the floor of touching the
 * same data; QuickBooks' metering floor; the time to the books at a realistic pace; and the webhook path's latency.
 *
 * `runBench` does the work and returns the report (bench/report.ts); bench/run.ts is the command line;
 * bench/render.ts prints it.
 */
import { performance } from 'node:perf_hooks';
import {
  dynamodbLowerBound,
  type Pace,
  QUICKBOOKS_FLOOR_FORMULA,
  quickbooksLowerBound,
  stripeLowerBound,
} from './bounds.js';
import { type BuilderRun, runBuilder } from './builder.js';
import {
  type CpuFloor,
  measureCpuFloor,
  measureRequestFloor,
  postingBytes,
  type RequestFloor,
} from './floor.js';
import type { StandInHost } from './host.js';
import { type NaiveRun, runNaive } from './naive.js';
import {
  type BenchReport,
  checkTargets,
  describeMachine,
  fmt,
  medianRun,
  POSTED_FLOOR_FORMULA,
  type SizeReport,
  type SizeShape,
  sizeReport,
  type TimeToBooksReport,
  timeToBooksReport,
} from './report.js';
import { type BenchContext, closeContext, createContext, type PreparedRun, prepareRun } from './setup.js';
import { runTimeToBooks } from './time-to-books.js';
import { runWebhookBench, type WebhookResult } from './webhook.js';

export { renderTable } from './render.js';
export type { BenchReport, SizeReport, TargetCheck } from './report.js';
export { checkTargets, describeMachine, medianRun, sizeReport, TARGETS } from './report.js';

export const DEFAULT_SIZES = [100, 1000, 10_000] as const;
/** QuickBooks 250 ms a request, Stripe 150 ms a page (CONTRACT §10). */
export const DEFAULT_PACE: Pace = { quickbooksMs: 250, stripeMs: 150 };

export interface BenchOptions {
  host: StandInHost;
  sizes?: readonly number[];
  /** Base of the generator seeds (each size adds its own transaction count). */
  seed?: number;
  /** Builder runs per size, each on a fresh identical workload; the median run is reported (default 3). */
  repeat?: number;
  /** Run the naive baseline (default true). */
  naive?: boolean;
  naiveConcurrency?: number;
  naiveBudgetMs?: number;
  /** Measure the CPU floor (default true). */
  floor?: boolean;
  /** The paced stand-ins' latencies for the time to the books; null skips that part (default DEFAULT_PACE). */
  pace?: Pace | null;
  webhookEvents?: number;
  webhookConcurrency?: number;
  /** Write a CPU profile of each size's first builder run here (bench/profile.ts). */
  profileDir?: string;
  /** Progress lines (stderr). */
  progress?: (line: string) => void;
}

function shapeOf(prepared: PreparedRun): SizeShape {
  const counts = prepared.workload.counts;
  return {
    transactions: counts.transactions,
    distinctEmails: counts.distinctEmails,
    missingFromMap: counts.missingFromMap,
    toCreate: counts.newCustomers,
    companyCustomers: counts.companyCustomers,
    tokenRefreshDue: false,
    charges: counts.charges,
    existingCustomers: counts.existingCustomers,
    mappedCustomers: counts.mappedCustomers,
  };
}

interface Measured {
  shape: SizeShape;
  runs: BuilderRun[];
  naive: NaiveRun | null;
  floor: CpuFloor | null;
  postingFloor: CpuFloor | null;
  requestFloor: RequestFloor | null;
  first: PreparedRun;
}

/** Every HTTP request the builder process made: Stripe, DynamoDB (idempotency layer included), QuickBooks, SQS, secrets. */
function requestsMade(r: BuilderRun): number {
  const c = r.calls;
  return (
    c.stripe.requests +
    c.dynamodb.requests +
    c.quickbooks.requests +
    c.sqs.requests +
    c.secretsManager.requests
  );
}

async function measureSize(
  ctx: BenchContext,
  transactions: number,
  seed: number,
  options: BenchOptions,
): Promise<Measured> {
  const progress = options.progress ?? (() => {});
  const first = await prepareRun(ctx, { transactions, seed, label: `${transactions}-builder` });
  const counts = first.workload.counts;
  progress(
    `${fmt(transactions)} transactions: ${fmt(counts.distinctEmails)} emails, ${fmt(counts.missingFromMap)} missing from the map, ${fmt(counts.newCustomers)} to create; running the deposit builder…`,
  );
  const runs: BuilderRun[] = [];
  const repeat = Math.max(1, options.repeat ?? 3);
  const wantFloor = options.floor ?? true;
  let floor: CpuFloor | null = null;
  let postingFloor: CpuFloor | null = null;
  let requestFloor: RequestFloor | null = null;
  for (let i = 0; i < repeat; i++) {
    const workload =
      i === 0
        ? first
        : await prepareRun(ctx, { transactions, seed, label: `${transactions}-builder-${i + 1}` });
    const r = await runBuilder(ctx, workload, {
      capture: wantFloor && i === 0,
      ...(options.profileDir !== undefined && i === 0
        ? { profileDir: options.profileDir, label: String(transactions) }
        : {}),
    });
    if (wantFloor && i === 0) {
      const bytes = await ctx.host.captured();
      floor = measureCpuFloor(bytes);
      postingFloor = r.outcome.withoutCustomers ? measureCpuFloor(postingBytes(bytes)) : floor;
      requestFloor = await measureRequestFloor(ctx.host.endpoints.sink, requestsMade(r));
    }
    runs.push(r);
    progress(
      `  builder run ${i + 1}/${repeat}: ${r.outcome.status} in ${fmt(r.wallMs)} ms, CPU ${fmt(r.cpuMs)} ms (posting ${fmt(r.posting.cpuMs)}, after ${fmt(r.followUp.cpuMs)}), peak RSS ${r.peakRssMb} MB`,
    );
  }
  if (floor)
    progress(
      `  CPU floor (JSON.parse/stringify of the same bytes): ${floor.cpuMs} ms (of the posting invocation: ${postingFloor?.cpuMs} ms); ${fmt(requestFloor?.requests ?? 0)} bare HTTP round trips: ${requestFloor?.cpuMs} ms`,
    );
  let naive: NaiveRun | null = null;
  if (options.naive ?? true) {
    const twin = await prepareRun(ctx, { transactions, seed, label: `${transactions}-naive` });
    progress('  naive baseline…');
    naive = await runNaive(ctx, twin, {
      ...(options.naiveConcurrency !== undefined ? { concurrency: options.naiveConcurrency } : {}),
      ...(options.naiveBudgetMs !== undefined ? { budgetMs: options.naiveBudgetMs } : {}),
    });
    progress(
      `  naive: ${naive.outcome.status}${naive.complete ? '' : ' (cut short)'} in ${fmt(naive.wallMs)} ms, CPU ${fmt(naive.cpuMs)} ms, ${fmt(naive.calls.stripe.requests + naive.calls.dynamodb.requests + naive.calls.quickbooks.requests)} calls`,
    );
  }
  return { shape: shapeOf(first), runs, naive, floor, postingFloor, requestFloor, first };
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const t0 = performance.now();
  const progress = options.progress ?? (() => {});
  const sizes = options.sizes ?? DEFAULT_SIZES;
  const seedBase = options.seed ?? 20_261_000;
  const pace = options.pace === undefined ? DEFAULT_PACE : options.pace;
  const ctx = await createContext(options.host);
  const measured: Measured[] = [];
  let webhook: WebhookResult | null = null;
  const timeToBooks: (TimeToBooksReport | null)[] = sizes.map(() => null);
  try {
    for (const transactions of sizes) {
      measured.push(await measureSize(ctx, transactions, seedBase + transactions, options));
    }
    const events = options.webhookEvents ?? 1000;
    const firstTenant = measured[0]?.first;
    if (events > 0 && firstTenant) {
      progress(`webhook: ${fmt(events)} signed events…`);
      webhook = await runWebhookBench(ctx, {
        events,
        tenant: firstTenant.tenant,
        payout: firstTenant.workload.payout,
        ...(options.webhookConcurrency !== undefined ? { concurrency: options.webhookConcurrency } : {}),
      });
      progress(
        `  ${fmt(webhook.accepted)} accepted, ${webhook.lost} lost, p50 ${webhook.p50Ms} ms, p99 ${webhook.p99Ms} ms`,
      );
    }
    if (pace !== null) {
      // Last: customer work left running after POSTED (at the metered rate) must not disturb other measurements.
      // Each size gets a context (tables, queue) of its own: the previous size's poller, once stopped, can leave a
      // long poll open on its queue that takes the next payout's message out of sight for the visibility timeout
      // (seen with the SQS emulator: a shared queue made the 1,000-transaction payout POSTED 30 s late).
      for (const [index, transactions] of sizes.entries()) {
        const paced = await createContext(options.host, { paced: true });
        try {
          const prepared = await prepareRun(paced, {
            transactions,
            seed: seedBase + transactions,
            label: `${transactions}-paced`,
          });
          progress(
            `time to the books at ${fmt(transactions)} transactions (QuickBooks ${pace.quickbooksMs} ms a request, metered; Stripe ${pace.stripeMs} ms a page)…`,
          );
          const run = await runTimeToBooks(paced, prepared, { pace });
          const report = timeToBooksReport(shapeOf(prepared), pace, run);
          timeToBooks[index] = report;
          progress(
            `  ${run.outcome.status} ${fmt(report.timeToPostedMs)} ms after the webhook's 200 (floor ${fmt(report.postedFloorMs)} ms)${report.customersAfterPosted ? `; ${fmt(report.customersAfterPosted.toCreate)} customers created after it, at least ${fmt(Math.round(report.customersAfterPosted.floorMs / 1000))} s of QuickBooks' metering` : ''}`,
          );
        } finally {
          closeContext(paced);
        }
      }
    }
    const reports: SizeReport[] = measured.map((m, index) =>
      sizeReport(m.shape, medianRun(m.runs), m.naive, m.runs, {
        floor: m.floor,
        postingFloor: m.postingFloor,
        requestFloor: m.requestFloor,
        timeToBooks: timeToBooks[index] ?? null,
      }),
    );
    return {
      machine: describeMachine(),
      generatedAt: new Date().toISOString(),
      standIns: options.host.mode,
      sizes: reports,
      webhook,
      formulas: {
        stripe: stripeLowerBound({ transactions: 0 }).formula,
        dynamodb: dynamodbLowerBound({ distinctEmails: 0, missingFromMap: 0 }).formula,
        quickbooks: quickbooksLowerBound({
          missingFromMap: 0,
          toCreate: 0,
          companyCustomers: 0,
          tokenRefreshDue: false,
        }).formula,
        quickbooksFloorMs: QUICKBOOKS_FLOOR_FORMULA,
        postedFloorMs: POSTED_FLOOR_FORMULA,
      },
      targets: checkTargets(reports, webhook),
      totalWallMs: Math.round(performance.now() - t0),
    };
  } finally {
    closeContext(ctx);
  }
}
