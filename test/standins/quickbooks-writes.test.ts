import { type CompanySeed, demoCompanySeed } from '../../standins/quickbooks/index.js';
import { type Connected, idOf, makeApi, startConnected, tokenRequest } from './quickbooks-helpers.js';

describe('QuickBooks stand-in: writes', () => {
  let c: Connected;
  let acct: (name: string) => string;
  let customer: (name: string) => string;
  let cls: (name: string) => string;

  const multicurrency: CompanySeed = {
    realmId: '7770000001',
    homeCurrency: 'USD',
    multicurrency: true,
    accounts: [
      { Name: 'Checking', AccountType: 'Bank' },
      { Name: 'Euro Bank', AccountType: 'Bank', CurrencyRef: 'EUR' },
      { Name: 'Yen Bank', AccountType: 'Bank', CurrencyRef: 'JPY' },
      { Name: 'Sales', AccountType: 'Income' },
    ],
  };

  beforeAll(async () => {
    c = await startConnected({ companies: [demoCompanySeed(), multicurrency] });
    acct = (name) => idOf(c.qbo, c.realmId, 'Account', name);
    customer = (name) => idOf(c.qbo, c.realmId, 'Customer', name);
    cls = (name) => idOf(c.qbo, c.realmId, 'Class', name);
  });
  afterAll(() => c.qbo.close());
  afterEach(() => {
    c.qbo.setCompany(c.realmId, { closedBefore: undefined, classTrackingPerTxnLine: true });
  });

  const line = (amount: number | string, account: string, extra: Record<string, unknown> = {}) => ({
    Amount: amount,
    DetailType: 'DepositLineDetail',
    DepositLineDetail: { AccountRef: { value: account }, ...extra },
  });
  const deposit = (over: Record<string, unknown> = {}) => ({
    DepositToAccountRef: { value: acct('Checking') },
    TxnDate: '2025-02-03',
    PrivateNote: 'Stripe payout po_test',
    Line: [
      line(120, acct('Class Pack Revenue'), { Entity: { value: customer('Jane Doe') } }),
      line(-3.78, acct('Stripe Fees')),
    ],
    ...over,
  });
  const fault = (res: { status: number; json: { Fault: { Error: Array<{ code: string }> } } }) => {
    expect(res.status).toBe(400);
    return res.json.Fault.Error[0]?.code;
  };

  // ------------------------------------------------------------------------------ customers

  describe('customers', () => {
    it('creates a customer with the fields QuickBooks fills in', async () => {
      const res = await c.api.post('/customer', {
        DisplayName: 'Ada Lovelace',
        PrimaryEmailAddr: { Address: 'ada@example.com' },
      });
      expect(res.status).toBe(200);
      expect(res.json.Customer).toEqual(
        expect.objectContaining({
          Id: expect.any(String),
          DisplayName: 'Ada Lovelace',
          FullyQualifiedName: 'Ada Lovelace',
          PrimaryEmailAddr: { Address: 'ada@example.com' },
          Active: true,
          SyncToken: '0',
          domain: 'QBO',
          MetaData: { CreateTime: expect.any(String), LastUpdatedTime: expect.any(String) },
        }),
      );
      const found = await c.api.query("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'ada@example.com'");
      expect(found.json.QueryResponse.Customer[0].Id).toBe(res.json.Customer.Id);
    });

    it('builds DisplayName from the name parts when it is missing', async () => {
      const res = await c.api.post('/customer', { GivenName: 'Grace', FamilyName: 'Hopper' });
      expect(res.json.Customer.DisplayName).toBe('Grace Hopper');
      expect(fault(await c.api.post('/customer', { PrimaryEmailAddr: { Address: 'x@example.com' } }))).toBe(
        '2020',
      );
    });

    it('answers 6240 for a duplicate DisplayName, case-insensitively, inactive customers included', async () => {
      const dup = await c.api.post('/customer', { DisplayName: 'jane doe' });
      const inactive = await c.api.post('/customer', { DisplayName: 'Former Member' });

      expect(fault(dup)).toBe('6240');
      expect(dup.json.Fault.Error[0]).toEqual(
        expect.objectContaining({
          Message: 'Duplicate Name Exists Error',
          Detail: expect.stringContaining('The name supplied already exists.'),
        }),
      );
      expect(fault(inactive)).toBe('6240');
    });

    it('refuses bad names, bad emails and unknown properties', async () => {
      expect(fault(await c.api.post('/customer', { DisplayName: 'A:B' }))).toBe('6000');
      expect(fault(await c.api.post('/customer', { DisplayName: 'Tab\there' }))).toBe('6000');
      expect(fault(await c.api.post('/customer', { DisplayName: 'x'.repeat(501) }))).toBe('2050');
      expect(
        fault(await c.api.post('/customer', { DisplayName: 'No Dot', PrimaryEmailAddr: { Address: 'a@b' } })),
      ).toBe('6000');
      const unknown = await c.api.post('/customer', { DisplayName: 'Extra', Email: 'extra@example.com' });
      expect(fault(unknown)).toBe('2010');
      expect(unknown.json.Fault.Error[0].Detail).toContain('Email');
    });

    it('updates sparsely with the latest SyncToken and answers 5010 to a stale one', async () => {
      // Prepare
      const created = (
        await c.api.post('/customer', {
          DisplayName: 'Moving Member',
          PrimaryEmailAddr: { Address: 'old@example.com' },
        })
      ).json.Customer;

      // Act
      const updated = await c.api.post('/customer', {
        Id: created.Id,
        SyncToken: created.SyncToken,
        sparse: true,
        PrimaryEmailAddr: { Address: 'new@example.com' },
      });
      const stale = await c.api.post('/customer', {
        Id: created.Id,
        SyncToken: '0',
        sparse: true,
        Active: false,
      });

      // Assess
      expect(updated.json.Customer).toEqual(
        expect.objectContaining({
          SyncToken: '1',
          DisplayName: 'Moving Member',
          PrimaryEmailAddr: { Address: 'new@example.com' },
        }),
      );
      expect(fault(stale)).toBe('5010');
      const byOld = await c.api.query("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'old@example.com'");
      const byNew = await c.api.query("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'new@example.com'");
      expect(byOld.json.QueryResponse).toEqual({});
      expect(byNew.json.QueryResponse.Customer).toHaveLength(1);
    });
  });

  // ------------------------------------------------------------------------------ deposits

  describe('deposits', () => {
    it('creates a deposit: TotalAmt = Σ lines − CashBack, refs named, Id/SyncToken/MetaData set', async () => {
      const res = await c.api.post(
        '/deposit',
        deposit({
          Line: [
            line(120, acct('Class Pack Revenue'), {
              Entity: { value: customer('Jane Doe') },
              ClassRef: { value: cls('Online') },
            }),
            line('10.50', acct('Virtual Class Revenue')),
            line(-3.78, acct('Stripe Fees')),
          ],
          CashBack: { AccountRef: { value: acct('Platform Fees') }, Amount: 1.22 },
        }),
      );

      expect(res.status).toBe(200);
      const d = res.json.Deposit;
      expect(d).toEqual(
        expect.objectContaining({
          Id: expect.any(String),
          SyncToken: '0',
          domain: 'QBO',
          TxnDate: '2025-02-03',
          TotalAmt: 125.5,
          CurrencyRef: { value: 'USD', name: 'United States Dollar' },
          DepositToAccountRef: { value: acct('Checking'), name: 'Checking' },
          PrivateNote: 'Stripe payout po_test',
        }),
      );
      expect(d.Line[0].DepositLineDetail).toEqual({
        Entity: { value: customer('Jane Doe'), name: 'Jane Doe', type: 'CUSTOMER' },
        ClassRef: { value: cls('Online'), name: 'Online' },
        AccountRef: { value: acct('Class Pack Revenue'), name: 'Class Pack Revenue' },
      });
      expect(d.Line[1].Amount).toBe(10.5);
      expect(c.qbo.entities(c.realmId, 'Deposit').some((e) => e.Id === d.Id)).toBe(true);
    });

    it('needs a Bank or Other Current Asset deposit account (Undeposited Funds allowed)', async () => {
      const income = await c.api.post('/deposit', deposit({ DepositToAccountRef: { value: acct('Sales') } }));
      const card = await c.api.post('/deposit', deposit({ DepositToAccountRef: { value: acct('Visa') } }));
      const undeposited = await c.api.post(
        '/deposit',
        deposit({ DepositToAccountRef: { value: acct('Undeposited Funds') } }),
      );
      const missing = await c.api.post('/deposit', deposit({ DepositToAccountRef: undefined }));

      expect(fault(income)).toBe('6000');
      expect(income.json.Fault.Error[0].Detail).toContain('Bank or Other Current Asset');
      expect(fault(card)).toBe('6000');
      expect(undeposited.status).toBe(200);
      expect(fault(missing)).toBe('2020');
    });

    it('answers 610 for an inactive account or customer and 2500 for an unknown one', async () => {
      const inactiveAccount = await c.api.post(
        '/deposit',
        deposit({ Line: [line(10, acct('Old Revenue'))] }),
      );
      const unknownAccount = await c.api.post('/deposit', deposit({ Line: [line(10, '99999')] }));
      const inactiveCustomer = await c.api.post(
        '/deposit',
        deposit({ Line: [line(10, acct('Sales'), { Entity: { value: customer('Former Member') } })] }),
      );
      const unknownCustomer = await c.api.post(
        '/deposit',
        deposit({ Line: [line(10, acct('Sales'), { Entity: { value: '99999' } })] }),
      );

      expect(fault(inactiveAccount)).toBe('610');
      expect(inactiveAccount.json.Fault.Error[0].Message).toBe('Object Not Found');
      expect(fault(unknownAccount)).toBe('2500');
      expect(fault(inactiveCustomer)).toBe('610');
      expect(fault(unknownCustomer)).toBe('2500');
    });

    it('refuses ClassRef when class tracking per line is off', async () => {
      const body = deposit({
        Line: [line(10, acct('Sales'), { ClassRef: { value: cls('Studio:Downtown') } })],
      });
      expect((await c.api.post('/deposit', body)).status).toBe(200);

      c.qbo.setCompany(c.realmId, { classTrackingPerTxnLine: false });
      const refused = await c.api.post('/deposit', body);

      expect(fault(refused)).toBe('6000');
      expect(refused.json.Fault.Error[0].Detail).toContain('ClassTrackingPerTxnLine');
    });

    it('refuses a total of zero or less (6000)', async () => {
      const zero = await c.api.post(
        '/deposit',
        deposit({ Line: [line(5, acct('Sales')), line(-5, acct('Stripe Fees'))] }),
      );
      const negative = await c.api.post('/deposit', deposit({ Line: [line(-5, acct('Stripe Fees'))] }));
      const cashBack = await c.api.post(
        '/deposit',
        deposit({
          Line: [line(5, acct('Sales'))],
          CashBack: { AccountRef: { value: acct('Platform Fees') }, Amount: 5 },
        }),
      );

      expect(fault(zero)).toBe('6000');
      expect(zero.json.Fault.Error[0].Detail).toContain('positive');
      expect(fault(negative)).toBe('6000');
      expect(fault(cashBack)).toBe('6000');
    });

    it('answers 2010 for unknown properties, at the top and inside a line', async () => {
      const top = await c.api.post('/deposit', deposit({ ClassRef: { value: cls('Online') } }));
      const inLine = await c.api.post(
        '/deposit',
        deposit({ Line: [line(10, acct('Sales'), { CustomerRef: { value: customer('Jane Doe') } })] }),
      );

      expect(fault(top)).toBe('2010');
      expect(fault(inLine)).toBe('2010');
      expect(inLine.json.Fault.Error[0].Detail).toContain('Line[0].DepositLineDetail.CustomerRef');
    });

    it('checks line shape: DetailType, AccountRef, Line present, amount decimals', async () => {
      const detailType = await c.api.post(
        '/deposit',
        deposit({ Line: [{ ...line(10, acct('Sales')), DetailType: 'SalesItemLineDetail' }] }),
      );
      const noAccount = await c.api.post(
        '/deposit',
        deposit({ Line: [{ Amount: 10, DetailType: 'DepositLineDetail', DepositLineDetail: {} }] }),
      );
      const noLines = await c.api.post('/deposit', deposit({ Line: [] }));
      const decimals = await c.api.post('/deposit', deposit({ Line: [line(0.1 + 0.2, acct('Sales'))] }));

      expect(fault(detailType)).toBe('2010');
      expect(fault(noAccount)).toBe('2020');
      expect(fault(noLines)).toBe('2020');
      expect(fault(decimals)).toBe('6000');
      expect(decimals.json.Fault.Error[0].Detail).toContain('decimal places');
    });

    it('answers 6210 for a date before the closing date', async () => {
      c.qbo.setCompany(c.realmId, { closedBefore: '2025-01-01' });
      const closed = await c.api.post('/deposit', deposit({ TxnDate: '2024-12-31' }));
      const open = await c.api.post('/deposit', deposit({ TxnDate: '2025-01-01' }));

      expect(fault(closed)).toBe('6210');
      expect(closed.json.Fault.Error[0].Message).toBe('Account Period Closed');
      expect(open.status).toBe(200);
    });

    it('refuses a foreign CurrencyRef when multicurrency is off', async () => {
      const res = await c.api.post('/deposit', deposit({ CurrencyRef: { value: 'EUR' } }));
      const home = await c.api.post('/deposit', deposit({ CurrencyRef: { value: 'USD' } }));
      expect(fault(res)).toBe('6000');
      expect(home.status).toBe(200);
    });

    it('multicurrency: CurrencyRef must match a foreign deposit account; decimals follow the currency', async () => {
      // Prepare
      const realm = multicurrency.realmId;
      const token = await tokenRequest(c.qbo, {
        grant_type: 'refresh_token',
        refresh_token: c.qbo.issueRefreshToken(realm),
      });
      const api = makeApi(c.qbo, realm, token.json.access_token);
      const id = (name: string) => idOf(c.qbo, realm, 'Account', name);
      const body = (to: string, currency: string | undefined, amount: number) => ({
        DepositToAccountRef: { value: id(to) },
        TxnDate: '2025-02-03',
        ...(currency ? { CurrencyRef: { value: currency } } : {}),
        Line: [line(amount, id('Sales'))],
      });

      // Act
      const missing = await api.post('/deposit', body('Euro Bank', undefined, 10));
      const mismatch = await api.post('/deposit', body('Euro Bank', 'USD', 10));
      const euro = await api.post('/deposit', { ...body('Euro Bank', 'EUR', 10.25), ExchangeRate: 1.08 });
      const yenDecimals = await api.post('/deposit', body('Yen Bank', 'JPY', 10.5));
      const yen = await api.post('/deposit', body('Yen Bank', 'JPY', 1050));
      const home = await api.post('/deposit', body('Checking', undefined, 10));

      // Assess
      expect(fault(missing)).toBe('6000');
      expect(fault(mismatch)).toBe('6000');
      expect(euro.status).toBe(200);
      expect(euro.json.Deposit).toEqual(
        expect.objectContaining({
          CurrencyRef: { value: 'EUR', name: 'Euro' },
          ExchangeRate: 1.08,
          TotalAmt: 10.25,
        }),
      );
      expect(fault(yenDecimals)).toBe('6000');
      expect(yen.json.Deposit.TotalAmt).toBe(1050);
      expect(home.json.Deposit.CurrencyRef.value).toBe('USD');
    });

    it('deletes with the current SyncToken: 5010 when stale, 610 when unknown, gone from queries', async () => {
      // Prepare
      const created = (await c.api.post('/deposit', deposit({ DocNumber: 'DEL-1' }))).json.Deposit;
      await c.api.post('/deposit', { ...created, PrivateNote: 'edited' }); // full update → SyncToken 1

      // Act
      const stale = await c.api.post('/deposit', { Id: created.Id, SyncToken: '0' }, { operation: 'delete' });
      const deleted = await c.api.post(
        '/deposit',
        { Id: created.Id, SyncToken: '1' },
        { operation: 'delete' },
      );
      const again = await c.api.post('/deposit', { Id: created.Id, SyncToken: '1' }, { operation: 'delete' });
      const read = await c.api.get(`/deposit/${created.Id}`);
      const query = await c.api.query(`SELECT * FROM Deposit WHERE Id = '${created.Id}'`);

      // Assess
      expect(fault(stale)).toBe('5010');
      expect(deleted.status).toBe(200);
      expect(deleted.json.Deposit).toEqual({ Id: created.Id, status: 'Deleted', domain: 'QBO' });
      expect(fault(again)).toBe('610');
      expect(fault(read)).toBe('610');
      expect(query.json.QueryResponse).toEqual({});
      expect(c.qbo.entities(c.realmId, 'Deposit').some((e) => e.Id === created.Id)).toBe(false);
    });

    it('refuses to delete inside a closed period (6210)', async () => {
      const created = (await c.api.post('/deposit', deposit({ TxnDate: '2025-01-15' }))).json.Deposit;
      c.qbo.setCompany(c.realmId, { closedBefore: '2025-02-01' });
      const res = await c.api.post(
        '/deposit',
        { Id: created.Id, SyncToken: created.SyncToken },
        { operation: 'delete' },
      );
      expect(fault(res)).toBe('6210');
      expect(c.qbo.entities(c.realmId, 'Deposit').some((e) => e.Id === created.Id)).toBe(true);
    });
  });

  // ------------------------------------------------------------------------------ journal entries

  describe('journal entries', () => {
    const jeLine = (
      posting: 'Debit' | 'Credit',
      amount: number,
      account: string,
      extra: Record<string, unknown> = {},
    ) => ({
      Amount: amount,
      DetailType: 'JournalEntryLineDetail',
      JournalEntryLineDetail: { PostingType: posting, AccountRef: { value: account }, ...extra },
    });

    it('posts a balanced entry with customer entities and classes', async () => {
      const res = await c.api.post('/journalentry', {
        TxnDate: '2025-02-03',
        PrivateNote: 'Stripe payout po_negative',
        Line: [
          jeLine('Debit', 50, acct('Class Pack Revenue'), {
            Entity: { Type: 'Customer', EntityRef: { value: customer('Jane Doe') } },
            ClassRef: { value: cls('Studio') },
          }),
          jeLine('Debit', 2.5, acct('Stripe Fees')),
          jeLine('Credit', 52.5, acct('Checking')),
        ],
      });
      expect(res.status).toBe(200);
      expect(res.json.JournalEntry).toEqual(
        expect.objectContaining({ TotalAmt: 52.5, SyncToken: '0', Adjustment: false }),
      );
      expect(res.json.JournalEntry.Line[0].JournalEntryLineDetail.Entity).toEqual({
        Type: 'Customer',
        EntityRef: { value: customer('Jane Doe'), name: 'Jane Doe' },
      });
    });

    it('refuses an unbalanced entry, a non-positive amount, a bad PostingType and A/R without a customer', async () => {
      const unbalanced = await c.api.post('/journalentry', {
        Line: [jeLine('Debit', 50, acct('Sales')), jeLine('Credit', 49.99, acct('Checking'))],
      });
      const zero = await c.api.post('/journalentry', {
        Line: [jeLine('Debit', 0, acct('Sales')), jeLine('Credit', 0, acct('Checking'))],
      });
      const posting = await c.api.post('/journalentry', {
        Line: [
          {
            ...jeLine('Debit', 5, acct('Sales')),
            JournalEntryLineDetail: { PostingType: 'Up', AccountRef: { value: acct('Sales') } },
          },
        ],
      });
      const receivable = await c.api.post('/journalentry', {
        Line: [jeLine('Debit', 5, acct('Accounts Receivable')), jeLine('Credit', 5, acct('Sales'))],
      });

      expect(fault(unbalanced)).toBe('6000');
      expect(unbalanced.json.Fault.Error[0].Detail).toContain('not balanced');
      expect(fault(zero)).toBe('6000');
      expect(fault(posting)).toBe('2170');
      expect(fault(receivable)).toBe('6000');
    });

    it('deletes a journal entry', async () => {
      const je = (
        await c.api.post('/journalentry', {
          TxnDate: '2025-02-03',
          Line: [jeLine('Debit', 5, acct('Sales')), jeLine('Credit', 5, acct('Checking'))],
        })
      ).json.JournalEntry;
      const res = await c.api.post(
        '/journalentry',
        { Id: je.Id, SyncToken: je.SyncToken },
        { operation: 'delete' },
      );
      expect(res.json.JournalEntry).toEqual({ Id: je.Id, status: 'Deleted', domain: 'QBO' });
    });
  });

  // ------------------------------------------------------------------------------ requestid

  describe('requestid', () => {
    it('replays the original response for a repeated requestid and creates one object', async () => {
      // Prepare
      const before = c.qbo.entities(c.realmId, 'Deposit').length;

      // Act
      const first = await c.api.post('/deposit', deposit({ DocNumber: 'RQ-1' }), {
        requestid: 'rq-deposit-1',
      });
      const second = await c.api.post('/deposit', deposit({ DocNumber: 'RQ-1' }), {
        requestid: 'rq-deposit-1',
      });
      const changedBody = await c.api.post('/deposit', deposit({ DocNumber: 'RQ-2' }), {
        requestid: 'rq-deposit-1',
      });
      const other = await c.api.post('/deposit', deposit({ DocNumber: 'RQ-1' }), {
        requestid: 'rq-deposit-2',
      });

      // Assess
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.text).toBe(first.text);
      expect(changedBody.text).toBe(first.text);
      expect(other.json.Deposit.Id).not.toBe(first.json.Deposit.Id);
      expect(c.qbo.entities(c.realmId, 'Deposit').length).toBe(before + 2);
    });

    it('does not pin a fault to a requestid, and refuses requestids over 50 characters', async () => {
      c.qbo.setCompany(c.realmId, { closedBefore: '2026-01-01' });
      const closed = await c.api.post('/deposit', deposit(), { requestid: 'rq-closed' });
      c.qbo.setCompany(c.realmId, { closedBefore: undefined });
      const retried = await c.api.post('/deposit', deposit(), { requestid: 'rq-closed' });
      const long = await c.api.post('/deposit', deposit(), { requestid: 'x'.repeat(51) });

      expect(fault(closed)).toBe('6210');
      expect(retried.status).toBe(200);
      expect(long.status).toBe(400);
    });
  });
});
