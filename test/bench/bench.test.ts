/**
 * The benchmark (`npm run bench`, CONTRACT §10) on tiny sizes: the report's shape, its lower-bound formulas and
 * metering floor, the targets' verdicts, and `--json` printing only the JSON document.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';
import {
  type BenchReport,
  checkTargets,
  medianRun,
  renderTable,
  runBench,
  type SizeReport,
} from '../../bench/bench.js';
import {
  batchesOf,
  customersAfterFloorMs,
  dynamodbLowerBound,
  meteredScheduleMs,
  percentile,
  postedFloorMs,
  quickbooksFloorMs,
  quickbooksLowerBound,
  stripeLowerBound,
} from '../../bench/bounds.js';
import { type StandInHost, startStandInsInProcess } from '../../bench/host.js';

const ROOT = path.resolve(__dirname, '..', '..');

// The exact shape CONTRACT §10 promises (more keys allowed).
const Calls = z.object({
  made: z.number().int().min(0),
  lowerBound: z.number().int().min(0),
  naive: z.number().int().nullable(),
});
const ContractReport = z.object({
  machine: z.string().min(1),
  sizes: z.array(
    z.object({
      transactions: z.number().int(),
      newCustomers: z.number().int(),
      wallMs: z.number().min(0),
      cpuMs: z.number().min(0),
      cpuVsNaive: z.number().positive(),
      cpuVsFloor: z.number().positive(),
      peakRssMb: z.number().positive(),
      timeToPostedMs: z.number().positive(),
      postedFloorMs: z.number().positive(),
      calls: z.object({ stripe: Calls, dynamodb: Calls, quickbooks: Calls }),
      quickbooksFloorMs: z.number().int().min(0),
    }),
  ),
  webhook: z.object({
    events: z.number().int(),
    accepted: z.number().int(),
    lost: z.number().int(),
    p50Ms: z.number().min(0),
    p99Ms: z.number().min(0),
  }),
});

/** The contract's formulas, written out again here so the test does not trust bench/bounds.ts. */
function expectBoundsOf(s: SizeReport): void {
  const { distinctEmails: E, missingFromMap: M, toCreate: C, companyCustomers: K } = s.workload;
  const N = s.transactions;
  const up = Math.ceil;
  expect(s.calls.stripe.lowerBound).toBe(1 + up(N / 100));
  expect(s.calls.dynamodb.lowerBound).toBe(up(E / 100) + up(M / 25) + 3);
  expect(s.calls.quickbooks.lowerBound).toBe(Math.min(up(M / 30), up(K / 1000)) + up(C / 30) + 1);
  expect(s.quickbooksFloorMs).toBe(Math.max(0, up(s.quickbooksUnits / 500) - 1) * 60_000);
  // The workload is what the report says: half of the customers new, half of the others mapped.
  expect(E).toBe(s.workload.charges);
  expect(s.workload.existingCustomers).toBe(Math.floor(E / 2));
  expect(C).toBe(E - s.workload.existingCustomers);
  expect(s.workload.mappedCustomers).toBe(Math.floor(s.workload.existingCustomers / 2));
  expect(M).toBe(E - s.workload.mappedCustomers);
  expect(s.newCustomers).toBe(C);
}

describe('bounds', () => {
  it('follow CONTRACT §10 at the benchmark sizes', () => {
    expect(stripeLowerBound({ transactions: 100 }).total).toBe(2);
    expect(stripeLowerBound({ transactions: 101 }).total).toBe(3);
    expect(stripeLowerBound({ transactions: 10_000 }).total).toBe(101);
    expect(dynamodbLowerBound({ distinctEmails: 9299, missingFromMap: 6975 }).total).toBe(93 + 279 + 3);
    // Paging the company's 4,654 customers (5 pages) beats 233 lookup batches; a small company of few misses the other way.
    const big = { missingFromMap: 6975, toCreate: 4650, companyCustomers: 4654, tokenRefreshDue: false };
    expect(quickbooksLowerBound(big).terms).toEqual({
      lookups: 5,
      createBatches: 155,
      entry: 1,
      tokenRefresh: 0,
    });
    expect(
      quickbooksLowerBound({ ...big, missingFromMap: 20, toCreate: 0, tokenRefreshDue: true }).total,
    ).toBe(1 + 0 + 1 + 1);
    expect(quickbooksLowerBound({ ...big, missingFromMap: 0, toCreate: 0 }).total).toBe(1);
  });

  it('QuickBooks floor: whole extra minutes beyond the first 500 units', () => {
    expect(quickbooksFloorMs(0)).toBe(0);
    expect(quickbooksFloorMs(500)).toBe(0);
    expect(quickbooksFloorMs(501)).toBe(60_000);
    expect(quickbooksFloorMs(1000)).toBe(60_000);
    expect(quickbooksFloorMs(4657)).toBe(9 * 60_000);
    expect(() => quickbooksFloorMs(-1)).toThrow(RangeError);
  });

  it('schedules QuickBooks calls under its limits: 10 in flight, 500 units and 40 batches a minute', () => {
    const one = { units: 1, batch: false };
    expect(meteredScheduleMs([[one]], 250)).toBe(250);
    expect(meteredScheduleMs([[one], [one], [one]], 250)).toBe(750);
    // 16 batches, 465 units: two rounds of at most 10 in flight.
    expect(batchesOf(465).map((b) => b.units)).toEqual([...Array(15).fill(30), 15]);
    expect(meteredScheduleMs([batchesOf(465)], 250)).toBe(500);
    // 20 batches of 30: the 17th would make 510 units within the minute, so it waits for the first to age out.
    expect(meteredScheduleMs([batchesOf(600)], 250)).toBe(60_250);
    // 41 one-item batches: the 41st waits for the 40-batches-a-minute window.
    expect(meteredScheduleMs([Array.from({ length: 41 }, () => ({ units: 1, batch: true }))], 250)).toBe(
      60_250,
    );
  });

  it('postedFloorMs: Stripe pages one after the other, then only the QuickBooks calls the entry needs', () => {
    const pace = { quickbooksMs: 250, stripeMs: 150 };
    const large = {
      transactions: 10_000,
      missingFromMap: 6975,
      toCreate: 4650,
      companyCustomers: 4654,
      tokenRefreshDue: false,
    };
    // Folded to category lines: the payout, 100 pages, the entry.
    expect(postedFloorMs(large, pace, false)).toBe(101 * 150 + 250);
    // Customer lines: 1 page of the company (cheaper than 24 lookup batches), 16 create batches, the entry.
    const medium = {
      transactions: 1000,
      missingFromMap: 697,
      toCreate: 465,
      companyCustomers: 469,
      tokenRefreshDue: false,
    };
    expect(postedFloorMs(medium, pace, true)).toBe(11 * 150 + 250 + 500 + 250);
    expect(postedFloorMs({ ...medium, tokenRefreshDue: true }, pace, true)).toBe(
      11 * 150 + 250 + 250 + 500 + 250,
    );
    // The customers after a folded entry: 4,655 units need 9 further minutes at QuickBooks' whole 500 a minute,
    // 11 at the 400 a minute the product gives work after POSTED.
    const whole = customersAfterFloorMs(large, pace, {
      maxInFlight: 10,
      perMinute: 500,
      batchesPerMinute: 40,
    });
    expect(whole).toBeGreaterThanOrEqual(9 * 60_000);
    expect(whole).toBeLessThan(9 * 60_000 + 20_000);
    const share = customersAfterFloorMs(large, pace);
    expect(share).toBeGreaterThanOrEqual(11 * 60_000);
    expect(share).toBeLessThan(11 * 60_000 + 20_000);
  });

  it('percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('the median run is the middle one by CPU time', () => {
    expect(medianRun([{ cpuMs: 30 }, { cpuMs: 10 }, { cpuMs: 20 }]).cpuMs).toBe(20);
    expect(medianRun([{ cpuMs: 30 }, { cpuMs: 10 }]).cpuMs).toBe(10);
    expect(() => medianRun([])).toThrow();
  });
});

describe('runBench on a tiny payout (stand-ins in this process)', () => {
  let host: StandInHost;
  let report: BenchReport;

  beforeAll(async () => {
    const dynamodb = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    const sqs = process.env.AWS_ENDPOINT_URL_SQS;
    const secretsManager = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    if (!dynamodb || !sqs || !secretsManager)
      throw new Error('run through jest: test/setup/global-setup.mjs starts the AWS emulators');
    host = await startStandInsInProcess({ aws: { dynamodb, sqs, secretsManager } });
    report = await runBench({
      host,
      sizes: [60],
      repeat: 2,
      webhookEvents: 25,
      naiveConcurrency: 2,
      pace: { quickbooksMs: 20, stripeMs: 10 },
    });
  }, 60_000);

  afterAll(async () => {
    await host?.close();
  });

  it('has the shape of CONTRACT §10', () => {
    const parsed = ContractReport.parse(report);
    expect(parsed.sizes.map((s) => s.transactions)).toEqual([60]);
    expect(report.standIns).toBe('in-process');
  });

  it('puts each service beside its lower bound, computed from the workload', () => {
    const [size] = report.sizes as [SizeReport];
    expectBoundsOf(size);
    expect(size.outcome.status).toBe('POSTED');
    expect(size.runs).toHaveLength(2);
    // The deposit-builder Lambda's Powertools idempotency layer: one record written before, one updated after.
    expect(size.calls.dynamodb.idempotencyLayer).toBe(2);
    expect(size.calls.dynamodb.breakdown).toMatchObject({
      'PutItem idempotency': 1,
      'UpdateItem idempotency': 1,
    });
    for (const name of ['stripe', 'dynamodb', 'quickbooks'] as const) {
      const s = size.calls[name];
      expect(s.overBound).toBe(s.made - s.lowerBound);
      expect(s.made).toBeGreaterThanOrEqual(s.lowerBound);
      // The use case stays within the target even on a tiny payout.
      const layer = name === 'dynamodb' ? size.calls.dynamodb.idempotencyLayer : 0;
      expect(s.made - layer).toBeLessThanOrEqual(s.lowerBound + 2);
    }
    expect(size.otherCalls.quickbooksThrottled).toBe(0);
    expect(size.otherCalls.quickbooksTokenRefreshes).toBe(0);
  });

  it('runs the naive baseline for real, on an identical workload, and counts its calls', () => {
    const [size] = report.sizes as [SizeReport];
    const naive = size.naive;
    expect(naive).not.toBeNull();
    expect(naive?.complete).toBe(true);
    expect(naive?.outcome.status).toBe('POSTED');
    expect(naive?.emailsTotal).toBe(size.workload.distinctEmails);
    const { stripe, dynamodb, quickbooks } = size.calls;
    // One call per item: a mapping read per email, a query per missing email, a create per new customer…
    expect(dynamodb.naive).toBeGreaterThanOrEqual(
      1 + size.workload.distinctEmails + size.workload.missingFromMap + 3,
    );
    expect(quickbooks.naive).toBeGreaterThanOrEqual(
      size.workload.missingFromMap + size.workload.toCreate + 1,
    );
    expect(stripe.naive).toBe(1 + Math.ceil(size.transactions / 10));
    expect(dynamodb.naiveRatio).toBeCloseTo((dynamodb.naive ?? 0) / dynamodb.made, 1);
  });

  it('gives the CPU as ratios to the naive run and to the floor of touching the same bytes', () => {
    const [size] = report.sizes as [SizeReport];
    const floor = size.cpu.floor;
    expect(floor).not.toBeNull();
    // Every Stripe answer and every QuickBooks body with content (batches, the entry) went into the floor.
    expect(floor?.stripeAnswers).toBe(size.calls.stripe.made);
    expect(floor?.quickbooksBodies).toBeGreaterThanOrEqual(
      (size.calls.quickbooks.breakdown['POST /batch'] ?? 0) + 1,
    );
    expect(size.cpuVsFloor).toBeCloseTo(size.cpuMs / (floor?.cpuMs ?? 1), 2);
    expect(size.cpuVsNaive).toBeCloseTo(size.cpuMs / (size.naive?.cpuMs ?? 1), 2);
  });

  it('times a payout from the webhook to POSTED at the paced stand-ins, beside its floor', () => {
    const [size] = report.sizes as [SizeReport];
    const t = size.timeToBooks;
    expect(t?.outcome.status).toBe('POSTED');
    expect(size.timeToPostedMs).toBe(t?.timeToPostedMs);
    expect(size.postedFloorMs).toBe(
      postedFloorMs(
        { ...size.workload, transactions: size.transactions },
        t?.pace ?? { quickbooksMs: 0, stripeMs: 0 },
        t?.entryReferencesCustomers ?? true,
      ),
    );
    expect(size.timeToPostedMs).toBeGreaterThanOrEqual(size.postedFloorMs ?? Number.POSITIVE_INFINITY);
  });

  it('sends every webhook event through the HTTP endpoint and finds each on the queue', () => {
    expect(report.webhook).toMatchObject({ events: 25, accepted: 25, queued: 25, lost: 0, unexpected: 0 });
    expect(report.webhook?.p99Ms).toBeGreaterThanOrEqual(report.webhook?.p50Ms ?? 0);
  });

  it('renders a readable table with the same figures', () => {
    const text = renderTable(report);
    const [size] = report.sizes as [SizeReport];
    expect(text).toContain(`machine: ${report.machine}`);
    expect(text).toContain(
      `${size.calls.stripe.made} / ${size.calls.stripe.lowerBound} (+${size.calls.stripe.overBound}) / ${size.calls.stripe.naive}`,
    );
    expect(text).toMatch(/Webhook: 25 signed payout\.paid events/);
    expect(text).toContain('Targets:');
  });
});

describe('targets', () => {
  const base = (): SizeReport => {
    const calls = (made: number, lowerBound: number, naive: number) => ({
      made,
      lowerBound,
      naive,
      overBound: made - lowerBound,
      naiveRatio: naive / made,
      formula: '',
      terms: {},
      breakdown: {},
    });
    return {
      transactions: 10_000,
      newCustomers: 4650,
      wallMs: 3000,
      cpuMs: 1500,
      cpuVsNaive: 0.15,
      cpuVsFloor: 4.5,
      peakRssMb: 200,
      timeToPostedMs: 20_000,
      postedFloorMs: 15_400,
      calls: {
        stripe: calls(101, 101, 1001),
        dynamodb: { ...calls(377, 375, 16_000), idempotencyLayer: 0 },
        quickbooks: calls(162, 161, 15_000),
      },
      quickbooksFloorMs: 540_000,
      workload: {
        charges: 9299,
        distinctEmails: 9299,
        missingFromMap: 6975,
        toCreate: 4650,
        existingCustomers: 4649,
        mappedCustomers: 2324,
        companyCustomers: 4654,
        tokenRefreshDue: false,
      },
      memory: { rssBeforeMb: 120, peakHeapMb: 100, heapBeforeMb: 30 },
      cpu: {
        userMs: 1400,
        systemMs: 100,
        standInsMs: 900,
        postingMs: 600,
        followUpMs: 900,
        followUpInvocations: 1,
        naiveMs: 10_000,
        floor: null,
        postingFloor: null,
        postingVsFloor: null,
        requestFloor: null,
        vsFloorWithRequests: null,
      },
      quickbooksUnits: 4657,
      otherCalls: { secretsManager: 1, sqs: 0, quickbooksTokenRefreshes: 0, quickbooksThrottled: 0 },
      outcome: {
        status: 'POSTED',
        reason: null,
        quickbooks: { type: 'Deposit', id: '1' },
        withoutCustomers: true,
      },
      timeToBooks: null,
      runs: [{ wallMs: 3000, cpuMs: 1500, peakRssMb: 200, calls: 640 }],
      naive: null,
    };
  };
  const verdicts = (s: SizeReport) =>
    Object.fromEntries(checkTargets([s], null).map((t) => [t.target.split(' at ')[0], t.met]));

  it('are met by a report within every limit', () => {
    expect(Object.values(verdicts(base())).every(Boolean)).toBe(true);
  });

  it('count the use case apart from the idempotency layer in front of it', () => {
    const s = base();
    s.calls.dynamodb = { ...s.calls.dynamodb, made: 379, overBound: 4, idempotencyLayer: 2 };
    expect(verdicts(s)['dynamodb calls of the sync use case ≤ lower bound + 2']).toBe(true);
    s.calls.dynamodb = { ...s.calls.dynamodb, made: 380, overBound: 5, idempotencyLayer: 2 };
    expect(verdicts(s)['dynamodb calls of the sync use case ≤ lower bound + 2']).toBe(false);
  });

  it('check the time to the books at every size against its floor', () => {
    const small = base();
    small.transactions = 100;
    const posted = (timeToPostedMs: number, postedFloorMs: number) => ({
      pace: { quickbooksMs: 250, stripeMs: 150 },
      timeToPostedMs,
      postedFloorMs,
      ratio: timeToPostedMs / postedFloorMs,
      outcome: small.outcome,
      entryReferencesCustomers: false,
      customersAfterPosted: null,
    });
    small.timeToBooks = posted(3500, 1000); // limit 1.5 × 1000 + 2000 = 3500
    const large = base();
    large.timeToBooks = posted(25_001, 15_334); // limit 25,001
    let checks = checkTargets([small, large], null).filter((t) => t.target.startsWith('timeToPostedMs'));
    expect(checks.map((t) => t.met)).toEqual([true, true]);
    large.timeToBooks = posted(25_002, 15_334);
    checks = checkTargets([small, large], null).filter((t) => t.target.startsWith('timeToPostedMs'));
    expect(checks.map((t) => [t.target.split(' at ')[1], t.met])).toEqual([
      ['100 transactions', true],
      ['10,000 transactions', false],
    ]);
  });

  it('are missed one by one', () => {
    const s = base();
    s.calls.quickbooks = { ...s.calls.quickbooks, made: 164, overBound: 3 };
    s.cpuVsNaive = 0.26;
    s.cpuVsFloor = 5.01;
    s.peakRssMb = 300;
    s.calls.stripe = { ...s.calls.stripe, naive: 101 };
    s.calls.dynamodb = { ...s.calls.dynamodb, naive: 400 };
    s.calls.quickbooks = { ...s.calls.quickbooks, naive: 200 };
    const v = verdicts(s);
    expect(v['quickbooks calls of the sync use case ≤ lower bound + 2']).toBe(false);
    expect(v['stripe calls of the sync use case ≤ lower bound + 2']).toBe(true);
    expect(v['cpuVsNaive ≤ 0.25']).toBe(false);
    expect(v['cpuVsFloor ≤ 5']).toBe(false);
    expect(v['builder peak memory < 300 MB']).toBe(false);
    expect(v['≥ 10× fewer calls than the naive baseline']).toBe(false);
    expect(
      checkTargets([s], {
        events: 3,
        accepted: 2,
        queued: 2,
        lost: 0,
        unexpected: 0,
        p50Ms: 1,
        p99Ms: 2,
        maxMs: 2,
        concurrency: 1,
        wallMs: 5,
        rejected: { '500': 1 },
      }).at(-1)?.met,
    ).toBe(false);
  });
});

describe('npm run bench -- --json', () => {
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(ROOT, 'bin', 'run-ts.cjs'), path.join(ROOT, 'bench', 'run.ts'), ...args],
        { cwd: ROOT, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
          resolve({ code, stdout, stderr });
        },
      );
    });

  it('prints only the JSON document on stdout (stand-ins in a child process)', async () => {
    const { code, stdout, stderr } = await run([
      '--json',
      '--sizes',
      '20',
      '--repeat',
      '1',
      '--events',
      '5',
      '--latency',
      '20,10',
    ]);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(stdout) as BenchReport;
    ContractReport.parse(report);
    expect(report.standIns).toBe('child-process');
    expect(report.sizes[0]?.calls.quickbooks.naive).toBeGreaterThan(0);
    expect(report.sizes[0]?.timeToBooks).toMatchObject({
      pace: { quickbooksMs: 20, stripeMs: 10 },
      outcome: { status: 'POSTED' },
    });
    // At 20 ms a QuickBooks request, the time to the books cannot beat the calls it needs.
    expect(report.sizes[0]?.timeToPostedMs).toBeGreaterThanOrEqual(report.sizes[0]?.postedFloorMs ?? 0);
    expect(report.webhook).toMatchObject({ events: 5, accepted: 5, lost: 0 });
    expectBoundsOf(report.sizes[0] as SizeReport);
  }, 90_000);

  it('refuses bad usage with exit 2 and nothing on stdout', async () => {
    const { code, stdout, stderr } = await run(['--sizes', 'ten', '--json']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/comma-separated whole numbers/);
    const latency = await run(['--latency', '250', '--json']);
    expect(latency.code).toBe(2);
    expect(latency.stdout).toBe('');
    expect(latency.stderr).toMatch(/QuickBooks and Stripe latencies/);
  }, 30_000);
});
