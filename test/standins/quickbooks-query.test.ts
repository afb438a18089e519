import type { CompanySeed } from '../../standins/quickbooks/index.js';
import { demoCompanySeed } from '../../standins/quickbooks/index.js';
import { type Connected, makeApi, startConnected, tokenRequest } from './quickbooks-helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: rows of QuickBooks JSON
type Row = Record<string, any>;
const names = (
  res: { json: { QueryResponse: Record<string, Row[] | undefined> } },
  entity: string,
  key = 'Name',
) => (res.json.QueryResponse[entity] ?? []).map((r) => r[key]);

describe('QuickBooks stand-in: query language subset on the demo company', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await startConnected();
  });
  afterAll(() => c.qbo.close());

  it('filters with =, AND, IN and LIKE, case-insensitive keywords', async () => {
    const banks = await c.api.query("SELECT * FROM Account WHERE AccountType = 'Bank'");
    const sales = await c.api.query(
      "select * from Account where AccountType = 'Income' and AccountSubType = 'SalesOfProductIncome'",
    );
    const some = await c.api.query("SELECT * FROM Account WHERE Name IN ('Checking', 'Visa', 'Nope')");
    const revenue = await c.api.query("SELECT * FROM Account WHERE Name LIKE '%Revenue' ORDERBY Name");

    expect(banks.status).toBe(200);
    expect(names(banks, 'Account').sort()).toEqual(['Checking', 'Savings']);
    expect(names(sales, 'Account')).toEqual(['Sales']);
    expect(names(some, 'Account').sort()).toEqual(['Checking', 'Visa']);
    expect(names(revenue, 'Account')).toEqual([
      'Class Pack Revenue',
      'In-person Class Revenue',
      'Membership Revenue',
      'Virtual Class Revenue',
      'Workshop Revenue',
    ]);
  });

  it('answers in the QueryResponse envelope with startPosition and maxResults', async () => {
    const res = await c.api.query("SELECT * FROM Account WHERE AccountType = 'Bank'");
    expect(res.json).toEqual({
      QueryResponse: { Account: expect.any(Array), startPosition: 1, maxResults: 2 },
      time: expect.any(String),
    });
    expect(res.json.QueryResponse.Account[0]).toEqual(
      expect.objectContaining({
        Id: expect.any(String),
        Name: 'Checking',
        AccountType: 'Bank',
        AccountSubType: 'Checking',
        Classification: 'Asset',
        Active: true,
        CurrencyRef: { value: 'USD', name: 'United States Dollar' },
        SyncToken: '0',
      }),
    );
  });

  it('escapes apostrophes with a backslash and finds sub-accounts by FullyQualifiedName', async () => {
    const equity = await c.api.query("SELECT * FROM Account WHERE Name = 'Owner\\'s Equity'");
    const intro = await c.api.query(
      "SELECT * FROM Account WHERE FullyQualifiedName = 'Class Pack Revenue:Intro Offers'",
    );
    const sub = await c.api.query("SELECT * FROM Class WHERE FullyQualifiedName = 'Studio:Downtown'");

    expect(names(equity, 'Account')).toEqual(["Owner's Equity"]);
    expect(intro.json.QueryResponse.Account[0]).toEqual(
      expect.objectContaining({
        Name: 'Intro Offers',
        SubAccount: true,
        ParentRef: { value: expect.any(String) },
      }),
    );
    expect(sub.json.QueryResponse.Class[0]).toEqual(
      expect.objectContaining({ Name: 'Downtown', SubClass: true }),
    );
  });

  it('returns only active name-list entities unless Active is filtered', async () => {
    const active = await c.api.query("SELECT * FROM Account WHERE Name = 'Old Revenue'");
    const any = await c.api.query(
      "SELECT * FROM Account WHERE Name = 'Old Revenue' AND Active IN (true, false)",
    );
    const inactive = await c.api.query('SELECT * FROM Customer WHERE Active = false');

    expect(active.json.QueryResponse).toEqual({});
    expect(names(any, 'Account')).toEqual(['Old Revenue']);
    expect(names(inactive, 'Customer', 'DisplayName')).toEqual(['Former Member']);
  });

  it('filters customers on PrimaryEmailAddr, case-insensitively, with = and IN', async () => {
    const jane = await c.api.query("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'JANE@Example.com'");
    const shared = await c.api.query(
      "SELECT * FROM Customer WHERE PrimaryEmailAddr IN ('sam@example.com', 'john.smith@example.com') ORDERBY MetaData.CreateTime",
    );
    const nested = await c.api.query(
      "SELECT * FROM Customer WHERE PrimaryEmailAddr.Address = 'jane@example.com'",
    );

    expect(names(jane, 'Customer', 'DisplayName')).toEqual(['Jane Doe']);
    expect(jane.json.QueryResponse.Customer[0].PrimaryEmailAddr).toEqual({ Address: 'jane@example.com' });
    expect(names(shared, 'Customer', 'DisplayName')).toEqual(['Sam Lee (old)', 'John Smith', 'Sam Lee']);
    expect(nested.status).toBe(400);
    expect(nested.json.Fault.Error[0].code).toBe('4001');
  });

  it('counts with SELECT COUNT(*)', async () => {
    const all = await c.api.query('SELECT COUNT(*) FROM Customer');
    const withInactive = await c.api.query('select count(*) from Customer where Active in (true,false)');
    expect(all.json.QueryResponse).toEqual({ totalCount: 5 });
    expect(withInactive.json.QueryResponse).toEqual({ totalCount: 6 });
  });

  it('refuses what QuickBooks refuses: MAXRESULTS > 1000, OR, projections, unknown entities and properties', async () => {
    const tooMany = await c.api.query('SELECT * FROM Customer MAXRESULTS 1001');
    const or = await c.api.query("SELECT * FROM Account WHERE Name = 'Visa' OR Name = 'Loan'");
    const projection = await c.api.query('SELECT Id, Name FROM Account');
    const lowerEntity = await c.api.query('SELECT * FROM account');
    const property = await c.api.query("SELECT * FROM Account WHERE Colour = 'red'");

    expect(tooMany.status).toBe(400);
    expect(tooMany.json.Fault).toEqual({
      Error: [expect.objectContaining({ code: '4001', Message: 'Invalid query' })],
      type: 'ValidationFault',
    });
    expect(or.status).toBe(400);
    expect(projection.status).toBe(400);
    expect(lowerEntity.json.Fault.Error[0].code).toBe('4001');
    expect(property.json.Fault.Error[0].code).toBe('4001');
  });

  it('serves Preferences and CompanyInfo by query and by GET', async () => {
    const prefs = await c.api.query('SELECT * FROM Preferences');
    const info = await c.api.query('SELECT * FROM CompanyInfo');
    const getPrefs = await c.api.get('/preferences');
    const getInfo = await c.api.get(`/companyinfo/${c.realmId}`);

    expect(prefs.json.QueryResponse.Preferences[0].AccountingInfoPrefs.ClassTrackingPerTxnLine).toBe(true);
    expect(getPrefs.json.Preferences.CurrencyPrefs).toEqual({
      MultiCurrencyEnabled: false,
      HomeCurrency: { value: 'USD' },
    });
    expect(info.json.QueryResponse.CompanyInfo[0]).toEqual(
      expect.objectContaining({ CompanyName: 'Demo Yoga Studio', Country: 'US' }),
    );
    expect(getInfo.json.CompanyInfo.CompanyName).toBe('Demo Yoga Studio');
  });

  it('accepts the query as a POST body with Content-Type application/text', async () => {
    const res = await fetch(`${c.qbo.url}/v3/company/${c.realmId}/query?minorversion=75`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${c.accessToken}`,
        'content-type': 'application/text',
        accept: 'application/json',
      },
      body: "SELECT * FROM Customer WHERE DisplayName = 'Walk-in'",
    });
    const body = (await res.json()) as { QueryResponse: { Customer: Row[] } };
    expect(res.status).toBe(200);
    expect(body.QueryResponse.Customer.map((r) => r.DisplayName)).toEqual(['Walk-in']);
  });

  it('reads entities by Id and answers 610 for an unknown one', async () => {
    const id = String(c.qbo.entities(c.realmId, 'Account').find((a) => a.Name === 'Old Revenue')?.Id);
    const account = await c.api.get(`/account/${id}`);
    const missing = await c.api.get('/customer/99999');

    expect(account.json.Account).toEqual(expect.objectContaining({ Name: 'Old Revenue', Active: false }));
    expect(missing.status).toBe(400);
    expect(missing.json.Fault.Error[0].code).toBe('610');
  });
});

describe('QuickBooks stand-in: paging a large customer list', () => {
  let c: Connected;
  const big: CompanySeed = {
    ...demoCompanySeed('5550000001'),
    customers: Array.from({ length: 2500 }, (_, i) => ({
      DisplayName: `Member ${String(i).padStart(4, '0')}`,
      Email: `member${i}@example.com`,
    })),
  };
  beforeAll(async () => {
    c = await startConnected({ companies: [big] });
  });
  afterAll(() => c.qbo.close());

  it('pages 2,500 customers with STARTPOSITION and MAXRESULTS, then returns {}', async () => {
    // Act
    const pages: Row[][] = [];
    for (let start = 1; ; start += 1000) {
      const res = await c.api.query(`SELECT * FROM Customer STARTPOSITION ${start} MAXRESULTS 1000`);
      expect(res.status).toBe(200);
      const rows: Row[] | undefined = res.json.QueryResponse.Customer;
      if (!rows) {
        expect(res.json.QueryResponse).toEqual({});
        break;
      }
      expect(res.json.QueryResponse.startPosition).toBe(start);
      expect(res.json.QueryResponse.maxResults).toBe(rows.length);
      pages.push(rows);
    }

    // Assess
    expect(pages.map((p) => p.length)).toEqual([1000, 1000, 500]);
    const ids = pages.flat().map((r) => Number(r.Id));
    expect(new Set(ids).size).toBe(2500);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('defaults to 100 rows a page and orders DESC on request', async () => {
    const first = await c.api.query('SELECT * FROM Customer');
    const last = await c.api.query('SELECT * FROM Customer ORDERBY DisplayName DESC MAXRESULTS 2');
    const count = await c.api.query('SELECT COUNT(*) FROM Customer');

    expect(first.json.QueryResponse.Customer).toHaveLength(100);
    expect(names(last, 'Customer', 'DisplayName')).toEqual(['Member 2499', 'Member 2498']);
    expect(count.json.QueryResponse.totalCount).toBe(2500);
  });

  it('finds 30 customers by email in one IN query', async () => {
    const emails = Array.from({ length: 30 }, (_, i) => `'member${i * 80}@example.com'`).join(', ');
    const res = await c.api.query(
      `SELECT * FROM Customer WHERE PrimaryEmailAddr IN (${emails}) MAXRESULTS 1000`,
    );
    expect(res.json.QueryResponse.Customer).toHaveLength(30);
  });
});

describe('QuickBooks stand-in: emailQuery refused', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await startConnected({ emailQuery: 'refused' });
  });
  afterAll(() => c.qbo.close());

  it('answers 4001 QueryValidationError for PrimaryEmailAddr and still serves other queries', async () => {
    const email = await c.api.query("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'jane@example.com'");
    const name = await c.api.query("SELECT * FROM Customer WHERE DisplayName = 'Jane Doe'");

    expect(email.status).toBe(400);
    expect(email.json.Fault.Error[0]).toEqual(
      expect.objectContaining({
        code: '4001',
        Message: 'Invalid query',
        Detail: expect.stringContaining('QueryValidationError'),
      }),
    );
    expect(names(name, 'Customer', 'DisplayName')).toEqual(['Jane Doe']);
  });

  it('still needs a token for queries', async () => {
    const spent = await tokenRequest(c.qbo, { grant_type: 'refresh_token', refresh_token: 'AB11unknown' });
    expect(spent.status).toBe(400);
    const res = await makeApi(c.qbo, c.realmId, 'bad').query('SELECT * FROM Customer');
    expect(res.status).toBe(401);
  });
});
