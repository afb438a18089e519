import Stripe from 'stripe';
import { BalanceTransactionSchema, PayoutSchema, StripeEventSchema } from '../../src/domain/stripe.js';
import {
  generateFailedPayout,
  generatePayout,
  makePayoutEvent,
  type StripeStandIn,
  signWebhook,
  startStripeStandIn,
} from '../../standins/stripe/index.js';

const KEY = 'sk_test_standin_suite';
const ACCT = 'acct_1StandInTestA';
const OTHER = 'acct_1StandInTestB';

interface ListBody {
  object: string;
  data: Array<Record<string, unknown> & { id: string; created: number }>;
  has_more: boolean;
  url: string;
}
interface ErrorBody {
  error: { type: string; code?: string; message: string; param?: string };
}

let stripe: StripeStandIn;

async function get(
  path: string,
  opts: { account?: string; key?: string | null } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  if (opts.key !== null) headers.Authorization = `Bearer ${opts.key ?? KEY}`;
  if (opts.account) headers['Stripe-Account'] = opts.account;
  const res = await fetch(`${stripe.url}${path}`, { headers });
  return { status: res.status, body: await res.json() };
}

const list = (body: unknown) => body as ListBody;
const err = (body: unknown) => (body as ErrorBody).error;

// Platform: a 250-transaction automatic payout (with refunds and disputes) and a manual payout.
const big = generatePayout({ seed: 11, transactions: 250, mix: { refunds: 0.08, disputes: 0.02 } });
const manual = generatePayout({ seed: 12, transactions: 5 });
manual.payout.automatic = false;
manual.payout.id = 'po_1ManualPayout';
// Connected account A: one payout; B: nothing.
const connected = generatePayout({ seed: 13, transactions: 12, account: ACCT });

beforeAll(async () => {
  stripe = await startStripeStandIn({ secretKey: KEY });
  stripe.addPayout({ payout: big.payout, transactions: big.transactions });
  stripe.addPayout({ payout: manual.payout, transactions: manual.transactions });
  stripe.addPayout({ account: ACCT, ...connected });
});

afterAll(async () => {
  await stripe.close();
});

beforeEach(() => {
  stripe.clearRequests();
});

describe('authentication', () => {
  it('answers 401 in Stripe error shape without an Authorization header', async () => {
    // Act
    const res = await get(`/v1/payouts/${big.payout.id}`, { key: null });

    // Assess
    expect(res.status).toBe(401);
    expect(err(res.body).type).toBe('invalid_request_error');
    expect(err(res.body).message).toMatch(/did not provide an API key/);
  });

  it('answers 401 for a wrong key, without echoing it whole', async () => {
    const res = await get(`/v1/payouts/${big.payout.id}`, { key: 'sk_test_wrong_key_123456' });

    expect(res.status).toBe(401);
    expect(err(res.body).code).toBe('api_key_invalid');
    expect(err(res.body).message).not.toContain('sk_test_wrong_key_123456');
  });

  it('uses sk_test_local by default', async () => {
    const other = await startStripeStandIn();
    try {
      expect(other.secretKey).toBe('sk_test_local');
      const res = await fetch(`${other.url}/v1/payouts`, {
        headers: { Authorization: 'Bearer sk_test_local' },
      });
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('GET /v1/payouts/:id', () => {
  it('returns the payout with balance_transaction as an id', async () => {
    const res = await get(`/v1/payouts/${big.payout.id}`);

    expect(res.status).toBe(200);
    const payout = PayoutSchema.parse(res.body);
    expect(payout).toMatchObject({
      id: big.payout.id,
      amount: big.payout.amount,
      automatic: true,
      status: 'paid',
    });
    expect(typeof payout.balance_transaction).toBe('string');
    expect(res.body).toHaveProperty('reconciliation_status', 'completed');
  });

  it('answers 404 resource_missing for an unknown payout', async () => {
    const res = await get('/v1/payouts/po_doesnotexist');

    expect(res.status).toBe(404);
    expect(err(res.body)).toMatchObject({
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'id',
    });
    expect(err(res.body).message).toBe("No such payout: 'po_doesnotexist'");
  });

  it('expands balance_transaction when asked', async () => {
    const res = await get(`/v1/payouts/${big.payout.id}?expand[]=balance_transaction`);

    expect(res.status).toBe(200);
    expect(res.body).toHaveProperty('balance_transaction.type', 'payout');
  });
});

describe('GET /v1/balance_transactions?payout=', () => {
  const base = `/v1/balance_transactions?payout=${big.payout.id}`;

  it('pages 250 transactions newest first with limit 100 and starting_after', async () => {
    // Act
    const pages: ListBody[] = [];
    let cursor: string | undefined;
    do {
      const res = await get(`${base}&limit=100${cursor ? `&starting_after=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = list(res.body);
      pages.push(page);
      cursor = page.has_more ? page.data[page.data.length - 1]?.id : undefined;
    } while (cursor);

    // Assess
    expect(pages.map((p) => p.data.length)).toEqual([100, 100, 50]);
    expect(pages.map((p) => p.has_more)).toEqual([true, true, false]);
    expect(pages[0]).toMatchObject({ object: 'list', url: '/v1/balance_transactions' });
    const all = pages.flatMap((p) => p.data);
    expect(new Set(all.map((t) => t.id)).size).toBe(250);
    expect(new Set(all.map((t) => t.id))).toEqual(new Set(big.transactions.map((t) => t.id)));
    for (let i = 1; i < all.length; i++) {
      expect(all[i - 1]?.created).toBeGreaterThanOrEqual(all[i]?.created ?? 0);
    }
  });

  it('defaults to 10 a page', async () => {
    const res = await get(base);

    expect(list(res.body).data).toHaveLength(10);
    expect(list(res.body).has_more).toBe(true);
  });

  it('pages backwards with ending_before', async () => {
    const first = list((await get(`${base}&limit=20`)).body);
    const tenth = first.data[10]?.id;

    const res = await get(`${base}&limit=5&ending_before=${tenth}`);

    expect(list(res.body).data.map((t) => t.id)).toEqual(first.data.slice(5, 10).map((t) => t.id));
    expect(list(res.body).has_more).toBe(true);
  });

  it('returns sources as ids unless expanded', async () => {
    const res = await get(`${base}&limit=100`);

    const sources = list(res.body).data.map((t) => t.source);
    expect(sources.every((s) => typeof s === 'string')).toBe(true);
  });

  it('expands data.source but leaves a refund’s charge as an id', async () => {
    const res = await get(`${base}&limit=100&expand[0]=data.source`);

    const data = list(res.body).data.map((t) => BalanceTransactionSchema.parse(t));
    const charge = data.find((t) => t.type === 'charge');
    const refund = data.find((t) => t.type === 'refund');
    expect(charge?.source).toHaveProperty('object', 'charge');
    expect(charge?.source).toHaveProperty('metadata.revenue_category');
    expect(refund?.source).toHaveProperty('object', 'refund');
    expect(typeof (refund?.source as { charge: unknown } | undefined)?.charge).toBe('string');
  });

  it('expands data.source.charge for refunds and disputes (brackets encoded or not)', async () => {
    const pages = [
      await get(`${base}&limit=100&expand[]=data.source&expand[]=data.source.charge`),
      await get(`${base}&limit=100&expand%5B0%5D=data.source.charge`),
    ];

    for (const res of pages) {
      expect(res.status).toBe(200);
      const data = list(res.body).data.map((t) => BalanceTransactionSchema.parse(t));
      const reversals = data.filter(
        (t) => t.type === 'refund' || (t.type === 'adjustment' && t.reporting_category === 'dispute'),
      );
      expect(reversals.length).toBeGreaterThan(0);
      for (const t of reversals) {
        expect(t.source).toHaveProperty('charge.object', 'charge');
        expect(t.source).toHaveProperty('charge.metadata.member_email');
      }
    }
  });

  it('refuses an expansion it does not know', async () => {
    const res = await get(`${base}&expand[]=data.customer`);

    expect(res.status).toBe(400);
    expect(err(res.body)).toMatchObject({ type: 'invalid_request_error', param: 'expand' });
  });

  it.each([
    ['101', /less than or equal to 100/],
    ['0', /greater than or equal to 1/],
    ['ten', /Invalid integer/],
  ])('refuses limit=%s with 400', async (limit, message) => {
    const res = await get(`${base}&limit=${limit}`);

    expect(res.status).toBe(400);
    expect(err(res.body)).toMatchObject({ type: 'invalid_request_error', param: 'limit' });
    expect(err(res.body).message).toMatch(message);
  });

  it('accepts limit=100', async () => {
    const res = await get(`${base}&limit=100`);

    expect(res.status).toBe(200);
  });

  it('refuses an unknown starting_after (an expired cursor) with 400', async () => {
    const res = await get(`${base}&starting_after=txn_gone`);

    expect(res.status).toBe(400);
    expect(err(res.body)).toMatchObject({
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'starting_after',
    });
  });

  it('refuses a cursor of another payout', async () => {
    const res = await get(`${base}&starting_after=${manual.transactions[1]?.id}`);

    expect(res.status).toBe(400);
  });

  it('refuses to filter by a manual payout, like Stripe', async () => {
    const res = await get(`/v1/balance_transactions?payout=${manual.payout.id}`);

    expect(res.status).toBe(400);
    expect(err(res.body)).toMatchObject({ type: 'invalid_request_error', param: 'payout' });
    expect(err(res.body).message).toMatch(/automatic/);
    // The payout itself is still readable.
    expect((await get(`/v1/payouts/${manual.payout.id}`)).status).toBe(200);
  });

  it('refuses an unknown payout with resource_missing', async () => {
    const res = await get('/v1/balance_transactions?payout=po_unknown');

    expect(res.status).toBe(400);
    expect(err(res.body)).toMatchObject({ code: 'resource_missing', param: 'payout' });
  });

  it('refuses unknown parameters', async () => {
    const res = await get(`${base}&foo=bar`);

    expect(res.status).toBe(400);
    expect(err(res.body)).toMatchObject({ code: 'parameter_unknown', param: 'foo' });
  });

  it('filters by type', async () => {
    const res = await get(`${base}&type=refund&limit=100`);

    const data = list(res.body).data;
    expect(data.length).toBe(big.transactions.filter((t) => t.type === 'refund').length);
    expect(data.every((t) => t.type === 'refund')).toBe(true);
  });
});

describe('Stripe-Account', () => {
  it('serves a connected account’s payout only with its header', async () => {
    const id = connected.payout.id;

    const asPlatform = await get(`/v1/payouts/${id}`);
    const asOther = await get(`/v1/payouts/${id}`, { account: OTHER });
    const asOwner = await get(`/v1/payouts/${id}`, { account: ACCT });

    expect(asPlatform.status).toBe(404);
    expect(err(asPlatform.body).code).toBe('resource_missing');
    expect(asOther.status).toBe(404);
    expect(asOwner.status).toBe(200);
  });

  it('isolates balance transactions and payout lists', async () => {
    const id = connected.payout.id;

    const txns = await get(`/v1/balance_transactions?payout=${id}&limit=100`, { account: ACCT });
    const txnsOther = await get(`/v1/balance_transactions?payout=${id}`, { account: OTHER });
    const platformList = list((await get('/v1/payouts?limit=100')).body);
    const otherList = list((await get('/v1/payouts', { account: OTHER })).body);

    expect(list(txns.body).data).toHaveLength(12);
    expect(txnsOther.status).toBe(400);
    expect(platformList.data.map((p) => p.id)).not.toContain(id);
    expect(otherList.data).toEqual([]);
  });

  it('answers 403 for a Stripe-Account that is not an acct_ id', async () => {
    const res = await get(`/v1/payouts/${big.payout.id}`, { account: 'platform' });

    expect(res.status).toBe(403);
    expect(err(res.body).code).toBe('account_invalid');
  });

  it('records the header with each request', async () => {
    await get(`/v1/payouts/${connected.payout.id}`, { account: ACCT });
    await get(`/v1/payouts/${big.payout.id}`);

    expect(stripe.requests.map((r) => [r.path, r.account, r.status])).toEqual([
      [`/v1/payouts/${connected.payout.id}`, ACCT, 200],
      [`/v1/payouts/${big.payout.id}`, undefined, 200],
    ]);
  });
});

describe('GET /v1/payouts', () => {
  let s: StripeStandIn;
  const day = 86_400;
  const t0 = Date.UTC(2026, 2, 1) / 1000;

  beforeAll(async () => {
    s = await startStripeStandIn({ secretKey: KEY });
    for (let i = 0; i < 15; i++) {
      const g = generatePayout({ seed: 100 + i, transactions: 2, arrivalDate: t0 + i * day });
      if (i % 5 === 4) g.payout.status = 'failed';
      s.addPayout(g);
    }
  });

  afterAll(async () => {
    await s.close();
  });

  const getS = async (path: string) => {
    const res = await fetch(`${s.url}${path}`, { headers: { Authorization: `Bearer ${KEY}` } });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  it('filters by status and arrival_date, newest first, and pages', async () => {
    // Act
    const first = list(
      (await getS(`/v1/payouts?status=paid&arrival_date[gte]=${t0 + 3 * day}&limit=5`)).body,
    );
    const last = first.data[first.data.length - 1]?.id;
    const second = list(
      (await getS(`/v1/payouts?status=paid&arrival_date[gte]=${t0 + 3 * day}&limit=5&starting_after=${last}`))
        .body,
    );

    // Assess: days 3..14 minus the failed 4, 9, 14 → 9 payouts.
    const arrivals = [...first.data, ...second.data].map((p) => ((p.arrival_date as number) - t0) / day);
    expect(arrivals).toEqual([13, 12, 11, 10, 8, 7, 6, 5, 3]);
    expect(first.has_more).toBe(true);
    expect(second.has_more).toBe(false);
    expect(first.url).toBe('/v1/payouts');
  });

  it('supports arrival_date[lte] and an exact arrival_date', async () => {
    const upTo = list((await getS(`/v1/payouts?arrival_date[lte]=${t0 + day}`)).body);
    const exact = list((await getS(`/v1/payouts?arrival_date=${t0 + 2 * day}`)).body);

    expect(upTo.data).toHaveLength(2);
    expect(exact.data).toHaveLength(1);
  });

  it('refuses an unknown status and a bad range operator', async () => {
    const status = await getS('/v1/payouts?status=done');
    const range = await getS('/v1/payouts?arrival_date[after]=1');

    expect(status.status).toBe(400);
    expect(err(status.body).param).toBe('status');
    expect(range.status).toBe(400);
    expect(err(range.body).param).toBe('arrival_date[after]');
  });
});

describe('routes', () => {
  it('answers 404 for an unknown resource and for methods it does not serve', async () => {
    const unknown = await get('/v1/charges');
    const post = await fetch(`${stripe.url}/v1/payouts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}` },
    });

    expect(unknown.status).toBe(404);
    expect(err(unknown.body).message).toMatch(/Unrecognized request URL \(GET: \/v1\/charges\)/);
    expect(post.status).toBe(404);
  });

  it('refuses a malformed Stripe-Version header', async () => {
    const res = await fetch(`${stripe.url}/v1/payouts`, {
      headers: { Authorization: `Bearer ${KEY}`, 'Stripe-Version': 'latest' },
    });

    expect(res.status).toBe(400);
  });
});

describe('faults and latency', () => {
  it('injects a counted fault on matching paths only, in Stripe error shape', async () => {
    // Prepare
    stripe.injectFault({ status: 500, count: 2, path: '/v1/balance_transactions' });
    const path = `/v1/balance_transactions?payout=${big.payout.id}`;

    // Act
    const other = await get(`/v1/payouts/${big.payout.id}`);
    const statuses = [(await get(path)).status, (await get(path)).status, (await get(path)).status];

    // Assess
    expect(other.status).toBe(200);
    expect(statuses).toEqual([500, 500, 200]);
    expect(stripe.requests.map((r) => r.status)).toEqual([200, 500, 500, 200]);
  });

  it('gives 429 rate_limit and custom type/code, matching a RegExp path', async () => {
    stripe.injectFault({ status: 429, path: /^\/v1\/payouts\// });
    stripe.injectFault({ status: 402, type: 'card_error', code: 'card_declined' });

    const limited = await get(`/v1/payouts/${big.payout.id}`);
    const custom = await get('/v1/payouts');

    expect(limited.status).toBe(429);
    expect(err(limited.body)).toMatchObject({ type: 'invalid_request_error', code: 'rate_limit' });
    expect(custom.status).toBe(402);
    expect(err(custom.body)).toMatchObject({ type: 'card_error', code: 'card_declined' });
  });

  it('drops the connection for status 0', async () => {
    stripe.injectFault({ status: 0 });

    await expect(get('/v1/payouts')).rejects.toThrow();
    expect((await get('/v1/payouts')).status).toBe(200);
  });

  it('delays answers by the latency set', async () => {
    stripe.setLatency(60);
    try {
      const started = Date.now();
      await get('/v1/payouts');
      expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    } finally {
      stripe.setLatency(0);
    }
  });
});

describe('addPayout / updatePayout', () => {
  it('updates a payout in place and refuses an unknown one', async () => {
    const g = generatePayout({ seed: 21, transactions: 3 });
    stripe.addPayout(g);

    stripe.updatePayout('platform', g.payout.id, { status: 'failed', failure_code: 'account_closed' });

    const res = await get(`/v1/payouts/${g.payout.id}`);
    expect(res.body).toMatchObject({ status: 'failed', failure_code: 'account_closed' });
    expect(() => stripe.updatePayout(ACCT, g.payout.id, { status: 'paid' })).toThrow(/no payout/);
  });

  it('replaces a payout and its transactions when added again', async () => {
    const g = generatePayout({ seed: 22, transactions: 6 });
    stripe.addPayout(g);

    stripe.addPayout({ payout: g.payout, transactions: g.transactions.slice(0, 2) });

    const res = await get(`/v1/balance_transactions?payout=${g.payout.id}`);
    expect(list(res.body).data).toHaveLength(2);
  });

  it('keeps its own copy of what it was given', async () => {
    const g = generatePayout({ seed: 23, transactions: 3 });
    stripe.addPayout(g);

    g.payout.amount = 1;

    const res = await get(`/v1/payouts/${g.payout.id}`);
    expect(res.body).not.toHaveProperty('amount', 1);
  });

  it('refuses an account that is neither platform nor acct_', () => {
    const g = generatePayout({ seed: 24, transactions: 3 });

    expect(() => stripe.addPayout({ account: 'downtown', ...g })).toThrow(/platform/);
  });
});

describe('webhook helpers', () => {
  it('signs a payload the stripe package verifies', () => {
    const event = makePayoutEvent('payout.paid', big.payout, { account: ACCT, created: 1_700_000_000 });
    const payload = JSON.stringify(event);

    const header = signWebhook(payload, 'whsec_test');

    const verified = Stripe.webhooks.constructEvent(payload, header, 'whsec_test');
    expect(verified).toEqual(event);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it('signs with a given timestamp', () => {
    const header = signWebhook('{}', 'whsec_test', 1_700_000_000);

    expect(header.startsWith('t=1700000000,')).toBe(true);
  });

  it('makes events the domain schema accepts, with account only for connected accounts', () => {
    const connectedEvent = makePayoutEvent('payout.reconciliation_completed', big.payout, {
      account: ACCT,
      id: 'evt_1',
    });
    const platformEvent = makePayoutEvent('payout.paid', big.payout, { account: 'platform', livemode: true });

    expect(StripeEventSchema.parse(connectedEvent)).toMatchObject({
      id: 'evt_1',
      type: 'payout.reconciliation_completed',
      account: ACCT,
      livemode: false,
      data: { object: { id: big.payout.id } },
    });
    expect(platformEvent).not.toHaveProperty('account');
    expect(platformEvent.livemode).toBe(true);
    expect(platformEvent.id).toMatch(/^evt_/);
    expect(platformEvent.id).not.toBe(makePayoutEvent('payout.paid', big.payout).id);
  });
});

describe('a failed payout, and its funds in a later payout', () => {
  it('lists it by status failed and its own transactions by payout; the payout_failure names it, expanded or not', async () => {
    // Prepare
    const { failed, returning } = generateFailedPayout({ seed: 14, transactions: 6, account: OTHER });
    stripe.addPayout({ account: OTHER, ...failed });
    stripe.addPayout({ account: OTHER, ...returning });

    // Act
    const failedList = await get('/v1/payouts?status=failed', { account: OTHER });
    const own = await get(`/v1/balance_transactions?payout=${failed.payout.id}&limit=100`, {
      account: OTHER,
    });
    const later = `/v1/balance_transactions?payout=${returning.payout.id}&limit=100`;
    const ids = await get(later, { account: OTHER });
    const expanded = await get(`${later}&expand[]=data.source`, { account: OTHER });

    // Assess
    expect(list(failedList.body).data.map((p) => [p.id, p.status])).toEqual([[failed.payout.id, 'failed']]);
    expect(list(own.body).data).toHaveLength(6);
    const back = (body: unknown) => list(body).data.find((t) => t.type === 'payout_failure');
    expect(back(ids.body)).toMatchObject({ reporting_category: 'payout_reversal', source: failed.payout.id });
    expect(back(expanded.body)?.source).toMatchObject({
      id: failed.payout.id,
      object: 'payout',
      status: 'failed',
    });
  });
});
