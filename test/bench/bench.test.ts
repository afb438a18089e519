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
  dynamodbContractFigure,
  dynamodbLowerBound,
  percentile,
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
      peakRssMb: z.number().positive(),
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
  expect(s.calls.dynamodb.contractFigure).toBe(up(E / 100) + up(C / 25) + 3);
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
    expect(dynamodbContractFigure({ distinctEmails: 9299, toCreate: 4650 })).toBe(93 + 186 + 3);
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
    report = await runBench({ host, sizes: [60], repeat: 2, webhookEvents: 25, naiveConcurrency: 2 });
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
      peakRssMb: 200,
      calls: {
        stripe: calls(101, 101, 1001),
        dynamodb: { ...calls(377, 375, 16_000), contractFigure: 282, idempotencyLayer: 0 },
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
      cpu: { userMs: 1400, systemMs: 100, standInsMs: 900 },
      quickbooksUnits: 4657,
      otherCalls: { secretsManager: 1, sqs: 0, quickbooksTokenRefreshes: 0, quickbooksThrottled: 0 },
      outcome: { status: 'POSTED', reason: null, quickbooks: { type: 'Deposit', id: '1' } },
      runs: [{ wallMs: 3000, cpuMs: 1500, peakRssMb: 200, calls: 640 }],
      naive: null,
    };
  };
  const verdicts = (s: SizeReport) =>
    Object.fromEntries(checkTargets([s], null).map((t) => [t.target.split(' at ')[0], t.met]));

  it('are met by a report within every limit', () => {
    expect(Object.values(verdicts(base())).every(Boolean)).toBe(true);
  });

  it('tell the whole invocation from the use case when the idempotency layer adds calls', () => {
    const s = base();
    s.calls.dynamodb = { ...s.calls.dynamodb, made: 378, overBound: 3, idempotencyLayer: 2 };
    const v = verdicts(s);
    expect(v['dynamodb calls ≤ lower bound + 2']).toBe(false);
    expect(v['dynamodb calls of the sync-payout use case alone ≤ lower bound + 2']).toBe(true);
  });

  it('are missed one by one', () => {
    const s = base();
    s.calls.quickbooks = { ...s.calls.quickbooks, made: 164, overBound: 3 };
    s.cpuMs = 2000;
    s.peakRssMb = 300;
    s.calls.stripe = { ...s.calls.stripe, naive: 101 };
    s.calls.dynamodb = { ...s.calls.dynamodb, naive: 400 };
    s.calls.quickbooks = { ...s.calls.quickbooks, naive: 200 };
    const v = verdicts(s);
    expect(v['quickbooks calls ≤ lower bound + 2']).toBe(false);
    expect(v['stripe calls ≤ lower bound + 2']).toBe(true);
    expect(v['builder CPU < 2,000 ms']).toBe(false);
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
      '--no-naive',
    ]);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(stdout) as BenchReport;
    ContractReport.parse(report);
    expect(report.standIns).toBe('child-process');
    expect(report.sizes[0]?.calls.quickbooks.naive).toBeNull();
    expect(report.webhook).toMatchObject({ events: 5, accepted: 5, lost: 0 });
    expectBoundsOf(report.sizes[0] as SizeReport);
  }, 90_000);

  it('refuses bad usage with exit 2 and nothing on stdout', async () => {
    const { code, stdout, stderr } = await run(['--sizes', 'ten', '--json']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/comma-separated whole numbers/);
  }, 30_000);
});
