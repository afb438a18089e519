/**
 * The deposit builder counts a payout newly HELD and a payout newly FAILED in a CloudWatch metric per status
 * (Powertools Metrics, Embedded Metric Format on stdout), which the stack's alarms watch. The names are the ones
 * lib/constructs/sync-alarms.ts alarms on.
 */
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import {
  METRICS_SERVICE,
  PAYOUT_STATUS_METRICS,
  PowertoolsStatusMetrics,
} from '../../src/adapters/metrics.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, lambdaContext, sqsRecord, startHarness, tenantConfig } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('metrics', { maxReceiveCount: 2 });
  await h.addTenant(tenantConfig());
});

afterAll(async () => {
  await h?.close();
});

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

/** Runs `act` and returns the EMF documents Powertools wrote to stdout meanwhile. */
async function emfWrittenBy(act: () => Promise<unknown>): Promise<Emf[]> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Emf);
}

function builder() {
  return makeDepositBuilderHandler(
    depositBuilderDepsFromRuntime(h.runtime, {
      metrics: new PowertoolsStatusMetrics({ namespace: 'qbo-sync/test' }),
      retryLater: async () => {},
    }),
  );
}

const record = (payoutId: string, receiveCount: number) =>
  sqsRecord({ body: JSON.stringify(h.message(payoutId)), groupId: 'downtown-yoga', receiveCount });

it('a payout newly HELD is counted once in PayoutsHeld, with the service dimension', async () => {
  // Prepare: an unmapped category holds the payout.
  const { payout, transactions } = generatePayout({
    seed: 1311,
    transactions: 4,
    categories: [{ category: 'Retail' }],
  });
  h.addPayout(payout, transactions);
  const handle = builder();

  // Act
  const emf = await emfWrittenBy(() => handle({ Records: [record(payout.id, 1)] }, lambdaContext()));

  // Assess
  expect(await h.runtime.ledger.get(payout.id)).toMatchObject({ status: 'HELD' });
  expect(emf).toHaveLength(1);
  const [doc] = emf;
  expect(doc?._aws.CloudWatchMetrics[0]).toMatchObject({
    Namespace: 'qbo-sync/test',
    Dimensions: [['service']],
    Metrics: [expect.objectContaining({ Name: PAYOUT_STATUS_METRICS.HELD })],
  });
  expect(doc).toMatchObject({ service: METRICS_SERVICE, [PAYOUT_STATUS_METRICS.HELD]: 1 });
});

it('a payout failing on its last delivery is counted in PayoutsFailed; earlier failures are not', async () => {
  // Prepare
  const { payout, transactions } = generatePayout({ seed: 1312, transactions: 4 });
  h.addPayout(payout, transactions);
  h.stripe.injectFault({ status: 500, count: Number.POSITIVE_INFINITY, path: `/v1/payouts/${payout.id}` });
  const handle = builder();
  const run = (n: number) =>
    handle({ Records: [record(payout.id, n)] }, lambdaContext()).catch(() => undefined);

  // Act
  const first = await emfWrittenBy(() => run(1));
  const last = await emfWrittenBy(() => run(2));

  // Assess
  expect(first).toEqual([]);
  expect(await h.runtime.ledger.get(payout.id)).toMatchObject({ status: 'FAILED' });
  expect(last).toHaveLength(1);
  expect(last[0]).toMatchObject({ service: METRICS_SERVICE, [PAYOUT_STATUS_METRICS.FAILED]: 1 });
  expect(last[0]?.[PAYOUT_STATUS_METRICS.HELD]).toBeUndefined();
});
