import {
  parseStripeApiBase,
  STRIPE_API_VERSION,
  StripePayoutSource,
  stripeClient,
} from '../../src/adapters/stripe/index.js';
import { PermanentError, TransientError } from '../../src/app/errors.js';
import { type Charge, isCharge, isDispute, isRefund } from '../../src/domain/stripe.js';
import { generatePayout, type StripeStandIn, startStripeStandIn } from '../../standins/stripe/index.js';

const KEY = 'sk_test_adapter_suite';
const ACCT = 'acct_1AdapterTest';

let stripe: StripeStandIn;
let source: StripePayoutSource;

const big = generatePayout({
  seed: 31,
  transactions: 250,
  mix: { refunds: 0.06, disputes: 0.02, adjustments: 0.02 },
});
const connected = generatePayout({ seed: 32, transactions: 7, account: ACCT });

beforeAll(async () => {
  stripe = await startStripeStandIn({ secretKey: KEY });
  stripe.addPayout(big);
  stripe.addPayout({ account: ACCT, ...connected });
  source = new StripePayoutSource({ secretKey: KEY, apiBase: stripe.url, maxNetworkRetries: 0 });
});

afterAll(async () => {
  await stripe.close();
});

beforeEach(() => {
  stripe.clearRequests();
});

/** The rejection of `promise`, asserted to be an instance of `type`. */
async function rejection<T extends Error>(
  promise: Promise<unknown>,
  type: new (...a: never[]) => T,
): Promise<T> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as T;
  }
  throw new Error('expected a rejection');
}

describe('StripePayoutSource.listPayoutTransactions', () => {
  it('reads 250 transactions over 3 pages of 100, sources and reversed charges expanded', async () => {
    // Act
    const txns = await source.listPayoutTransactions('platform', big.payout.id);

    // Assess
    expect(txns).toHaveLength(250);
    expect(txns.map((t) => t.id)).toEqual(big.transactions.map((t) => t.id));
    const calls = stripe.requests.filter((r) => r.path === '/v1/balance_transactions');
    expect(calls).toHaveLength(3);
    expect(calls[0]?.query).toEqual({
      payout: big.payout.id,
      limit: '100',
      expand: ['data.source', 'data.source.charge'],
    });
    expect(calls[2]?.query.starting_after).toBe(txns[199]?.id);
    expect(calls.every((r) => r.account === undefined)).toBe(true);

    const charges = txns.filter((t) => t.type === 'charge');
    expect(charges.every((t) => isCharge(t.source))).toBe(true);
    const reversals = txns.filter((t) => isRefund(t.source) || isDispute(t.source));
    expect(reversals.length).toBeGreaterThan(0);
    for (const t of reversals) {
      const charge = (t.source as { charge: unknown }).charge;
      expect(isCharge(charge as Charge)).toBe(true);
    }
  });

  it('sends Stripe-Account for a connected account', async () => {
    const txns = await source.listPayoutTransactions(ACCT, connected.payout.id);

    expect(txns).toHaveLength(7);
    expect(stripe.requests.map((r) => r.account)).toEqual([ACCT]);
  });

  it('sends the pinned API version', async () => {
    const client = stripeClient({ secretKey: KEY, apiBase: stripe.url });

    expect(client.getApiField('version')).toBe(STRIPE_API_VERSION);
  });

  it('refuses a manual payout with a hint, as Stripe cannot itemise it', async () => {
    const manual = generatePayout({ seed: 33, id: 'po_1ManualAdapter', transactions: 3 });
    manual.payout.automatic = false;
    stripe.addPayout(manual);

    const error = await rejection(
      source.listPayoutTransactions('platform', manual.payout.id),
      PermanentError,
    );

    expect(error.message).toMatch(/manual payout/);
    expect(error.hint).toMatch(/automatic payouts/);
  });

  it('rejects a malformed balance transaction naming the object and the field', async () => {
    // Prepare: one charge whose expanded source has its amount as a decimal string.
    const g = generatePayout({ seed: 34, transactions: 4 });
    const bad = g.transactions.find((t) => t.type === 'charge');
    if (!bad || !isCharge(bad.source)) throw new Error('fixture: no charge');
    (bad.source as Record<string, unknown>).amount = '12.50';
    stripe.addPayout(g);

    // Act
    const error = await rejection(source.listPayoutTransactions('platform', g.payout.id), PermanentError);

    // Assess
    expect(error.message).toContain(`balance transaction ${bad.id} (payout ${g.payout.id})`);
    expect(error.message).toMatch(/source\.amount: .*charge amount must be a number of minor units/);
    expect(error.hint).toContain(STRIPE_API_VERSION);
  });
});

describe('StripePayoutSource.getPayout', () => {
  it('returns the validated payout', async () => {
    const payout = await source.getPayout('platform', big.payout.id);

    expect(payout).toMatchObject({ id: big.payout.id, amount: big.payout.amount, automatic: true });
    expect(stripe.requests).toHaveLength(1);
  });

  it('reads a connected account’s payout only as that account', async () => {
    const payout = await source.getPayout(ACCT, connected.payout.id);
    const error = await rejection(source.getPayout('platform', connected.payout.id), PermanentError);

    expect(payout.id).toBe(connected.payout.id);
    expect(error.message).toMatch(/No such payout/);
    expect(error.hint).toMatch(/stripeAccount \(platform\)/);
  });

  it('rejects a malformed payout naming the field', async () => {
    const g = generatePayout({ seed: 35, transactions: 2 });
    const broken = { ...g.payout } as Record<string, unknown>;
    delete broken.automatic;
    stripe.addPayout({ payout: broken as typeof g.payout, transactions: g.transactions });

    const error = await rejection(source.getPayout('platform', g.payout.id), PermanentError);

    expect(error.message).toContain(
      `payout ${g.payout.id} cannot be read: automatic: automatic must be true or false`,
    );
  });

  it('turns a 404 into a PermanentError with a hint', async () => {
    const error = await rejection(source.getPayout(ACCT, 'po_1Missing'), PermanentError);

    expect(error.message).toMatch(/No such payout: 'po_1Missing'/);
    expect(error.hint).toMatch(/payout id/);
  });

  it('refuses a bad account or payout id before calling Stripe', async () => {
    await rejection(source.getPayout('downtown-yoga', big.payout.id), PermanentError);
    await rejection(source.getPayout('platform', 'txn_123'), PermanentError);

    expect(stripe.requests).toHaveLength(0);
  });
});

describe('errors', () => {
  it.each([500, 502, 503])('turns HTTP %i into a TransientError', async (status) => {
    stripe.injectFault({ status, path: '/v1/payouts/' });

    const error = await rejection(source.getPayout('platform', big.payout.id), TransientError);

    expect(error.message).toContain(`HTTP ${status}`);
  });

  it('turns 429 into a TransientError', async () => {
    stripe.injectFault({ status: 429, path: '/v1/balance_transactions' });

    const error = await rejection(source.listPayoutTransactions('platform', big.payout.id), TransientError);

    expect(error.message).toMatch(/rate-limited/);
  });

  it('turns a dropped connection into a TransientError', async () => {
    // stripe-node retries a closed connection once even with retries off: drop both attempts.
    stripe.injectFault({ status: 0, count: 2, path: '/v1/payouts/' });

    const error = await rejection(source.getPayout('platform', big.payout.id), TransientError);

    expect(error.message).toMatch(/could not be reached/);
    expect(stripe.requests.map((r) => r.status)).toEqual([0, 0]);
  });

  it('turns a timeout into a TransientError', async () => {
    const slow = new StripePayoutSource({
      secretKey: KEY,
      apiBase: stripe.url,
      maxNetworkRetries: 0,
      timeoutMs: 50,
    });
    stripe.setLatency(300);
    try {
      await rejection(slow.getPayout('platform', big.payout.id), TransientError);
    } finally {
      stripe.setLatency(0);
    }
  });

  it('recovers from one 500 when stripe-node may retry', async () => {
    const retrying = new StripePayoutSource({ secretKey: KEY, apiBase: stripe.url, maxNetworkRetries: 1 });
    stripe.injectFault({ status: 500, path: '/v1/payouts/' });

    const payout = await retrying.getPayout('platform', big.payout.id);

    expect(payout.id).toBe(big.payout.id);
    expect(stripe.requests.map((r) => r.status)).toEqual([500, 200]);
  });

  it('turns a wrong key into a PermanentError telling to check the key', async () => {
    const wrong = new StripePayoutSource({
      secretKey: 'sk_test_wrong',
      apiBase: stripe.url,
      maxNetworkRetries: 0,
    });

    const error = await rejection(wrong.getPayout('platform', big.payout.id), PermanentError);

    expect(error.message).toMatch(/rejected the secret key/);
    expect(error.hint).toMatch(/check the Stripe secret key/);
  });

  it('turns a 403 for a connected account into a PermanentError naming the account', async () => {
    stripe.injectFault({ status: 403, type: 'invalid_request_error', code: 'account_invalid' });

    const error = await rejection(source.getPayout(ACCT, connected.payout.id), PermanentError);

    expect(error.hint).toContain(ACCT);
  });
});

describe('StripePayoutSource.listPayouts', () => {
  it('yields paid payouts arriving since a date, newest first, across pages', async () => {
    // Prepare: 130 payouts on a fresh account, one a day; every 10th failed.
    const acct = 'acct_1ManyPayouts';
    const t0 = Date.UTC(2026, 0, 1) / 1000;
    for (let i = 0; i < 130; i++) {
      const g = generatePayout({
        seed: 1000 + i,
        transactions: 2,
        arrivalDate: t0 + i * 86_400,
        account: acct,
      });
      if (i % 10 === 9) g.payout.status = 'failed';
      stripe.addPayout({ account: acct, ...g });
    }
    const since = t0 + 5 * 86_400;

    // Act
    const days: number[] = [];
    for await (const p of source.listPayouts(acct, { status: 'paid', arrivalSince: since })) {
      if ('payout' in p) days.push((p.payout.arrival_date - t0) / 86_400);
    }

    // Assess: days 5..129 without 9, 19, …, 129 → 125 − 13 = 112.
    expect(days).toHaveLength(112);
    expect(days[0]).toBe(128);
    expect(days[days.length - 1]).toBe(5);
    expect(days.includes(9)).toBe(false);
    const calls = stripe.requests.filter((r) => r.path === '/v1/payouts');
    expect(calls).toHaveLength(2);
    expect(calls[0]?.query).toEqual({ status: 'paid', arrival_date: { gte: String(since) }, limit: '100' });
    expect(calls.every((r) => r.account === acct)).toBe(true);
  });

  it('yields a payout it cannot read as { id, problem } and goes on; lists failed ones with metadata null', async () => {
    // Prepare: three payouts; the second has a currency Stripe never sends, the third failed with metadata null
    const acct = 'acct_1UnreadableListing';
    const t0 = Date.UTC(2026, 3, 1) / 1000;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const g = generatePayout({
        seed: 2000 + i,
        transactions: 2,
        arrivalDate: t0 + i * 86_400,
        account: acct,
      });
      const raw = g.payout as unknown as Record<string, unknown>;
      if (i === 1) raw.currency = 'dollars';
      if (i === 2) {
        raw.status = 'failed';
        raw.metadata = null;
      }
      stripe.addPayout({ account: acct, ...g });
      ids.push(g.payout.id);
    }

    // Act
    const paid = [];
    for await (const p of source.listPayouts(acct, { status: 'paid', arrivalSince: t0 })) paid.push(p);
    const failed = [];
    for await (const p of source.listPayouts(acct, { status: 'failed', arrivalSince: t0 })) failed.push(p);

    // Assess: newest first; the unreadable one named with its field, the one after it still read
    expect(paid.map((p) => p.id)).toEqual([ids[1], ids[0]]);
    expect(paid[0]).toEqual({
      id: ids[1],
      problem: expect.stringMatching(/payout .* cannot be read: currency: /),
    });
    expect(paid[1]).toMatchObject({ id: ids[0], payout: { id: ids[0] } });
    expect(failed).toMatchObject([{ id: ids[2], payout: { status: 'failed', metadata: {} } }]);
  });

  it('turns a failure into the application’s error', async () => {
    stripe.injectFault({ status: 503, path: '/v1/payouts' });

    const iterate = async () => {
      for await (const _ of source.listPayouts('platform', { status: 'paid', arrivalSince: 0 })) {
        // drain
      }
    };

    await rejection(iterate(), TransientError);
  });
});

describe('configuration', () => {
  it('parses STRIPE_API_BASE origins', () => {
    expect(parseStripeApiBase('http://127.0.0.1:12111')).toEqual({
      host: '127.0.0.1',
      port: 12111,
      protocol: 'http',
    });
    expect(parseStripeApiBase('https://api.stripe.com')).toEqual({
      host: 'api.stripe.com',
      port: 443,
      protocol: 'https',
    });
  });

  it.each(['127.0.0.1:12111', 'ftp://x', 'http://127.0.0.1:12111/v1'])(
    'refuses STRIPE_API_BASE %s',
    (base) => {
      expect(() => parseStripeApiBase(base)).toThrow(PermanentError);
    },
  );

  it('refuses an empty secret key', () => {
    expect(() => new StripePayoutSource({ secretKey: ' ' })).toThrow(/secret key is empty/);
  });
});
