/**
 * The drift audit of reversals a resync posted, on the real local parts: `payouts resync` of a posted payout whose
 * deposit QuickBooks would not delete (closed books) cancels the old deposit by a reversing JournalEntry and posts
 * the new one (closedPeriod nextOpenDate). The row moves on to the new deposit; it keeps the reversing JournalEntry
 * (`earlierReversals`), which the audit watches: deleted or edited by a person, the old deposit counts in the books
 * again beside the new one. `payouts accept` records the person's edit or deletion.
 */
import { makeCatchUpHandler } from '../../lambdas/catch-up.js';
import { acceptDrift } from '../../src/app/accept-drift.js';
import { auditDrift } from '../../src/app/audit-drift.js';
import {
  EARLIER_SNAPSHOTS,
  keepEarlierReversal,
  MAX_EARLIER_REVERSALS,
} from '../../src/app/earlier-reversals.js';
import type { LedgerRecord } from '../../src/app/ports.js';
import { requestResync } from '../../src/app/request-payouts.js';
import { syncPayout } from '../../src/app/sync-payout.js';
import { statusJson } from '../../src/cli/commands/payouts.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, REALM, startHarness, tenantConfig } from './harness.js';

let h: Harness;
const DAY = 86_400;
const TENANT = 'downtown-yoga';

beforeAll(async () => {
  h = await startHarness('driftresync');
  await h.addTenant(tenantConfig({ quickbooks: { closedPeriod: 'nextOpenDate' } }));
});

afterAll(async () => {
  await h?.close();
});

const audit = (since?: Date) =>
  auditDrift(h.runtime.auditDeps(), { tenantId: TENANT, ...(since ? { since } : {}) });

const reversalsOf = (payoutId: string) =>
  h
    .journalEntries()
    .filter((j) => String(j.PrivateNote ?? '').startsWith(`Reversal of Stripe payout ${payoutId}`));

/** The resync a person asks for, through the queue, run by the worker. */
async function resync(payoutId: string) {
  await requestResync(
    { tenants: h.runtime.tenants, ledger: h.runtime.ledger, queue: h.runtime.queue },
    { payoutId },
  );
  const [message] = (await h.takeQueue()).filter((m) => m.payoutId === payoutId);
  if (message === undefined) throw new Error('no resync message');
  return syncPayout(h.runtime.syncDeps(), { message });
}

/** A deposit dated 5 days ago, then the books closed before yesterday, then a resync: the old deposit reversed. */
async function resyncedInClosedBooks(
  seed: number,
): Promise<{ payoutId: string; old: string; reversal: string; current: string }> {
  const now = Math.floor(Date.now() / 1000);
  const { payout, transactions } = generatePayout({
    seed,
    transactions: 6,
    arrivalDate: now - 5 * DAY - (now % DAY),
  });
  h.addPayout(payout, transactions);
  const posted = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });
  h.qbo.setCompany(REALM, { closedBefore: new Date((now - DAY) * 1000).toISOString().slice(0, 10) });
  try {
    const r = await resync(payout.id);
    const [reversal, ...more] = reversalsOf(payout.id);
    if (
      r.status !== 'POSTED' ||
      r.quickbooks === null ||
      posted.quickbooks === null ||
      !reversal ||
      more.length
    )
      throw new Error(`not resynced with a reversal: ${JSON.stringify(r)}`);
    return {
      payoutId: payout.id,
      old: posted.quickbooks.id,
      reversal: String(reversal.Id),
      current: r.quickbooks.id,
    };
  } finally {
    h.qbo.setCompany(REALM, { closedBefore: '1970-01-01' });
  }
}

describe('the audit of reversing JournalEntries a resync posted', () => {
  let deleted: Awaited<ReturnType<typeof resyncedInClosedBooks>>;
  let edited: Awaited<ReturnType<typeof resyncedInClosedBooks>>;

  beforeAll(async () => {
    deleted = await resyncedInClosedBooks(601);
    edited = await resyncedInClosedBooks(602);
  });

  it('the row keeps the reversal of the replaced deposit; nothing is reported while it is as posted', async () => {
    const row = await h.runtime.ledger.get(edited.payoutId);
    expect(row).toMatchObject({
      status: 'POSTED',
      quickbooks: { type: 'Deposit', id: edited.current },
      earlierReversals: [
        {
          reverses: { type: 'Deposit', id: edited.old },
          reversal: { type: 'JournalEntry', id: edited.reversal },
          expected: { type: 'JournalEntry' },
          drift: null,
        },
      ],
    });
    const result = await audit();
    expect(result.findings).toEqual([]);
    // Two payouts, each a live deposit and the reversal of its replaced one.
    expect(result.tenants).toEqual([
      { tenantId: TENANT, entries: 4, method: 'cdc', unverifiable: 0, findings: 0 },
    ]);
  });

  it('reports a deleted and an edited reversal with the hand fix; the row stays POSTED', async () => {
    // Prepare: a bookkeeper's changes in QuickBooks.
    h.qbo.deleteAsPerson(REALM, 'JournalEntry', deleted.reversal);
    const je = reversalsOf(edited.payoutId)[0] as { Line: { Amount: number }[] };
    const [first, second, ...rest] = je.Line;
    if (!first || !second) throw new Error('test set-up');
    // Both sides lowered by 1.00: still balanced, 1.00 of the old deposit back in the books.
    h.qbo.editAsPerson(REALM, 'JournalEntry', edited.reversal, {
      Line: [{ ...first, Amount: first.Amount - 1 }, { ...second, Amount: second.Amount - 1 }, ...rest],
    });

    // Act
    const result = await audit();

    // Assess
    const byPayout = new Map(result.findings.map((f) => [f.payout, f]));
    expect(result.findings).toHaveLength(2);
    expect(byPayout.get(deleted.payoutId)).toEqual({
      payout: deleted.payoutId,
      tenant: TENANT,
      quickbooks: { type: 'JournalEntry', id: deleted.reversal },
      finding: 'deleted',
      detail: `JournalEntry ${deleted.reversal}, the reversal of Deposit ${deleted.old} (replaced by a resync; the payout's entry is now Deposit ${deleted.current}), was deleted in QuickBooks: Deposit ${deleted.old} counts in the books again beside Deposit ${deleted.current}`,
      hint: `in QuickBooks, delete Deposit ${deleted.old} where its period is open, or enter a JournalEntry that reverses it again; then \`npx qbo-sync payouts accept ${deleted.payoutId}\` (also if the deletion was intended)`,
    });
    expect(byPayout.get(edited.payoutId)).toMatchObject({
      quickbooks: { type: 'JournalEntry', id: edited.reversal },
      finding: 'changed',
      detail: expect.stringMatching(
        new RegExp(
          `^JournalEntry ${edited.reversal}, the reversal of Deposit ${edited.old} \\(replaced by a resync; the payout's entry is now Deposit ${edited.current}\\), was edited: .*amount`,
        ),
      ),
      hint: `undo the edit of JournalEntry ${edited.reversal} in QuickBooks (the detail says what changed); \`npx qbo-sync payouts accept ${edited.payoutId}\` keeps QuickBooks' version as intended`,
    });
    const row = await h.runtime.ledger.get(deleted.payoutId);
    expect(row).toMatchObject({
      status: 'POSTED',
      quickbooks: { id: deleted.current },
      drift: null,
      earlierReversals: [{ drift: { finding: 'deleted' } }],
    });
    // `payouts status` shows it with its fix.
    expect(statusJson(row as LedgerRecord).drift).toMatchObject({
      finding: 'deleted',
      hint: expect.stringContaining(`delete Deposit ${deleted.old}`),
    });
    // The daily catch-up counts them in EntriesDrifted (its metric port; the EMF output has its own test).
    const counted: number[] = [];
    await makeCatchUpHandler({
      ...h.runtime.catchUpDeps(),
      driftMetrics: { drifted: (n) => void counted.push(n), publish: () => {} },
    })();
    expect(counted).toEqual([2]);
    // Kept on the rows: found again where change data capture no longer lists the change, and by reading back.
    expect((await audit(new Date())).findings).toHaveLength(2);
    const read = await audit(new Date(Date.now() - 45 * DAY * 1000));
    expect(read.tenants[0]).toMatchObject({ method: 'read', entries: 4, findings: 2 });
  });

  it('accept keeps the edited reversal as intended (until it changes again) and stops watching a deleted one', async () => {
    // Act
    const keptEdit = await acceptDrift({ ledger: h.runtime.ledger }, edited.payoutId);
    const keptDeletion = await acceptDrift({ ledger: h.runtime.ledger }, deleted.payoutId);
    const after = await audit();
    const je = reversalsOf(edited.payoutId)[0];
    h.qbo.editAsPerson(REALM, 'JournalEntry', edited.reversal, { TxnDate: '2026-12-02' });
    const changedAgain = await audit();

    // Assess
    expect(keptEdit).toMatchObject({
      status: 'POSTED',
      accepted: { finding: 'changed', ref: { type: 'JournalEntry', id: edited.reversal } },
      earlierReversals: [{ drift: null, expected: { total: expect.any(String) } }],
    });
    expect(keptDeletion).toMatchObject({ status: 'POSTED', earlierReversals: [] });
    expect(after.findings).toEqual([]);
    expect(after.tenants[0]?.entries).toBe(3);
    expect(changedAgain.findings).toMatchObject([
      {
        payout: edited.payoutId,
        finding: 'redated',
        detail: expect.stringContaining(`${String(je?.TxnDate)} → 2026-12-02`),
      },
    ]);
    await expect(acceptDrift({ ledger: h.runtime.ledger }, deleted.payoutId)).rejects.toThrow(
      /has no drift finding to accept/,
    );
  });
});

it('a payout resynced many times keeps a bounded list: the latest reversals, the newest with their snapshot', () => {
  let row = { payoutId: 'po_bounded', earlierReversals: null } as unknown as LedgerRecord;
  for (let i = 1; i <= MAX_EARLIER_REVERSALS + 5; i++) {
    const earlierReversals = keepEarlierReversal(
      row,
      {
        how: 'reversed',
        removed: { type: 'Deposit', id: `d${i}` },
        reversal: { type: 'JournalEntry', id: `j${i}` },
        entry: { type: 'JournalEntry', body: { TxnDate: '2026-11-01', Line: [] } },
        row,
      },
      'usd',
    );
    row = { ...row, earlierReversals: earlierReversals ?? null };
  }
  const kept = row.earlierReversals ?? [];
  expect(kept.map((e) => e.reversal.id)).toEqual(
    Array.from({ length: MAX_EARLIER_REVERSALS }, (_, i) => `j${i + 6}`),
  );
  expect(kept.filter((e) => e.expected !== null).map((e) => e.reversal.id)).toEqual(
    Array.from({ length: EARLIER_SNAPSHOTS }, (_, i) => `j${MAX_EARLIER_REVERSALS + 3 + i}`),
  );
  // A deletion (no reversal posted) adds nothing.
  expect(
    keepEarlierReversal(row, { how: 'deleted', removed: { type: 'Deposit', id: 'd99' }, row }, 'usd'),
  ).toBeUndefined();
});
