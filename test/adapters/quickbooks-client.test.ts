import { QuickBooksClientFactory } from '../../src/adapters/quickbooks/client.js';
import { QboTransientError, QboValidationFault } from '../../src/adapters/quickbooks/faults.js';
import { TransientError } from '../../src/app/errors.js';
import type { TokenStore } from '../../src/app/ports.js';
import { resolveTenantBooks } from '../../src/domain/chart.js';
import { TenantConfigSchema } from '../../src/domain/config.js';
import type { QboEntry } from '../../src/domain/types.js';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import {
  apiCalls,
  clientFactory,
  connectedClient,
  FAST_RETRY,
  REALM,
  seedTokens,
  tokenStoreForTest,
} from './quickbooks-helpers.js';

let qbo: QuickBooksStandIn;
let store: TokenStore;

beforeAll(async () => {
  qbo = await startQuickBooksStandIn({ companies: [demoCompanySeed()] });
  ({ store } = await tokenStoreForTest('client'));
});

afterAll(async () => {
  await qbo?.close();
});

beforeEach(() => {
  qbo.clearRequests();
  qbo.setLatency(0);
});

const factory = (
  standIn: QuickBooksStandIn = qbo,
  extra: Partial<ConstructorParameters<typeof QuickBooksClientFactory>[0]> = {},
) => clientFactory(store, standIn, extra);

/** A fresh access token for the realm, so the tests count API calls only. */
const connected = (standIn: QuickBooksStandIn, realmId = REALM) => connectedClient(store, standIn, realmId);

const accountId = (standIn: QuickBooksStandIn, name: string) =>
  String(standIn.entities(REALM, 'Account').find((a) => a.Name === name)?.Id);

function deposit(
  standIn: QuickBooksStandIn,
  txnDate = '2024-05-01',
  note = 'Stripe payout po_test',
): QboEntry {
  return {
    type: 'Deposit',
    body: {
      DepositToAccountRef: { value: accountId(standIn, 'Checking') },
      TxnDate: txnDate,
      PrivateNote: note,
      Line: [
        {
          Amount: 100.0,
          DetailType: 'DepositLineDetail',
          DepositLineDetail: { AccountRef: { value: accountId(standIn, 'Sales') } },
        },
        {
          Amount: -3.2,
          DetailType: 'DepositLineDetail',
          DepositLineDetail: { AccountRef: { value: accountId(standIn, 'Stripe Fees') } },
        },
      ],
    },
  };
}

describe('QuickBooksRealmClient: retries, limits and deadlines', () => {
  it('rides out a 429 storm (XML throttle bodies) with backoff', async () => {
    // Prepare
    const f = await connected(qbo);
    qbo.injectFault({ status: 429, path: '/query', count: 3 });

    // Act
    const walkIn = await f.forRealm(REALM).findCustomerByName('Walk-in');

    // Assess
    expect(walkIn?.displayName).toBe('Walk-in');
    expect(apiCalls(qbo).map((r) => r.status)).toEqual([429, 429, 429, 200]);
    expect(f.calls.forRealm(REALM)).toMatchObject({ requests: 4, retries: 3, throttled: 3 });

    // The counters start again from zero after a reset, and keep counting
    f.calls.reset();
    expect(f.calls.total()).toEqual({
      requests: 0,
      batchRequests: 0,
      batchItems: 0,
      units: 0,
      retries: 0,
      throttled: 0,
      tokenRefreshes: 0,
    });
    await f.forRealm(REALM).findCustomersByEmail(['jane@example.com', 'john.smith@example.com']);
    expect(f.calls.total()).toMatchObject({
      requests: 1,
      batchRequests: 1,
      batchItems: 2,
      units: 2,
      retries: 0,
    });
  });

  it('retries a 5xx, then succeeds', async () => {
    const f = await connected(qbo);
    qbo.injectFault({ status: 503, path: '/query', count: 1 });
    await expect(f.forRealm(REALM).findCustomerByName('Walk-in')).resolves.toBeDefined();
    expect(apiCalls(qbo).map((r) => r.status)).toEqual([503, 200]);
  });

  it('gives up with a TransientError (keeping the intuit_tid) when the failures outlast the attempts', async () => {
    const f = await connected(qbo);
    qbo.injectFault({ status: 500, path: '/query', count: FAST_RETRY.maxAttempts });
    const error = await f
      .forRealm(REALM)
      .findCustomerByName('Walk-in')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QboTransientError);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as QboTransientError).intuitTid).toMatch(/^1-/);
    expect(apiCalls(qbo)).toHaveLength(FAST_RETRY.maxAttempts);
  });

  it('does not retry a validation fault', async () => {
    const f = await connected(qbo);
    const bad = deposit(qbo);
    (bad.body.DepositToAccountRef as { value: string }).value = '999999';
    const error = await f
      .forRealm(REALM)
      .createEntry(bad, 'req-validation-1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QboValidationFault);
    expect((error as QboValidationFault).intuitTid).toMatch(/^1-/);
    expect(apiCalls(qbo)).toHaveLength(1);
  });

  it('times out slow requests and retries them', async () => {
    const f = new QuickBooksClientFactory({
      tokens: store,
      clientId: qbo.clientId,
      clientSecret: qbo.clientSecret,
      apiBase: qbo.url,
      tokenUrl: qbo.tokenUrl,
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
      timeoutMs: 100,
    });
    await seedTokens(store, qbo);
    await f.tokenManager.accessToken(REALM);
    qbo.setLatency(400);
    const error = await f
      .forRealm(REALM)
      .findCustomerByName('Walk-in')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QboTransientError);
    expect((error as Error).message).toMatch(/could not reach QuickBooks/);
    expect(f.calls.forRealm(REALM)).toMatchObject({ requests: 2, retries: 1 });
  });

  it('gives up before the deadline (a Lambda running out of time)', async () => {
    // Prepare
    await seedTokens(store, qbo);
    // The reserve is wide enough that a loaded machine (a 2-core CI box running other suites) stays inside it.
    const deadlineAt = Date.now() + 2000;
    const f = factory(qbo, { deadline: () => deadlineAt, deadlineReserveMs: 600 });
    await f.tokenManager.accessToken(REALM);
    qbo.setLatency(2500);

    // Act
    const started = Date.now();
    const error = await f
      .forRealm(REALM)
      .findCustomerByName('Walk-in')
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TransientError);
    expect(Date.now()).toBeLessThan(deadlineAt);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('keeps within the in-flight limit: QuickBooks never answers 429', async () => {
    // Prepare: a company allowing 2 requests in flight, and a client told the same
    const tight = await startQuickBooksStandIn({ limits: { maxInFlight: 2, perMinute: 1000 } });
    try {
      await seedTokens(store, tight);
      const f = factory(tight, { limits: { maxInFlight: 2, perMinute: 1000 } });
      await f.tokenManager.accessToken(REALM);
      tight.setLatency(30);

      // Act
      const results = await Promise.all(
        Array.from({ length: 12 }, () => f.forRealm(REALM).findCustomerByName('Walk-in')),
      );

      // Assess
      expect(results.every((c) => c?.displayName === 'Walk-in')).toBe(true);
      expect(apiCalls(tight).map((r) => r.status)).toEqual(Array(12).fill(200));
      expect(f.limiter(REALM).stats()).toMatchObject({ peakInFlight: 2, started: 12 });
    } finally {
      await tight.close();
    }
  });

  it('waits for the per-minute budget instead of failing, and stops waiting at the deadline', async () => {
    // Prepare: 20 units a minute on both sides
    const tight = await startQuickBooksStandIn({ limits: { maxInFlight: 10, perMinute: 20 } });
    try {
      await seedTokens(store, tight);
      const deadlineAt = Date.now() + 1500;
      const f = factory(tight, {
        limits: { perMinute: 20 },
        deadline: () => deadlineAt,
        deadlineReserveMs: 200,
      });
      await f.tokenManager.accessToken(REALM);
      const books = f.forRealm(REALM);

      // Act
      const results = await Promise.allSettled(
        Array.from({ length: 21 }, () => books.findCustomerByName('Walk-in')),
      );

      // Assess: 20 went through; the 21st waited for the window and gave up before the deadline; no 429
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected?.reason).toBeInstanceOf(TransientError);
      expect(apiCalls(tight).filter((r) => r.status === 429)).toHaveLength(0);
      expect(apiCalls(tight)).toHaveLength(20);
      expect(f.limiter(REALM).stats().peakUnitsInWindow).toBe(20);
    } finally {
      await tight.close();
    }
  });
});

describe('QuickBooksRealmClient: entries and chart', () => {
  it('posts an entry once even when the answer is lost and the request is retried (requestid)', async () => {
    // Prepare
    const f = await connected(qbo);
    const before = qbo.entities(REALM, 'Deposit').length;
    qbo.injectFault({ status: 502, path: '/deposit', count: 1, afterProcessing: true });

    // Act
    const posted = await f
      .forRealm(REALM)
      .createEntry(deposit(qbo, '2024-05-01', 'Stripe payout po_lost'), 'req-lost-answer-1');

    // Assess
    expect(posted.type).toBe('Deposit');
    expect(qbo.entities(REALM, 'Deposit')).toHaveLength(before + 1);
    const calls = apiCalls(qbo);
    expect(calls.map((r) => r.status)).toEqual([502, 200]);
    expect(calls.map((r) => r.requestId)).toEqual(['req-lost-answer-1', 'req-lost-answer-1']);
  });

  it('reads, deletes and then reports a deleted entry as gone', async () => {
    // Prepare
    const f = await connected(qbo);
    const books = f.forRealm(REALM);
    const posted = await books.createEntry(deposit(qbo), 'req-delete-1');

    // Act
    const read = await books.getEntry(posted);
    const deleted = await books.deleteEntry(posted, 'req-delete-1-del');
    const again = await books.deleteEntry(posted, 'req-delete-1-del2');

    // Assess
    expect(read).toMatchObject({ id: posted.id, syncToken: '0' });
    expect(read?.body.PrivateNote).toBe('Stripe payout po_test');
    expect(deleted).toBe('deleted');
    expect(again).toBe('gone');
    await expect(books.getEntry(posted)).resolves.toBeUndefined();
  });

  it('reports a delete refused in a closed period', async () => {
    const f = await connected(qbo);
    const books = f.forRealm(REALM);
    const posted = await books.createEntry(deposit(qbo, '2024-01-15'), 'req-closed-1');
    qbo.setCompany(REALM, { closedBefore: '2024-02-01' });
    try {
      await expect(books.deleteEntry(posted, 'req-closed-1-del')).resolves.toBe('refused');
      await expect(books.createEntry(deposit(qbo, '2024-01-20'), 'req-closed-2')).rejects.toMatchObject({
        code: '6210',
        hint: expect.stringMatching(/reopen the period or change the closing date/),
      });
    } finally {
      qbo.setCompany(REALM, { closedBefore: undefined });
    }
  });

  it('reads the chart (inactive accounts included) and company preferences, which the resolver accepts', async () => {
    // Act
    const f = await connected(qbo);
    const chart = await f.forRealm(REALM).getChart();

    // Assess
    expect(chart.company).toEqual({
      homeCurrency: 'USD',
      multicurrency: false,
      classTrackingPerTxnLine: true,
    });
    expect(chart.accounts.find((a) => a.name === 'Old Revenue')).toMatchObject({
      active: false,
      accountType: 'Income',
    });
    expect(chart.accounts.find((a) => a.name === 'Intro Offers')?.fullyQualifiedName).toBe(
      'Class Pack Revenue:Intro Offers',
    );
    expect(chart.accounts.find((a) => a.name === 'Undeposited Funds')?.accountSubType).toBe(
      'UndepositedFunds',
    );
    expect(chart.classes.find((c) => c.name === 'Downtown')?.fullyQualifiedName).toBe('Studio:Downtown');
    const tenant = TenantConfigSchema.parse({
      id: 'downtown-yoga',
      stripeAccount: 'platform',
      quickbooks: {
        realmId: REALM,
        depositAccount: 'Checking',
        processingFeesAccount: 'Stripe Fees',
        adjustmentsAccount: 'Stripe Adjustments',
      },
      revenue: [
        { category: 'Classes', account: 'Class Pack Revenue:Intro Offers', class: 'studio:downtown' },
      ],
    });
    const resolved = resolveTenantBooks(tenant, chart);
    expect(resolved.ok).toBe(true);
  });
});
