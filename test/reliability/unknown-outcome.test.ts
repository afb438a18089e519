/**
 * Exactly once when the answer is unknown (CONTRACT §4, §7): a deposit POST that QuickBooks committed but never
 * answered (the client timed out), then `invalid_grant` on the retry's token refresh. The payout is HELD
 * "reconnect QuickBooks" with its write intent kept; after the reconnect, `payouts sync` leaves exactly one live
 * deposit, whether QuickBooks still remembers the request id (it replays its answer) or has forgotten it a day
 * later (the product finds its own entry and adopts it).
 */
import { syncPayout } from '../../src/app/sync-payout.js';
import type { Runtime } from '../../src/runtime.js';
import type { GeneratedMember } from '../../standins/stripe/generate.js';
import { generatePayout } from '../../standins/stripe/index.js';
import {
  type Harness,
  liveEntries,
  liveReversals,
  postedProblems,
  REALM,
  startHarness,
  startWorker,
  tenantConfig,
} from './helpers.js';

let h: Harness;
let seed = 11_000;
const REGULARS: GeneratedMember[] = [
  { email: 'regular.one@example.org', name: 'Regular One' },
  { email: 'regular.two@example.org', name: 'Regular Two' },
];
const DAY_MS = 24 * 3600 * 1000;

beforeAll(async () => {
  h = await startHarness('unknownoutcome');
  await h.addTenant(tenantConfig());
  const warmUp = newPayout();
  await syncPayout(h.runtime.syncDeps(), { message: h.message(warmUp.id) });
});

afterAll(async () => {
  await h?.close();
});

function newPayout(arrivalDate?: number) {
  const generated = generatePayout({
    seed: seed++,
    transactions: 6,
    ...(arrivalDate !== undefined ? { arrivalDate } : {}),
    members: { existing: REGULARS, newCount: 0 },
  });
  h.addPayout(generated.payout, generated.transactions, 'platform');
  return generated.payout;
}

/** The write is committed and never answered; the retry gets 401, and the refresh `invalid_grant`. */
function committedThenInvalidGrant(path = '/deposit'): void {
  h.qbo.injectFault({ status: 200, path, afterProcessing: true, hang: true });
  h.qbo.injectFault({ status: 401, path });
  h.qbo.injectFault({
    status: 400,
    path: '/oauth2/v1/tokens/bearer',
    body: JSON.stringify({ error: 'invalid_grant' }),
  });
}

/** A person reconnects QuickBooks: new tokens in the store, as after `connect`. */
async function reconnect(runtime: Runtime): Promise<void> {
  await runtime.tokens.put({
    realmId: REALM,
    accessToken: 'expired',
    refreshToken: h.qbo.issueRefreshToken(REALM),
    accessTokenExpiresAt: 0,
    updatedAt: new Date().toISOString(),
  });
}

async function heldAfterUnknownOutcome(payoutId: string, path = '/deposit', eventType = 'payout.paid') {
  const worker = await startWorker(h, {
    quickbooks: { timeoutMs: 150, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } },
  });
  committedThenInvalidGrant(path);
  const held = await syncPayout(worker.syncDeps(), {
    message: h.message(payoutId, eventType),
    receiveCount: 1,
  });
  return { held, row: await h.runtime.ledger.get(payoutId) };
}

it('timed out after QuickBooks committed it, then invalid_grant: HELD with the intent kept; reconnect + sync → one deposit', async () => {
  // Prepare
  const payout = newPayout();

  // Act
  const { held, row: heldRow } = await heldAfterUnknownOutcome(payout.id);
  const committed = liveEntries(h.qbo, REALM, payout.id).length;
  const worker = await startWorker(h);
  await reconnect(worker);
  const synced = await syncPayout(worker.syncDeps(), { message: h.message(payout.id, 'sync') });

  // Assess
  expect(held).toMatchObject({ outcome: 'held', status: 'HELD' });
  expect(`${heldRow?.reason} ${heldRow?.hint}`).toMatch(/reconnect QuickBooks/i);
  expect(heldRow?.intent).not.toBeNull();
  expect(committed).toBe(1);
  expect(synced.status).toBe('POSTED');
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
});

it('the same, with QuickBooks having forgotten the request id a day later: the product adopts its own deposit', async () => {
  // Prepare
  const payout = newPayout();
  const { row: heldRow } = await heldAfterUnknownOutcome(payout.id);
  h.qbo.forgetRequestIds(REALM);
  const worker = await startWorker(h);
  await reconnect(worker);
  const later = new Date(Date.now() + DAY_MS + 3600_000);
  const since = h.qbo.requests.length;

  // Act
  const synced = await syncPayout(
    { ...worker.syncDeps(), now: () => later },
    { message: h.message(payout.id, 'sync') },
  );

  // Assess
  expect(heldRow?.intent).not.toBeNull();
  expect(synced.status).toBe('POSTED');
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
  const posts = h.qbo.requests.slice(since).filter((r) => r.method === 'POST' && r.path.endsWith('/deposit'));
  expect(posts).toEqual([]);
  expect((await h.runtime.ledger.get(payout.id))?.reason ?? '').toMatch(/adopted|found in QuickBooks/i);
});

it('an intent older than a day whose entry never reached QuickBooks: looked for, not found, posted once', async () => {
  // Prepare: the first attempt gets a 503 (nothing made); the intent is kept for the retry
  const payout = newPayout();
  h.qbo.injectFault({ status: 503, path: '/deposit' });
  const failing = await startWorker(h, { quickbooks: { retry: { maxAttempts: 1 } } });
  const failed = await syncPayout(failing.syncDeps(), {
    message: h.message(payout.id),
    receiveCount: 1,
  }).then(
    () => 'completed',
    (e: unknown) => String(e),
  );
  const row = await h.runtime.ledger.get(payout.id);
  const worker = await startWorker(h);
  const later = new Date(Date.now() + DAY_MS + 3600_000);
  const since = h.qbo.requests.length;

  // Act
  const synced = await syncPayout(
    { ...worker.syncDeps(), now: () => later },
    { message: h.message(payout.id, 'sync'), receiveCount: 2 },
  );

  // Assess
  expect(failed).toMatch(/503/);
  expect(row?.intent).not.toBeNull();
  expect(synced.status).toBe('POSTED');
  const asked = h.qbo.requests.slice(since);
  expect(asked.some((r) => r.path.endsWith('/query') && /FROM Deposit/i.test(r.query.query ?? ''))).toBe(
    true,
  );
  expect(asked.filter((r) => r.method === 'POST' && r.path.endsWith('/deposit'))).toHaveLength(1);
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
});

it('the reversing JournalEntry: committed, unanswered, then invalid_grant; reconnect + sync → one reversal, REVERSED', async () => {
  // Prepare: a deposit dated 5 days ago; the books closed since (deletion refused → reversal); the payout fails
  const now = Math.floor(Date.now() / 1000);
  const payout = newPayout(now - 5 * 86_400 - (now % 86_400));
  await syncPayout(h.runtime.syncDeps(), { message: h.message(payout.id) });
  h.qbo.setCompany(REALM, { closedBefore: new Date((now - 86_400) * 1000).toISOString().slice(0, 10) });
  h.stripe.updatePayout('platform', payout.id, { status: 'failed', failure_code: 'no_account' });
  try {
    // Act
    const { held, row: heldRow } = await heldAfterUnknownOutcome(payout.id, '/journalentry', 'payout.failed');
    const worker = await startWorker(h);
    await reconnect(worker);
    const synced = await syncPayout(worker.syncDeps(), { message: h.message(payout.id, 'sync') });

    // Assess
    expect(held).toMatchObject({ outcome: 'held', status: 'HELD' });
    expect(heldRow?.intent).not.toBeNull();
    expect(synced).toMatchObject({
      outcome: 'reversed',
      status: 'REVERSED',
      quickbooks: { type: 'JournalEntry' },
    });
    const reversals = liveReversals(h.qbo, REALM, payout.id);
    expect(reversals.map((r) => String(r.Id))).toEqual([synced.quickbooks?.id]);
  } finally {
    h.qbo.setCompany(REALM, { closedBefore: '1970-01-01' });
  }
});
