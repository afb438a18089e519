/**
 * The stand-in answers as QuickBooks really does (docs/standins.md): batch requests metered at 40 a minute besides
 * the 500 units, fault envelopes switchable per request, request ids remembered for a configurable time, and
 * emails stored in the case they were given.
 */
import { startConnected } from './quickbooks-helpers.js';

const batchOf = (n: number) => ({
  BatchItemRequest: Array.from({ length: n }, (_, i) => ({
    bId: `q${i}`,
    Query: 'SELECT COUNT(*) FROM Account',
  })),
});

describe('QuickBooks stand-in: limits as Intuit states them', () => {
  it('refuses the 41st batch request in a rolling minute though units remain; single requests still pass', async () => {
    // Prepare
    let clock = Date.parse('2026-12-01T12:00:00Z');
    const c = await startConnected({ now: () => clock });
    try {
      // Act
      const statuses: number[] = [];
      for (let i = 0; i < 41; i++) statuses.push((await c.api.post('/batch', batchOf(1))).status);
      const single = await c.api.get('/preferences');
      clock += 60_001;
      const nextMinute = await c.api.post('/batch', batchOf(1));

      // Assess
      expect(statuses.slice(0, 40)).toEqual(Array(40).fill(200));
      expect(statuses[40]).toBe(429);
      expect(single.status).toBe(200);
      expect(nextMinute.status).toBe(200);
    } finally {
      await c.qbo.close();
    }
  });
});

describe('QuickBooks stand-in: fault envelopes', () => {
  it('answers 400s in the capital form and 401s in the lower-case one by default; a request can ask for another', async () => {
    // Prepare
    const c = await startConnected();
    try {
      // Act
      const capital = await c.api.get('/deposit/999999');
      c.qbo.injectFault({ status: 0, path: '/deposit/999999', envelope: 'nulls' });
      const nulls = await c.api.get('/deposit/999999');
      c.qbo.injectFault({ status: 0, path: '/deposit/999999', envelope: 'lowercase' });
      const lower = await c.api.get('/deposit/999999');
      c.qbo.injectFault({ status: 0, path: '/deposit/999999', envelope: 'xml' });
      const xml = await c.api.get('/deposit/999999');
      c.qbo.injectFault({ status: 401, path: '/preferences' });
      const unauthorized = await c.api.get('/preferences');

      // Assess
      expect(capital.json.Fault.Error[0]).toMatchObject({ code: '610', element: '' });
      expect(nulls.json.Fault.Error[0]).toMatchObject({ code: '610', element: null });
      expect(lower.json.fault.error[0]).toMatchObject({ code: '610', element: null });
      expect(lower.json).toMatchObject({ warnings: null, intuitObject: null, batchItemResponse: [] });
      expect(xml.text).toMatch(/<Fault type="ValidationFault"><Error code="610">/);
      expect(unauthorized.status).toBe(401);
      expect(unauthorized.json.fault.error[0]).toMatchObject({ code: '3200', detail: expect.any(String) });
    } finally {
      await c.qbo.close();
    }
  });

  it('renders batch item faults with null fields in the nulls form', async () => {
    const c = await startConnected({ faultEnvelope: 'nulls' });
    try {
      const res = await c.api.post('/batch', {
        BatchItemRequest: [{ bId: 'c1', operation: 'create', Customer: { DisplayName: 'Jane Doe' } }],
      });
      expect(res.json.BatchItemResponse[0].Fault.Error[0]).toMatchObject({ code: '6240', element: null });
    } finally {
      await c.qbo.close();
    }
  });
});

describe('QuickBooks stand-in: request ids remembered for a configurable time', () => {
  it('replays a request id within requestIdMemoryMs, and treats it as new after', async () => {
    // Prepare
    let clock = Date.parse('2026-12-01T12:00:00Z');
    const c = await startConnected({
      now: () => clock,
      requestIdMemoryMs: 24 * 3600_000,
      accessTokenTtlSeconds: 7 * 86_400,
    });
    const body = { DisplayName: 'Memory Test', PrimaryEmailAddr: { Address: 'memory@example.com' } };
    try {
      // Act
      const first = await c.api.post('/customer?requestid=mem-1', body);
      clock += 23 * 3600_000;
      const replayed = await c.api.post('/customer?requestid=mem-1', body);
      clock += 2 * 3600_000;
      const forgotten = await c.api.post('/customer?requestid=mem-1', body);

      // Assess
      expect(first.status).toBe(200);
      expect(replayed.json.Customer.Id).toBe(first.json.Customer.Id);
      expect(forgotten.status).toBe(400); // processed again: the name is taken now
      expect(forgotten.json.Fault.Error[0].code).toBe('6240');
    } finally {
      await c.qbo.close();
    }
  });

  it('forgetRequestIds makes a realm forget at once', async () => {
    const c = await startConnected();
    const body = { DisplayName: 'Forget Test' };
    try {
      const first = await c.api.post('/customer?requestid=forget-1', body);
      c.qbo.forgetRequestIds(c.realmId);
      const again = await c.api.post('/customer?requestid=forget-1', body);
      expect(first.status).toBe(200);
      expect(again.json.Fault.Error[0].code).toBe('6240');
    } finally {
      await c.qbo.close();
    }
  });
});
