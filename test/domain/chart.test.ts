import { resolveTenantBooks } from '../../src/domain/chart.js';
import { type TenantConfig, TenantConfigSchema } from '../../src/domain/config.js';
import type { QboAccount, QboChart } from '../../src/domain/types.js';

const account = (
  id: string,
  name: string,
  accountType: string,
  extra: Partial<QboAccount> = {},
): QboAccount => ({ id, name, fullyQualifiedName: name, accountType, active: true, ...extra });

function chart(overrides: Partial<QboChart['company']> = {}): QboChart {
  return {
    accounts: [
      account('35', 'Checking', 'Bank', { accountSubType: 'Checking', currency: 'usd' }),
      account('36', 'Savings', 'Bank', { accountSubType: 'Savings' }),
      account('4', 'Undeposited Funds', 'Other Current Asset', { accountSubType: 'UndepositedFunds' }),
      account('90', 'Payments in transit', 'Other Current Liability'),
      account('84', 'Accounts Receivable (A/R)', 'Accounts Receivable'),
      account('33', 'Accounts Payable (A/P)', 'Accounts Payable'),
      account('41', 'Visa', 'Credit Card'),
      account('30', "Owner's Equity", 'Equity'),
      account('44', 'Loan', 'Long Term Liability'),
      account('79', 'Sales', 'Income'),
      account('80', 'Class Pack Revenue', 'Income'),
      account('81', 'Virtual Class Revenue', 'Income'),
      account('82', 'Intro Offers', 'Income', { fullyQualifiedName: 'Class Pack Revenue:Intro Offers' }),
      account('83', 'Other Income', 'Other Income'),
      account('60', 'Stripe Fees', 'Expense', { accountSubType: 'BankCharges' }),
      account('61', 'Platform Fees', 'Expense'),
      account('62', 'Chargebacks', 'Expense'),
      account('63', 'Stripe Adjustments', 'Other Expense'),
      account('64', 'Old Revenue', 'Income', { active: false }),
      account('65', 'Stripe Reserve', 'Other Current Asset', { accountSubType: 'OtherCurrentAssets' }),
    ],
    classes: [
      { id: '500', name: 'Online', fullyQualifiedName: 'Online', active: true },
      { id: '501', name: 'Studio', fullyQualifiedName: 'Studio', active: true },
      { id: '502', name: 'Downtown', fullyQualifiedName: 'Studio:Downtown', active: true },
      { id: '503', name: 'Retired', fullyQualifiedName: 'Retired', active: false },
    ],
    customers: [
      { id: '7', displayName: 'Walk-in', active: true },
      { id: '8', displayName: 'Closed Walk-in', active: false },
    ],
    company: { homeCurrency: 'usd', multicurrency: false, classTrackingPerTxnLine: true, ...overrides },
  };
}

function tenant(patch: { quickbooks?: Record<string, unknown>; revenue?: unknown[] } = {}): TenantConfig {
  return TenantConfigSchema.parse({
    id: 'downtown-yoga',
    stripeAccount: 'acct_1PzXqR2eZvKYlo2C',
    quickbooks: {
      realmId: '9341453187',
      depositAccount: 'Checking',
      processingFeesAccount: 'Stripe Fees',
      adjustmentsAccount: 'Stripe Adjustments',
      ...patch.quickbooks,
    },
    revenue: patch.revenue ?? [
      { category: 'Class Packs', account: 'Class Pack Revenue' },
      { category: 'Classes', subcategory: 'Virtual', account: 'Virtual Class Revenue', class: 'Online' },
    ],
  });
}

function problemsOf(t: TenantConfig, c: QboChart = chart()) {
  const r = resolveTenantBooks(t, c);
  if (r.ok) throw new Error('expected problems, got books');
  return r.problems;
}

describe('resolveTenantBooks', () => {
  it('resolves a valid tenant to ids, with the defaults', () => {
    // Act
    const r = resolveTenantBooks(tenant(), chart());

    // Assess
    expect(r).toEqual({
      ok: true,
      books: {
        tenantId: 'downtown-yoga',
        stripeAccount: 'acct_1PzXqR2eZvKYlo2C',
        realmId: '9341453187',
        depositAccount: { value: '35', name: 'Checking', currency: 'USD' },
        processingFeesAccount: { value: '60', name: 'Stripe Fees' },
        platformFeesAccount: { value: '60', name: 'Stripe Fees' },
        adjustmentsAccount: { value: '63', name: 'Stripe Adjustments' },
        lineDetail: 'customer',
        maxDepositLines: 1000,
        closedPeriod: 'hold',
        revenue: [
          { category: 'Class Packs', account: { value: '80', name: 'Class Pack Revenue' } },
          {
            category: 'Classes',
            subcategory: 'Virtual',
            account: { value: '81', name: 'Virtual Class Revenue' },
            class: { value: '500', name: 'Online' },
          },
        ],
        company: { homeCurrency: 'USD', multicurrency: false, classTrackingPerTxnLine: true },
      },
    });
  });

  it('keeps the closed-period policy, and refuses an unknown one', () => {
    const r = resolveTenantBooks(tenant({ quickbooks: { closedPeriod: 'nextOpenDate' } }), chart());
    expect(r.ok && r.books.closedPeriod).toBe('nextOpenDate');
    expect(() => tenant({ quickbooks: { closedPeriod: 'post' } })).toThrow(
      'closedPeriod must be hold or nextOpenDate',
    );
  });

  it('finds accounts and classes by Id, Name or FullyQualifiedName, case-insensitively and trimmed', () => {
    // Prepare
    const t = tenant({
      quickbooks: {
        depositAccount: '36',
        processingFeesAccount: '  stripe fees ',
        platformFeesAccount: 'PLATFORM FEES',
        disputesAccount: 'Chargebacks',
        uncategorizedAccount: 'Sales',
        adjustmentsAccount: 'Stripe Reserve',
      },
      revenue: [
        { category: 'Intro', account: 'class pack revenue:intro offers', class: 'studio:downtown' },
        { category: 'Intro2', account: 'Intro Offers', class: '501' },
        { category: 'Misc', account: 'Other Income' },
      ],
    });

    // Act
    const r = resolveTenantBooks(t, chart());

    // Assess
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.books.depositAccount.value).toBe('36');
    expect(r.books.processingFeesAccount.value).toBe('60');
    expect(r.books.platformFeesAccount.value).toBe('61');
    expect(r.books.disputesAccount?.value).toBe('62');
    expect(r.books.uncategorizedAccount?.value).toBe('79');
    expect(r.books.adjustmentsAccount.value).toBe('65');
    expect(r.books.revenue.map((m) => [m.account.value, m.class?.value])).toEqual([
      ['82', '502'],
      ['82', '501'],
      ['83', undefined],
    ]);
  });

  describe.each([
    ['Payments in transit', 'Other Current Liability', /liability account/],
    ['Loan', 'Long Term Liability', /liability account/],
    ['Accounts Payable (A/P)', 'Accounts Payable', /liability \(payables\) account/],
    ['Visa', 'Credit Card', /liability \(credit card\) account/],
    ['Accounts Receivable (A/R)', 'Accounts Receivable', /holding \(receivables\) account/],
    ["Owner's Equity", 'Equity', /equity account/],
    ['Undeposited Funds', 'UndepositedFunds', /Undeposited Funds .*holding account/],
  ])('the forbidden account "%s" (%s)', (name, type, pattern) => {
    it.each([
      ['quickbooks.depositAccount', { quickbooks: { depositAccount: name } }],
      ['quickbooks.processingFeesAccount', { quickbooks: { processingFeesAccount: name } }],
      ['quickbooks.platformFeesAccount', { quickbooks: { platformFeesAccount: name } }],
      ['quickbooks.disputesAccount', { quickbooks: { disputesAccount: name } }],
      ['quickbooks.adjustmentsAccount', { quickbooks: { adjustmentsAccount: name } }],
      ['quickbooks.uncategorizedAccount', { quickbooks: { uncategorizedAccount: name } }],
      ['revenue[0]', { revenue: [{ category: 'Classes', account: name }] }],
    ])('is refused as %s with a clear message', (entry, patch) => {
      // Act
      const problems = problemsOf(tenant(patch));

      // Assess
      expect(problems).toHaveLength(1);
      expect(problems[0]?.entry).toBe(entry);
      expect(problems[0]?.message).toContain(`"${name}"`);
      expect(problems[0]?.message).toMatch(pattern);
      expect(problems[0]?.message).toContain(type);
      expect(problems[0]?.message).toMatch(/cannot receive/);
      expect(problems[0]?.message).toMatch(/choose/);
    });
  });

  it('says plainly that "Payments in transit" is a liability account and cannot receive revenue', () => {
    const [p] = problemsOf(tenant({ revenue: [{ category: 'Classes', account: 'Payments in transit' }] }));
    expect(p?.message).toBe(
      'account "Payments in transit" is a liability account (Other Current Liability) and cannot receive revenue; choose an Income or Other Income account; accounts that would fit: "Sales", "Class Pack Revenue", "Virtual Class Revenue", "Class Pack Revenue:Intro Offers", "Other Income"',
    );
  });

  it.each([
    ['Stripe Fees', 'Expense'],
    ['Savings', 'Bank'],
  ])('refuses the %s account (%s) as a revenue account', (name, type) => {
    const [p] = problemsOf(tenant({ revenue: [{ category: 'Classes', account: name }] }));
    expect(p).toEqual({
      entry: 'revenue[0]',
      message: expect.stringContaining(
        `is a${type === 'Expense' ? 'n' : ''} ${type} account; a revenue account must be an Income or Other Income account`,
      ),
    });
  });

  it.each([
    ['Sales', 'Income'],
    ['Stripe Fees', 'Expense'],
  ])('refuses the %s account (%s) as the deposit account, suggesting bank accounts', (name, type) => {
    const [p] = problemsOf(tenant({ quickbooks: { depositAccount: name } }));
    expect(p?.entry).toBe('quickbooks.depositAccount');
    expect(p?.message).toContain(`the deposit account must be a Bank or Other Current Asset account`);
    expect(p?.message).toContain(type);
    expect(p?.message).toContain('"Checking"');
  });

  it('accepts an Other Current Asset deposit account that is not Undeposited Funds', () => {
    const r = resolveTenantBooks(tenant({ quickbooks: { depositAccount: 'Stripe Reserve' } }), chart());
    expect(r.ok).toBe(true);
  });

  it('names an unknown account and suggests close names', () => {
    const [p] = problemsOf(tenant({ quickbooks: { depositAccount: 'Chequing' } }));
    expect(p).toEqual({
      entry: 'quickbooks.depositAccount',
      message: expect.stringMatching(
        /^depositAccount "Chequing" is not an account in this QuickBooks company; .*; did you mean "Checking"\?$/,
      ),
    });
  });

  it('refuses an inactive account', () => {
    const [p] = problemsOf(tenant({ revenue: [{ category: 'Old', account: 'Old Revenue' }] }));
    expect(p?.entry).toBe('revenue[0]');
    expect(p?.message).toMatch(/"Old Revenue" is inactive in QuickBooks; reactivate it/);
  });

  it('refuses a class when the company has no per-line class tracking', () => {
    // Act
    const problems = problemsOf(tenant(), chart({ classTrackingPerTxnLine: false }));

    // Assess
    expect(problems).toEqual([
      {
        entry: 'revenue[1].class',
        message: expect.stringContaining(
          'class "Online" cannot be used: this QuickBooks company does not track classes per transaction line',
        ),
      },
    ]);
  });

  it('refuses unknown and inactive classes', () => {
    const problems = problemsOf(
      tenant({
        revenue: [
          { category: 'A', account: 'Sales', class: 'Onlin' },
          { category: 'B', account: 'Sales', class: 'Retired' },
        ],
      }),
    );
    expect(problems).toEqual([
      {
        entry: 'revenue[0].class',
        message: expect.stringMatching(/class "Onlin" is not a class .* did you mean "Online"\?/),
      },
      { entry: 'revenue[1].class', message: expect.stringMatching(/class "Retired" is inactive/) },
    ]);
  });

  it('reports every problem at once, one per entry', () => {
    // Prepare
    const t = tenant({
      quickbooks: {
        depositAccount: 'Undeposited Funds',
        processingFeesAccount: 'Nope',
        walkInCustomer: 'Nobody',
      },
      revenue: [
        { category: 'Classes', account: 'Sales' },
        { category: 'Packs', account: 'Payments in transit', class: 'Ghost' },
        { category: 'classes', account: 'Sales' },
      ],
    });

    // Act
    const problems = problemsOf(t);

    // Assess
    expect(problems.map((p) => p.entry)).toEqual([
      'quickbooks.depositAccount',
      'quickbooks.processingFeesAccount',
      'quickbooks.walkInCustomer',
      'revenue[1]',
      'revenue[1].class',
      'revenue[2]',
    ]);
    expect(new Set(problems.map((p) => p.entry)).size).toBe(problems.length);
    expect(problems.find((p) => p.entry === 'revenue[2]')?.message).toMatch(/already mapped by revenue\[0\]/);
  });

  it('resolves the walk-in customer given by the caller, from the chart, or reports it missing or inactive', () => {
    const withWalkIn = tenant({ quickbooks: { walkInCustomer: 'walk-in' } });
    const fromChart = resolveTenantBooks(withWalkIn, chart());
    expect(fromChart.ok && fromChart.books.walkInCustomer).toEqual({ value: '7', name: 'Walk-in' });

    const given = resolveTenantBooks(
      withWalkIn,
      { ...chart(), customers: [] },
      {
        walkInCustomer: { id: '99', displayName: 'Walk-in', active: true },
      },
    );
    expect(given.ok && given.books.walkInCustomer).toEqual({ value: '99', name: 'Walk-in' });

    expect(problemsOf(withWalkIn, { ...chart(), customers: [] })).toEqual([
      {
        entry: 'quickbooks.walkInCustomer',
        message: expect.stringContaining('walkInCustomer "walk-in" is not a customer'),
      },
    ]);
    expect(problemsOf(tenant({ quickbooks: { walkInCustomer: 'Closed Walk-in' } }))[0]?.message).toMatch(
      /inactive/,
    );
  });

  it("refuses a walk-in customer in a currency the tenant's entries cannot name (multicurrency)", () => {
    // Prepare: a USD company with multicurrency; the deposit account Checking is in USD
    const withWalkIn = tenant({ quickbooks: { walkInCustomer: 'Walk-in' } });
    const inCurrency = (currency: string) => ({
      ...chart({ multicurrency: true }),
      customers: [{ id: '7', displayName: 'Walk-in', active: true, currency }],
    });

    // Act + Assess
    expect(problemsOf(withWalkIn, inCurrency('GBP'))).toEqual([
      {
        entry: 'quickbooks.walkInCustomer',
        message:
          'walkInCustomer "Walk-in" is in GBP; this tenant\'s entries can name only USD customers; name a customer in USD',
      },
    ]);
    const home = resolveTenantBooks(withWalkIn, inCurrency('USD'));
    expect(home.ok && home.books.walkInCustomer).toEqual({ value: '7', name: 'Walk-in' });
    // Without multicurrency every customer is in the home currency: nothing to check.
    const single = resolveTenantBooks(withWalkIn, { ...inCurrency('GBP'), company: chart().company });
    expect(single.ok).toBe(true);
  });

  it('asks for the FullyQualifiedName when a Name is ambiguous', () => {
    const c = chart();
    c.accounts.push(
      account('91', 'Intro Offers', 'Income', { fullyQualifiedName: 'Workshops:Intro Offers' }),
    );
    const [p] = problemsOf(tenant({ revenue: [{ category: 'Intro', account: 'Intro Offers' }] }), c);
    expect(p?.message).toMatch(/matches several accounts .*FullyQualifiedName/);
  });
});
