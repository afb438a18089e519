/**
 * The rules shared by every write: the write context, body parsing into QuickBooks' faults, lengths, TxnDate and
 * closed books, SyncToken, references (accounts, customers, classes), amounts and currencies
 * (external-apis.md §1–4).
 */
import type { z } from 'zod';
import { isIsoDate, qboDate } from './clock.js';
import type { AccountEntity, Company, CustomerEntity } from './company.js';
import {
  businessValidation,
  inactiveReference,
  invalidLength,
  invalidProperty,
  invalidReference,
  objectNotFound,
  periodClosed,
  requiredMissing,
  staleObject,
} from './faults.js';
import { toMinor } from './money.js';
import type { DepositIn, JournalIn, linkedTxn, RefIn } from './write-schemas.js';

export interface WriteContext {
  company: Company;
  nowMs: number;
}

export type TxnType = 'Deposit' | 'JournalEntry';
/** A validated transaction before it gets its Id, SyncToken and MetaData. */
export type BuiltTxn = Record<string, unknown> & { TxnDate: string };

// ------------------------------------------------------------------------------------------ helpers

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

export function valueAt(body: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = body;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Parses a request body with a strict schema, turning the first problem into the fault QuickBooks gives. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, entity: string): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidProperty(`The request body must be a JSON object (a ${entity}).`);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw invalidProperty(`Invalid ${entity}.`);
  const where = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (where ? `${where}.${k}` : k));
    throw invalidProperty(
      `Property Name:${keys.join(', ')} specified is unsupported or invalid on ${entity}. Remove it.`,
      keys[0] ?? '',
    );
  }
  if (valueAt(body, issue.path) === undefined) {
    throw requiredMissing(`Required parameter ${where} is missing in the request`, where);
  }
  throw invalidProperty(`Property Name:${where} has an invalid value: ${issue.message}`, where);
}

export function checkLength(value: string | undefined, max: number, element: string): void {
  if (value !== undefined && value.length > max) {
    throw invalidLength(
      `String length is either shorter or longer than supported by specification. Min:0 Max:${max} supported. ` +
        `Supplied length:${value.length} (${element})`,
      element,
    );
  }
}

export function checkTxnDate(ctx: WriteContext, txnDate: string | undefined): string {
  const date = txnDate ?? qboDate(ctx.nowMs);
  if (!isIsoDate(date))
    throw invalidProperty(`Property Name:TxnDate: "${date}" is not a date YYYY-MM-DD`, 'TxnDate');
  const closed = ctx.company.settings.closedBefore;
  if (closed && date < closed) throw periodClosed(date, closed);
  return date;
}

export function checkSyncToken<T extends { Id: string; SyncToken: string }>(
  existing: T | undefined,
  idValue: string,
  syncToken: string | undefined,
  entity: string,
): T {
  if (!existing)
    throw objectNotFound(`Another user has deleted this transaction. (${entity} Id ${idValue})`, 'Id');
  if (syncToken === undefined)
    throw requiredMissing('Required parameter SyncToken is missing in the request', 'SyncToken');
  if (syncToken !== existing.SyncToken) throw staleObject(idValue, syncToken, existing.SyncToken);
  return existing;
}

export function account(ctx: WriteContext, r: RefIn, element: string): AccountEntity {
  const a = ctx.company.accounts.get(r.value);
  if (!a) throw invalidReference(`Accounts element id ${r.value} not found`, element);
  if (!a.Active) throw inactiveReference(`account ${a.Id} "${a.FullyQualifiedName}"`, element);
  return a;
}

export function customer(ctx: WriteContext, r: RefIn, element: string): CustomerEntity {
  const c = ctx.company.customers.get(r.value);
  if (!c) throw invalidReference(`Customer element id ${r.value} not found`, element);
  if (!c.Active) throw inactiveReference(`customer ${c.Id} "${c.DisplayName}"`, element);
  return c;
}

export function classRef(ctx: WriteContext, r: RefIn, element: string): { value: string; name: string } {
  if (!ctx.company.settings.classTrackingPerTxnLine) {
    throw businessValidation(
      `${element}: class tracking per transaction line is off in this company ` +
        '(Preferences.AccountingInfoPrefs.ClassTrackingPerTxnLine is false). Remove ClassRef or turn class tracking on.',
      element,
    );
  }
  const c = ctx.company.classes.get(r.value);
  if (!c) throw invalidReference(`Class element id ${r.value} not found`, element);
  if (!c.Active) throw inactiveReference(`class ${c.Id} "${c.FullyQualifiedName}"`, element);
  return { value: c.Id, name: c.FullyQualifiedName };
}

export function minor(value: number | string | undefined, currency: string, element: string): number {
  if (value === undefined)
    throw requiredMissing(`Required parameter ${element} is missing in the request`, element);
  const r = toMinor(value, currency);
  if (!r.ok) throw businessValidation(`${element}: ${r.reason}`, element);
  return r.minor;
}

/** The transaction currency, checked against the company's currency settings and the main account. */
export function txnCurrency(
  ctx: WriteContext,
  sent: RefIn | undefined,
  mainAccount: AccountEntity | undefined,
): string {
  const s = ctx.company.settings;
  const given = sent?.value.toUpperCase();
  if (!s.multicurrency) {
    if (given && given !== s.homeCurrency) {
      throw businessValidation(
        `CurrencyRef ${given} differs from the home currency ${s.homeCurrency} and multicurrency is off in this ` +
          'company (Preferences.CurrencyPrefs.MultiCurrencyEnabled). Remove CurrencyRef or turn multicurrency on.',
        'CurrencyRef',
      );
    }
    return s.homeCurrency;
  }
  const accountCurrency = mainAccount?.CurrencyRef.value ?? s.homeCurrency;
  if (accountCurrency !== s.homeCurrency) {
    if (!given) {
      throw businessValidation(
        `CurrencyRef is required: account "${mainAccount?.FullyQualifiedName}" is in ${accountCurrency}. ` +
          `Send CurrencyRef {"value":"${accountCurrency}"}.`,
        'CurrencyRef',
      );
    }
    if (given !== accountCurrency) {
      throw businessValidation(
        `CurrencyRef ${given} does not match the currency ${accountCurrency} of account "${mainAccount?.FullyQualifiedName}".`,
        'CurrencyRef',
      );
    }
    return given;
  }
  if (given && given !== s.homeCurrency && mainAccount) {
    throw businessValidation(
      `CurrencyRef ${given} does not match the currency ${accountCurrency} of account "${mainAccount.FullyQualifiedName}".`,
      'CurrencyRef',
    );
  }
  return given ?? s.homeCurrency;
}

/** Lenient currency check of a line account: its currency must be the transaction's or the home currency. */
export function checkLineCurrency(
  ctx: WriteContext,
  a: AccountEntity,
  currency: string,
  element: string,
): void {
  const c = a.CurrencyRef.value;
  if (c !== currency && c !== ctx.company.settings.homeCurrency) {
    throw businessValidation(
      `${element}: account "${a.FullyQualifiedName}" is in ${c}; a ${currency} transaction cannot post to it.`,
      element,
    );
  }
}

/**
 * The currency of a customer named on a transaction line (Deposit `DepositLineDetail.Entity`, JournalEntry
 * `JournalEntryLineDetail.Entity`) must be the transaction's currency or the home currency, else QuickBooks refuses
 * the whole transaction. Sources: Intuit's Accounting API reference, Customer entity, `CurrencyRef` ("Reference to
 * the currency in which all amounts associated with this customer are expressed. Once set, it cannot be changed",
 * as mirrored by docs.breadwinner.com/quickbooks/customer); the rule itself from the QuickBooks error quoted by
 * integrators: "The currency of the account must be either in home currency or the transaction currency" naming
 * the customer (Webgility help center, "There is an invalid reference to QuickBooks Customer…"; Connex,
 * help.syncwithconnex.com "…either in home currency or the transaction currency": "In QuickBooks, each customer
 * has a default currency… read only"); external-apis.md §6b. The code QuickBooks Online's API gives it is NOT
 * FOUND: the stand-in answers it as the business-rule fault 6000 its other currency rules use.
 */
export function checkEntityCurrency(
  ctx: WriteContext,
  c: CustomerEntity,
  currency: string,
  element: string,
): void {
  const home = ctx.company.settings.homeCurrency;
  const customerCurrency = currencyOfCustomer(c, home);
  if (customerCurrency !== currency && customerCurrency !== home) {
    throw businessValidation(
      `The currency of the customer must be either in home currency or the transaction currency: ${element} ` +
        `names customer ${c.Id} "${c.DisplayName}", which is in ${customerCurrency}; this transaction is in ` +
        `${currency} and the home currency is ${home}.`,
      element,
    );
  }
}

/** A customer's `CurrencyRef.value` (upper case), the home currency when it has none. */
export function currencyOfCustomer(c: CustomerEntity, home: string): string {
  const ref = c.CurrencyRef as { value?: unknown } | undefined;
  return typeof ref?.value === 'string' ? ref.value.toUpperCase() : home;
}

export function checkNoDepartment(r: RefIn | undefined, element: string): void {
  if (r)
    throw invalidReference(
      `Department element id ${r.value} not found (this company has no locations)`,
      element,
    );
}

export function checkLinkedTxns(
  ctx: WriteContext,
  links: z.infer<typeof linkedTxn>[] | undefined,
  element: string,
): void {
  for (const [i, l] of (links ?? []).entries()) {
    const found =
      (l.TxnType === 'Deposit' && ctx.company.deposits.has(l.TxnId)) ||
      (l.TxnType === 'JournalEntry' && ctx.company.journalEntries.has(l.TxnId));
    if (!found) {
      throw objectNotFound(`Linked transaction ${l.TxnType} ${l.TxnId} was not found.`, `${element}[${i}]`);
    }
  }
}

export function exchangeRateFields(
  ctx: WriteContext,
  currency: string,
  rate: number | undefined,
): Record<string, unknown> {
  if (!ctx.company.settings.multicurrency || currency === ctx.company.settings.homeCurrency)
    return { ExchangeRate: 1 };
  return { ExchangeRate: rate ?? 1 };
}

export function commonHeader(ctx: WriteContext, body: DepositIn | JournalIn, txnDate: string): BuiltTxn {
  checkLength(body.DocNumber, 21, 'DocNumber');
  checkLength(body.PrivateNote, 4000, 'PrivateNote');
  checkNoDepartment(body.DepartmentRef, 'DepartmentRef');
  checkLinkedTxns(ctx, body.LinkedTxn, 'LinkedTxn');
  return {
    TxnDate: txnDate,
    ...(body.DocNumber !== undefined ? { DocNumber: body.DocNumber } : {}),
    ...(body.PrivateNote !== undefined ? { PrivateNote: body.PrivateNote } : {}),
    ...(body.TxnStatus !== undefined ? { TxnStatus: body.TxnStatus } : {}),
    ...(body.GlobalTaxCalculation !== undefined ? { GlobalTaxCalculation: body.GlobalTaxCalculation } : {}),
  };
}
