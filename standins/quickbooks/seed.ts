import type { CompanySeed } from './types.js';

/**
 * A small sandbox company: the chart of accounts, classes and customers the demo, local mode and the tests use.
 * USD, multicurrency off, class tracking per transaction line on. Ids are assigned in this order at start.
 */
export function demoCompanySeed(realmId = '9341453187'): CompanySeed {
  return {
    realmId,
    companyName: 'Demo Yoga Studio',
    homeCurrency: 'USD',
    multicurrency: false,
    classTrackingPerTxnLine: true,
    accounts: [
      { Name: 'Checking', AccountType: 'Bank', AccountSubType: 'Checking' },
      { Name: 'Savings', AccountType: 'Bank', AccountSubType: 'Savings' },
      { Name: 'Undeposited Funds', AccountType: 'Other Current Asset', AccountSubType: 'UndepositedFunds' },
      {
        Name: 'Payments in transit',
        AccountType: 'Other Current Liability',
        AccountSubType: 'OtherCurrentLiabilities',
      },
      {
        Name: 'Accounts Receivable',
        AccountType: 'Accounts Receivable',
        AccountSubType: 'AccountsReceivable',
      },
      { Name: 'Accounts Payable', AccountType: 'Accounts Payable', AccountSubType: 'AccountsPayable' },
      { Name: 'Visa', AccountType: 'Credit Card', AccountSubType: 'CreditCard' },
      { Name: "Owner's Equity", AccountType: 'Equity', AccountSubType: 'OwnersEquity' },
      { Name: 'Loan', AccountType: 'Long Term Liability', AccountSubType: 'NotesPayable' },
      { Name: 'Sales', AccountType: 'Income', AccountSubType: 'SalesOfProductIncome' },
      { Name: 'Class Pack Revenue', AccountType: 'Income', AccountSubType: 'ServiceFeeIncome' },
      { Name: 'Virtual Class Revenue', AccountType: 'Income', AccountSubType: 'ServiceFeeIncome' },
      { Name: 'In-person Class Revenue', AccountType: 'Income', AccountSubType: 'ServiceFeeIncome' },
      { Name: 'Membership Revenue', AccountType: 'Income', AccountSubType: 'ServiceFeeIncome' },
      { Name: 'Workshop Revenue', AccountType: 'Income', AccountSubType: 'ServiceFeeIncome' },
      {
        Name: 'Intro Offers',
        AccountType: 'Income',
        AccountSubType: 'ServiceFeeIncome',
        ParentName: 'Class Pack Revenue',
      },
      { Name: 'Other Income', AccountType: 'Other Income', AccountSubType: 'OtherMiscellaneousIncome' },
      { Name: 'Chargebacks', AccountType: 'Expense', AccountSubType: 'OtherMiscellaneousServiceCost' },
      { Name: 'Stripe Fees', AccountType: 'Expense', AccountSubType: 'BankCharges' },
      { Name: 'Platform Fees', AccountType: 'Expense', AccountSubType: 'OtherMiscellaneousServiceCost' },
      {
        Name: 'Stripe Adjustments',
        AccountType: 'Other Expense',
        AccountSubType: 'OtherMiscellaneousExpense',
      },
      { Name: 'Old Revenue', AccountType: 'Income', AccountSubType: 'ServiceFeeIncome', Active: false },
    ],
    classes: [{ Name: 'Online' }, { Name: 'Studio' }, { Name: 'Downtown', ParentName: 'Studio' }],
    customers: [
      { DisplayName: 'Jane Doe', Email: 'jane@example.com', CreateTime: '2023-02-01T10:00:00.000-07:00' },
      {
        DisplayName: 'John Smith',
        Email: 'john.smith@example.com',
        CreateTime: '2023-02-02T10:00:00.000-07:00',
      },
      { DisplayName: 'Walk-in', CreateTime: '2023-01-01T09:00:00.000-07:00' },
      { DisplayName: 'Sam Lee', Email: 'sam@example.com', CreateTime: '2023-05-01T10:00:00.000-07:00' },
      // Two customers sharing one email: the older one wins in `customers sync` (CONTRACT §5).
      { DisplayName: 'Sam Lee (old)', Email: 'sam@example.com', CreateTime: '2022-11-15T10:00:00.000-07:00' },
      {
        DisplayName: 'Former Member',
        Email: 'former@example.com',
        Active: false,
        CreateTime: '2022-01-10T10:00:00.000-07:00',
      },
    ],
  };
}
