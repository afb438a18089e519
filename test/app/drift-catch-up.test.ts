/**
 * The daily catch-up runs the drift audit for every tenant and writes the EntriesDrifted metric the stack alarms on
 * (Powertools Metrics, Embedded Metric Format on stdout): each drift a person made in QuickBooks is counted; once each
 * is resynced or accepted, the metric goes back to 0.
 */
import { makeCatchUpHandler } from '../../lambdas/catch-up.js';
import { DRIFT_METRIC, PowertoolsDriftMetrics } from '../../src/adapters/metrics.js';
import { acceptDrift } from '../../src/app/accept-drift.js';
import { syncPayout } from '../../src/app/sync-payout.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, REALM, startHarness, tenantConfig } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('driftcatchup');
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

const catchUpHandler = () =>
  makeCatchUpHandler({
    ...h.runtime.catchUpDeps(),
    driftMetrics: new PowertoolsDriftMetrics({ namespace: 'qbo-sync/test' }),
  });

async function posted(seed: number): Promise<{ payoutId: string; id: string }> {
  const { payout, transactions } = generatePayout({ seed, transactions: 6 });
  h.addPayout(payout, transactions);
  const r = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });
  if (r.quickbooks === null) throw new Error(`not posted: ${JSON.stringify(r)}`);
  return { payoutId: payout.id, id: r.quickbooks.id };
}

it('counts a deleted, a re-pointed and a redated deposit in EntriesDrifted, and 0 once each is fixed', async () => {
  // Prepare: three posted deposits, then a person's deletion, re-pointed line and moved date.
  const deleted = await posted(1601);
  const repointed = await posted(1602);
  const redated = await posted(1603);
  await posted(1604);
  h.qbo.deleteAsPerson(REALM, 'Deposit', deleted.id);
  const entry = h.deposits().find((d) => d.Id === repointed.id) as {
    Line: { DepositLineDetail: Record<string, unknown> }[];
  };
  const sales = h.qbo.entities(REALM, 'Account').find((a) => a.Name === 'Sales') as { Id: string };
  const [first, ...rest] = entry.Line;
  if (!first) throw new Error('test set-up');
  h.qbo.editAsPerson(REALM, 'Deposit', repointed.id, {
    Line: [
      { ...first, DepositLineDetail: { ...first.DepositLineDetail, AccountRef: { value: sales.Id } } },
      ...rest,
    ],
  });
  h.qbo.editAsPerson(REALM, 'Deposit', redated.id, { TxnDate: '2026-12-02' });

  // Act
  let result: Awaited<ReturnType<ReturnType<typeof catchUpHandler>>> | undefined;
  const emf = await emfWrittenBy(async () => {
    result = await catchUpHandler()();
  });

  // Assess: the metric, with the stack's dimension, and the findings behind it.
  expect(emf).toHaveLength(1);
  expect(emf[0]?._aws.CloudWatchMetrics[0]).toMatchObject({
    Namespace: 'qbo-sync/test',
    Dimensions: [['service']],
    Metrics: [expect.objectContaining({ Name: DRIFT_METRIC.name })],
  });
  expect(emf[0]).toMatchObject({ service: 'catch-up', [DRIFT_METRIC.name]: 3 });
  expect(
    result?.drift?.findings
      .map((f) => [f.payout, f.finding])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  ).toEqual(
    [
      [deleted.payoutId, 'deleted'],
      [repointed.payoutId, 'changed'],
      [redated.payoutId, 'redated'],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );

  // Fixed: the deletion resynced, the two edits accepted → the next run writes 0 (the alarm recovers).
  await syncPayout(h.runtime.syncDeps(), { message: h.message(deleted.payoutId, 'resync') });
  await acceptDrift({ ledger: h.runtime.ledger }, repointed.payoutId);
  await acceptDrift({ ledger: h.runtime.ledger }, redated.payoutId);
  const after = await emfWrittenBy(() => catchUpHandler()());
  expect(after[0]).toMatchObject({ [DRIFT_METRIC.name]: 0 });
});
