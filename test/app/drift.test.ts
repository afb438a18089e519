/**
 * Books that stay right after posting (issue 16), on the real local parts: the drift audit through the QuickBooks
 * stand-in's change data capture (a person's deletion, re-pointed line and moved date), the fixes (resync, accept),
 * and the closed-period policy (hold before any write; nextOpenDate on the first open day).
 */
import { acceptDrift } from '../../src/app/accept-drift.js';
import { auditDrift } from '../../src/app/audit-drift.js';
import { syncPayout } from '../../src/app/sync-payout.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, OTHER_REALM, REALM, startHarness, tenantConfig } from './harness.js';

let h: Harness;
const DAY = 86_400;
const UPTOWN = 'uptown-pilates';
const UPTOWN_ACCOUNT = 'acct_1UptownPilates';

beforeAll(async () => {
  h = await startHarness('drift', { companies: [REALM, OTHER_REALM] });
  await h.addTenant(tenantConfig());
  await h.addTenant(
    tenantConfig({
      id: UPTOWN,
      stripeAccount: UPTOWN_ACCOUNT,
      quickbooks: { realmId: OTHER_REALM, closedPeriod: 'nextOpenDate' },
    }),
  );
});

afterAll(async () => {
  await h?.close();
});

function newPayout(
  seed: number,
  opts: Partial<Parameters<typeof generatePayout>[0]> = {},
  account = 'platform',
) {
  const generated = generatePayout({ seed, transactions: 8, account, ...opts });
  h.addPayout(generated.payout, generated.transactions, account);
  return generated.payout.id;
}

async function post(payoutId: string, tenantId = 'downtown-yoga') {
  const r = await syncPayout(h.runtime.syncDeps(), { message: h.message(payoutId, 'payout.paid', tenantId) });
  if (r.outcome !== 'posted' || r.quickbooks === null) throw new Error(`not posted: ${JSON.stringify(r)}`);
  return r.quickbooks;
}

const liveEntries = (payoutId: string, realm = REALM) =>
  [...h.deposits(realm), ...h.journalEntries(realm)].filter((e) =>
    String(e.PrivateNote ?? '').startsWith(`Stripe payout ${payoutId}`),
  );

const audit = (tenantId = 'downtown-yoga') => auditDrift(h.runtime.auditDeps(), { tenantId });

describe('the drift audit', () => {
  let deleted: string;
  let repointed: string;
  let redated: string;
  let untouched: string;

  beforeAll(async () => {
    deleted = newPayout(301);
    repointed = newPayout(302);
    redated = newPayout(303);
    untouched = newPayout(304);
    for (const po of [deleted, repointed, redated, untouched]) await post(po);
  });

  it('reports nothing while QuickBooks holds what was posted', async () => {
    const result = await audit();
    expect(result.findings).toEqual([]);
    expect(result.tenants).toEqual([
      { tenantId: 'downtown-yoga', entries: 4, method: 'cdc', unverifiable: 0, findings: 0 },
    ]);
  });

  it('reports a deleted deposit, a line re-pointed to another account and a moved date, each with its fix', async () => {
    // Prepare: a bookkeeper's edits in QuickBooks.
    const ref = async (po: string) => (await h.runtime.ledger.get(po))?.quickbooks?.id ?? '';
    h.qbo.deleteAsPerson(REALM, 'Deposit', await ref(deleted));
    const entry = liveEntries(repointed)[0] as { Line: { DepositLineDetail: Record<string, unknown> }[] };
    const sales = (await h.runtime.quickbooks.forRealm(REALM).getChart()).accounts.find(
      (a) => a.name === 'Sales',
    );
    const first = entry.Line[0];
    if (!first || !sales) throw new Error('test set-up');
    const was = first.DepositLineDetail.AccountRef as { value: string; name: string };
    h.qbo.editAsPerson(REALM, 'Deposit', await ref(repointed), {
      Line: [
        { ...first, DepositLineDetail: { ...first.DepositLineDetail, AccountRef: { value: sales.id } } },
        ...entry.Line.slice(1),
      ],
    });
    const redatedEntry = liveEntries(redated)[0] as { TxnDate: string };
    h.qbo.editAsPerson(REALM, 'Deposit', await ref(redated), { TxnDate: '2026-12-01' });

    // Act
    const result = await audit();

    // Assess
    const byPayout = new Map(result.findings.map((f) => [f.payout, f]));
    expect(result.findings).toHaveLength(3);
    expect(byPayout.get(deleted)).toMatchObject({
      tenant: 'downtown-yoga',
      quickbooks: { type: 'Deposit', id: await ref(deleted) },
      finding: 'deleted',
      hint: expect.stringContaining(`npx qbo-sync payouts resync ${deleted}`),
    });
    expect(byPayout.get(repointed)).toMatchObject({
      finding: 'changed',
      detail: expect.stringContaining(`account ${was.name} (${was.value}) → Sales (${sales.id})`),
      hint: expect.stringContaining(`npx qbo-sync payouts accept ${repointed}`),
    });
    expect(byPayout.get(redated)).toMatchObject({
      finding: 'redated',
      detail: `date ${redatedEntry.TxnDate} → 2026-12-01`,
    });
    // The ledger keeps the finding on the row; the status stays POSTED.
    const row = await h.runtime.ledger.get(deleted);
    expect(row).toMatchObject({ status: 'POSTED', drift: { finding: 'deleted' } });
    // Found again on the next run, even where CDC would no longer list the change.
    const again = await auditDrift(h.runtime.auditDeps(), { tenantId: 'downtown-yoga', since: new Date() });
    expect(again.findings.map((f) => f.payout).sort()).toEqual([deleted, repointed, redated].sort());
  });

  it('reads every entry back when asked further back than change data capture reaches', async () => {
    const result = await auditDrift(h.runtime.auditDeps(), {
      tenantId: 'downtown-yoga',
      since: new Date(Date.now() - 45 * DAY * 1000),
    });
    expect(result.tenants[0]).toMatchObject({ method: 'read', entries: 4, findings: 3 });
  });

  it('a resync after the deletion leaves exactly one live entry, and clears the finding', async () => {
    const r = await syncPayout(h.runtime.syncDeps(), { message: h.message(deleted, 'resync') });
    expect(r).toMatchObject({ outcome: 'posted', status: 'POSTED' });
    expect(liveEntries(deleted)).toHaveLength(1);
    const row = await h.runtime.ledger.get(deleted);
    expect(row?.drift).toBeNull();
    expect((await audit()).findings.map((f) => f.payout)).not.toContain(deleted);
  });

  it('accept silences a finding until the entry changes again', async () => {
    // Act
    const row = await acceptDrift({ ledger: h.runtime.ledger }, repointed);
    const after = await audit();
    const ref = row.quickbooks?.id ?? '';
    h.qbo.editAsPerson(REALM, 'Deposit', ref, { TxnDate: '2026-12-24' });
    const edited = await audit();

    // Assess
    expect(row).toMatchObject({ status: 'POSTED', drift: null, accepted: { finding: 'changed' } });
    expect(after.findings.map((f) => f.payout)).toEqual([redated]);
    expect(edited.findings.find((f) => f.payout === repointed)).toMatchObject({ finding: 'redated' });
    await expect(acceptDrift({ ledger: h.runtime.ledger }, untouched)).rejects.toThrow(
      `payout ${untouched} has no drift finding to accept`,
    );
  });

  it('accepting a deletion stops watching that entry', async () => {
    const po = newPayout(305);
    const ref = await post(po);
    h.qbo.deleteAsPerson(REALM, 'Deposit', ref.id);
    expect((await audit()).findings.map((f) => f.payout)).toContain(po);
    const row = await acceptDrift({ ledger: h.runtime.ledger }, po);
    expect(row.reason).toContain(`Deposit ${ref.id} was deleted in QuickBooks; accepted as intended`);
    expect((await audit()).findings.map((f) => f.payout)).not.toContain(po);
  });
});

describe('the closed-period policy', () => {
  it('hold: a payout dated in closed books is HELD before any QuickBooks write', async () => {
    // Prepare: books closed through the payout's arrival date.
    const arrival = Date.UTC(2026, 9, 30) / 1000;
    const po = newPayout(310, { arrivalDate: arrival });
    h.qbo.setCompany(REALM, { closedBefore: '2026-11-01' });
    h.qbo.clearRequests();
    try {
      // Act
      const r = await syncPayout(h.runtime.syncDeps(), { message: h.message(po) });

      // Assess
      expect(r).toMatchObject({ outcome: 'held', status: 'HELD' });
      expect(r.reason).toBe('the books are closed through 2026-10-31; the payout is dated 2026-10-30');
      expect(h.qbo.requests.filter((q) => q.method === 'POST')).toEqual([]);
      expect((await h.runtime.ledger.get(po))?.hint).toContain('closedPeriod: nextOpenDate');
    } finally {
      h.qbo.setCompany(REALM, { closedBefore: undefined });
    }
  });

  it('nextOpenDate: posted on the first open day, the note and the ledger saying the original date', async () => {
    // Prepare
    const po = newPayout(311, { arrivalDate: Date.UTC(2026, 9, 30) / 1000 }, UPTOWN_ACCOUNT);
    h.qbo.setCompany(OTHER_REALM, { closedBefore: '2026-11-01' });
    try {
      // Act
      const ref = await post(po, UPTOWN);

      // Assess
      const [entry] = liveEntries(po, OTHER_REALM);
      expect(entry).toMatchObject({ Id: ref.id, TxnDate: '2026-11-01' });
      expect(entry?.PrivateNote).toMatch(
        new RegExp(
          `^Stripe payout ${po} .* · dated 2026-10-30, posted on 2026-11-01: the books are closed through 2026-10-31$`,
        ),
      );
      const row = await h.runtime.ledger.get(po);
      expect(row).toMatchObject({ status: 'POSTED', originalDate: '2026-10-30' });
      expect(row?.reason).toContain('dated 2026-10-30, posted on 2026-11-01');
      // The audit compares with what was posted (the moved date), so nothing drifted.
      expect((await audit(UPTOWN)).findings).toEqual([]);
    } finally {
      h.qbo.setCompany(OTHER_REALM, { closedBefore: undefined });
    }
  });
});
