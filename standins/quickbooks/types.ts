/**
 * Public types of the strict local QuickBooks Online stand-in (Accounting API v3 + Intuit OAuth 2.0).
 * See docs/standins.md, "QuickBooks Online stand-in", for what it models and why.
 */

/** One QuickBooks company (realm) to create when the stand-in starts, or later with `addCompany`. */
export interface CompanySeed {
  realmId: string;
  companyName?: string;
  /** ISO 4217 code, default `USD`. */
  homeCurrency?: string;
  /** `Preferences.CurrencyPrefs.MultiCurrencyEnabled`, default false. */
  multicurrency?: boolean;
  /** `Preferences.AccountingInfoPrefs.ClassTrackingPerTxnLine`, default true. */
  classTrackingPerTxnLine?: boolean;
  /** YYYY-MM-DD: the books are closed before this date; writes dated earlier get fault 6210. */
  closedBefore?: string;
  /**
   * The company's exchange rates (its ExchangeRate entities), home-currency units per one `SourceCurrencyCode`,
   * read by `GET /exchangerate?sourcecurrencycode=…&asofdate=…`. A currency with no rate on or before the date
   * is answered 610 "Object Not Found".
   */
  exchangeRates?: Array<{ SourceCurrencyCode: string; AsOfDate: string; Rate: number }>;
  accounts?: Array<{
    Id?: string;
    Name: string;
    AccountType: string;
    AccountSubType?: string;
    Active?: boolean;
    /** ISO currency of the account; default the home currency. */
    CurrencyRef?: string;
    /** Name (or FullyQualifiedName) of the parent account: makes this a sub-account. */
    ParentName?: string;
  }>;
  classes?: Array<{ Id?: string; Name: string; Active?: boolean; ParentName?: string }>;
  customers?: Array<{
    Id?: string;
    DisplayName: string;
    Email?: string;
    Active?: boolean;
    CreateTime?: string;
    /**
     * ISO currency of the customer (`CurrencyRef`), default the home currency; another one needs `multicurrency`.
     * A transaction line may name it only when it is the transaction's currency or the home currency.
     */
    CurrencyRef?: string;
  }>;
}

export interface QuickBooksStandInOptions {
  /** Default `local-client-id`. */
  clientId?: string;
  /** Default `local-client-secret`. */
  clientSecret?: string;
  /** Default 3600. */
  accessTokenTtlSeconds?: number;
  /** `lenient` (default): the previous refresh token stays valid 24 h after a refresh; `strict`: invalid at once. */
  rotation?: 'lenient' | 'strict';
  /**
   * Per realm. Default `{ maxInFlight: 10, perMinute: 500, batchesPerMinute: 40 }` (each batch item counts toward
   * `perMinute`; batch requests also toward `batchesPerMinute`); `false` turns throttling off.
   */
  limits?: { maxInFlight: number; perMinute: number; batchesPerMinute?: number; windowMs?: number } | false;
  /**
   * `exact`: `PrimaryEmailAddr = '…'` matches only the case stored (`Surf@Intuit.com` is not found for
   * `surf@intuit.com`). Whether QuickBooks compares case-insensitively is undocumented (external-apis.md §6b);
   * default `case-insensitive`. Emails are always stored in the case given.
   */
  emailMatch?: 'case-insensitive' | 'exact';
  /** `refused`: a query filtering on PrimaryEmailAddr gets fault 4001 (default `supported`). */
  emailQuery?: 'supported' | 'refused';
  /** Default `[demoCompanySeed()]`. */
  companies?: CompanySeed[];
  /** When set, state (companies, entities, tokens, requestid replays) is loaded from and saved to this JSON file. */
  statePath?: string;
  /**
   * How long a `requestid` is remembered (its original answer replayed), in ms. QuickBooks does not document it
   * (external-apis.md §7: "Time window or retention of requestids: NOT FOUND"); default: for ever. Tests of the
   * product's 24-hour rule set it, or call `forgetRequestIds`.
   */
  requestIdMemoryMs?: number;
  /**
   * The envelope of fault bodies (docs/standins.md, "Error forms"): `real` (default) answers 401 and 403 in the
   * lower-case `fault`/`error` envelope with null `detail`/`element`, as real companies do (node-quickbooks#154,
   * oauth-jsclient#2, python-quickbooks#250), and everything else in the capital `Fault`/`Error` form;
   * `capital`, `lowercase`, `nulls` (capital with null Detail/element and batch items likewise) and `xml` force one.
   */
  faultEnvelope?: FaultEnvelope;
  /** Clock in epoch milliseconds (token expiry, rate windows, MetaData times). Default `Date.now`. */
  now?: () => number;
}

export type StandInEntityType = 'Deposit' | 'JournalEntry' | 'Customer' | 'Account' | 'Class';

export type FaultEnvelope = 'real' | 'capital' | 'lowercase' | 'nulls' | 'xml';

export interface InjectedFault {
  status: number;
  /**
   * With no `body`: the envelope of this fault's default body. With `status: 0`: no fault, only the envelope of
   * the matching request's own fault answers (switch the form per request).
   */
  envelope?: FaultEnvelope;
  /**
   * Never answer: the connection is held open until the client gives up (a timeout). With `afterProcessing`, the
   * request is processed first (QuickBooks committed it, the answer never came).
   */
  hang?: boolean;
  /** How many matching requests get the fault; default 1. */
  count?: number;
  /** Only requests for this realm. */
  realmId?: string;
  /** A string matches a request path equal to it or ending with it; a RegExp is tested on path + query string. */
  path?: string | RegExp;
  /** Response body; default a fault shaped like QuickBooks' own for that status. */
  body?: string;
  /** Default `application/xml` when the body starts with `<`, else `application/json`. */
  contentType?: string;
  /** Process the request for real, then answer with the fault (QuickBooks accepted it, the answer was lost). */
  afterProcessing?: boolean;
}

export interface RequestLogEntry {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  realmId?: string;
  status: number;
  /** Items of a batch request. */
  batchItems?: number;
  /** The `requestid` query parameter, when sent. */
  requestId?: string;
  /** Clock time (ms) when the request arrived. */
  at: number;
}

export interface QuickBooksStandIn {
  /** Origin, e.g. `http://127.0.0.1:53211`: the product's QBO_API_BASE. */
  readonly url: string;
  /** `${url}/oauth2/v1/tokens/bearer`: QBO_OAUTH_TOKEN_URL. */
  readonly tokenUrl: string;
  /** `${url}/connect/oauth2`: GET → 302 to redirect_uri?code=…&state=…&realmId=… (auto-consent). */
  readonly authorizeUrl: string;
  /** `${url}/oauth2/v1/tokens/revoke`. */
  readonly revokeUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  addCompany(seed: CompanySeed): void;
  setCompany(
    realmId: string,
    patch: Partial<
      Pick<
        CompanySeed,
        'closedBefore' | 'multicurrency' | 'classTrackingPerTxnLine' | 'homeCurrency' | 'exchangeRates'
      >
    >,
  ): void;
  /** A valid refresh token for the realm, as after "connect". */
  issueRefreshToken(realmId: string): string;
  /** Every token of the realm becomes invalid (`invalid_grant`, 3200). */
  revokeAll(realmId: string): void;
  /**
   * Test switch: a person edits a Deposit or JournalEntry in QuickBooks (not through this product). `patch` is
   * applied as a sparse update (top-level fields replaced, `Line` as a whole) and validated like any update;
   * SyncToken and `MetaData.LastUpdatedTime` move, so change data capture reports it. Returns the stored entity.
   */
  editAsPerson(
    realmId: string,
    type: 'Deposit' | 'JournalEntry',
    id: string,
    patch: Record<string, unknown>,
  ): Record<string, unknown>;
  /** Test switch: a person deletes a Deposit or JournalEntry; CDC then reports it with `status: "Deleted"`. */
  deleteAsPerson(realmId: string, type: 'Deposit' | 'JournalEntry', id: string): void;
  /** Live (not deleted) entities of the realm, as stored (QuickBooks JSON); copies. */
  entities(realmId: string, type: StandInEntityType): Record<string, unknown>[];
  injectFault(fault: InjectedFault): void;
  /** Changes the `faultEnvelope` of every later fault answer. */
  setFaultEnvelope(envelope: FaultEnvelope): void;
  /** Forgets the requestids of a realm (all realms when omitted), as QuickBooks eventually does. */
  forgetRequestIds(realmId?: string): void;
  setLatency(ms: number): void;
  readonly requests: ReadonlyArray<RequestLogEntry>;
  clearRequests(): void;
  close(): Promise<void>;
}
