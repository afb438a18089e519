/**
 * The rarer paths of syncPayout, on the real local parts: resync after a mapping fix (also interrupted), a
 * deletion QuickBooks refuses (→ a reversing JournalEntry), a revoked QuickBooks connection (→ HELD "reconnect"),
 * and work that does not fit in one invocation (→ a `continue` message).
 */
import { syncPayout } from '../../src/app/sync-payout.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, OTHER_REALM, REALM, startHarness, tenantConfig } from './harness.js';

let h: Harness;
const DAY = 86_400;

beforeAll(async () => {
  h = await startHarness('resync', { companies: [REALM, OTHER_REALM] });
  await h.addTenant(tenantConfig());
  await h.addTenant(
    tenantConfig({
      id: 'uptown-pilates',
      stripeAccount: 'acct_1UptownPilates',
      quickbooks: { realmId: OTHER_REALM },
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
  const generated = generatePayout({ seed, transactions: 10, account, ...opts });
  h.addPayout(generated.payout, generated.transactions, account);
  return generated;
}

const liveEntries = (payoutId: string, realm = REALM) =>
  [...h.deposits(realm), ...h.journalEntries(realm)].filter((e) =>
    String(e.PrivateNote ?? '').startsWith(`Stripe payout ${payoutId}`),
  );

const accountIds = (entry: Record<string, unknown> | undefined) =>
  new Set(
    ((entry?.Line ?? []) as { DepositLineDetail?: { AccountRef?: { value: string } } }[]).map(
      (l) => l.DepositLineDetail?.AccountRef?.value,
    ),
  );

it('resync after a mapping fix replaces the deposit: one live object, generation 1', async () => {
  // Prepare: Memberships first booked to Membership Revenue
  const { payout } = newPayout(201, { categories: [{ category: 'Memberships' }] });
  const first = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });
  const before = liveEntries(payout.id)[0];
  const chart = await h.runtime.quickbooks.forRealm(REALM).getChart();
  const workshop = chart.accounts.find((a) => a.name === 'Workshop Revenue')?.id;
  const stored = await h.runtime.tenants.get('downtown-yoga');
  if (!stored || !workshop) throw new Error('test set-up');
  await h.runtime.tenants.put({
    ...stored,
    books: {
      ...stored.books,
      revenue: stored.books.revenue.map((r) =>
        r.category === 'Memberships' ? { ...r, account: { value: workshop, name: 'Workshop Revenue' } } : r,
      ),
    },
  });

  // Act
  const resynced = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'resync') });

  // Assess
  expect(first.outcome).toBe('posted');
  expect(resynced).toMatchObject({ outcome: 'posted', status: 'POSTED' });
  expect(resynced.quickbooks?.id).not.toBe(first.quickbooks?.id);
  const live = liveEntries(payout.id);
  expect(live).toHaveLength(1);
  expect(accountIds(before).has(workshop)).toBe(false);
  expect(accountIds(live[0]).has(workshop)).toBe(true);
  const row = await h.runtime.ledger.get(payout.id);
  expect(row).toMatchObject({ generation: 1, intent: null, quickbooks: resynced.quickbooks });

  // Put the mapping back for the other tests.
  await h.runtime.tenants.put(stored);
});

it('a resync interrupted after the deletion (then redelivered) ends with exactly one live deposit', async () => {
  // Prepare
  const { payout } = newPayout(202);
  await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });
  const message = h.message(payout.id, 'resync');
  // The old deposit gets deleted, then every attempt to post the new one fails.
  h.qbo.injectFault({ status: 503, count: 4, path: /\/deposit\?(?!.*operation=delete)/ });

  // Act
  await expect(syncPayout(h.runtime.syncDeps(), { message, receiveCount: 1 })).rejects.toThrow(/503/);
  const midway = await h.runtime.ledger.get(payout.id);
  const liveMidway = liveEntries(payout.id).length;
  const redelivered = await syncPayout(h.runtime.syncDeps(), { message, receiveCount: 2 });

  // Assess
  expect(midway).toMatchObject({ status: 'POSTING', quickbooks: null, generation: 1 });
  expect(midway?.intent).not.toBeNull();
  expect(liveMidway).toBe(0);
  expect(redelivered.outcome).toBe('posted');
  expect(liveEntries(payout.id)).toHaveLength(1);
});

it('a resync interrupted before the deletion finishes the deletion first on redelivery', async () => {
  // Prepare
  const { payout } = newPayout(203);
  const posted = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });
  const message = h.message(payout.id, 'resync');
  h.qbo.injectFault({ status: 503, count: 4, path: /operation=delete/ });

  // Act
  await expect(syncPayout(h.runtime.syncDeps(), { message, receiveCount: 1 })).rejects.toThrow();
  const midway = await h.runtime.ledger.get(payout.id);
  // Meanwhile a duplicate payout.paid arrives: it must not post a second deposit beside the old one.
  const duplicate = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.paid') });

  // Assess
  expect(midway).toMatchObject({ status: 'POSTING', quickbooks: posted.quickbooks, generation: 0 });
  expect(duplicate.outcome).toBe('posted');
  expect(duplicate.quickbooks?.id).not.toBe(posted.quickbooks?.id);
  expect(liveEntries(payout.id)).toHaveLength(1);
});

it('when QuickBooks refuses the deletion (closed period), payout.failed posts a reversing JournalEntry', async () => {
  // Prepare: a deposit dated 5 days ago, then the books are closed before yesterday
  const now = Math.floor(Date.now() / 1000);
  const { payout } = newPayout(204, { arrivalDate: now - 5 * DAY - (now % DAY) });
  const posted = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });
  h.qbo.setCompany(REALM, { closedBefore: new Date((now - DAY) * 1000).toISOString().slice(0, 10) });
  h.stripe.updatePayout('platform', payout.id, { status: 'failed', failure_code: 'no_account' });

  try {
    // Act
    const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.failed') });

    // Assess
    expect(result).toMatchObject({
      outcome: 'reversed',
      status: 'REVERSED',
      quickbooks: { type: 'JournalEntry' },
    });
    expect(result.reason).toMatch(/could not be deleted/);
    const reversals = h
      .journalEntries()
      .filter((j) => String(j.PrivateNote ?? '').startsWith(`Reversal of Stripe payout ${payout.id}`));
    expect(reversals).toHaveLength(1);
    expect(String(reversals[0]?.Id)).toBe(result.quickbooks?.id);
    // The deposit is still there (QuickBooks kept it), cancelled by the reversal: the lines mirror each other.
    const deposit = h.deposits().find((d) => String(d.Id) === posted.quickbooks?.id);
    expect(deposit).toBeDefined();
    const lines = (reversals[0]?.Line ?? []) as {
      Amount: number;
      JournalEntryLineDetail: { PostingType: string };
    }[];
    const total = (type: string) =>
      lines
        .filter((l) => l.JournalEntryLineDetail.PostingType === type)
        .reduce((s, l) => s + Math.round(l.Amount * 100), 0);
    expect(total('Debit')).toBe(total('Credit'));
    expect(total('Debit')).toBeGreaterThanOrEqual(payout.amount);
    // A redelivered payout.failed changes nothing.
    const again = await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id, 'payout.failed') });
    expect(again).toMatchObject({ outcome: 'unchanged', status: 'REVERSED' });
  } finally {
    h.qbo.setCompany(REALM, { closedBefore: '1970-01-01' });
  }
});

it('a revoked QuickBooks connection holds the payout with "reconnect QuickBooks", without retrying', async () => {
  // Prepare
  const { payout } = newPayout(205, {}, 'acct_1UptownPilates');
  h.qbo.revokeAll(OTHER_REALM);
  const message = h.message(payout.id, 'payout.paid', 'uptown-pilates');

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message, receiveCount: 1 });

  // Assess
  expect(result).toMatchObject({ outcome: 'held', status: 'HELD' });
  const row = await h.runtime.ledger.get(payout.id);
  expect(`${row?.reason} ${row?.hint}`).toMatch(/reconnect QuickBooks/);
  expect(row?.hint).toMatch(/connect --tenant uptown-pilates/);
  expect(row?.attempts).toBe(0);
  expect(liveEntries(payout.id, OTHER_REALM)).toHaveLength(0);
});

it('out of time while creating customers: a continue message picks the work up; not a failure', async () => {
  // Prepare: 40 new members → two create batches
  const { payout } = newPayout(206, { transactions: 60, members: { existing: [], newCount: 40 } });
  const message = h.message(payout.id);

  // Act
  const first = await syncPayout(
    { ...h.runtime.syncDeps(), isOutOfTime: () => true },
    { message, receiveCount: 1 },
  );
  const queued = (await h.takeQueue()).filter((m) => m.payoutId === payout.id);
  const row = await h.runtime.ledger.get(payout.id);
  const next = queued.find((m) => m.eventType === 'continue');
  if (next === undefined) throw new Error('no continue message was queued');
  const second = await syncPayout(h.runtime.syncDeps(), { message: next, receiveCount: 1 });

  // Assess
  expect(first).toMatchObject({ outcome: 'continued', status: 'POSTING' });
  expect(row).toMatchObject({ status: 'POSTING', attempts: 0 });
  expect(row?.reason).toMatch(/continuing/);
  expect(next).toMatchObject({ tenantId: 'downtown-yoga', payoutId: payout.id });
  expect(next.eventId).not.toBe(message.eventId);
  expect(second.outcome).toBe('posted');
  expect(liveEntries(payout.id)).toHaveLength(1);
});
