/**
 * Shared domain types. Pure: nothing here imports AWS, Stripe, HTTP or Powertools.
 *
 * Money is always an integer number of minor units (`Minor`) until the QuickBooks edge,
 * where `money.ts` turns it into a decimal by the currency's exponent.
 */

/** An integer amount in the currency's minor units (cents, yen, fils). Always a safe integer. */
export type Minor = number;

/** A QuickBooks reference: `{ value: Id, name?: DisplayName }`. */
export interface Ref {
  value: string;
  name?: string;
}

export type LineDetailMode = 'customer' | 'category' | 'transaction';

/**
 * A payout dated on or before the company's closing date (`Preferences.AccountingInfoPrefs.BookCloseDate`):
 * `hold` it for a person, or post it on the first open day (`nextOpenDate`), the original date in its note.
 */
export type ClosedPeriodPolicy = 'hold' | 'nextOpenDate';

/** One revenue mapping of the config file, with its account and class resolved to QuickBooks ids. */
export interface RevenueMapping {
  category: string;
  subcategory?: string;
  account: Ref;
  class?: Ref;
}

/** What the deposit builder needs to know about the QuickBooks company. */
export interface CompanyFacts {
  /** ISO code, upper case, e.g. `USD`. */
  homeCurrency: string;
  multicurrency: boolean;
  /** `Preferences.AccountingInfoPrefs.ClassTrackingPerTxnLine`. */
  classTrackingPerTxnLine: boolean;
}

/**
 * One tenant of the sync config (CONTRACT §2), every account and class resolved to a QuickBooks id.
 * Produced by the chart resolver when a config file is validated or imported; stored in the tenants table.
 */
export interface TenantBooks {
  tenantId: string;
  /** `acct_…` for a connected account, or `platform`. */
  stripeAccount: string;
  realmId: string;
  /** The deposit account; `currency` is its `CurrencyRef.value` (upper case) when QuickBooks reports one. */
  depositAccount: Ref & { currency?: string };
  processingFeesAccount: Ref;
  /** Defaults to `processingFeesAccount` when the config omits it. */
  platformFeesAccount: Ref;
  disputesAccount?: Ref;
  adjustmentsAccount: Ref;
  uncategorizedAccount?: Ref;
  /** The customer for charges without any email. */
  walkInCustomer?: Ref;
  lineDetail: LineDetailMode;
  /** Default 1000. */
  maxDepositLines: number;
  /** Default `hold`. */
  closedPeriod: ClosedPeriodPolicy;
  revenue: RevenueMapping[];
  company: CompanyFacts;
}

/** A member found on a charge: the email (lower-cased, trimmed) and the best name available. */
export interface Member {
  email: string;
  name?: string;
}

/**
 * The QuickBooks customer for each member email (normalised). `value: null` means "would be created"
 * (only in a dry run: `payouts preview`); `name` is then the DisplayName it would get.
 */
export type CustomerDirectory = ReadonlyMap<string, Ref | { value: null; name: string } | null>;

export type EntryType = 'Deposit' | 'JournalEntry';

/** The exact QuickBooks request body (JSON), ready to POST. */
export type QboBody = Record<string, unknown>;

export interface QboEntry {
  type: EntryType;
  body: QboBody;
}

/**
 * QuickBooks' exchange rate for a currency on a date (its ExchangeRate entity): `rate` home-currency units per one
 * unit of `sourceCurrency`, as QuickBooks records every transaction's `ExchangeRate`.
 */
export interface ExchangeRateQuote {
  sourceCurrency: string;
  targetCurrency: string;
  rate: number;
  /** The date the rate applies to (YYYY-MM-DD), as QuickBooks answered it. */
  asOfDate: string;
}

export type BuildResult =
  | {
      outcome: 'POST';
      entry: QboEntry;
      /** The rate put on a foreign-currency entry (`ExchangeRate`), to be stated in the ledger. */
      exchangeRate?: ExchangeRateQuote;
      /** The line detail actually used (`category` when folded because of `maxDepositLines`). */
      lineDetail: LineDetailMode;
      folded: boolean;
      lineCount: number;
      /** Number of balance transactions booked (the payout's own excluded). */
      transactionCount: number;
    }
  | { outcome: 'HELD'; reason: string; hint: string }
  | { outcome: 'SKIPPED'; reason: string };

export const LEDGER_STATUSES = [
  'RECEIVED',
  'WAITING_FOR_RECONCILIATION',
  'POSTING',
  'POSTED',
  'HELD',
  'FAILED',
  'SKIPPED',
  'REVERSED',
] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

/** The payout event types the webhook keeps (CONTRACT §1). */
export const PAYOUT_EVENT_TYPES = [
  'payout.paid',
  'payout.reconciliation_completed',
  'payout.failed',
  'payout.canceled',
] as const;
export type PayoutEventType = (typeof PAYOUT_EVENT_TYPES)[number];

// ---------------------------------------------------------------- QuickBooks chart (plain data, read by the chart resolver)

export interface QboCustomer {
  id: string;
  displayName: string;
  /** Lower-cased, trimmed; undefined when the customer has no email. */
  email?: string;
  active: boolean;
  /** `MetaData.CreateTime`, ISO. */
  createTime?: string;
  /** `CurrencyRef.value`, upper case: the customer's currency, fixed once set (Intuit's Customer reference). */
  currency?: string;
}

export interface QboAccount {
  id: string;
  name: string;
  fullyQualifiedName: string;
  accountType: string;
  accountSubType?: string;
  active: boolean;
  currency?: string;
}

export interface QboClass {
  id: string;
  name: string;
  fullyQualifiedName: string;
  active: boolean;
}

export interface QboChart {
  accounts: QboAccount[];
  classes: QboClass[];
  customers?: QboCustomer[];
  company: {
    homeCurrency: string;
    multicurrency: boolean;
    classTrackingPerTxnLine: boolean;
    /** `Preferences.AccountingInfoPrefs.BookCloseDate` (YYYY-MM-DD); null or absent: no closing date. */
    bookCloseDate?: string | null;
  };
}
