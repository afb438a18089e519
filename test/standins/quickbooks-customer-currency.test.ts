/**
 * Customers' currencies in a multicurrency company (standins/quickbooks/write-rules.ts `checkEntityCurrency` for the
 * sources): a customer carries `CurrencyRef` (the home currency unless created or seeded with another, fixed once
 * set), queries return it, and a Deposit or JournalEntry line naming a customer whose currency is neither the
 * transaction's nor the home currency is refused with a validation fault; nothing is stored.
 */
import { type Connected, idOf, startConnected } from './quickbooks-helpers.js';

const REALM = '7770000012';
let c: Connected;
let eurBank: string;
let income: string;
let equity: string;

beforeAll(async () => {
  c = await startConnected({
    companies: [
      {
        realmId: REALM,
        homeCurrency: 'USD',
        multicurrency: true,
        accounts: [
          { Name: 'EUR Bank', AccountType: 'Bank', CurrencyRef: 'EUR' },
          { Name: 'USD Bank', AccountType: 'Bank' },
          { Name: 'Sales', AccountType: 'Income' },
          { Name: 'Opening Balance Equity', AccountType: 'Equity' },
        ],
        customers: [
          { DisplayName: 'Home Hannah', Email: 'hannah@example.com' },
          { DisplayName: 'Euro Emil', Email: 'emil@example.com', CurrencyRef: 'eur' },
          { DisplayName: 'Pound Pia', Email: 'pia@example.com', CurrencyRef: 'GBP' },
        ],
      },
    ],
  });
  eurBank = idOf(c.qbo, REALM, 'Account', 'EUR Bank');
  income = idOf(c.qbo, REALM, 'Account', 'Sales');
  equity = idOf(c.qbo, REALM, 'Account', 'Opening Balance Equity');
});
afterAll(() => c.qbo.close());

const customerId = (name: string) => idOf(c.qbo, REALM, 'Customer', name);

function eurDeposit(customer: string): Record<string, unknown> {
  return {
    DepositToAccountRef: { value: eurBank },
    CurrencyRef: { value: 'EUR' },
    ExchangeRate: 1.1,
    TxnDate: '2026-01-05',
    Line: [
      {
        Amount: 10,
        DetailType: 'DepositLineDetail',
        DepositLineDetail: {
          AccountRef: { value: income },
          Entity: { value: customerId(customer), type: 'CUSTOMER' },
        },
      },
    ],
  };
}

function eurJournal(customer: string): Record<string, unknown> {
  const line = (posting: 'Debit' | 'Credit', account: string, entity?: string) => ({
    Amount: 10,
    DetailType: 'JournalEntryLineDetail',
    JournalEntryLineDetail: {
      PostingType: posting,
      AccountRef: { value: account },
      ...(entity ? { Entity: { Type: 'Customer', EntityRef: { value: customerId(entity) } } } : {}),
    },
  });
  return {
    CurrencyRef: { value: 'EUR' },
    ExchangeRate: 1.1,
    TxnDate: '2026-01-05',
    Line: [line('Debit', income, customer), line('Credit', equity)],
  };
}

it('customers carry CurrencyRef: the home currency by default, else the one seeded or created with', async () => {
  const q = await c.api.query(
    "SELECT * FROM Customer WHERE PrimaryEmailAddr IN ('emil@example.com', 'hannah@example.com')",
  );
  const found = (
    q.json.QueryResponse.Customer as { DisplayName: string; CurrencyRef: { value: string } }[]
  ).map((x) => [x.DisplayName, x.CurrencyRef.value]);
  expect(found.sort()).toEqual([
    ['Euro Emil', 'EUR'],
    ['Home Hannah', 'USD'],
  ]);
  const made = await c.api.post('/customer', { DisplayName: 'Made In Euro', CurrencyRef: { value: 'EUR' } });
  expect(made.status).toBe(200);
  expect(made.json.Customer.CurrencyRef).toMatchObject({ value: 'EUR' });
  const plain = await c.api.post('/customer', { DisplayName: 'Made Plain' });
  expect(plain.json.Customer.CurrencyRef).toMatchObject({ value: 'USD' });
});

it("a customer's currency cannot be changed once set", async () => {
  const id = customerId('Euro Emil');
  const current = c.qbo.entities(REALM, 'Customer').find((x) => x.Id === id);
  const changed = await c.api.post('/customer', {
    Id: id,
    SyncToken: current?.SyncToken,
    sparse: true,
    CurrencyRef: { value: 'USD' },
  });
  expect(changed.status).toBe(400);
  expect(changed.json.Fault.Error[0]).toMatchObject({ code: '6000', element: 'CurrencyRef' });
  const renamed = await c.api.post('/customer', {
    Id: id,
    SyncToken: current?.SyncToken,
    sparse: true,
    Notes: 'still in euro',
  });
  expect(renamed.status).toBe(200);
  expect(renamed.json.Customer.CurrencyRef).toMatchObject({ value: 'EUR' });
});

it('a EUR deposit may name a EUR or a home-currency (USD) customer', async () => {
  for (const name of ['Euro Emil', 'Home Hannah']) {
    const r = await c.api.post('/deposit', eurDeposit(name));
    expect(r.status).toBe(200);
    expect(r.json.Deposit.Line[0].DepositLineDetail.Entity).toMatchObject({ value: customerId(name) });
  }
});

it('a EUR deposit naming a GBP customer is refused with a validation fault, nothing stored', async () => {
  const before = c.qbo.entities(REALM, 'Deposit').length;
  const r = await c.api.post('/deposit', eurDeposit('Pound Pia'));
  expect(r.status).toBe(400);
  const error = r.json.Fault.Error[0];
  expect(error).toMatchObject({ code: '6000', element: 'Line[0].DepositLineDetail.Entity' });
  expect(error.Detail).toMatch(/either in home currency or the transaction currency/);
  expect(error.Detail).toMatch(/is in GBP; this transaction is in EUR and the home currency is USD/);
  expect(c.qbo.entities(REALM, 'Deposit')).toHaveLength(before);
});

it('a EUR journal entry: the same rule on JournalEntryLineDetail.Entity', async () => {
  const ok = await c.api.post('/journalentry', eurJournal('Home Hannah'));
  expect(ok.status).toBe(200);
  const refused = await c.api.post('/journalentry', eurJournal('Pound Pia'));
  expect(refused.status).toBe(400);
  expect(refused.json.Fault.Error[0]).toMatchObject({
    code: '6000',
    element: 'Line[0].JournalEntryLineDetail.Entity.EntityRef',
  });
});

it('a home-currency (USD) deposit may not name a EUR customer either', async () => {
  const body = {
    ...eurDeposit('Euro Emil'),
    DepositToAccountRef: { value: idOf(c.qbo, REALM, 'Account', 'USD Bank') },
    CurrencyRef: { value: 'USD' },
    ExchangeRate: 1,
  };
  const r = await c.api.post('/deposit', body);
  expect(r.status).toBe(400);
  expect(r.json.Fault.Error[0].Detail).toMatch(/is in EUR; this transaction is in USD/);
});

it('a seed naming a foreign-currency customer without multicurrency is refused', () => {
  expect(() =>
    c.qbo.addCompany({
      realmId: '7770000013',
      customers: [{ DisplayName: 'Pound Pia', CurrencyRef: 'GBP' }],
    }),
  ).toThrow(/is in GBP, not the home currency USD, and multicurrency is off/);
});
