/**
 * Multicurrency companies (CONTRACT §4, issue 11 item 6), through the real use case, adapter and QuickBooks
 * stand-in: a EUR payout on a USD company with multicurrency on is posted with QuickBooks' rate for its date (read
 * from the ExchangeRate entity), stated in the ledger; without a rate it is HELD, nothing posted.
 */
import { syncPayout } from '../../src/app/sync-payout.js';
import { demoCompanySeed } from '../../standins/quickbooks/index.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, REALM, startHarness, tenantConfig } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('multicurrency', { companies: [] });
  const demo = demoCompanySeed(REALM);
  h.qbo.addCompany({
    ...demo,
    multicurrency: true,
    accounts: [
      ...(demo.accounts ?? []),
      { Name: 'EUR Bank', AccountType: 'Bank', AccountSubType: 'Checking', CurrencyRef: 'EUR' },
    ],
    // Rates dated before any generated payout: the latest rate on or before the entry date applies.
    exchangeRates: [
      { SourceCurrencyCode: 'EUR', AsOfDate: '2000-01-01', Rate: 1.25 },
      { SourceCurrencyCode: 'EUR', AsOfDate: '2001-01-01', Rate: 1.0875 },
      { SourceCurrencyCode: 'GBP', AsOfDate: '2001-01-01', Rate: 1.27 },
    ],
  });
  await h.addTenant(tenantConfig({ quickbooks: { realmId: REALM, depositAccount: 'EUR Bank' } }));
});

afterAll(async () => {
  await h?.close();
});

const rateReads = () =>
  h.qbo.requests.filter((r) => r.path === `/v3/company/${REALM}/exchangerate` && r.method === 'GET');

it("a EUR payout on a USD multicurrency company posts with QuickBooks' rate for its date, stated in the ledger", async () => {
  // Prepare
  const generated = generatePayout({ seed: 11_601, transactions: 3, currency: 'eur' });
  h.addPayout(generated.payout, generated.transactions);
  const before = rateReads().length;

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(generated.payout.id) });

  // Assess
  const row = await h.runtime.ledger.get(generated.payout.id);
  expect(result.status).toBe('POSTED');
  const deposit = h.deposits().find((d) => String(d.Id) === row?.quickbooks?.id);
  expect(deposit).toMatchObject({ CurrencyRef: { value: 'EUR' }, ExchangeRate: 1.0875 });
  expect(row?.reason).toMatch(/booked at QuickBooks' exchange rate 1\.0875 USD per EUR \(as of 2001-01-01\)/);
  const reads = rateReads().slice(before);
  expect(reads.length).toBeGreaterThan(0);
  const date = new Date(generated.payout.arrival_date * 1000).toISOString().slice(0, 10);
  expect(reads[0]?.query).toMatchObject({ sourcecurrencycode: 'EUR', asofdate: date });
  expect(reads[0]?.status).toBe(200);
});

it('a EUR payout whose rate QuickBooks cannot give is HELD with the fix, nothing posted', async () => {
  // Prepare: the company has no EUR rate at all
  h.qbo.setCompany(REALM, {
    exchangeRates: [{ SourceCurrencyCode: 'GBP', AsOfDate: '2001-01-01', Rate: 1.27 }],
  });
  const generated = generatePayout({ seed: 11_602, transactions: 3, currency: 'eur' });
  h.addPayout(generated.payout, generated.transactions);
  const deposits = h.deposits().length;

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(generated.payout.id) });

  // Assess
  const row = await h.runtime.ledger.get(generated.payout.id);
  expect(result.status).toBe('HELD');
  expect(row?.reason).toMatch(
    /^QuickBooks has no usable exchange rate from EUR to USD for \d{4}-\d{2}-\d{2}/,
  );
  expect(row?.hint).toMatch(
    /enter the EUR rate for \d{4}-\d{2}-\d{2} in QuickBooks \(Settings → Currencies\)/,
  );
  expect(h.deposits()).toHaveLength(deposits);
  expect(h.journalEntries()).toHaveLength(0);
});
