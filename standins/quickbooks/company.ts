/**
 * One QuickBooks company (realm) held in memory: its settings, its entities by type, the indexes the queries
 * need (customers by lower-cased email and DisplayName), and the `requestid` replays.
 */
import { qboTime } from './clock.js';
import { companyInfoDocument, preferencesDocument } from './company-documents.js';
import { ACCOUNT_TYPES, resolveParents, seedSchema } from './company-seed.js';
import type { ExchangeRateSeed } from './exchange-rates.js';
import { currencyName } from './money.js';
import type { CompanySeed, StandInEntityType } from './types.js';

export { ACCOUNT_TYPES, type AccountType } from './company-seed.js';

export interface RefOut {
  value: string;
  name?: string;
}
export interface Meta {
  CreateTime: string;
  LastUpdatedTime: string;
}
export type AccountEntity = {
  Id: string;
  Name: string;
  SubAccount: boolean;
  ParentRef?: RefOut;
  FullyQualifiedName: string;
  Active: boolean;
  Classification?: string;
  AccountType: string;
  AccountSubType: string;
  CurrentBalance: number;
  CurrentBalanceWithSubAccounts: number;
  CurrencyRef: RefOut;
  domain: 'QBO';
  sparse: false;
  SyncToken: string;
  MetaData: Meta;
};
export type ClassEntity = {
  Id: string;
  Name: string;
  SubClass: boolean;
  ParentRef?: RefOut;
  FullyQualifiedName: string;
  Active: boolean;
  domain: 'QBO';
  sparse: false;
  SyncToken: string;
  MetaData: Meta;
};
export type CustomerEntity = {
  Id: string;
  DisplayName: string;
  Active: boolean;
  PrimaryEmailAddr?: { Address: string };
  SyncToken: string;
  MetaData: Meta;
  [key: string]: unknown;
};
export type TxnEntity = {
  Id: string;
  SyncToken: string;
  TxnDate: string;
  MetaData: Meta;
  [key: string]: unknown;
};

/** A deleted transaction, remembered for change data capture (CDC answers it with `status: "Deleted"`). */
export interface Deletion {
  type: 'Deposit' | 'JournalEntry';
  Id: string;
  /** Clock time (ms) of the deletion. */
  at: number;
}

export interface StoredResponse {
  status: number;
  body: string;
  contentType: string;
  /** Clock time (ms) of the original request; QuickBooks' memory of a requestid is undocumented (CONTRACT §4). */
  at?: number;
}

export interface CompanySettings {
  realmId: string;
  companyName: string;
  homeCurrency: string;
  multicurrency: boolean;
  classTrackingPerTxnLine: boolean;
  closedBefore?: string;
  /** The ExchangeRate entities: `SourceCurrencyCode` (upper case), `AsOfDate`, `Rate` (home units per one). */
  exchangeRates?: ExchangeRateSeed[];
  /** Clock time the company was created (CompanyInfo / Preferences MetaData). */
  createdAt: number;
  prefsSyncToken: number;
}

export class Company {
  readonly accounts = new Map<string, AccountEntity>();
  readonly classes = new Map<string, ClassEntity>();
  readonly customers = new Map<string, CustomerEntity>();
  readonly deposits = new Map<string, TxnEntity>();
  readonly journalEntries = new Map<string, TxnEntity>();
  /** lower-cased trimmed email → customer Ids. */
  private readonly byEmail = new Map<string, Set<string>>();
  /** lower-cased DisplayName → customer Id (names are unique, inactive ones included). */
  private readonly byName = new Map<string, string>();
  readonly replays = new Map<string, StoredResponse>();
  /** Deleted Deposits and JournalEntries, for CDC (`<type>#<Id>` → deletion). */
  readonly deletions = new Map<string, Deletion>();
  private nextId = 1;

  private constructor(readonly settings: CompanySettings) {}

  static fromSeed(input: CompanySeed, nowMs: number): Company {
    const parsed = seedSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `QuickBooks stand-in: invalid company seed ${JSON.stringify(input.realmId)} at ` +
          `${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const seed = parsed.data;
    const home = (seed.homeCurrency ?? 'USD').toUpperCase();
    const company = new Company({
      realmId: seed.realmId,
      companyName: seed.companyName ?? `Sandbox Company ${seed.realmId}`,
      homeCurrency: home,
      multicurrency: seed.multicurrency ?? false,
      classTrackingPerTxnLine: seed.classTrackingPerTxnLine ?? true,
      ...(seed.closedBefore ? { closedBefore: seed.closedBefore } : {}),
      ...(seed.exchangeRates ? { exchangeRates: seed.exchangeRates } : {}),
      createdAt: nowMs,
      prefsSyncToken: 0,
    });
    const meta = { CreateTime: qboTime(nowMs), LastUpdatedTime: qboTime(nowMs) };
    // Explicit Ids are reserved first so generated ones never collide with them.
    for (const list of [seed.accounts, seed.classes, seed.customers]) {
      for (const item of list ?? []) if (item.Id) company.reserveId(item.Id);
    }

    const accounts = seed.accounts ?? [];
    const placed = resolveParents(
      accounts,
      (a) => a.Name,
      (a) => a.ParentName,
      `accounts of ${seed.realmId}`,
    );
    for (const { item: a, parent } of placed) {
      const parentEntity = parent ? company.findAccountByName(parent) : undefined;
      const type = ACCOUNT_TYPES[a.AccountType];
      const currency = (a.CurrencyRef ?? home).toUpperCase();
      const account: AccountEntity = {
        Id: a.Id ?? company.newId(),
        Name: a.Name,
        SubAccount: parentEntity !== undefined,
        ...(parentEntity ? { ParentRef: { value: parentEntity.Id } } : {}),
        FullyQualifiedName: parentEntity ? `${parentEntity.FullyQualifiedName}:${a.Name}` : a.Name,
        Active: a.Active ?? true,
        ...(type.classification ? { Classification: type.classification } : {}),
        AccountType: a.AccountType,
        AccountSubType: a.AccountSubType ?? type.subType,
        CurrentBalance: 0,
        CurrentBalanceWithSubAccounts: 0,
        CurrencyRef: { value: currency, name: currencyName(currency) },
        domain: 'QBO',
        sparse: false,
        SyncToken: '0',
        MetaData: { ...meta },
      };
      company.accounts.set(account.Id, account);
    }

    const classes = seed.classes ?? [];
    for (const { item: c, parent } of resolveParents(
      classes,
      (c) => c.Name,
      (c) => c.ParentName,
      `classes of ${seed.realmId}`,
    )) {
      const parentEntity = parent ? company.findClassByName(parent) : undefined;
      const cls: ClassEntity = {
        Id: c.Id ?? company.newId(),
        Name: c.Name,
        SubClass: parentEntity !== undefined,
        ...(parentEntity ? { ParentRef: { value: parentEntity.Id } } : {}),
        FullyQualifiedName: parentEntity ? `${parentEntity.FullyQualifiedName}:${c.Name}` : c.Name,
        Active: c.Active ?? true,
        domain: 'QBO',
        sparse: false,
        SyncToken: '0',
        MetaData: { ...meta },
      };
      company.classes.set(cls.Id, cls);
    }

    for (const c of seed.customers ?? []) {
      if (company.customerIdByName(c.DisplayName)) {
        throw new Error(
          `QuickBooks stand-in: seed of ${seed.realmId} has two customers named "${c.DisplayName}"`,
        );
      }
      const created = c.CreateTime ?? meta.CreateTime;
      const currency = (c.CurrencyRef ?? home).toUpperCase();
      if (currency !== home && !(seed.multicurrency ?? false)) {
        throw new Error(
          `QuickBooks stand-in: seed of ${seed.realmId}: customer "${c.DisplayName}" is in ${currency}, ` +
            `not the home currency ${home}, and multicurrency is off`,
        );
      }
      company.putCustomer({
        Id: c.Id ?? company.newId(),
        DisplayName: c.DisplayName,
        ...(c.Email ? { PrimaryEmailAddr: { Address: c.Email } } : {}),
        ...customerDefaults(c.DisplayName, currency),
        Active: c.Active ?? true,
        domain: 'QBO',
        sparse: false,
        SyncToken: '0',
        MetaData: { CreateTime: created, LastUpdatedTime: created },
      });
    }
    return company;
  }

  // ------------------------------------------------------------------------------ ids

  newId(): string {
    return String(this.nextId++);
  }

  private reserveId(id: string): void {
    const n = Number(id);
    if (Number.isSafeInteger(n) && n >= this.nextId) this.nextId = n + 1;
  }

  // ------------------------------------------------------------------------------ lookups

  findAccountByName(name: string): AccountEntity | undefined {
    for (const a of this.accounts.values()) if (a.FullyQualifiedName === name) return a;
    for (const a of this.accounts.values()) if (a.Name === name) return a;
    return undefined;
  }

  findClassByName(name: string): ClassEntity | undefined {
    for (const c of this.classes.values()) if (c.FullyQualifiedName === name) return c;
    for (const c of this.classes.values()) if (c.Name === name) return c;
    return undefined;
  }

  customerIdByName(displayName: string): string | undefined {
    return this.byName.get(displayName.trim().toLowerCase());
  }

  customerIdsByEmail(email: string): ReadonlySet<string> | undefined {
    return this.byEmail.get(email.trim().toLowerCase());
  }

  /** Inserts or replaces a customer, keeping the indexes in step. */
  putCustomer(customer: CustomerEntity): void {
    const previous = this.customers.get(customer.Id);
    if (previous) this.unindexCustomer(previous);
    this.customers.set(customer.Id, customer);
    this.byName.set(customer.DisplayName.trim().toLowerCase(), customer.Id);
    const email = customer.PrimaryEmailAddr?.Address.trim().toLowerCase();
    if (email) {
      let ids = this.byEmail.get(email);
      if (!ids) {
        ids = new Set();
        this.byEmail.set(email, ids);
      }
      ids.add(customer.Id);
    }
  }

  private unindexCustomer(customer: CustomerEntity): void {
    const name = customer.DisplayName.trim().toLowerCase();
    if (this.byName.get(name) === customer.Id) this.byName.delete(name);
    const email = customer.PrimaryEmailAddr?.Address.trim().toLowerCase();
    if (email) {
      const ids = this.byEmail.get(email);
      ids?.delete(customer.Id);
      if (ids && ids.size === 0) this.byEmail.delete(email);
    }
  }

  /** The map holding entities of `type`. */
  store(type: StandInEntityType): Map<string, Record<string, unknown> & { Id: string }> {
    switch (type) {
      case 'Account':
        return this.accounts;
      case 'Class':
        return this.classes;
      case 'Customer':
        return this.customers;
      case 'Deposit':
        return this.deposits;
      case 'JournalEntry':
        return this.journalEntries;
    }
  }

  /** Records a transaction's deletion, for CDC. */
  recordDeletion(type: Deletion['type'], id: string, at: number): void {
    this.deletions.set(`${type}#${id}`, { type, Id: id, at });
  }

  // ------------------------------------------------------------------------------ company documents

  preferences(): Record<string, unknown> {
    return preferencesDocument(this.settings);
  }

  companyInfo(): Record<string, unknown> {
    return companyInfoDocument(this.settings);
  }

  // ------------------------------------------------------------------------------ persistence

  toJSON(): PersistedCompany {
    return {
      settings: this.settings,
      nextId: this.nextId,
      accounts: [...this.accounts.values()],
      classes: [...this.classes.values()],
      customers: [...this.customers.values()],
      deposits: [...this.deposits.values()],
      journalEntries: [...this.journalEntries.values()],
      replays: [...this.replays.entries()],
      deletions: [...this.deletions.values()],
    };
  }

  static fromJSON(data: PersistedCompany): Company {
    const company = new Company(data.settings);
    company.nextId = data.nextId;
    for (const a of data.accounts) company.accounts.set(a.Id, a);
    for (const c of data.classes) company.classes.set(c.Id, c);
    for (const c of data.customers) company.putCustomer(c);
    for (const d of data.deposits) company.deposits.set(d.Id, d);
    for (const j of data.journalEntries) company.journalEntries.set(j.Id, j);
    for (const [k, v] of data.replays) company.replays.set(k, v);
    for (const d of data.deletions ?? []) company.recordDeletion(d.type, d.Id, d.at);
    return company;
  }
}

export interface PersistedCompany {
  settings: CompanySettings;
  nextId: number;
  accounts: AccountEntity[];
  classes: ClassEntity[];
  customers: CustomerEntity[];
  deposits: TxnEntity[];
  journalEntries: TxnEntity[];
  replays: Array<[string, StoredResponse]>;
  /** Absent in state files written before CDC was modelled. */
  deletions?: Deletion[];
}

/** Fields QuickBooks fills on every customer it returns. */
export function customerDefaults(displayName: string, currency: string): Record<string, unknown> {
  return {
    FullyQualifiedName: displayName,
    PrintOnCheckName: displayName,
    Taxable: false,
    Job: false,
    BillWithParent: false,
    Balance: 0,
    BalanceWithJobs: 0,
    CurrencyRef: { value: currency, name: currencyName(currency) },
    PreferredDeliveryMethod: 'Print',
    IsProject: false,
  };
}
