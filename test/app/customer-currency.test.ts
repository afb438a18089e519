/**
 * Customers' currencies in a multicurrency company (CONTRACT §4, issue 11 item 6), through the real use cases,
 * adapters, DynamoDB and the QuickBooks stand-in: a member whose customer is in neither the home currency nor the
 * entry's is left off the lines (no Entity) and the ledger says so; customers created for an entry are made in the
 * home currency; the mapping table keeps each customer's currency, and a row written before it did is completed by
 * reading the customer.
 */

import { previewPayout } from '../../src/app/preview-payout.js';
import { syncCustomers } from '../../src/app/sync-customers.js';
import { syncPayout } from '../../src/app/sync-payout.js';
import type { BalanceTransaction, Payout } from '../../src/domain/stripe.js';
import { demoCompanySeed } from '../../standins/quickbooks/index.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, REALM, startHarness, tenantConfig } from './harness.js';

let h: Harness;

const PIA = { email: 'pia.pound@example.com', name: 'Pia Pound' };
const EMIL = { email: 'emil.euro@example.com', name: 'Emil Euro' };
const HANNAH = { email: 'hannah.home@example.com', name: 'Hannah Home' };
const GUS = { email: 'gus.old-row@example.com', name: 'Gus Oldrow' };

beforeAll(async () => {
  h = await startHarness('customer-currency', { companies: [] });
  const demo = demoCompanySeed(REALM);
  h.qbo.addCompany({
    ...demo,
    multicurrency: true,
    accounts: [
      ...(demo.accounts ?? []),
      { Name: 'EUR Bank', AccountType: 'Bank', AccountSubType: 'Checking', CurrencyRef: 'EUR' },
    ],
    exchangeRates: [{ SourceCurrencyCode: 'EUR', AsOfDate: '2000-01-01', Rate: 1.0875 }],
    customers: [
      ...(demo.customers ?? []),
      { DisplayName: PIA.name, Email: PIA.email, CurrencyRef: 'GBP' },
      { DisplayName: EMIL.name, Email: EMIL.email, CurrencyRef: 'EUR' },
      { DisplayName: HANNAH.name, Email: HANNAH.email },
      { DisplayName: GUS.name, Email: GUS.email, CurrencyRef: 'GBP' },
    ],
  });
  await h.addTenant(tenantConfig({ quickbooks: { realmId: REALM, depositAccount: 'EUR Bank' } }));
});

afterAll(async () => {
  await h?.close();
});

const customerIdOf = (name: string): string => {
  const found = h.qbo.entities(REALM, 'Customer').find((c) => c.DisplayName === name);
  if (!found) throw new Error(`no customer ${name}`);
  return String(found.Id);
};

/** The customer Ids named on an entry's lines (Deposit or JournalEntry). */
function entitiesOn(entry: Record<string, unknown> | undefined): string[] {
  const lines = (entry?.Line ?? []) as Record<string, Record<string, unknown> | undefined>[];
  return lines.flatMap((l) => {
    const d = l.DepositLineDetail ?? l.JournalEntryLineDetail;
    const e = d?.Entity as { value?: string; EntityRef?: { value: string } } | undefined;
    const id = e?.EntityRef?.value ?? e?.value;
    return id === undefined ? [] : [id];
  });
}

it('a EUR deposit leaves the GBP customer off its lines, names EUR and USD ones, and the ledger says why', async () => {
  // Prepare: charges from a GBP, a EUR and a USD customer, and one member without a customer yet
  const generated = generatePayout({
    seed: 11_611,
    transactions: 9,
    currency: 'eur',
    members: { existing: [PIA, EMIL, HANNAH], newCount: 1 },
    mix: {},
  });
  h.addPayout(generated.payout, generated.transactions);

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(generated.payout.id) });

  // Assess
  expect(result.status).toBe('POSTED');
  const row = await h.runtime.ledger.get(generated.payout.id);
  const deposit = h.deposits().find((d) => String(d.Id) === row?.quickbooks?.id);
  const named = new Set(entitiesOn(deposit));
  expect(named.has(customerIdOf(PIA.name))).toBe(false);
  expect(named.has(customerIdOf(EMIL.name))).toBe(true);
  expect(named.has(customerIdOf(HANNAH.name))).toBe(true);
  // The new member's customer: made in the home currency, so usable on this EUR entry (and on any other).
  const made = h.qbo
    .entities(REALM, 'Customer')
    .find((c) =>
      String((c.PrimaryEmailAddr as { Address?: string } | undefined)?.Address).includes(
        `.${(11_611).toString(36)}.`,
      ),
    );
  expect(made?.CurrencyRef).toMatchObject({ value: 'USD' });
  expect(named.has(String(made?.Id))).toBe(true);
  expect(row?.reason).toMatch(
    /1 member's customer left off the lines: p\*\*\*@example\.com \(customer \d+ "Pia Pound" is in GBP; a EUR entry of a USD company can name only EUR or USD customers\)/,
  );
  expect(row?.reason).not.toContain(PIA.email);
  // The mapping table keeps each customer's currency.
  const mapped = await h.runtime.customers.getMappings(REALM, [PIA.email, EMIL.email, HANNAH.email]);
  expect(mapped.get(PIA.email)).toEqual({ customerId: customerIdOf(PIA.name), currency: 'GBP' });
  expect(mapped.get(EMIL.email)).toEqual({ customerId: customerIdOf(EMIL.name), currency: 'EUR' });
  expect(mapped.get(HANNAH.email)).toEqual({ customerId: customerIdOf(HANNAH.name), currency: 'USD' });
});

it("a mapping row without a currency (written before they were stored) is completed from the customer's record", async () => {
  // Prepare: an old row for a GBP customer, as written before currencies were kept
  await h.runtime.customers.putMany(REALM, [{ email: GUS.email, customerId: customerIdOf(GUS.name) }]);
  expect((await h.runtime.customers.getMappings(REALM, [GUS.email])).get(GUS.email)).toEqual({
    customerId: customerIdOf(GUS.name),
  });
  const generated = generatePayout({
    seed: 11_612,
    transactions: 4,
    currency: 'eur',
    members: { existing: [GUS, EMIL], newCount: 0 },
    mix: {},
  });
  h.addPayout(generated.payout, generated.transactions);
  h.qbo.clearRequests();

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(generated.payout.id) });

  // Assess
  expect(result.status).toBe('POSTED');
  const row = await h.runtime.ledger.get(generated.payout.id);
  const deposit = h.deposits().find((d) => String(d.Id) === row?.quickbooks?.id);
  expect(entitiesOn(deposit)).not.toContain(customerIdOf(GUS.name));
  expect(entitiesOn(deposit)).toContain(customerIdOf(EMIL.name));
  expect(row?.reason).toMatch(/g\*\*\*@example\.com \(customer \d+ "Gus Oldrow" is in GBP;/);
  const reads = h.qbo.requests.filter(
    (r) => r.path.endsWith('/query') && /FROM Customer WHERE Id IN/.test(r.query.query ?? ''),
  );
  expect(reads).toHaveLength(1);
  expect((await h.runtime.customers.getMappings(REALM, [GUS.email])).get(GUS.email)).toEqual({
    customerId: customerIdOf(GUS.name),
    currency: 'GBP',
  });
});

it('a negative EUR payout: the journal entry leaves the GBP customer off too', async () => {
  // Prepare: a sale of 10.00 EUR by the GBP customer and a 25.00 reserve hold → payout −15.59 EUR
  const now = Math.floor(Date.now() / 1000);
  const payoutId = 'po_1NegEurThirdCurrency0001';
  const payout: Payout = {
    id: payoutId,
    object: 'payout',
    amount: -1559,
    currency: 'eur',
    arrival_date: now - 86_400,
    created: now - 2 * 86_400,
    automatic: true,
    balance_transaction: 'txn_1NegEurOwn000000000001',
    status: 'paid',
    reconciliation_status: 'completed',
    livemode: false,
    metadata: {},
  } as Payout;
  const transactions = [
    {
      id: 'txn_1NegEurCharge0000000001',
      object: 'balance_transaction',
      amount: 1000,
      currency: 'eur',
      net: 941,
      fee: 59,
      fee_details: [
        { amount: 59, currency: 'eur', type: 'stripe_fee', description: 'Stripe processing fees' },
      ],
      type: 'charge',
      created: now - 3 * 86_400,
      status: 'available',
      source: {
        id: 'ch_1NegEurCharge0000000001',
        object: 'charge',
        amount: 1000,
        currency: 'eur',
        metadata: { revenue_category: 'Class Packs', member_email: PIA.email, member_name: PIA.name },
        created: now - 3 * 86_400,
      },
    },
    {
      id: 'txn_1NegEurReserve000000001',
      object: 'balance_transaction',
      amount: -2500,
      currency: 'eur',
      net: -2500,
      fee: 0,
      fee_details: [],
      type: 'reserve_transaction',
      created: now - 3 * 86_400,
      status: 'available',
      source: null,
    },
  ] as BalanceTransaction[];
  h.addPayout(payout, transactions);

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(payoutId) });

  // Assess
  expect(result).toMatchObject({ status: 'POSTED', quickbooks: { type: 'JournalEntry' } });
  const entry = h
    .journalEntries()
    .find((j) => String(j.PrivateNote ?? '').startsWith(`Stripe payout ${payoutId}`));
  expect(entry?.CurrencyRef).toMatchObject({ value: 'EUR' });
  expect(entitiesOn(entry)).toEqual([]);
  const row = await h.runtime.ledger.get(payoutId);
  // From the mapping table: the customer's Id and currency, not its name.
  expect(row?.reason).toMatch(/p\*\*\*@example\.com \(customer \d+ is in GBP; a EUR entry of a USD company/);
});

it('payouts preview shows the same: the GBP customer off the lines, and why', async () => {
  // Prepare
  const generated = generatePayout({
    seed: 11_613,
    transactions: 3,
    currency: 'eur',
    members: { existing: [PIA, EMIL], newCount: 0 },
    mix: {},
  });
  h.addPayout(generated.payout, generated.transactions);

  // Act
  const preview = await previewPayout(
    {
      tenants: h.runtime.tenants,
      payouts: h.runtime.payouts,
      customers: h.runtime.customers,
      quickbooks: (realmId, ctx) => h.runtime.quickbooks.forRealm(realmId, ctx),
      actions: h.runtime.ledger,
    },
    { payoutId: generated.payout.id, tenantId: 'downtown-yoga' },
  );

  // Assess
  expect(preview.outcome).toBe('POST');
  expect(entitiesOn(preview.entry?.body)).not.toContain(customerIdOf(PIA.name));
  expect(entitiesOn(preview.entry?.body)).toContain(customerIdOf(EMIL.name));
  expect(preview.reason).toMatch(
    /1 member's customer left off the lines: p\*\*\*@example\.com \(customer \d+ is in GBP/,
  );
});

it('customers sync stores each customer with its currency', async () => {
  // Act
  const result = await syncCustomers(
    {
      tenants: h.runtime.tenants,
      quickbooks: (realmId, ctx) => h.runtime.quickbooks.forRealm(realmId, ctx),
      customers: h.runtime.customers,
    },
    { tenantId: 'downtown-yoga' },
  );

  // Assess
  expect(result.mapped).toBeGreaterThanOrEqual(4);
  const mapped = await h.runtime.customers.getMappings(REALM, [PIA.email, GUS.email, HANNAH.email]);
  expect(mapped.get(PIA.email)?.currency).toBe('GBP');
  expect(mapped.get(GUS.email)?.currency).toBe('GBP');
  expect(mapped.get(HANNAH.email)?.currency).toBe('USD');
});
