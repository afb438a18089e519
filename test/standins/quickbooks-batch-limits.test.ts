import { type Connected, idOf, startConnected } from './quickbooks-helpers.js';

const THROTTLE_XML =
  /^<\?xml version="1\.0" encoding="UTF-8" standalone="yes"\?><IntuitResponse xmlns="http:\/\/schema\.intuit\.com\/finance\/v3" time="[^"]+"><Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429<\/Message><Detail>The request limit was reached\. {2}Try again later<\/Detail><\/Error><\/Fault><\/IntuitResponse>$/;

describe('QuickBooks stand-in: batch', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await startConnected();
  });
  afterAll(() => c.qbo.close());

  it('answers 200 with one response per bId, faults per item, queries blind to the same batch', async () => {
    // Prepare
    const checking = idOf(c.qbo, c.realmId, 'Account', 'Checking');
    const sales = idOf(c.qbo, c.realmId, 'Account', 'Sales');
    c.qbo.clearRequests();

    // Act
    const res = await c.api.post('/batch', {
      BatchItemRequest: [
        {
          bId: 'c1',
          operation: 'create',
          Customer: { DisplayName: 'Batch One', PrimaryEmailAddr: { Address: 'b1@example.com' } },
        },
        { bId: 'c2', operation: 'create', Customer: { DisplayName: 'Jane Doe' } },
        { bId: 'q1', Query: "SELECT * FROM Customer WHERE PrimaryEmailAddr = 'b1@example.com'" },
        { bId: 'q2', Query: 'SELECT * FROM Customer MAXRESULTS 5000' },
        {
          bId: 'd1',
          operation: 'create',
          Deposit: {
            DepositToAccountRef: { value: checking },
            TxnDate: '2025-02-03',
            Line: [
              {
                Amount: 10,
                DetailType: 'DepositLineDetail',
                DepositLineDetail: { AccountRef: { value: sales } },
              },
            ],
          },
        },
        { bId: 'v1', operation: 'create', Vendor: { DisplayName: 'Not modelled' } },
      ],
    });

    // Assess
    expect(res.status).toBe(200);
    const items: Array<Record<string, { Error: Array<{ code: string }> } & Record<string, unknown>>> =
      res.json.BatchItemResponse;
    expect(items.map((i) => i.bId)).toEqual(['c1', 'c2', 'q1', 'q2', 'd1', 'v1']);
    expect(items[0]?.Customer).toEqual(
      expect.objectContaining({ DisplayName: 'Batch One', Id: expect.any(String) }),
    );
    expect(items[1]?.Fault?.Error[0]?.code).toBe('6240');
    expect(items[2]?.QueryResponse).toEqual({});
    expect(items[3]?.Fault?.Error[0]?.code).toBe('4001');
    expect(items[4]?.Deposit).toEqual(expect.objectContaining({ TotalAmt: 10 }));
    expect(items[5]?.Fault?.Error[0]?.code).toBe('2010');
    expect(c.qbo.requests.at(-1)).toEqual(
      expect.objectContaining({
        method: 'POST',
        path: `/v3/company/${c.realmId}/batch`,
        batchItems: 6,
        status: 200,
      }),
    );
  });

  it('refuses more than 30 items with fault 1040', async () => {
    const items = Array.from({ length: 31 }, (_, i) => ({
      bId: `q${i}`,
      Query: 'SELECT COUNT(*) FROM Customer',
    }));
    const res = await c.api.post('/batch', { BatchItemRequest: items });
    expect(res.status).toBe(400);
    expect(res.json.Fault.Error[0].code).toBe('1040');
    const thirty = await c.api.post('/batch', { BatchItemRequest: items.slice(0, 30) });
    expect(thirty.status).toBe(200);
  });

  it('replays a whole batch for a repeated requestid', async () => {
    const body = {
      BatchItemRequest: [{ bId: 'n1', operation: 'create', Customer: { DisplayName: 'Replayed Batch' } }],
    };
    const first = await c.api.post('/batch', body, { requestid: 'batch-rq-1' });
    const second = await c.api.post('/batch', body, { requestid: 'batch-rq-1' });
    expect(second.text).toBe(first.text);
    expect(
      c.qbo.entities(c.realmId, 'Customer').filter((x) => x.DisplayName === 'Replayed Batch'),
    ).toHaveLength(1);
  });

  it('limits a batch requestid to 36 characters and its bIds to 10', async () => {
    const query = { Query: 'SELECT COUNT(*) FROM Class' };
    const longId = await c.api.post(
      '/batch',
      { BatchItemRequest: [{ bId: 'a', ...query }] },
      { requestid: 'r'.repeat(37) },
    );
    const longBid = await c.api.post(
      '/batch',
      { BatchItemRequest: [{ bId: 'b'.repeat(11), ...query }] },
      { requestid: 'rq-bid' },
    );
    expect(longId.status).toBe(400);
    expect(longBid.status).toBe(200);
    expect(longBid.json.BatchItemResponse[0].Fault.Error[0].code).toBe('2010');
  });
});

describe('QuickBooks stand-in: throttling (429, XML 3001)', () => {
  it('refuses the 11th concurrent request of a realm', async () => {
    // Prepare
    const c = await startConnected();
    c.qbo.setLatency(200);
    try {
      // Act
      const results = await Promise.all(Array.from({ length: 11 }, () => c.api.get('/preferences')));

      // Assess
      const throttled = results.filter((r) => r.status === 429);
      expect(results.filter((r) => r.status === 200)).toHaveLength(10);
      expect(throttled).toHaveLength(1);
      expect(throttled[0]?.headers.get('content-type')).toContain('application/xml');
      expect(throttled[0]?.text).toMatch(THROTTLE_XML);
      c.qbo.setLatency(0);
      expect((await c.api.get('/preferences')).status).toBe(200);
    } finally {
      await c.qbo.close();
    }
  });

  it('refuses past perMinute in a rolling minute, counting every batch item', async () => {
    // Prepare
    let clock = Date.parse('2025-03-01T12:00:00Z');
    const c = await startConnected({ now: () => clock, limits: { maxInFlight: 10, perMinute: 5 } });
    try {
      // Act
      const first = [];
      for (let i = 0; i < 5; i++) first.push((await c.api.get('/preferences')).status);
      const sixth = await c.api.get('/preferences');
      clock += 61_000;
      const batch3 = await c.api.post('/batch', {
        BatchItemRequest: [1, 2, 3].map((i) => ({ bId: `q${i}`, Query: 'SELECT COUNT(*) FROM Account' })),
      });
      const batch3Again = await c.api.post('/batch', {
        BatchItemRequest: [1, 2, 3].map((i) => ({ bId: `q${i}`, Query: 'SELECT COUNT(*) FROM Account' })),
      });
      const single = await c.api.get('/preferences');

      // Assess
      expect(first).toEqual([200, 200, 200, 200, 200]);
      expect(sixth.status).toBe(429);
      expect(sixth.text).toMatch(THROTTLE_XML);
      expect(batch3.status).toBe(200);
      expect(batch3Again.status).toBe(429);
      expect(single.status).toBe(200);
    } finally {
      await c.qbo.close();
    }
  });

  it('keeps the default 500 a minute per realm', async () => {
    let clock = Date.parse('2025-03-01T12:00:00Z');
    const c = await startConnected({ now: () => clock });
    try {
      const batch = {
        BatchItemRequest: Array.from({ length: 25 }, (_, i) => ({
          bId: `q${i}`,
          Query: 'SELECT COUNT(*) FROM Class',
        })),
      };
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await c.api.post('/batch', batch)).status); // 500 items
      const over = await c.api.get('/preferences');
      clock += 60_001;
      const after = await c.api.get('/preferences');

      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(over.status).toBe(429);
      expect(after.status).toBe(200);
    } finally {
      await c.qbo.close();
    }
  });

  it('does not throttle with limits: false', async () => {
    const c = await startConnected({ limits: false });
    c.qbo.setLatency(50);
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => c.api.get('/preferences')));
      expect(results.every((r) => r.status === 200)).toBe(true);
    } finally {
      await c.qbo.close();
    }
  });
});

describe('QuickBooks stand-in: injected faults and the request log', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await startConnected();
  });
  afterAll(() => c.qbo.close());

  it('answers a fault `count` times on matching paths, then serves normally', async () => {
    c.qbo.injectFault({ status: 503, count: 2, path: '/query' });
    const a = await c.api.query('SELECT COUNT(*) FROM Account');
    const prefs = await c.api.get('/preferences');
    const b = await c.api.query('SELECT COUNT(*) FROM Account');
    const ok = await c.api.query('SELECT COUNT(*) FROM Account');

    expect([a.status, prefs.status, b.status, ok.status]).toEqual([503, 200, 503, 200]);
    expect(a.json.Fault.type).toBe('SystemFault');
  });

  it('matches a RegExp on path + query, a realm, and uses a given body', async () => {
    c.qbo.injectFault({ status: 500, path: /operation=delete/, body: '{"oops":true}' });
    c.qbo.injectFault({ status: 429, realmId: 'another-realm' });
    const get = await c.api.get('/preferences');
    const del = await c.api.post('/deposit', { Id: '1', SyncToken: '0' }, { operation: 'delete' });

    expect(get.status).toBe(200);
    expect(del.status).toBe(500);
    expect(del.json).toEqual({ oops: true });
    expect(del.headers.get('content-type')).toContain('application/json');
  });

  it('serves the XML throttle body for an injected 429', async () => {
    c.qbo.injectFault({ status: 429, path: '/preferences' });
    const res = await c.api.get('/preferences');
    expect(res.status).toBe(429);
    expect(res.text).toMatch(THROTTLE_XML);
    // The fault aimed at another realm was left for that realm's first request.
    expect((await fetch(`${c.qbo.url}/v3/company/another-realm/preferences`)).status).toBe(429);
  });

  it('afterProcessing: the deposit is created, the answer is lost, the requestid retry returns the original', async () => {
    // Prepare
    const checking = idOf(c.qbo, c.realmId, 'Account', 'Checking');
    const sales = idOf(c.qbo, c.realmId, 'Account', 'Sales');
    const body = {
      DepositToAccountRef: { value: checking },
      TxnDate: '2025-02-03',
      PrivateNote: 'Stripe payout po_crash',
      Line: [
        { Amount: 42, DetailType: 'DepositLineDetail', DepositLineDetail: { AccountRef: { value: sales } } },
      ],
    };
    c.qbo.injectFault({ status: 502, path: '/deposit', afterProcessing: true });
    const note = (e: Record<string, unknown>) => e.PrivateNote === 'Stripe payout po_crash';

    // Act
    const crashed = await c.api.post('/deposit', body, { requestid: 'crash-1' });
    const afterCrash = c.qbo.entities(c.realmId, 'Deposit').filter(note);
    const retried = await c.api.post('/deposit', body, { requestid: 'crash-1' });

    // Assess
    expect(crashed.status).toBe(502);
    expect(afterCrash).toHaveLength(1);
    expect(retried.status).toBe(200);
    expect(retried.json.Deposit.Id).toBe(afterCrash[0]?.Id);
    expect(c.qbo.entities(c.realmId, 'Deposit').filter(note)).toHaveLength(1);
  });

  it('logs every request with method, path, query, realm, status and requestid', async () => {
    c.qbo.clearRequests();
    await c.api.query('SELECT COUNT(*) FROM Customer');
    await c.api.post('/customer', { DisplayName: 'Logged One' }, { requestid: 'log-1' });

    expect(c.qbo.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: `/v3/company/${c.realmId}/query`,
        query: { minorversion: '75', query: 'SELECT COUNT(*) FROM Customer' },
        realmId: c.realmId,
        status: 200,
        at: expect.any(Number),
      }),
      expect.objectContaining({ method: 'POST', requestId: 'log-1', status: 200 }),
    ]);
    c.qbo.clearRequests();
    expect(c.qbo.requests).toHaveLength(0);
  });
});
