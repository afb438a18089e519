/**
 * The drift audit of reversed payouts, on the real local parts: a payout Stripe failed after it was posted, whose
 * deposit QuickBooks would not delete (closed books), is cancelled by a reversing JournalEntry. A person deleting or
 * editing that JournalEntry puts the money back in the books: the audit reports it (change data capture, and the
 * read-back by Id), a resync reverses the deposit again, `payouts accept` keeps the person's edit.
 */
import { makeCatchUpHandler } from '../../lambdas/catch-up.js';
import { acceptDrift } from '../../src/app/accept-drift.js';
import { auditDrift } from '../../src/app/audit-drift.js';
import { requestResync } from '../../src/app/request-payouts.js';
import { syncPayout } from '../../src/app/sync-payout.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, REALM, startHarness, tenantConfig } from './harness.js';

let h: Harness;
const DAY = 86_400;
const TENANT = 'downtown-yoga';

beforeAll(async () => {
  h = await startHarness('driftrev');
  await h.addTenant(tenantConfig());
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

/** A deposit dated 5 days ago, then the books closed before yesterday, then the payout failed: REVERSED. */
async function reversedPayout(
  seed: number,
): Promise<{ payoutId: string; deposit: string; reversal: string }> {
  const now = Math.floor(Date.now() / 1000);
  const { payout, transactions } = generatePayout({
    seed,
    transactions: 6,
    arrivalDate: now - 5 * DAY - (now % DAY),
  });
  h.addPayout(payout, transactions);
  const posted = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });
  h.qbo.setCompany(REALM, { closedBefore: new Date((now - DAY) * 1000).toISOString().slice(0, 10) });
  h.stripe.updatePayout('platform', payout.id, { status: 'failed', failure_code: 'no_account' });
  try {
    const r = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.failed') });
    if (r.status !== 'REVERSED' || r.quickbooks?.type !== 'JournalEntry' || posted.quickbooks === null)
      throw new Error(`not reversed by a JournalEntry: ${JSON.stringify(r)}`);
    return { payoutId: payout.id, deposit: posted.quickbooks.id, reversal: r.quickbooks.id };
  } finally {
    h.qbo.setCompany(REALM, { closedBefore: '1970-01-01' });
  }
}

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

describe('the audit of reversing JournalEntries', () => {
  let deleted: Awaited<ReturnType<typeof reversedPayout>>;
  let edited: Awaited<ReturnType<typeof reversedPayout>>;
  let redated: Awaited<ReturnType<typeof reversedPayout>>;

  beforeAll(async () => {
    deleted = await reversedPayout(501);
    edited = await reversedPayout(502);
    redated = await reversedPayout(503);
  });

  it('keeps what the reversing JournalEntry holds, and reports nothing while it is as posted', async () => {
    const row = await h.runtime.ledger.get(edited.payoutId);
    expect(row).toMatchObject({
      status: 'REVERSED',
      quickbooks: { type: 'JournalEntry', id: edited.reversal },
      reversal: { reverses: { type: 'Deposit', id: edited.deposit }, expected: { type: 'JournalEntry' } },
    });
    const result = await audit();
    expect(result.findings).toEqual([]);
    expect(result.tenants).toEqual([
      { tenantId: TENANT, entries: 3, method: 'cdc', unverifiable: 0, findings: 0 },
    ]);
  });

  it('reports a deleted, an edited and a redated reversal, each with its fix; the row stays REVERSED', async () => {
    // Prepare: a bookkeeper's changes in QuickBooks.
    h.qbo.deleteAsPerson(REALM, 'JournalEntry', deleted.reversal);
    const je = reversalsOf(edited.payoutId)[0] as { Line: { Amount: number }[] };
    const [first, second, ...rest] = je.Line;
    if (!first || !second) throw new Error('test set-up');
    // Both sides lowered by 1.00: still balanced, 1.00 of the failed payout back in the books.
    h.qbo.editAsPerson(REALM, 'JournalEntry', edited.reversal, {
      Line: [{ ...first, Amount: first.Amount - 1 }, { ...second, Amount: second.Amount - 1 }, ...rest],
    });
    const wasDate = String(reversalsOf(redated.payoutId)[0]?.TxnDate);
    h.qbo.editAsPerson(REALM, 'JournalEntry', redated.reversal, { TxnDate: '2026-12-01' });

    // Act
    const result = await audit();

    // Assess
    const byPayout = new Map(result.findings.map((f) => [f.payout, f]));
    expect(result.findings).toHaveLength(3);
    expect(byPayout.get(deleted.payoutId)).toEqual({
      payout: deleted.payoutId,
      tenant: TENANT,
      quickbooks: { type: 'JournalEntry', id: deleted.reversal },
      finding: 'deleted',
      detail: `JournalEntry ${deleted.reversal}, the reversal of Deposit ${deleted.deposit} (the payout failed in Stripe), was deleted in QuickBooks: Deposit ${deleted.deposit} counts in the books again`,
      hint: `\`npx qbo-sync payouts resync ${deleted.payoutId}\` reverses the failed payout's entry again; \`npx qbo-sync payouts accept ${deleted.payoutId}\` records that the deletion was intended`,
    });
    expect(byPayout.get(edited.payoutId)).toMatchObject({
      finding: 'changed',
      detail: expect.stringMatching(
        new RegExp(
          `^JournalEntry ${edited.reversal}, the reversal of Deposit ${edited.deposit} .* was edited: .*amount`,
        ),
      ),
      hint: expect.stringContaining(
        `npx qbo-sync payouts accept ${edited.payoutId}\` keeps QuickBooks' version`,
      ),
    });
    expect(byPayout.get(redated.payoutId)).toMatchObject({
      finding: 'redated',
      detail: expect.stringContaining(`was edited: date ${wasDate} → 2026-12-01`),
    });
    expect(await h.runtime.ledger.get(deleted.payoutId)).toMatchObject({
      status: 'REVERSED',
      drift: { finding: 'deleted' },
    });
    // The daily catch-up counts them in EntriesDrifted (its metric port; the EMF output has its own test).
    const counted: number[] = [];
    await makeCatchUpHandler({
      ...h.runtime.catchUpDeps(),
      driftMetrics: { drifted: (n) => void counted.push(n), publish: () => {} },
    })();
    expect(counted).toEqual([3]);
    // Kept on the rows: found again where change data capture no longer lists the change, and by reading back.
    const again = await audit(new Date());
    expect(again.findings).toHaveLength(3);
    const read = await audit(new Date(Date.now() - 45 * DAY * 1000));
    expect(read.tenants[0]).toMatchObject({ method: 'read', entries: 3, findings: 3 });
  });

  it('a resync cancels the deposit again: reversed anew while the books stay closed, else deleted', async () => {
    // Act: the books still closed for the deleted reversal's payout; open again for the edited one's.
    const now = Math.floor(Date.now() / 1000);
    h.qbo.setCompany(REALM, { closedBefore: new Date((now - DAY) * 1000).toISOString().slice(0, 10) });
    const afterDelete = await resync(deleted.payoutId).finally(() =>
      h.qbo.setCompany(REALM, { closedBefore: '1970-01-01' }),
    );
    const afterEdit = await resync(edited.payoutId);

    // Assess: one live reversal, the deposit still there (QuickBooks refused its deletion again).
    expect(afterDelete).toMatchObject({
      outcome: 'reversed',
      status: 'REVERSED',
      quickbooks: { type: 'JournalEntry' },
    });
    expect(afterDelete.quickbooks?.id).not.toBe(deleted.reversal);
    expect(reversalsOf(deleted.payoutId).map((j) => String(j.Id))).toEqual([afterDelete.quickbooks?.id]);
    expect(h.deposits().some((d) => String(d.Id) === deleted.deposit)).toBe(true);
    const row = await h.runtime.ledger.get(deleted.payoutId);
    expect(row).toMatchObject({
      drift: null,
      reversal: { reverses: { type: 'Deposit', id: deleted.deposit } },
    });
    expect(row?.reason).toMatch(
      new RegExp(
        `^payout failed in Stripe \\(no_account\\): Deposit ${deleted.deposit} could not be deleted in QuickBooks; reversed by JournalEntry ${afterDelete.quickbooks?.id} \\(resync: JournalEntry ${deleted.reversal} \\(the reversal of Deposit ${deleted.deposit}\\) was deleted in QuickBooks\\)$`,
      ),
    );
    // Books open: the edited reversal and the deposit are both deleted; nothing of the payout is left.
    expect(afterEdit).toMatchObject({ outcome: 'reversed', status: 'REVERSED', quickbooks: null });
    expect(afterEdit.reason).toContain(
      `Deposit ${edited.deposit} deleted in QuickBooks (resync: JournalEntry ${edited.reversal} (the reversal of Deposit ${edited.deposit}) was edited in QuickBooks; deleted)`,
    );
    expect(reversalsOf(edited.payoutId)).toEqual([]);
    expect(h.deposits().some((d) => String(d.Id) === edited.deposit)).toBe(false);
    expect(await h.runtime.ledger.get(edited.payoutId)).toMatchObject({ drift: null, reversal: null });
    expect((await audit()).findings.map((f) => f.payout)).toEqual([redated.payoutId]);
  });

  it('accept keeps the edited reversal as intended, until it changes again', async () => {
    // Act
    const row = await acceptDrift({ ledger: h.runtime.ledger }, redated.payoutId);
    const after = await audit();
    h.qbo.editAsPerson(REALM, 'JournalEntry', redated.reversal, { TxnDate: '2026-12-02' });
    const changedAgain = await audit();

    // Assess
    expect(row).toMatchObject({
      status: 'REVERSED',
      drift: null,
      accepted: { finding: 'redated' },
      reversal: { expected: { txnDate: '2026-12-01' } },
    });
    expect(after.findings).toEqual([]);
    expect(changedAgain.findings).toMatchObject([
      {
        payout: redated.payoutId,
        finding: 'redated',
        detail: expect.stringContaining('2026-12-01 → 2026-12-02'),
      },
    ]);
    await acceptDrift({ ledger: h.runtime.ledger }, redated.payoutId);
  });

  it('a resync of a reversed payout without a finding is still refused', async () => {
    await expect(
      requestResync(
        { tenants: h.runtime.tenants, ledger: h.runtime.ledger, queue: h.runtime.queue },
        { payoutId: edited.payoutId },
      ),
    ).rejects.toThrow(/was reversed .*: there is nothing to resync/);
  });
});

it('a row reversed before the ledger kept the reversal: deletion is checked, an edit counted unverifiable', async () => {
  // Prepare: what an older version left on the row (no `reversal`).
  const older = await reversedPayout(511);
  const deletedOlder = await reversedPayout(512);
  for (const po of [older.payoutId, deletedOlder.payoutId]) {
    const row = await h.runtime.ledger.get(po);
    if (!row) throw new Error('test set-up');
    await h.runtime.ledger.update(po, row.version, { reversal: null });
  }
  h.qbo.editAsPerson(REALM, 'JournalEntry', older.reversal, { TxnDate: '2026-12-03' });
  h.qbo.deleteAsPerson(REALM, 'JournalEntry', deletedOlder.reversal);

  // Act
  const result = await audit();
  const resynced = await resync(deletedOlder.payoutId);

  // Assess: the reversed deposit is named from the reason the reversal wrote.
  expect(result.tenants[0]?.unverifiable).toBe(1);
  expect(result.findings).toMatchObject([
    {
      payout: deletedOlder.payoutId,
      finding: 'deleted',
      detail: expect.stringContaining(`Deposit ${deletedOlder.deposit} counts in the books again`),
    },
  ]);
  expect(resynced).toMatchObject({ outcome: 'reversed', status: 'REVERSED', quickbooks: null });
  expect(resynced.reason).toContain(`Deposit ${deletedOlder.deposit} deleted in QuickBooks`);
  expect(h.deposits().some((d) => String(d.Id) === deletedOlder.deposit)).toBe(false);
  expect((await audit()).findings).toEqual([]);
});
