/**
 * QuickBooks misbehaving (CONTRACT §7): 429 storms (the XML 3001 body), 5xx, requests that time out after
 * QuickBooks processed them, answers slower than the invocation's remaining time, the per-realm limits, strict
 * refresh-token rotation with two workers refreshing at once, and `invalid_grant` → HELD "reconnect QuickBooks".
 * Whatever happens: at most one live entry per payout, no duplicate customers, nothing lost.
 */
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import type { PayoutMessage } from '../../src/app/ports.js';
import { type SyncPayoutDeps, syncPayout } from '../../src/app/sync-payout.js';
import type { Runtime } from '../../src/runtime.js';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import type { GeneratedMember } from '../../standins/stripe/generate.js';
import { generatePayout } from '../../standins/stripe/index.js';
import {
  addTenantVia,
  duplicateCustomers,
  type Harness,
  lambdaContext,
  liveEntries,
  postedProblems,
  REALM,
  sleep,
  sqsRecord,
  startHarness,
  startWorker,
  tenantConfig,
} from './helpers.js';

let h: Harness;
let seed = 9000;
let seededDuplicates: Map<string, string[]>;
/** Members already mapped (after the warm-up payout): payouts of theirs go straight to the deposit. */
const REGULARS: GeneratedMember[] = [
  { email: 'regular.one@example.org', name: 'Regular One' },
  { email: 'regular.two@example.org', name: 'Regular Two' },
];

beforeAll(async () => {
  h = await startHarness('qbofaults');
  await h.addTenant(tenantConfig());
  seededDuplicates = duplicateCustomers(h.qbo, REALM);
  const warmUp = newPayout({ regulars: true });
  await syncPayout(h.runtime.syncDeps(), { message: h.message(warmUp.payout.id) });
});

afterAll(async () => {
  await h?.close();
});

function newPayout(opts: { regulars?: boolean; account?: string } = {}) {
  const generated = generatePayout({
    seed: seed++,
    transactions: 8,
    ...(opts.account !== undefined ? { account: opts.account } : {}),
    members: opts.regulars ? { existing: REGULARS, newCount: 0 } : { existing: [], newCount: 3 },
  });
  h.addPayout(generated.payout, generated.transactions, opts.account ?? 'platform');
  return generated;
}

/** Delivers until a delivery completes (what the queue does), at most `max` times; returns how many it took. */
async function deliverUntilDone(runtime: Runtime, message: PayoutMessage, max = 5) {
  for (let receiveCount = 1; receiveCount <= max; receiveCount++) {
    try {
      const result = await syncPayout(runtime.syncDeps(), {
        message,
        receiveCount,
        maxReceiveCount: max + 1,
      });
      return { result, deliveries: receiveCount };
    } catch (error) {
      if (receiveCount === max) throw error;
    }
  }
  throw new Error('unreachable');
}

const requestsTo = (qbo: QuickBooksStandIn, since: number, pattern: RegExp) =>
  qbo.requests.filter((r) => r.at >= since && pattern.test(r.path));

it('a 429 storm (XML 3001) on batches and the deposit: retried with backoff into one deposit, no duplicate customer', async () => {
  // Prepare
  const { payout } = newPayout();
  const since = Date.now();
  h.qbo.injectFault({ status: 429, count: 5, path: '/batch' });
  h.qbo.injectFault({ status: 429, count: 6, path: '/deposit' });
  const throttledBefore = h.runtime.quickbooks.calls.forRealm(REALM).throttled;

  // Act
  const { result, deliveries } = await deliverUntilDone(h.runtime, h.message(payout.id));

  // Assess
  expect(result.outcome).toBe('posted');
  expect(deliveries).toBeGreaterThan(1); // 6 throttles on the deposit outlast one delivery's 4 attempts
  expect(h.runtime.quickbooks.calls.forRealm(REALM).throttled - throttledBefore).toBe(11);
  expect(requestsTo(h.qbo, since, /\/deposit$/).filter((r) => r.status === 429)).toHaveLength(6);
  const ids = new Set(requestsTo(h.qbo, since, /\/deposit$/).map((r) => r.requestId));
  expect(ids.size).toBe(1); // every attempt, across deliveries, under the intent's request id
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
  expect(duplicateCustomers(h.qbo, REALM)).toEqual(seededDuplicates);
});

it('5xx of every kind on the deposit: retried under the same request id into one deposit', async () => {
  // Prepare
  const { payout } = newPayout({ regulars: true });
  const since = Date.now();
  for (const status of [500, 502, 503]) h.qbo.injectFault({ status, count: 1, path: '/deposit' });
  h.qbo.injectFault({ status: 504, count: 1, path: '/deposit', afterProcessing: true });

  // Act
  const { result, deliveries } = await deliverUntilDone(h.runtime, h.message(payout.id));

  // Assess
  expect(result.outcome).toBe('posted');
  expect(deliveries).toBe(2);
  const posts = requestsTo(h.qbo, since, /\/deposit$/);
  expect(posts.map((r) => r.status)).toEqual([500, 502, 503, 504, 200]);
  expect(new Set(posts.map((r) => r.requestId)).size).toBe(1);
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
});

it('requests that time out after QuickBooks processed them: the redelivery replays, one deposit', async () => {
  // Prepare: a worker whose requests give up after 150 ms, and a QuickBooks answering after 400 ms
  const worker = await startWorker(h, {
    quickbooks: { timeoutMs: 150, retry: { maxAttempts: 3, baseDelayMs: 5 } },
  });
  const { payout } = newPayout({ regulars: true });
  const message = h.message(payout.id);
  const since = Date.now();
  h.qbo.setLatency(400);

  // Act
  // The closing date is read before any write; here the deposit's own requests are the ones timing out.
  const timedOut = await syncPayout(openBooks(worker.syncDeps()), { message, receiveCount: 1 }).then(
    () => 'completed',
    (e: unknown) => String(e),
  );
  await sleep(600); // the stand-in finishes what it was doing
  h.qbo.setLatency(0);
  const processedWhileTimingOut = liveEntries(h.qbo, REALM, payout.id).length;
  const redelivered = await syncPayout(worker.syncDeps(), { message, receiveCount: 2 });

  // Assess
  expect(timedOut).toMatch(/timeout|ECONNABORTED|could not reach/i);
  const posts = requestsTo(h.qbo, since, /\/deposit$/);
  expect(posts.length).toBeGreaterThanOrEqual(3);
  expect(new Set(posts.map((r) => r.requestId)).size).toBe(1);
  expect(processedWhileTimingOut).toBe(1);
  expect(redelivered.outcome).toBe('posted');
  expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
});

it('an answer slower than the invocation’s remaining time: the worker gives up in time, the retry posts once', async () => {
  // Prepare: 1.5 s left in the invocation; QuickBooks answers in 0.9 s, after the client's 1 s reserve
  const worker = await startWorker(h);
  const handler = makeDepositBuilderHandler(
    depositBuilderDepsFromRuntime(worker, { outOfTimeMarginMs: 0, deadlineReserveMs: 0 }),
  );
  const { payout } = newPayout({ regulars: true });
  const body = JSON.stringify(h.message(payout.id));
  h.qbo.setLatency(900);

  // Act
  const started = Date.now();
  // A fully failed batch makes the handler throw (Lambda then returns the whole batch to the queue).
  const first = await handler(
    { Records: [sqsRecord({ body, groupId: 'downtown-yoga' })] },
    lambdaContext(1500),
  ).then(
    (r) => r.batchItemFailures.length,
    () => 1,
  );
  const tookMs = Date.now() - started;
  await sleep(1000);
  h.qbo.setLatency(0);
  const second = await handler(
    { Records: [sqsRecord({ body, groupId: 'downtown-yoga', receiveCount: 2 })] },
    lambdaContext(60_000),
  );

  // Assess
  expect(first).toBe(1);
  expect(tookMs).toBeLessThan(1500);
  const row = await h.runtime.ledger.get(payout.id);
  expect(second.batchItemFailures).toEqual([]);
  expect(row?.attempts).toBe(1);
  expect(postedProblems(h.qbo, REALM, payout.id, row)).toEqual([]);
});

describe('limits, rotation and revocation on companies of their own', () => {
  const LIMITED_REALM = '5550002222';
  const STRICT_REALM = '5550003333';
  let limited: QuickBooksStandIn;
  let strict: QuickBooksStandIn;

  beforeAll(async () => {
    limited = await startQuickBooksStandIn(
      // In flight and per minute as Intuit states them; batch requests unmetered here (they have their own tests).
      {
        companies: [demoCompanySeed(LIMITED_REALM)],
        limits: { maxInFlight: 10, perMinute: 500, batchesPerMinute: 1_000_000 },
      },
      { host: '127.0.0.1', port: 0 },
    );
    strict = await startQuickBooksStandIn(
      {
        companies: [demoCompanySeed(STRICT_REALM)],
        rotation: 'strict',
        accessTokenTtlSeconds: 60.2,
        limits: false,
      },
      { host: '127.0.0.1', port: 0 },
    );
  });

  afterAll(async () => {
    await Promise.all([limited?.close(), strict?.close()]);
  });

  it('twenty payouts at once keep within 10 requests in flight per realm: QuickBooks never throttles', async () => {
    // Prepare
    const account = 'acct_1LimitedStudio0001';
    const worker = await startWorker(h, { qbo: limited });
    await addTenantVia(
      worker,
      limited,
      tenantConfig({ id: 'limited-studio', stripeAccount: account, quickbooks: { realmId: LIMITED_REALM } }),
    );
    const seeded = duplicateCustomers(limited, LIMITED_REALM);
    limited.setLatency(25);
    const payouts = Array.from({ length: 20 }, () => newPayout({ account }).payout);

    // Act
    const results = await Promise.all(
      payouts.map((p) => deliverUntilDone(worker, h.message(p.id, 'payout.paid', 'limited-studio', account))),
    );
    limited.setLatency(0);

    // Assess
    expect(results.map((r) => r.result.status)).toEqual(Array(20).fill('POSTED'));
    expect(limited.requests.filter((r) => r.status === 429)).toEqual([]);
    for (const p of payouts) {
      expect(postedProblems(limited, LIMITED_REALM, p.id, await h.runtime.ledger.get(p.id))).toEqual([]);
    }
    expect(duplicateCustomers(limited, LIMITED_REALM)).toEqual(seeded);
  });

  describe("strict refresh-token rotation, tokens valid an hour (Intuit's expires_in: 3600)", () => {
    // Its own company: the tokens stay fresh for the whole test however slow the machine, so a worker that waited
    // for the lock must reuse the token the other one refreshed (the 0.2 s tokens below would look stale to it).
    const STEADY_REALM = '5550004444';
    const account = 'acct_1SteadyRotation001';
    let steady: QuickBooksStandIn;
    let a: Runtime;
    let b: Runtime;

    beforeAll(async () => {
      steady = await startQuickBooksStandIn(
        { companies: [demoCompanySeed(STEADY_REALM)], rotation: 'strict', limits: false },
        { host: '127.0.0.1', port: 0 },
      );
      a = await startWorker(h, { qbo: steady });
      b = await startWorker(h, { qbo: steady });
      await addTenantVia(
        a,
        steady,
        tenantConfig({ id: 'steady-studio', stripeAccount: account, quickbooks: { realmId: STEADY_REALM } }),
      );
    });

    afterAll(async () => {
      await steady?.close();
    });

    it('two workers refreshing at once, five times over: one refresh a round, never a stranded token', async () => {
      // Prepare
      const refreshesBefore =
        a.quickbooks.tokenManager.refreshes(STEADY_REALM) + b.quickbooks.tokenManager.refreshes(STEADY_REALM);

      // Act
      for (let round = 0; round < 5; round++) {
        const stored = await a.tokens.get(STEADY_REALM);
        const rejected = stored?.accessToken ?? '';
        const [ta, tb] = await Promise.all([
          a.quickbooks.tokenManager.accessTokenAfterUnauthorized(STEADY_REALM, rejected),
          b.quickbooks.tokenManager.accessTokenAfterUnauthorized(STEADY_REALM, rejected),
        ]);
        // Assess (each round): both use the one new token
        expect(ta).toBe(tb);
        expect(ta).not.toBe(rejected);
      }

      // Assess
      const refreshes =
        a.quickbooks.tokenManager.refreshes(STEADY_REALM) + b.quickbooks.tokenManager.refreshes(STEADY_REALM);
      expect(refreshes - refreshesBefore).toBe(5);
      expect(steady.requests.filter((r) => r.path.includes('/tokens/') && r.status !== 200)).toEqual([]);
      // The stored refresh token is the live one: a fresh process can still refresh with it.
      const c = await startWorker(h, { qbo: steady });
      await expect(
        c.quickbooks.tokenManager.accessTokenAfterUnauthorized(STEADY_REALM, 'none'),
      ).resolves.toEqual(expect.any(String));
    });
  });

  describe('strict refresh-token rotation', () => {
    const account = 'acct_1StrictRotation001';
    const tenantId = 'strict-studio';
    let a: Runtime;
    let b: Runtime;

    beforeAll(async () => {
      a = await startWorker(h, { qbo: strict });
      b = await startWorker(h, { qbo: strict });
      await addTenantVia(
        a,
        strict,
        tenantConfig({ id: tenantId, stripeAccount: account, quickbooks: { realmId: STRICT_REALM } }),
      );
    });

    it('payouts posted by two workers while access tokens keep expiring: all POSTED, no invalid_grant', async () => {
      // Prepare
      const payouts = Array.from({ length: 8 }, () => newPayout({ account }).payout);
      const refreshes = () =>
        a.quickbooks.tokenManager.refreshes(STRICT_REALM) + b.quickbooks.tokenManager.refreshes(STRICT_REALM);
      const refreshesBefore = refreshes();
      strict.setLatency(250);

      // Act: the workers take turns; access tokens look stale after 0.2 s, so refreshes race the posts
      const results = await Promise.all(
        payouts.map((p, i) =>
          deliverUntilDone(i % 2 === 0 ? a : b, h.message(p.id, 'payout.paid', tenantId, account)),
        ),
      );
      strict.setLatency(0);

      // Assess
      expect(results.map((r) => r.result.status)).toEqual(Array(8).fill('POSTED'));
      expect(refreshes() - refreshesBefore).toBeGreaterThanOrEqual(3);
      expect(strict.requests.filter((r) => r.path.includes('/tokens/') && r.status !== 200)).toEqual([]);
      for (const p of payouts) {
        expect(postedProblems(strict, STRICT_REALM, p.id, await h.runtime.ledger.get(p.id))).toEqual([]);
      }
    });

    it('invalid_grant (connection revoked): HELD "reconnect QuickBooks" at once, no retry burned, no entry', async () => {
      // Prepare
      const { payout } = newPayout({ account });
      strict.revokeAll(STRICT_REALM);

      // Act
      const held = await syncPayout(a.syncDeps(), {
        message: h.message(payout.id, 'payout.paid', tenantId, account),
        receiveCount: 1,
      });
      const heldRow = await h.runtime.ledger.get(payout.id);
      const again = await syncPayout(b.syncDeps(), {
        message: h.message(payout.id, 'payout.reconciliation_completed', tenantId, account),
        receiveCount: 1,
      });
      // A person reconnects, then asks for a sync.
      await a.tokens.put({
        realmId: STRICT_REALM,
        accessToken: 'expired',
        refreshToken: strict.issueRefreshToken(STRICT_REALM),
        accessTokenExpiresAt: 0,
        updatedAt: new Date().toISOString(),
      });
      const afterReconnect = await deliverUntilDone(b, h.message(payout.id, 'sync', tenantId, account));

      // Assess
      expect(held).toMatchObject({ outcome: 'held', status: 'HELD' });
      expect(heldRow).toMatchObject({ status: 'HELD', attempts: 0, quickbooks: null });
      expect(`${heldRow?.reason} ${heldRow?.hint}`).toMatch(/reconnect QuickBooks/i);
      expect(heldRow?.hint).toMatch(new RegExp(`connect --tenant ${tenantId}`));
      expect(again).toMatchObject({ outcome: 'unchanged', status: 'HELD' });
      expect(afterReconnect.result.status).toBe('POSTED');
      const row = await h.runtime.ledger.get(payout.id);
      expect(postedProblems(strict, STRICT_REALM, payout.id, row)).toEqual([]);
    });
  });
});

/** The worker's dependencies with a closing-date read that finds none (and makes no request): the real books else. */
function openBooks(deps: SyncPayoutDeps): SyncPayoutDeps {
  return {
    ...deps,
    quickbooks: (realmId, ctx) =>
      Object.assign(Object.create(deps.quickbooks(realmId, ctx)), { bookCloseDate: async () => null }),
  };
}

describe('the same faults in every error envelope QuickBooks uses (lower-case, null fields, XML)', () => {
  const ENVELOPES = ['lowercase', 'nulls', 'xml', 'capital'] as const;

  it.each(ENVELOPES)(
    '%s: 5xx and a 401 retried into one deposit; a closed period HELD "books closed", then posted once',
    async (envelope) => {
      // Prepare
      h.qbo.setFaultEnvelope(envelope);
      try {
        const { payout } = newPayout({ regulars: true });
        const closed = newPayout({ regulars: true }).payout;
        const since = Date.now();
        h.qbo.injectFault({ status: 500, path: '/deposit' });
        h.qbo.injectFault({ status: 401, path: '/deposit' });
        h.qbo.injectFault({ status: 503, path: '/deposit' });

        // Act
        const { result } = await deliverUntilDone(h.runtime, h.message(payout.id));
        h.qbo.setCompany(REALM, { closedBefore: '2099-01-01' });
        // The books close between the worker's read of the closing date and its write (the read saw none), so
        // QuickBooks' own 6210 refusal, in this envelope, is what holds the payout.
        const held = await syncPayout(openBooks(h.runtime.syncDeps()), {
          message: h.message(closed.id),
          receiveCount: 1,
        });
        const heldRow = await h.runtime.ledger.get(closed.id);
        h.qbo.setCompany(REALM, { closedBefore: '1970-01-01' });
        const synced = await syncPayout(h.runtime.syncDeps(), { message: h.message(closed.id, 'sync') });

        // Assess
        expect(result.outcome).toBe('posted');
        expect(
          requestsTo(h.qbo, since, /\/deposit$/)
            .map((r) => r.status)
            .slice(0, 3),
        ).toEqual([500, 401, 503]);
        expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
        expect(held).toMatchObject({ outcome: 'held', status: 'HELD' });
        expect(heldRow?.reason).toMatch(/6210/);
        expect(heldRow?.hint).toMatch(/period is closed/);
        expect(heldRow?.intent).toBeNull(); // a definite refusal: nothing was made under that request id
        expect(synced.status).toBe('POSTED');
        expect(postedProblems(h.qbo, REALM, closed.id, await h.runtime.ledger.get(closed.id))).toEqual([]);
      } finally {
        h.qbo.setFaultEnvelope('real');
        h.qbo.setCompany(REALM, { closedBefore: '1970-01-01' });
      }
    },
  );
});
