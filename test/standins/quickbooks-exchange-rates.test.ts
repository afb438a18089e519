/**
 * The stand-in's ExchangeRate read (`GET /exchangerate?sourcecurrencycode=…&asofdate=…`), as Intuit's API
 * reference describes it; see standins/quickbooks/exchange-rates.ts for the sources and the stated assumptions.
 */
import { type Connected, startConnected } from './quickbooks-helpers.js';

let c: Connected;

beforeAll(async () => {
  c = await startConnected({
    companies: [
      {
        realmId: '7770000011',
        homeCurrency: 'USD',
        multicurrency: true,
        exchangeRates: [
          { SourceCurrencyCode: 'eur', AsOfDate: '2025-01-01', Rate: 1.04 },
          { SourceCurrencyCode: 'EUR', AsOfDate: '2025-02-01', Rate: 1.08 },
        ],
      },
    ],
  });
});
afterAll(() => c.qbo.close());

it('answers the rate of the date, else the latest earlier one, in the ExchangeRate shape', async () => {
  const exact = await c.api.get('/exchangerate', { sourcecurrencycode: 'EUR', asofdate: '2025-02-01' });
  expect(exact.status).toBe(200);
  expect(exact.json.ExchangeRate).toMatchObject({
    SourceCurrencyCode: 'EUR',
    TargetCurrencyCode: 'USD',
    Rate: 1.08,
    AsOfDate: '2025-02-01',
  });
  const between = await c.api.get('/exchangerate', { sourcecurrencycode: 'eur', asofdate: '2025-01-20' });
  expect(between.json.ExchangeRate).toMatchObject({ Rate: 1.04, AsOfDate: '2025-01-01' });
  const home = await c.api.get('/exchangerate', { sourcecurrencycode: 'USD', asofdate: '2025-01-20' });
  expect(home.json.ExchangeRate).toMatchObject({ Rate: 1, TargetCurrencyCode: 'USD' });
});

it('a currency without a rate on or before the date → 610; a missing sourcecurrencycode → 400', async () => {
  const before = await c.api.get('/exchangerate', { sourcecurrencycode: 'EUR', asofdate: '2024-12-31' });
  expect(before.status).toBe(400);
  expect(before.json.Fault.Error[0].code).toBe('610');
  const none = await c.api.get('/exchangerate', { sourcecurrencycode: 'GBP', asofdate: '2025-02-01' });
  expect(none.json.Fault.Error[0].code).toBe('610');
  const missing = await c.api.get('/exchangerate', { asofdate: '2025-02-01' });
  expect(missing.status).toBe(400);
  expect(missing.text).toMatch(/sourcecurrencycode/);
});

it('setCompany replaces the rates a test reads', async () => {
  c.qbo.setCompany(c.realmId, {
    exchangeRates: [{ SourceCurrencyCode: 'GBP', AsOfDate: '2025-01-01', Rate: 1.27 }],
  });
  const gbp = await c.api.get('/exchangerate', { sourcecurrencycode: 'GBP', asofdate: '2025-03-01' });
  expect(gbp.json.ExchangeRate).toMatchObject({ Rate: 1.27, SourceCurrencyCode: 'GBP' });
  const eur = await c.api.get('/exchangerate', { sourcecurrencycode: 'EUR', asofdate: '2025-03-01' });
  expect(eur.status).toBe(400);
});
