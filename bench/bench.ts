/**
 * `npm run bench` (CONTRACT §10): for generated payouts of 100, 1,000 and 10,000 balance transactions, the real deposit
 * builder's wall time, CPU time, peak memory and calls to Stripe, DynamoDB and QuickBooks beside their lower bounds
 * and beside a naive one-call-per-item baseline; QuickBooks' metering floor; and the webhook path's latency.
 *
 * `runBench` does the work and returns the report; bench/run.ts is the command line; `renderTable` prints it.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  type Bound,
  dynamodbContractFigure,
  dynamodbLowerBound,
  QUICKBOOKS_FLOOR_FORMULA,
  quickbooksFloorMs,
  quickbooksLowerBound,
  stripeLowerBound,
  type WorkShape,
} from './bounds.js';
import { type BuilderRun, type RunCalls, runBuilder } from './builder.js';
import type { StandInHost } from './host.js';
import { type NaiveRun, runNaive } from './naive.js';
import { closeContext, createContext, prepareRun } from './setup.js';
import { runWebhookBench, type WebhookResult } from './webhook.js';

export const DEFAULT_SIZES = [100, 1000, 10_000] as const;
/** The issue's targets, checked at the largest size. */
export const TARGETS = { slack: 2, naiveRatio: 10, cpuMs: 2000, peakRssMb: 300 } as const;

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
  webhookEvents?: number;
  webhookConcurrency?: number;
  /** Progress lines (stderr). */
  progress?: (line: string) => void;
}

export interface ServiceCalls {
  made: number;
  lowerBound: number;
  /** The naive baseline's calls (null when it did not run). */
  naive: number | null;
  /** made − lowerBound. */
  overBound: number;
  /** naive / made. */
  naiveRatio: number | null;
  formula: string;
  terms: Record<string, number>;
  /** What the calls were, by route or operation. */
  breakdown: Record<string, number>;
}

export interface SizeReport {
  transactions: number;
  newCustomers: number;
  wallMs: number;
  cpuMs: number;
  peakRssMb: number;
  calls: {
    stripe: ServiceCalls;
    dynamodb: ServiceCalls & {
      contractFigure: number;
      /** Of `made`: the Powertools idempotency layer's requests (IDEMPOTENCY_TABLE), in front of the use case. */
      idempotencyLayer: number;
    };
    quickbooks: ServiceCalls;
  };
  quickbooksFloorMs: number;
  workload: {
    charges: number;
    distinctEmails: number;
    missingFromMap: number;
    toCreate: number;
    existingCustomers: number;
    mappedCustomers: number;
    companyCustomers: number;
    tokenRefreshDue: boolean;
  };
  memory: { rssBeforeMb: number; peakHeapMb: number; heapBeforeMb: number };
  cpu: { userMs: number; systemMs: number; standInsMs: number };
  quickbooksUnits: number;
  otherCalls: {
    secretsManager: number;
    sqs: number;
    quickbooksTokenRefreshes: number;
    quickbooksThrottled: number;
  };
  outcome: BuilderRun['outcome'];
  /** Every builder run of this size (the figures above are the median run's). */
  runs: { wallMs: number; cpuMs: number; peakRssMb: number; calls: number }[];
  naive: null | {
    complete: boolean;
    wallMs: number;
    cpuMs: number;
    concurrency: number;
    emailsProcessed: number;
    emailsTotal: number;
    quickbooksUnits: number;
    quickbooksFloorMs: number;
    outcome: NaiveRun['outcome'];
  };
}

export interface TargetCheck {
  target: string;
  met: boolean;
  detail: string;
}

export interface BenchReport {
  machine: string;
  generatedAt: string;
  standIns: StandInHost['mode'];
  sizes: SizeReport[];
  webhook: WebhookResult | null;
  formulas: { stripe: string; dynamodb: string; quickbooks: string; quickbooksFloorMs: string };
  targets: TargetCheck[];
  totalWallMs: number;
}

export function describeMachine(): string {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  const gib = Math.round(os.totalmem() / 2 ** 30);
  return `${model}, ${cpus.length} cores, ${gib} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}`;
}

const ratio = (naive: number | null, made: number): number | null =>
  naive === null || made === 0 ? null : Math.round((naive / made) * 10) / 10;

function service(
  made: number,
  bound: Bound,
  naive: number | null,
  breakdown: Record<string, number>,
): ServiceCalls {
  return {
    made,
    lowerBound: bound.total,
    naive,
    overBound: made - bound.total,
    naiveRatio: ratio(naive, made),
    formula: bound.formula,
    terms: bound.terms,
    breakdown,
  };
}

/** The size report from a builder run (and the naive run on an identical workload, if any). */
export function sizeReport(
  shape: WorkShape & {
    charges: number;
    existingCustomers: number;
    mappedCustomers: number;
  },
  run: BuilderRun,
  naive: NaiveRun | null,
  runs: readonly BuilderRun[] = [run],
): SizeReport {
  const c: RunCalls = run.calls;
  const dynamo = service(
    c.dynamodb.requests,
    dynamodbLowerBound(shape),
    naive?.calls.dynamodb.requests ?? null,
    c.dynamodb.byOperation,
  );
  return {
    transactions: shape.transactions,
    newCustomers: shape.toCreate,
    wallMs: run.wallMs,
    cpuMs: run.cpuMs,
    peakRssMb: run.peakRssMb,
    calls: {
      stripe: service(
        c.stripe.requests,
        stripeLowerBound(shape),
        naive?.calls.stripe.requests ?? null,
        c.stripe.byRoute,
      ),
      dynamodb: {
        ...dynamo,
        contractFigure: dynamodbContractFigure(shape),
        idempotencyLayer: c.dynamodb.idempotency,
      },
      quickbooks: service(
        c.quickbooks.requests,
        quickbooksLowerBound(shape),
        naive?.calls.quickbooks.requests ?? null,
        c.quickbooks.byRoute,
      ),
    },
    quickbooksFloorMs: quickbooksFloorMs(c.quickbooks.units),
    workload: {
      charges: shape.charges,
      distinctEmails: shape.distinctEmails,
      missingFromMap: shape.missingFromMap,
      toCreate: shape.toCreate,
      existingCustomers: shape.existingCustomers,
      mappedCustomers: shape.mappedCustomers,
      companyCustomers: shape.companyCustomers,
      tokenRefreshDue: shape.tokenRefreshDue,
    },
    memory: { rssBeforeMb: run.rssBeforeMb, peakHeapMb: run.peakHeapMb, heapBeforeMb: run.heapBeforeMb },
    cpu: { userMs: run.cpuUserMs, systemMs: run.cpuSystemMs, standInsMs: run.standInsCpuMs },
    quickbooksUnits: c.quickbooks.units,
    otherCalls: {
      secretsManager: c.secretsManager.requests,
      sqs: c.sqs.requests,
      quickbooksTokenRefreshes: c.quickbooks.tokenRefreshes,
      quickbooksThrottled: c.failed.throttled,
    },
    outcome: run.outcome,
    runs: runs.map((r) => ({
      wallMs: r.wallMs,
      cpuMs: r.cpuMs,
      peakRssMb: r.peakRssMb,
      calls: r.calls.stripe.requests + r.calls.dynamodb.requests + r.calls.quickbooks.requests,
    })),
    naive:
      naive === null
        ? null
        : {
            complete: naive.complete,
            wallMs: naive.wallMs,
            cpuMs: naive.cpuMs,
            concurrency: naive.concurrency,
            emailsProcessed: naive.emailsProcessed,
            emailsTotal: naive.emailsTotal,
            quickbooksUnits: naive.calls.quickbooks.units,
            quickbooksFloorMs: quickbooksFloorMs(naive.calls.quickbooks.units),
            outcome: naive.outcome,
          },
  };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** The run with the median CPU time (the lower middle one for an even count). */
export function medianRun<R extends { cpuMs: number }>(runs: readonly R[]): R {
  if (runs.length === 0) throw new Error('medianRun needs at least one run');
  const sorted = [...runs].sort((a, b) => a.cpuMs - b.cpuMs);
  return sorted[Math.floor((sorted.length - 1) / 2)] as R;
}

/** The issue's targets, at the largest size measured; the webhook's at any size. */
export function checkTargets(sizes: readonly SizeReport[], webhook: WebhookResult | null): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const largest = [...sizes].sort((a, b) => b.transactions - a.transactions)[0];
  if (largest) {
    const at = `at ${fmt(largest.transactions)} transactions`;
    checks.push({
      target: `payout POSTED ${at}`,
      met: largest.outcome.status === 'POSTED',
      detail: `ledger ${largest.outcome.status}${largest.outcome.reason ? `: ${largest.outcome.reason}` : ''}`,
    });
    for (const name of ['stripe', 'dynamodb', 'quickbooks'] as const) {
      const s = largest.calls[name];
      const idempotency = name === 'dynamodb' ? largest.calls.dynamodb.idempotencyLayer : 0;
      checks.push({
        target: `${name} calls ≤ lower bound + ${TARGETS.slack} ${at}`,
        met: s.overBound <= TARGETS.slack,
        detail: `${fmt(s.made)} made, lower bound ${fmt(s.lowerBound)} (${s.overBound >= 0 ? '+' : ''}${s.overBound})${idempotency > 0 ? `, of which ${idempotency} by the Powertools idempotency layer in front of the use case` : ''}`,
      });
      if (idempotency > 0) {
        const over = s.overBound - idempotency;
        checks.push({
          target: `${name} calls of the sync-payout use case alone ≤ lower bound + ${TARGETS.slack} ${at}`,
          met: over <= TARGETS.slack,
          detail: `${fmt(s.made - idempotency)} made, lower bound ${fmt(s.lowerBound)} (${over >= 0 ? '+' : ''}${over})`,
        });
      }
    }
    const made = largest.calls.stripe.made + largest.calls.dynamodb.made + largest.calls.quickbooks.made;
    const naiveCalls = [
      largest.calls.stripe.naive,
      largest.calls.dynamodb.naive,
      largest.calls.quickbooks.naive,
    ];
    if (naiveCalls.every((n): n is number => n !== null)) {
      const naive = naiveCalls.reduce((a, b) => a + b, 0);
      const r = naive / made;
      checks.push({
        target: `≥ ${TARGETS.naiveRatio}× fewer calls than the naive baseline ${at} (all three services)`,
        met: r >= TARGETS.naiveRatio,
        detail: `${fmt(made)} vs ${fmt(naive)} (${r.toFixed(1)}×; Stripe ${largest.calls.stripe.naiveRatio}×, DynamoDB ${largest.calls.dynamodb.naiveRatio}×, QuickBooks ${largest.calls.quickbooks.naiveRatio}×)${largest.naive?.complete === false ? '; the naive run was cut short, so its figure is a lower bound' : ''}`,
      });
    }
    checks.push({
      target: `builder CPU < ${fmt(TARGETS.cpuMs)} ms ${at}`,
      met: largest.cpuMs < TARGETS.cpuMs,
      detail: `${fmt(largest.cpuMs)} ms (user ${fmt(largest.cpu.userMs)}, system ${fmt(largest.cpu.systemMs)})`,
    });
    checks.push({
      target: `builder peak memory < ${TARGETS.peakRssMb} MB ${at}`,
      met: largest.peakRssMb < TARGETS.peakRssMb,
      detail: `peak RSS ${largest.peakRssMb} MB (${largest.memory.rssBeforeMb} MB before the run), peak heap ${largest.memory.peakHeapMb} MB`,
    });
  }
  if (webhook) {
    checks.push({
      target: `webhook: every one of ${fmt(webhook.events)} events accepted and queued, none lost`,
      met: webhook.accepted === webhook.events && webhook.lost === 0 && webhook.unexpected === 0,
      detail: `${fmt(webhook.accepted)} accepted, ${fmt(webhook.queued)} queued, ${webhook.lost} lost, ${webhook.unexpected} unexpected; p50 ${webhook.p50Ms} ms, p99 ${webhook.p99Ms} ms`,
    });
  }
  return checks;
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const t0 = performance.now();
  const progress = options.progress ?? (() => {});
  const sizes = options.sizes ?? DEFAULT_SIZES;
  const seedBase = options.seed ?? 20_261_000;
  const ctx = await createContext(options.host);
  const reports: SizeReport[] = [];
  let firstTenant: Awaited<ReturnType<typeof prepareRun>> | undefined;
  try {
    for (const transactions of sizes) {
      const seed = seedBase + transactions;
      const prepared = await prepareRun(ctx, { transactions, seed, label: `${transactions}-builder` });
      firstTenant ??= prepared;
      const counts = prepared.workload.counts;
      progress(
        `${fmt(transactions)} transactions: ${fmt(counts.distinctEmails)} emails, ${fmt(counts.missingFromMap)} missing from the map, ${fmt(counts.newCustomers)} to create; running the deposit builder…`,
      );
      const runs: BuilderRun[] = [];
      const repeat = Math.max(1, options.repeat ?? 3);
      for (let i = 0; i < repeat; i++) {
        const workload =
          i === 0
            ? prepared
            : await prepareRun(ctx, { transactions, seed, label: `${transactions}-builder-${i + 1}` });
        const r = await runBuilder(ctx, workload);
        runs.push(r);
        progress(
          `  builder run ${i + 1}/${repeat}: ${r.outcome.status} in ${fmt(r.wallMs)} ms, CPU ${fmt(r.cpuMs)} ms, peak RSS ${r.peakRssMb} MB`,
        );
      }
      const run = medianRun(runs);
      let naive: NaiveRun | null = null;
      if (options.naive ?? true) {
        const twin = await prepareRun(ctx, { transactions, seed, label: `${transactions}-naive` });
        progress('  naive baseline…');
        naive = await runNaive(ctx, twin, {
          ...(options.naiveConcurrency !== undefined ? { concurrency: options.naiveConcurrency } : {}),
          ...(options.naiveBudgetMs !== undefined ? { budgetMs: options.naiveBudgetMs } : {}),
        });
        progress(
          `  naive: ${naive.outcome.status}${naive.complete ? '' : ' (cut short)'} in ${fmt(naive.wallMs)} ms, ${fmt(naive.calls.stripe.requests + naive.calls.dynamodb.requests + naive.calls.quickbooks.requests)} calls`,
        );
      }
      reports.push(
        sizeReport(
          {
            transactions: counts.transactions,
            distinctEmails: counts.distinctEmails,
            missingFromMap: counts.missingFromMap,
            toCreate: counts.newCustomers,
            companyCustomers: counts.companyCustomers,
            tokenRefreshDue: false,
            charges: counts.charges,
            existingCustomers: counts.existingCustomers,
            mappedCustomers: counts.mappedCustomers,
          },
          run,
          naive,
          runs,
        ),
      );
    }
    let webhook: WebhookResult | null = null;
    const events = options.webhookEvents ?? 1000;
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
    return {
      machine: describeMachine(),
      generatedAt: new Date().toISOString(),
      standIns: options.host.mode,
      sizes: reports,
      webhook,
      formulas: {
        stripe: stripeLowerBound({ transactions: 0 }).formula,
        dynamodb: `${dynamodbLowerBound({ distinctEmails: 0, missingFromMap: 0 }).formula} (contract: ⌈E/100⌉ + ⌈C/25⌉ + 3, equal when M = C)`,
        quickbooks: quickbooksLowerBound({
          missingFromMap: 0,
          toCreate: 0,
          companyCustomers: 0,
          tokenRefreshDue: false,
        }).formula,
        quickbooksFloorMs: QUICKBOOKS_FLOOR_FORMULA,
      },
      targets: checkTargets(reports, webhook),
      totalWallMs: Math.round(performance.now() - t0),
    };
  } finally {
    closeContext(ctx);
  }
}

// ------------------------------------------------------------------------------------------------ rendering

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAlign: readonly boolean[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (rightAlign[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function callCell(s: ServiceCalls & { idempotencyLayer?: number }): string {
  const idempotency = s.idempotencyLayer ? `, ${s.idempotencyLayer} idem.` : '';
  const over = `${s.overBound >= 0 ? '+' : ''}${s.overBound}${idempotency}`;
  const naive = s.naive === null ? '–' : `${fmt(s.naive)} (${s.naiveRatio}×)`;
  return `${fmt(s.made)} / ${fmt(s.lowerBound)} (${over}) / ${naive}`;
}

/** `2,130 ms (1,990–2,410)`: the median and the range of the runs, when there are several. */
function spread(median: number, all: readonly number[]): string {
  if (all.length < 2) return `${fmt(median)} ms`;
  return `${fmt(median)} ms (${fmt(Math.min(...all))}–${fmt(Math.max(...all))})`;
}

const seconds = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${fmt(ms)} ms`);

/** The report as readable text (Markdown tables). */
export function renderTable(report: BenchReport): string {
  const out: string[] = [];
  out.push('momence-qbo-sync benchmark (npm run bench)');
  out.push(`machine: ${report.machine}`);
  out.push(
    `stand-ins and AWS emulators: ${report.standIns === 'child-process' ? 'in a child process (CPU and memory below are the deposit builder process alone)' : 'in this process (CPU and memory include them)'}`,
  );
  out.push('');
  const repeats = Math.max(...report.sizes.map((s) => s.runs.length), 1);
  out.push(
    `Deposit builder: the deposit-builder Lambda handler over the real adapters, one payout per run${repeats > 1 ? `; median of ${repeats} runs per size (CPU range in brackets)` : ''}`,
  );
  out.push('');
  out.push(
    table(
      [
        'transactions',
        'emails E',
        'missing M',
        'created C',
        'company K',
        'wall',
        'CPU',
        'peak RSS',
        'peak heap',
        'ledger',
      ],
      report.sizes.map((s) => [
        fmt(s.transactions),
        fmt(s.workload.distinctEmails),
        fmt(s.workload.missingFromMap),
        fmt(s.workload.toCreate),
        fmt(s.workload.companyCustomers),
        seconds(s.wallMs),
        spread(
          s.cpuMs,
          s.runs.map((r) => r.cpuMs),
        ),
        `${s.peakRssMb} MB`,
        `${s.memory.peakHeapMb} MB`,
        s.outcome.status,
      ]),
      [true, true, true, true, true, true, true, true, true, false],
    ),
  );
  out.push('');
  out.push(
    'Calls: made / lower bound (over; "idem." = of them, by the Powertools idempotency layer) / naive baseline (naive ÷ made)',
  );
  out.push('');
  out.push(
    table(
      ['transactions', 'Stripe', 'DynamoDB', 'QuickBooks', 'QBO units', 'QBO floor', 'naive run'],
      report.sizes.map((s) => [
        fmt(s.transactions),
        callCell(s.calls.stripe),
        callCell(s.calls.dynamodb),
        callCell(s.calls.quickbooks),
        fmt(s.quickbooksUnits),
        seconds(s.quickbooksFloorMs),
        s.naive === null
          ? '–'
          : `${seconds(s.naive.wallMs)}${s.naive.complete ? '' : ` (cut short at ${fmt(s.naive.emailsProcessed)}/${fmt(s.naive.emailsTotal)} emails)`}`,
      ]),
      [true, true, true, true, true, true, false],
    ),
  );
  out.push('');
  out.push(
    'Lower bounds: N transactions, E distinct emails, M missing from the mapping table, C to create, K company customers',
  );
  out.push(`  Stripe      ${report.formulas.stripe}`);
  out.push(`  DynamoDB    ${report.formulas.dynamodb}`);
  out.push(`  QuickBooks  ${report.formulas.quickbooks}`);
  out.push(`  QBO floor   ${report.formulas.quickbooksFloorMs}`);
  if (report.webhook) {
    const w = report.webhook;
    out.push('');
    out.push(
      `Webhook: ${fmt(w.events)} signed payout.paid events through local mode's HTTP endpoint, ${w.concurrency} in flight: ${fmt(w.accepted)} accepted (200), ${fmt(w.queued)} queued, ${w.lost} lost; latency p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, max ${w.maxMs} ms; ${seconds(w.wallMs)} in all`,
    );
  }
  out.push('');
  out.push('Targets:');
  for (const t of report.targets) out.push(`  ${t.met ? 'met   ' : 'MISSED'}  ${t.target}: ${t.detail}`);
  out.push('');
  out.push(`The whole benchmark took ${seconds(report.totalWallMs)}.`);
  return out.join('\n');
}
