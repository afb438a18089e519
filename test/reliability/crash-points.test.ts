/**
 * Crash points (CONTRACT §7: "at most one live QuickBooks object per payout, whatever happens … a crash at any
 * point, including after QuickBooks accepted the deposit and before the ledger recorded it").
 *
 * The real adapters run; each port is wrapped so that its k-th call completes for real and then the process
 * "dies" (nothing after it runs: no error handling, no ledger write). The sweep crashes after EVERY port call of a
 * run in turn (after the customers were created, after the intent was recorded, after QuickBooks accepted the entry,
 * after the ledger update…), then redelivers the message on a healthy worker, and checks: exactly one live entry,
 * no customer created twice, the ledger POSTED with that entry's id and no pending intent.
 */
import fc from 'fast-check';
import { auditDrift } from '../../src/app/audit-drift.js';
import type { PayoutMessage } from '../../src/app/ports.js';
import { syncPayout } from '../../src/app/sync-payout.js';
import { generatePayout } from '../../standins/stripe/index.js';
import {
  CrashSwitch,
  crashingSyncDeps,
  duplicateCustomers,
  type Harness,
  liveEntries,
  liveReversals,
  OTHER_REALM,
  postedProblems,
  REALM,
  SimulatedCrash,
  startHarness,
  tenantConfig,
} from './helpers.js';

let h: Harness;
const CLOSED = 'closed-books';
const CLOSED_ACCOUNT = 'acct_1ClosedBooksStudio';
let seed = 7000;
/** Emails the demo company already shares between customers (seeded on purpose): not the sync's doing. */
let seededDuplicates: Map<string, string[]>;

beforeAll(async () => {
  // The sweeps run hundreds of syncs of one company within a minute: more QuickBooks calls than its 500 a minute,
  // which the client would wait out (its limiter has tests of its own). Crash points, not limits, are tested here.
  h = await startHarness('crash', { companies: [REALM, OTHER_REALM], quickbooksPerMinute: 5_000 });
  await h.addTenant(tenantConfig());
  await h.addTenant(
    tenantConfig({ id: CLOSED, stripeAccount: CLOSED_ACCOUNT, quickbooks: { realmId: OTHER_REALM } }),
  );
  seededDuplicates = duplicateCustomers(h.qbo, REALM);
});

afterAll(async () => {
  await h?.close();
});

/** A fresh payout with three members new to QuickBooks (so customers are created on the way). */
function newPayout(account = 'platform') {
  const generated = generatePayout({
    seed: seed++,
    transactions: 8,
    account,
    members: { existing: [], newCount: 3 },
    mix: { refunds: 0.15, disputes: 0, adjustments: 0 },
  });
  h.addPayout(generated.payout, generated.transactions, account);
  return generated;
}

/** Delivers `message` until a delivery completes (a loser of a race is retried, as the queue would). */
async function redeliver(message: PayoutMessage, from = 2) {
  let last: unknown;
  for (let receiveCount = from; receiveCount < from + 4; receiveCount++) {
    try {
      return await syncPayout(h.runtime.syncDeps(), { message, receiveCount, maxReceiveCount: 10 });
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

/**
 * Every error form QuickBooks uses (docs/quickbooks.md, "Error forms"): the sweeps take them in turn, one per
 * crash point, so each fault met on the way (a closed period, a duplicate name…) comes in each form.
 */
const ENVELOPES = ['real', 'lowercase', 'nulls', 'xml'] as const;

/** Runs `message` once on a worker that dies right after port call `k` (0: never). */
async function crashAfter(message: PayoutMessage, k: number) {
  h.qbo.setFaultEnvelope(ENVELOPES[k % ENVELOPES.length] ?? 'real');
  const sw = new CrashSwitch((call) => call.index === k);
  const outcome = await syncPayout(crashingSyncDeps(h.runtime.syncDeps(), sw), {
    message,
    receiveCount: 1,
    maxReceiveCount: 10,
  }).then(
    (r) => ({ ok: true as const, result: r }),
    (e: unknown) => ({ ok: false as const, error: e }),
  );
  return { sw, outcome };
}

/** The port calls of a healthy run of a fresh payout's first delivery, by name (the sweep's crash points). */
async function probe(prepare: () => Promise<PayoutMessage>): Promise<string[]> {
  const message = await prepare();
  const { sw, outcome } = await crashAfter(message, 0);
  if (!outcome.ok) throw outcome.error;
  return sw.calls.map((c) => c.name);
}

it('a crash after every single port call of a first delivery, then redelivery: one entry, no duplicate customer', async () => {
  // Prepare
  const points = await probe(async () => h.message(newPayout().payout.id));
  // Sanity: the interesting steps are among the crash points.
  for (const step of [
    'books.createCustomers',
    'customers.putMany',
    'ledger.update',
    'books.createEntry',
    'payouts.listPayoutTransactions',
  ]) {
    expect(points).toContain(step);
  }
  const failures: string[] = [];

  // Act: one payout per crash point
  for (let k = 1; k <= points.length; k++) {
    const { payout } = newPayout();
    const message = h.message(payout.id);
    const { sw, outcome } = await crashAfter(message, k);
    const crashedAt = `${k}:${points[k - 1]}`;
    if (outcome.ok || !(outcome.error instanceof SimulatedCrash)) {
      failures.push(
        `${crashedAt}: the crashed run did not crash (${outcome.ok ? outcome.result.outcome : String(outcome.error)})`,
      );
    }
    expect(sw.crashed?.index).toBe(k);
    await redeliver(message);
    // A second, late duplicate delivery changes nothing.
    await redeliver(h.message(payout.id, 'payout.reconciliation_completed'));

    // Assess (collected, so every crash point is reported)
    for (const p of postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))) {
      failures.push(`${crashedAt}: ${p}`);
    }
  }

  // Assess
  expect(failures).toEqual([]);
  expect(duplicateCustomers(h.qbo, REALM)).toEqual(seededDuplicates);
});

it('two crashes in a row at random points (fast-check), then redelivery: still one entry', async () => {
  const points = await probe(async () => h.message(newPayout().payout.id));
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: points.length }),
      fc.integer({ min: 1, max: points.length }),
      async (first, second) => {
        // Prepare
        const { payout } = newPayout();
        const message = h.message(payout.id);

        // Act: crash, crash again on the redelivery, then a healthy delivery
        await crashAfter(message, first);
        await crashAfter(message, second);
        await redeliver(message, 3);

        // Assess
        expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
      },
    ),
    { numRuns: 12, seed: 20261127 },
  );
  expect(duplicateCustomers(h.qbo, REALM)).toEqual(seededDuplicates);
});

it('an interrupted resync, crashed after every port call in turn: one live entry, the next generation', async () => {
  // Prepare: a posted payout, then the resync's own crash points
  const prepare = async () => {
    const { payout } = newPayout();
    await redeliver(h.message(payout.id), 1);
    return h.message(payout.id, 'resync');
  };
  const points = await probe(prepare);
  expect(points).toContain('books.deleteEntry');
  const failures: string[] = [];

  // Act
  for (let k = 1; k <= points.length; k++) {
    const message = await prepare();
    const before = await h.runtime.ledger.get(message.payoutId);
    await crashAfter(message, k);
    await redeliver(message);

    // Assess
    const crashedAt = `${k}:${points[k - 1]}`;
    const row = await h.runtime.ledger.get(message.payoutId);
    for (const p of postedProblems(h.qbo, REALM, message.payoutId, row)) failures.push(`${crashedAt}: ${p}`);
    if ((row?.generation ?? 0) < 1)
      failures.push(`${crashedAt}: generation ${row?.generation}, expected ≥ 1`);
    if (row?.quickbooks?.id === before?.quickbooks?.id)
      failures.push(`${crashedAt}: the old entry is still the posted one`);
  }

  // Assess
  expect(failures).toEqual([]);
});

it('payout.failed after posting, crashed after every port call in turn: REVERSED and nothing live', async () => {
  // Prepare
  const prepare = async () => {
    const { payout } = newPayout();
    await redeliver(h.message(payout.id), 1);
    h.stripe.updatePayout('platform', payout.id, { status: 'failed', failure_code: 'account_closed' });
    return h.message(payout.id, 'payout.failed');
  };
  const points = await probe(prepare);
  const failures: string[] = [];

  // Act
  for (let k = 1; k <= points.length; k++) {
    const message = await prepare();
    await crashAfter(message, k);
    await redeliver(message);
    await redeliver(h.message(message.payoutId, 'payout.paid'));

    // Assess
    const crashedAt = `${k}:${points[k - 1]}`;
    const row = await h.runtime.ledger.get(message.payoutId);
    const live = liveEntries(h.qbo, REALM, message.payoutId);
    if (row?.status !== 'REVERSED') failures.push(`${crashedAt}: ledger ${row?.status} (${row?.reason})`);
    if (live.length !== 0) failures.push(`${crashedAt}: ${live.length} live entries`);
  }

  // Assess
  expect(failures).toEqual([]);
});

it('a payout that fails after a crash that followed QuickBooks accepting it: the replayed entry is removed', async () => {
  // Prepare: the first delivery dies right after QuickBooks accepted the deposit
  const { payout } = newPayout();
  const message = h.message(payout.id);
  const points = (await probe(async () => h.message(newPayout().payout.id))).map((name, i) => ({
    name,
    k: i + 1,
  }));
  const accepted = points.find((p) => p.name === 'books.createEntry');
  if (accepted === undefined) throw new Error('no createEntry call');
  await crashAfter(message, accepted.k);
  const liveAfterCrash = liveEntries(h.qbo, REALM, payout.id).length;
  h.stripe.updatePayout('platform', payout.id, { status: 'failed', failure_code: 'no_account' });

  // Act
  const failed = await redeliver(h.message(payout.id, 'payout.failed'));
  const lateRedelivery = await redeliver(message);

  // Assess
  expect(liveAfterCrash).toBe(1);
  expect(failed).toMatchObject({ outcome: 'reversed', status: 'REVERSED' });
  expect(lateRedelivery.status).toBe('REVERSED');
  expect(liveEntries(h.qbo, REALM, payout.id)).toHaveLength(0);
  expect((await h.runtime.ledger.get(payout.id))?.intent).toBeNull();
});

/** A payout of the closed-books tenant, posted while its books were open, then the books closed before its date. */
async function postedThenClosed() {
  const { payout } = newPayout(CLOSED_ACCOUNT);
  h.qbo.setCompany(OTHER_REALM, { closedBefore: '2020-01-01' });
  await redeliver(h.message(payout.id, 'payout.paid', CLOSED, CLOSED_ACCOUNT), 1);
  h.qbo.setCompany(OTHER_REALM, { closedBefore: '2026-11-01' });
  return payout;
}

/**
 * Crashes `prepare()`'s message after each of `points` in turn, redelivers it twice, and lists what is wrong: the row
 * not REVERSED, not exactly one reversing JournalEntry (the one the ledger names, passing `isNew`), a finding left,
 * or the original entry gone (QuickBooks refused its deletion).
 */
async function sweepReversal(
  points: readonly string[],
  prepare: () => Promise<PayoutMessage>,
  isNew: (reversal: Record<string, unknown> | undefined) => boolean = () => true,
): Promise<string[]> {
  const failures: string[] = [];
  for (let k = 1; k <= points.length; k++) {
    const message = await prepare();
    await crashAfter(message, k);
    await redeliver(message);
    await redeliver(message);

    const crashedAt = `${k}:${points[k - 1]}`;
    const row = await h.runtime.ledger.get(message.payoutId);
    const reversals = liveReversals(h.qbo, OTHER_REALM, message.payoutId);
    if (row?.status !== 'REVERSED') failures.push(`${crashedAt}: ledger ${row?.status} (${row?.reason})`);
    if (reversals.length !== 1) failures.push(`${crashedAt}: ${reversals.length} reversing entries`);
    if (row?.quickbooks?.id !== String(reversals[0]?.Id) || !isNew(reversals[0]))
      failures.push(`${crashedAt}: ledger does not name the reversal`);
    if (row?.drift) failures.push(`${crashedAt}: finding left: ${row.drift.detail}`);
    if (liveEntries(h.qbo, OTHER_REALM, message.payoutId).length !== 1)
      failures.push(`${crashedAt}: original gone?`);
  }
  h.qbo.setCompany(OTHER_REALM, { closedBefore: '2020-01-01' });
  return failures;
}

it('a deletion QuickBooks refuses (closed books), crashed at every point: exactly one reversing JournalEntry', async () => {
  // Prepare: posted in an open period, then the books close and the payout fails
  const prepare = async () => {
    const payout = await postedThenClosed();
    h.stripe.updatePayout(CLOSED_ACCOUNT, payout.id, { status: 'canceled' });
    return h.message(payout.id, 'payout.canceled', CLOSED, CLOSED_ACCOUNT);
  };
  const points = await probe(prepare);
  expect(points.filter((p) => p === 'books.createEntry')).toHaveLength(1);

  // Act
  const failures = await sweepReversal(points, prepare);

  // Assess
  expect(failures).toEqual([]);
});

it('a resync restoring a reversal a person edited, crashed at every point: exactly one reversing JournalEntry', async () => {
  // Prepare: reversed in closed books, then a person edits the reversing JournalEntry; the audit finds it.
  const prepare = async () => {
    const payout = await postedThenClosed();
    h.stripe.updatePayout(CLOSED_ACCOUNT, payout.id, { status: 'failed' });
    const reversed = await redeliver(h.message(payout.id, 'payout.failed', CLOSED, CLOSED_ACCOUNT), 1);
    h.qbo.editAsPerson(OTHER_REALM, 'JournalEntry', reversed.quickbooks?.id ?? '', { TxnDate: '2026-12-01' });
    await auditDrift(h.runtime.auditDeps(), { tenantId: CLOSED });
    return h.message(payout.id, 'resync', CLOSED, CLOSED_ACCOUNT);
  };
  const points = await probe(prepare);
  expect(points).toContain('books.deleteEntry');

  // Act: the edited reversal (dated 2026-12-01) must be gone, a new one in its place.
  const failures = await sweepReversal(points, prepare, (r) => r?.TxnDate !== '2026-12-01');

  // Assess
  expect(failures).toEqual([]);
});

it('a resync in closed books, crashed at every point: the replaced entry reversed once, the row keeps that reversal', async () => {
  // Prepare: posted in an open period, then the books close and a person asks for a resync (closedPeriod hold: the
  // corrected entry waits, HELD; the replaced one stays, cancelled by a reversing JournalEntry).
  const prepare = async () => {
    const payout = await postedThenClosed();
    return h.message(payout.id, 'resync', CLOSED, CLOSED_ACCOUNT);
  };
  const points = await probe(prepare);
  expect(points.filter((p) => p === 'books.createEntry')).toHaveLength(1);
  const failures: string[] = [];
  const swept: string[] = [];

  // Act
  for (let k = 1; k <= points.length; k++) {
    const message = await prepare();
    swept.push(message.payoutId);
    await crashAfter(message, k);
    await redeliver(message);
    await redeliver(message);

    // Assess
    const crashedAt = `${k}:${points[k - 1]}`;
    const row = await h.runtime.ledger.get(message.payoutId);
    const reversals = liveReversals(h.qbo, OTHER_REALM, message.payoutId);
    const kept = row?.earlierReversals ?? [];
    if (row?.status !== 'HELD') failures.push(`${crashedAt}: ledger ${row?.status} (${row?.reason})`);
    if (reversals.length !== 1) failures.push(`${crashedAt}: ${reversals.length} reversing entries`);
    if (kept.length !== 1 || kept[0]?.reversal.id !== String(reversals[0]?.Id) || !kept[0]?.expected)
      failures.push(`${crashedAt}: the row keeps ${JSON.stringify(kept.map((e) => e.reversal))}`);
  }
  h.qbo.setCompany(OTHER_REALM, { closedBefore: '2020-01-01' });
  const audit = await auditDrift(h.runtime.auditDeps(), { tenantId: CLOSED });

  // Assess: each kept reversal is as sent.
  expect(failures).toEqual([]);
  expect(audit.findings.filter((f) => swept.includes(f.payout))).toEqual([]);
});
