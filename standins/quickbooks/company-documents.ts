/**
 * The company documents the stand-in serves (Preferences, CompanyInfo), built from its settings. Split from
 * company.ts.
 */
import { qboTime } from './clock.js';
import type { CompanySettings } from './company.js';

/** `GET /preferences`: the company's Preferences document. */
export function preferencesDocument(s: CompanySettings): Record<string, unknown> {
  return {
    AccountingInfoPrefs: {
      UseAccountNumbers: false,
      TrackDepartments: false,
      DepartmentTerminology: 'Location',
      ClassTrackingPerTxn: false,
      ClassTrackingPerTxnLine: s.classTrackingPerTxnLine,
      CustomerTerminology: 'Customers',
      ...(s.closedBefore ? { BookCloseDate: previousDay(s.closedBefore) } : {}),
    },
    SalesFormsPrefs: { CustomTxnNumbers: false, AllowDeposit: true, DefaultTerms: { value: '3' } },
    VendorAndPurchasesPrefs: { TrackingByCustomer: false, BillableExpenseTracking: false },
    TaxPrefs: { UsingSalesTax: false, PartnerTaxEnabled: false },
    CurrencyPrefs: {
      MultiCurrencyEnabled: s.multicurrency,
      HomeCurrency: { value: s.homeCurrency },
    },
    OtherPrefs: { NameValue: [{ Name: 'SalesFormsPrefs.DefaultCustomerMessage', Value: 'Thank you.' }] },
    domain: 'QBO',
    sparse: false,
    Id: '1',
    SyncToken: String(s.prefsSyncToken),
    MetaData: { CreateTime: qboTime(s.createdAt), LastUpdatedTime: qboTime(s.createdAt) },
  };
}

/** `GET /companyinfo/<realm>`: the CompanyInfo document. */
export function companyInfoDocument(s: CompanySettings): Record<string, unknown> {
  const country = COUNTRY_BY_CURRENCY[s.homeCurrency] ?? 'US';
  const address = {
    Id: '1',
    Line1: '1 Main Street',
    City: 'Mountain View',
    Country: country,
    PostalCode: '94043',
  };
  return {
    CompanyName: s.companyName,
    LegalName: s.companyName,
    CompanyAddr: address,
    LegalAddr: address,
    CustomerCommunicationAddr: address,
    Country: country,
    Email: { Address: 'noreply@quickbooks.com' },
    SupportedLanguages: 'en',
    FiscalYearStartMonth: 'January',
    CompanyStartDate: new Date(s.createdAt).toISOString().slice(0, 10),
    NameValue: [
      { Name: 'NeoEnabled', Value: 'true' },
      { Name: 'IndustryType', Value: 'Fitness and Recreation' },
      { Name: 'QBOIndustryType', Value: 'Fitness' },
      { Name: 'SubscriptionStatus', Value: 'SUBSCRIBED' },
      { Name: 'OfferingSku', Value: 'QuickBooks Online Plus' },
    ],
    domain: 'QBO',
    sparse: false,
    Id: '1',
    SyncToken: '0',
    MetaData: { CreateTime: qboTime(s.createdAt), LastUpdatedTime: qboTime(s.createdAt) },
  };
}

const COUNTRY_BY_CURRENCY: Record<string, string> = {
  USD: 'US',
  CAD: 'CA',
  GBP: 'GB',
  AUD: 'AU',
  EUR: 'FR',
  INR: 'IN',
};

function previousDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}
