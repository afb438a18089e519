/**
 * The benchmark report (CONTRACT §10): its shape, the figures of one size from its runs, and the issue's targets.
 * Pure: bench/bench.ts measures, this file turns measurements into the report, bench/render.ts prints it.
 */
import os from 'node:os';
import {
  type Bound,
  customersAfterFloorMs,
  dynamodbLowerBound,
  type Pace,
  postedFloorMs,
  quickbooksFloorMs,
  quickbooksLowerBound,
  stripeLowerBound,
  type WorkShape,
} from './bounds.js';
import type { BuilderRun, RunCalls, RunOutcome } from './builder.js';
import type { CpuFloor, RequestFloor } from './floor.js';
import type { NaiveRun } from './naive.js';
import type { TimeToBooksRun } from './time-to-books.js';
import type { WebhookResult } from './webhook.js';

/** The issue's targets (at the largest size unless said). */
export const TARGETS = {
  /** Calls of the sync use case per service ≤ lower bound + slack (the idempotency layer's counted apart). */
  slack: 2,
  /** ≥ this many times fewer calls than the naive baseline, all services together. */
  naiveRatio: 10,
  cpuVsNaive: 0.25,
  cpuVsFloor: 5,
  peakRssMb: 300,
  /** timeToPostedMs ≤ postedFactor × postedFloorMs + postedSlackMs, at every size. */
  postedFactor: 1.5,
  postedSlackMs: 2000,
} as const;

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

export interface TimeToBooksReport {
  pace: Pace;
  timeToPostedMs: number;
  postedFloorMs: number;
  /** timeToPostedMs ÷ postedFloorMs. */
  ratio: number;
  outcome: RunOutcome;
  /** Whether the entry had to wait for customers (it references them) or was posted first. */
  entryReferencesCustomers: boolean;
  /** Customers created after POSTED, and the least time QuickBooks' limits allow that work (null: none after). */
  customersAfterPosted: null | { toCreate: number; lookedUp: number; floorMs: number; stillRunning: boolean };
}

export interface SizeReport {
  transactions: number;
  newCustomers: number;
  wallMs: number;
  /** The builder's CPU: every invocation the payout needed (the posting one and the customer work after it). */
  cpuMs: number;
  /** cpuMs ÷ the naive baseline's CPU on the same workload (null without the naive run). */
  cpuVsNaive: number | null;
  /** cpuMs ÷ the CPU of parsing the same Stripe answers and writing the same QuickBooks bodies (null: not measured). */
  cpuVsFloor: number | null;
  peakRssMb: number;
  /** From the webhook's 200 to POSTED at the paced stand-ins (null without `--latency`). */
  timeToPostedMs: number | null;
  postedFloorMs: number | null;
  calls: {
    stripe: ServiceCalls;
    dynamodb: ServiceCalls & {
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
  cpu: {
    userMs: number;
    systemMs: number;
    standInsMs: number;
    /** The invocation on the payout's message, and the invocations on what it queued. */
    postingMs: number;
    followUpMs: number;
    followUpInvocations: number;
    naiveMs: number | null;
    floor: CpuFloor | null;
    /** The posting invocation alone: its CPU ÷ its floor (every Stripe answer, the entry's body). */
    postingFloor: CpuFloor | null;
    postingVsFloor: number | null;
    /** The CPU of as many bare HTTP round trips as the run made (not part of the contract's floor). */
    requestFloor: RequestFloor | null;
    /** builder CPU ÷ (floor + requestFloor): how close the builder is to touching its data over the calls it makes. */
    vsFloorWithRequests: number | null;
  };
  quickbooksUnits: number;
  otherCalls: {
    secretsManager: number;
    sqs: number;
    quickbooksTokenRefreshes: number;
    quickbooksThrottled: number;
  };
  outcome: RunOutcome;
  timeToBooks: TimeToBooksReport | null;
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
  standIns: 'child-process' | 'in-process';
  sizes: SizeReport[];
  webhook: WebhookResult | null;
  formulas: {
    stripe: string;
    dynamodb: string;
    quickbooks: string;
    quickbooksFloorMs: string;
    postedFloorMs: string;
  };
  targets: TargetCheck[];
  totalWallMs: number;
}

export const POSTED_FLOOR_FORMULA =
  '(1 + ⌈N/100⌉) × Stripe latency + the QuickBooks calls the entry needs (lookups, creations — only when it references customers — then the entry) scheduled at 10 in flight, 500 units and 40 batches a minute, each answered after the QuickBooks latency';

export function describeMachine(): string {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  const gib = Math.round(os.totalmem() / 2 ** 30);
  return `${model}, ${cpus.length} cores, ${gib} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}`;
}

const ratio = (naive: number | null, made: number): number | null =>
  naive === null || made === 0 ? null : Math.round((naive / made) * 10) / 10;

/** a ÷ b to 3 decimals; null when either is missing or b is 0. */
export function cpuRatio(a: number, b: number | null | undefined): number | null {
  if (b === null || b === undefined || b <= 0) return null;
  return Math.round((a / b) * 1000) / 1000;
}

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

export type SizeShape = WorkShape & { charges: number; existingCustomers: number; mappedCustomers: number };

/** The time-to-the-books part of a size report. */
export function timeToBooksReport(shape: SizeShape, pace: Pace, run: TimeToBooksRun): TimeToBooksReport {
  const references = !run.outcome.withoutCustomers;
  const floor = postedFloorMs(shape, pace, references);
  const after = !references && shape.missingFromMap > 0;
  return {
    pace,
    timeToPostedMs: run.timeToPostedMs,
    postedFloorMs: floor,
    ratio: Math.round((run.timeToPostedMs / Math.max(1, floor)) * 100) / 100,
    outcome: run.outcome,
    entryReferencesCustomers: references,
    customersAfterPosted: after
      ? {
          toCreate: shape.toCreate,
          lookedUp: shape.missingFromMap - shape.toCreate,
          floorMs: customersAfterFloorMs(shape, pace),
          stillRunning: run.customersStillRunning,
        }
      : null,
  };
}

/** The size report from a builder run (and the naive run on an identical workload, the floor, the paced run). */
export function sizeReport(
  shape: SizeShape,
  run: BuilderRun,
  naive: NaiveRun | null,
  runs: readonly BuilderRun[] = [run],
  extra: {
    floor?: CpuFloor | null;
    postingFloor?: CpuFloor | null;
    requestFloor?: RequestFloor | null;
    timeToBooks?: TimeToBooksReport | null;
  } = {},
): SizeReport {
  const c: RunCalls = run.calls;
  const dynamo = service(
    c.dynamodb.requests,
    dynamodbLowerBound(shape),
    naive?.calls.dynamodb.requests ?? null,
    c.dynamodb.byOperation,
  );
  const floor = extra.floor ?? null;
  const ttb = extra.timeToBooks ?? null;
  return {
    transactions: shape.transactions,
    newCustomers: shape.toCreate,
    wallMs: run.wallMs,
    cpuMs: run.cpuMs,
    cpuVsNaive: naive?.complete ? cpuRatio(run.cpuMs, naive.cpuMs) : null,
    cpuVsFloor: cpuRatio(run.cpuMs, floor?.cpuMs),
    peakRssMb: run.peakRssMb,
    timeToPostedMs: ttb?.timeToPostedMs ?? null,
    postedFloorMs: ttb?.postedFloorMs ?? null,
    calls: {
      stripe: service(
        c.stripe.requests,
        stripeLowerBound(shape),
        naive?.calls.stripe.requests ?? null,
        c.stripe.byRoute,
      ),
      dynamodb: { ...dynamo, idempotencyLayer: c.dynamodb.idempotency },
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
    cpu: {
      userMs: run.cpuUserMs,
      systemMs: run.cpuSystemMs,
      standInsMs: run.standInsCpuMs,
      postingMs: run.posting.cpuMs,
      followUpMs: run.followUp.cpuMs,
      followUpInvocations: run.followUp.invocations,
      naiveMs: naive?.cpuMs ?? null,
      floor,
      postingFloor: extra.postingFloor ?? null,
      postingVsFloor: cpuRatio(run.posting.cpuMs, extra.postingFloor?.cpuMs),
      requestFloor: extra.requestFloor ?? null,
      vsFloorWithRequests:
        floor && extra.requestFloor ? cpuRatio(run.cpuMs, floor.cpuMs + extra.requestFloor.cpuMs) : null,
    },
    quickbooksUnits: c.quickbooks.units,
    otherCalls: {
      secretsManager: c.secretsManager.requests,
      sqs: c.sqs.requests,
      quickbooksTokenRefreshes: c.quickbooks.tokenRefreshes,
      quickbooksThrottled: c.failed.throttled,
    },
    outcome: run.outcome,
    timeToBooks: ttb,
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

export const fmt = (n: number): string => n.toLocaleString('en-US');

/** The run with the median CPU time (the lower middle one for an even count). */
export function medianRun<R extends { cpuMs: number }>(runs: readonly R[]): R {
  if (runs.length === 0) throw new Error('medianRun needs at least one run');
  const sorted = [...runs].sort((a, b) => a.cpuMs - b.cpuMs);
  return sorted[Math.floor((sorted.length - 1) / 2)] as R;
}

/** The issue's targets: calls, CPU and memory at the largest size measured; time to the books at every size. */
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
      const over = s.overBound - idempotency;
      checks.push({
        target: `${name} calls of the sync use case ≤ lower bound + ${TARGETS.slack} ${at}`,
        met: over <= TARGETS.slack,
        detail: `${fmt(s.made - idempotency)} made, lower bound ${fmt(s.lowerBound)} (${over >= 0 ? '+' : ''}${over})${idempotency > 0 ? `; besides, ${idempotency} by the Powertools idempotency layer in front of the use case` : ''}`,
      });
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
    if (largest.cpuVsNaive !== null) {
      checks.push({
        target: `cpuVsNaive ≤ ${TARGETS.cpuVsNaive} ${at}`,
        met: largest.cpuVsNaive <= TARGETS.cpuVsNaive,
        detail: `builder ${fmt(largest.cpuMs)} ms ÷ naive ${fmt(largest.cpu.naiveMs ?? 0)} ms = ${largest.cpuVsNaive}`,
      });
    }
    if (largest.cpuVsFloor !== null) {
      checks.push({
        target: `cpuVsFloor ≤ ${TARGETS.cpuVsFloor} ${at}`,
        met: largest.cpuVsFloor <= TARGETS.cpuVsFloor,
        detail: `builder ${fmt(largest.cpuMs)} ms ÷ floor ${largest.cpu.floor?.cpuMs ?? 0} ms (JSON.parse of ${fmt(largest.cpu.floor?.stripeBytes ?? 0)} bytes from Stripe, JSON.stringify of ${fmt(largest.cpu.floor?.quickbooksBytes ?? 0)} bytes to QuickBooks) = ${largest.cpuVsFloor}; the posting invocation alone: ${fmt(largest.cpu.postingMs)} ms ÷ ${largest.cpu.postingFloor?.cpuMs ?? 0} ms = ${largest.cpu.postingVsFloor}${largest.cpu.requestFloor ? `; with the run's ${fmt(largest.cpu.requestFloor.requests)} HTTP round trips added to the floor (bare node:http, ${largest.cpu.requestFloor.cpuMs} ms): ${largest.cpu.vsFloorWithRequests}` : ''}`,
      });
    }
    checks.push({
      target: `builder peak memory < ${TARGETS.peakRssMb} MB ${at}`,
      met: largest.peakRssMb < TARGETS.peakRssMb,
      detail: `peak RSS ${largest.peakRssMb} MB (${largest.memory.rssBeforeMb} MB before the run), peak heap ${largest.memory.peakHeapMb} MB`,
    });
  }
  for (const s of sizes) {
    const t = s.timeToBooks;
    if (t === null) continue;
    const limit = TARGETS.postedFactor * t.postedFloorMs + TARGETS.postedSlackMs;
    checks.push({
      target: `timeToPostedMs ≤ ${TARGETS.postedFactor} × postedFloorMs + ${fmt(TARGETS.postedSlackMs)} ms at ${fmt(s.transactions)} transactions`,
      met: t.outcome.status === 'POSTED' && t.timeToPostedMs <= limit,
      detail: `${fmt(t.timeToPostedMs)} ms, floor ${fmt(t.postedFloorMs)} ms, limit ${fmt(Math.round(limit))} ms; ledger ${t.outcome.status}${t.entryReferencesCustomers ? '' : ', posted before its customers were created'}`,
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
