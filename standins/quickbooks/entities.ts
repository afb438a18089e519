/**
 * Writes: create, update and delete of Customer, Deposit and JournalEntry, with the rules of
 * external-apis.md §1–4 (and lenient where the reference says NOT FOUND). Every function either returns the
 * stored QuickBooks JSON or throws a `QboFault`; nothing is changed when it throws.
 */
import { z } from 'zod';
import { isIsoDate, qboDate, qboTime } from './clock.js';
import {
  type AccountEntity,
  type Company,
  type CustomerEntity,
  customerDefaults,
  type TxnEntity,
} from './company.js';
import {
  businessValidation,
  duplicateName,
  inactiveReference,
  invalidEnum,
  invalidLength,
  invalidProperty,
  invalidReference,
  objectNotFound,
  periodClosed,
  requiredMissing,
  staleObject,
} from './faults.js';
import { currencyName, fromMinor, toMinor } from './money.js';

export interface WriteContext {
  company: Company;
  nowMs: number;
}

export type TxnType = 'Deposit' | 'JournalEntry';
/** A validated transaction before it gets its Id, SyncToken and MetaData. */
type BuiltTxn = Record<string, unknown> & { TxnDate: string };

// ------------------------------------------------------------------------------------------ schemas

const id = z.union([z.string(), z.number()]).transform(String);
const ref = z.strictObject({ value: id, name: z.string().optional(), type: z.string().optional() });
type RefIn = z.infer<typeof ref>;
const amount = z.union([z.number(), z.string()]);
/** Read-only fields QuickBooks returns; accepted (and ignored) in a request, as QuickBooks does. */
const readOnly = {
  Id: id.optional(),
  SyncToken: id.optional(),
  sparse: z.boolean().optional(),
  domain: z.string().optional(),
  MetaData: z.unknown().optional(),
};
const phone = z.strictObject({ FreeFormNumber: z.string() });
const address = z.strictObject({
  Id: id.optional(),
  Line1: z.string().optional(),
  Line2: z.string().optional(),
  Line3: z.string().optional(),
  Line4: z.string().optional(),
  Line5: z.string().optional(),
  City: z.string().optional(),
  Country: z.string().optional(),
  CountrySubDivisionCode: z.string().optional(),
  PostalCode: z.string().optional(),
  Lat: z.string().optional(),
  Long: z.string().optional(),
});

const customerSchema = z.strictObject({
  ...readOnly,
  DisplayName: z.string().optional(),
  Title: z.string().optional(),
  GivenName: z.string().optional(),
  MiddleName: z.string().optional(),
  FamilyName: z.string().optional(),
  Suffix: z.string().optional(),
  CompanyName: z.string().optional(),
  FullyQualifiedName: z.string().optional(),
  PrintOnCheckName: z.string().optional(),
  PrimaryEmailAddr: z.strictObject({ Address: z.string().optional() }).optional(),
  PrimaryPhone: phone.optional(),
  Mobile: phone.optional(),
  Fax: phone.optional(),
  AlternatePhone: phone.optional(),
  WebAddr: z.strictObject({ URI: z.string() }).optional(),
  BillAddr: address.optional(),
  ShipAddr: address.optional(),
  Notes: z.string().optional(),
  Active: z.boolean().optional(),
  Taxable: z.boolean().optional(),
  Job: z.boolean().optional(),
  BillWithParent: z.boolean().optional(),
  ParentRef: ref.optional(),
  Level: z.number().int().optional(),
  CurrencyRef: ref.optional(),
  PreferredDeliveryMethod: z.string().optional(),
  ResaleNum: z.string().optional(),
  PaymentMethodRef: ref.optional(),
  SalesTermRef: ref.optional(),
  Balance: z.number().optional(),
  BalanceWithJobs: z.number().optional(),
  OpenBalanceDate: z.string().optional(),
  IsProject: z.boolean().optional(),
});
type CustomerIn = z.infer<typeof customerSchema>;

const linkedTxn = z.strictObject({ TxnId: id, TxnType: z.string(), TxnLineId: id.optional() });

const depositLineSchema = z.strictObject({
  Id: id.optional(),
  LineNum: z.number().int().optional(),
  Description: z.string().optional(),
  Amount: amount.optional(),
  DetailType: z.string().optional(),
  DepositLineDetail: z
    .strictObject({
      Entity: ref.optional(),
      ClassRef: ref.optional(),
      AccountRef: ref.optional(),
      PaymentMethodRef: ref.optional(),
      CheckNum: z.string().optional(),
      TxnType: z.string().optional(),
      TaxCodeRef: ref.optional(),
      TaxApplicableOn: z.string().optional(),
    })
    .optional(),
  LinkedTxn: z.array(linkedTxn).optional(),
  ProjectRef: ref.optional(),
});

const txnHeader = {
  ...readOnly,
  TotalAmt: z.number().optional(),
  HomeTotalAmt: z.number().optional(),
  TxnDate: z.string().optional(),
  DocNumber: z.string().optional(),
  PrivateNote: z.string().optional(),
  CurrencyRef: ref.optional(),
  ExchangeRate: z.number().positive().optional(),
  DepartmentRef: ref.optional(),
  TxnStatus: z.string().optional(),
  GlobalTaxCalculation: z.enum(['TaxExcluded', 'TaxInclusive', 'NotApplicable']).optional(),
  TxnTaxDetail: z.strictObject({ TotalTax: z.number().optional(), TxnTaxCodeRef: ref.optional() }).optional(),
  LinkedTxn: z.array(linkedTxn).optional(),
  ProjectRef: ref.optional(),
};

const depositSchema = z.strictObject({
  ...txnHeader,
  DepositToAccountRef: ref.optional(),
  CashBack: z
    .strictObject({ AccountRef: ref.optional(), Amount: amount.optional(), Memo: z.string().optional() })
    .optional(),
  Line: z.array(depositLineSchema).optional(),
});
type DepositIn = z.infer<typeof depositSchema>;

const jeLineSchema = z.strictObject({
  Id: id.optional(),
  LineNum: z.number().int().optional(),
  Description: z.string().optional(),
  Amount: amount.optional(),
  DetailType: z.string().optional(),
  JournalEntryLineDetail: z
    .strictObject({
      PostingType: z.string().optional(),
      AccountRef: ref.optional(),
      ClassRef: ref.optional(),
      DepartmentRef: ref.optional(),
      Entity: z.strictObject({ Type: z.string().optional(), EntityRef: ref.optional() }).optional(),
      TaxCodeRef: ref.optional(),
      TaxApplicableOn: z.string().optional(),
      TaxAmount: z.number().optional(),
      BillableStatus: z.string().optional(),
    })
    .optional(),
  ProjectRef: ref.optional(),
});

const journalSchema = z.strictObject({
  ...txnHeader,
  Adjustment: z.boolean().optional(),
  Line: z.array(jeLineSchema).optional(),
});
type JournalIn = z.infer<typeof journalSchema>;

const deleteSchema = z.looseObject({ Id: id.optional(), SyncToken: id.optional() });

// ------------------------------------------------------------------------------------------ helpers

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function valueAt(body: unknown, path: ReadonlyArray<PropertyKey>): unknown {
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

function checkLength(value: string | undefined, max: number, element: string): void {
  if (value !== undefined && value.length > max) {
    throw invalidLength(
      `String length is either shorter or longer than supported by specification. Min:0 Max:${max} supported. ` +
        `Supplied length:${value.length} (${element})`,
      element,
    );
  }
}

function checkTxnDate(ctx: WriteContext, txnDate: string | undefined): string {
  const date = txnDate ?? qboDate(ctx.nowMs);
  if (!isIsoDate(date))
    throw invalidProperty(`Property Name:TxnDate: "${date}" is not a date YYYY-MM-DD`, 'TxnDate');
  const closed = ctx.company.settings.closedBefore;
  if (closed && date < closed) throw periodClosed(date, closed);
  return date;
}

function checkSyncToken<T extends { Id: string; SyncToken: string }>(
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

function account(ctx: WriteContext, r: RefIn, element: string): AccountEntity {
  const a = ctx.company.accounts.get(r.value);
  if (!a) throw invalidReference(`Accounts element id ${r.value} not found`, element);
  if (!a.Active) throw inactiveReference(`account ${a.Id} "${a.FullyQualifiedName}"`, element);
  return a;
}

function customer(ctx: WriteContext, r: RefIn, element: string): CustomerEntity {
  const c = ctx.company.customers.get(r.value);
  if (!c) throw invalidReference(`Customer element id ${r.value} not found`, element);
  if (!c.Active) throw inactiveReference(`customer ${c.Id} "${c.DisplayName}"`, element);
  return c;
}

function classRef(ctx: WriteContext, r: RefIn, element: string): { value: string; name: string } {
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

function minor(value: number | string | undefined, currency: string, element: string): number {
  if (value === undefined)
    throw requiredMissing(`Required parameter ${element} is missing in the request`, element);
  const r = toMinor(value, currency);
  if (!r.ok) throw businessValidation(`${element}: ${r.reason}`, element);
  return r.minor;
}

/** The transaction currency, checked against the company's currency settings and the main account. */
function txnCurrency(
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
function checkLineCurrency(ctx: WriteContext, a: AccountEntity, currency: string, element: string): void {
  const c = a.CurrencyRef.value;
  if (c !== currency && c !== ctx.company.settings.homeCurrency) {
    throw businessValidation(
      `${element}: account "${a.FullyQualifiedName}" is in ${c}; a ${currency} transaction cannot post to it.`,
      element,
    );
  }
}

function checkNoDepartment(r: RefIn | undefined, element: string): void {
  if (r)
    throw invalidReference(
      `Department element id ${r.value} not found (this company has no locations)`,
      element,
    );
}

function checkLinkedTxns(
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

function exchangeRateFields(
  ctx: WriteContext,
  currency: string,
  rate: number | undefined,
): Record<string, unknown> {
  if (!ctx.company.settings.multicurrency || currency === ctx.company.settings.homeCurrency)
    return { ExchangeRate: 1 };
  return { ExchangeRate: rate ?? 1 };
}

function commonHeader(ctx: WriteContext, body: DepositIn | JournalIn, txnDate: string): BuiltTxn {
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

// ------------------------------------------------------------------------------------------ Deposit

function buildDeposit(ctx: WriteContext, body: DepositIn): BuiltTxn {
  const lines = body.Line ?? [];
  if (lines.length === 0) throw requiredMissing('Required parameter Line is missing in the request', 'Line');
  if (!body.DepositToAccountRef) {
    throw requiredMissing(
      'Required parameter DepositToAccountRef is missing in the request',
      'DepositToAccountRef',
    );
  }
  const txnDate = checkTxnDate(ctx, body.TxnDate);
  const to = account(ctx, body.DepositToAccountRef, 'DepositToAccountRef');
  if (to.AccountType !== 'Bank' && to.AccountType !== 'Other Current Asset') {
    throw businessValidation(
      `DepositToAccountRef: account "${to.FullyQualifiedName}" is of type ${to.AccountType}; ` +
        'a deposit must go to a Bank or Other Current Asset account.',
      'DepositToAccountRef',
    );
  }
  const currency = txnCurrency(ctx, body.CurrencyRef, to);
  const header = commonHeader(ctx, body, txnDate);

  let total = 0;
  const outLines = lines.map((line, i) => {
    const el = `Line[${i}]`;
    checkLength(line.Description, 4000, `${el}.Description`);
    const amountMinor = minor(line.Amount, currency, `${el}.Amount`);
    total += amountMinor;
    const linked = line.LinkedTxn && line.LinkedTxn.length > 0;
    if (line.DetailType === undefined && !linked) {
      throw requiredMissing(
        `Required parameter ${el}.DetailType is missing in the request`,
        `${el}.DetailType`,
      );
    }
    if (line.DetailType !== undefined && line.DetailType !== 'DepositLineDetail') {
      throw invalidProperty(
        `Property Name:${el}.DetailType "${line.DetailType}" is invalid on a Deposit line; use "DepositLineDetail".`,
        `${el}.DetailType`,
      );
    }
    const d = line.DepositLineDetail;
    if (!d?.AccountRef && !linked) {
      throw requiredMissing(
        `Required parameter ${el}.DepositLineDetail.AccountRef is missing in the request (or link a transaction with LinkedTxn)`,
        `${el}.DepositLineDetail.AccountRef`,
      );
    }
    checkLinkedTxns(ctx, line.LinkedTxn, `${el}.LinkedTxn`);
    const detail: Record<string, unknown> = {};
    if (d?.Entity) {
      const type = d.Entity.type?.toUpperCase();
      if (type !== undefined && type !== 'CUSTOMER') {
        throw invalidReference(
          `${type} element id ${d.Entity.value} not found (only customers exist here)`,
          `${el}.Entity`,
        );
      }
      const c = customer(ctx, d.Entity, `${el}.DepositLineDetail.Entity`);
      detail.Entity = { value: c.Id, name: c.DisplayName, type: 'CUSTOMER' };
    }
    if (d?.ClassRef) detail.ClassRef = classRef(ctx, d.ClassRef, `${el}.DepositLineDetail.ClassRef`);
    if (d?.AccountRef) {
      const a = account(ctx, d.AccountRef, `${el}.DepositLineDetail.AccountRef`);
      checkLineCurrency(ctx, a, currency, `${el}.DepositLineDetail.AccountRef`);
      detail.AccountRef = { value: a.Id, name: a.FullyQualifiedName };
    }
    if (d?.PaymentMethodRef) detail.PaymentMethodRef = d.PaymentMethodRef;
    if (d?.CheckNum !== undefined) detail.CheckNum = d.CheckNum;
    if (d?.TxnType !== undefined) detail.TxnType = d.TxnType;
    return {
      Id: String(i + 1),
      LineNum: line.LineNum ?? i + 1,
      ...(line.Description !== undefined ? { Description: line.Description } : {}),
      Amount: fromMinor(amountMinor, currency),
      ...(linked ? { LinkedTxn: line.LinkedTxn } : {}),
      DetailType: 'DepositLineDetail',
      DepositLineDetail: detail,
    };
  });

  let cashBack: Record<string, unknown> | undefined;
  if (body.CashBack) {
    const cb = body.CashBack;
    if (!cb.AccountRef) {
      throw requiredMissing(
        'Required parameter CashBack.AccountRef is missing in the request',
        'CashBack.AccountRef',
      );
    }
    const a = account(ctx, cb.AccountRef, 'CashBack.AccountRef');
    const cbMinor = cb.Amount === undefined ? 0 : minor(cb.Amount, currency, 'CashBack.Amount');
    total -= cbMinor;
    cashBack = {
      AccountRef: { value: a.Id, name: a.FullyQualifiedName },
      Amount: fromMinor(cbMinor, currency),
      ...(cb.Memo !== undefined ? { Memo: cb.Memo } : {}),
    };
  }
  if (total <= 0) {
    throw businessValidation(
      `The deposit total must be positive: the lines less cash back come to ${fromMinor(total, currency)} ${currency}. ` +
        'Record a negative or zero total as a journal entry instead.',
      'Line',
    );
  }
  const rate = exchangeRateFields(ctx, currency, body.ExchangeRate);
  const multicurrency = ctx.company.settings.multicurrency;
  return {
    DepositToAccountRef: { value: to.Id, name: to.FullyQualifiedName },
    ...header,
    CurrencyRef: { value: currency, name: currencyName(currency) },
    ...rate,
    Line: outLines,
    ...(cashBack ? { CashBack: cashBack } : {}),
    TotalAmt: fromMinor(total, currency),
    ...(multicurrency
      ? { HomeTotalAmt: Number((fromMinor(total, currency) * Number(rate.ExchangeRate)).toFixed(2)) }
      : {}),
    domain: 'QBO',
    sparse: false,
  };
}

// ------------------------------------------------------------------------------------------ JournalEntry

function buildJournal(ctx: WriteContext, body: JournalIn): BuiltTxn {
  const lines = body.Line ?? [];
  if (lines.length === 0) throw requiredMissing('Required parameter Line is missing in the request', 'Line');
  const txnDate = checkTxnDate(ctx, body.TxnDate);
  const currency = txnCurrency(ctx, body.CurrencyRef, undefined);
  const header = commonHeader(ctx, body, txnDate);
  let debits = 0;
  let credits = 0;
  const outLines = lines.map((line, i) => {
    const el = `Line[${i}]`;
    checkLength(line.Description, 4000, `${el}.Description`);
    if (line.DetailType === undefined) {
      throw requiredMissing(
        `Required parameter ${el}.DetailType is missing in the request`,
        `${el}.DetailType`,
      );
    }
    if (line.DetailType !== 'JournalEntryLineDetail') {
      throw invalidProperty(
        `Property Name:${el}.DetailType "${line.DetailType}" is invalid on a JournalEntry line; use "JournalEntryLineDetail".`,
        `${el}.DetailType`,
      );
    }
    const d = line.JournalEntryLineDetail;
    if (!d) {
      throw requiredMissing(
        `Required parameter ${el}.JournalEntryLineDetail is missing in the request`,
        `${el}.JournalEntryLineDetail`,
      );
    }
    if (d.PostingType === undefined) {
      throw requiredMissing(
        `Required parameter ${el}.JournalEntryLineDetail.PostingType is missing in the request`,
        `${el}.JournalEntryLineDetail.PostingType`,
      );
    }
    if (d.PostingType !== 'Debit' && d.PostingType !== 'Credit') {
      throw invalidEnum(
        `${el}.JournalEntryLineDetail.PostingType "${d.PostingType}": use Debit or Credit`,
        `${el}.JournalEntryLineDetail.PostingType`,
      );
    }
    const amountMinor = minor(line.Amount, currency, `${el}.Amount`);
    if (amountMinor <= 0) {
      throw businessValidation(
        `${el}.Amount must be greater than 0 (direction is given by PostingType).`,
        `${el}.Amount`,
      );
    }
    if (d.PostingType === 'Debit') debits += amountMinor;
    else credits += amountMinor;
    if (!d.AccountRef) {
      throw requiredMissing(
        `Required parameter ${el}.JournalEntryLineDetail.AccountRef is missing in the request`,
        `${el}.JournalEntryLineDetail.AccountRef`,
      );
    }
    const a = account(ctx, d.AccountRef, `${el}.JournalEntryLineDetail.AccountRef`);
    checkLineCurrency(ctx, a, currency, `${el}.JournalEntryLineDetail.AccountRef`);
    checkNoDepartment(d.DepartmentRef, `${el}.JournalEntryLineDetail.DepartmentRef`);
    const detail: Record<string, unknown> = {
      PostingType: d.PostingType,
      AccountRef: { value: a.Id, name: a.FullyQualifiedName },
    };
    if (d.ClassRef) detail.ClassRef = classRef(ctx, d.ClassRef, `${el}.JournalEntryLineDetail.ClassRef`);
    let entityType: string | undefined;
    if (d.Entity) {
      const t = d.Entity.Type;
      if (t !== 'Customer' && t !== 'Vendor' && t !== 'Employee') {
        throw invalidEnum(
          `${el}.JournalEntryLineDetail.Entity.Type "${t ?? ''}": use Customer, Vendor or Employee`,
          `${el}.JournalEntryLineDetail.Entity.Type`,
        );
      }
      if (!d.Entity.EntityRef) {
        throw requiredMissing(
          `Required parameter ${el}.JournalEntryLineDetail.Entity.EntityRef is missing in the request`,
          `${el}.JournalEntryLineDetail.Entity.EntityRef`,
        );
      }
      if (t !== 'Customer') {
        throw invalidReference(
          `${t} element id ${d.Entity.EntityRef.value} not found (this company has no ${t.toLowerCase()}s)`,
          `${el}.JournalEntryLineDetail.Entity.EntityRef`,
        );
      }
      const c = customer(ctx, d.Entity.EntityRef, `${el}.JournalEntryLineDetail.Entity.EntityRef`);
      detail.Entity = { Type: 'Customer', EntityRef: { value: c.Id, name: c.DisplayName } };
      entityType = t;
    }
    if (a.AccountType === 'Accounts Receivable' && entityType !== 'Customer') {
      throw businessValidation(
        `${el}: a line posting to Accounts Receivable needs a customer (JournalEntryLineDetail.Entity of Type Customer).`,
        `${el}.JournalEntryLineDetail.Entity`,
      );
    }
    if (a.AccountType === 'Accounts Payable' && entityType !== 'Vendor') {
      throw businessValidation(
        `${el}: a line posting to Accounts Payable needs a vendor (JournalEntryLineDetail.Entity of Type Vendor).`,
        `${el}.JournalEntryLineDetail.Entity`,
      );
    }
    return {
      Id: String(i),
      ...(line.Description !== undefined ? { Description: line.Description } : {}),
      Amount: fromMinor(amountMinor, currency),
      DetailType: 'JournalEntryLineDetail',
      JournalEntryLineDetail: detail,
    };
  });
  if (debits !== credits) {
    throw businessValidation(
      `Transaction is not balanced: debits ${fromMinor(debits, currency)} and credits ${fromMinor(credits, currency)} ` +
        `${currency} must be equal.`,
      'Line',
    );
  }
  const rate = exchangeRateFields(ctx, currency, body.ExchangeRate);
  return {
    Adjustment: body.Adjustment ?? false,
    ...header,
    CurrencyRef: { value: currency, name: currencyName(currency) },
    ...rate,
    Line: outLines,
    TotalAmt: fromMinor(debits, currency),
    ...(ctx.company.settings.multicurrency
      ? { HomeTotalAmt: Number((fromMinor(debits, currency) * Number(rate.ExchangeRate)).toFixed(2)) }
      : {}),
    domain: 'QBO',
    sparse: false,
  };
}

// ------------------------------------------------------------------------------------------ transactions

function txnStore(ctx: WriteContext, type: TxnType): Map<string, TxnEntity> {
  return type === 'Deposit' ? ctx.company.deposits : ctx.company.journalEntries;
}

function buildTxn(ctx: WriteContext, type: TxnType, body: unknown): BuiltTxn {
  return type === 'Deposit'
    ? buildDeposit(ctx, parseBody(depositSchema, body, 'Deposit'))
    : buildJournal(ctx, parseBody(journalSchema, body, 'JournalEntry'));
}

/** POST /deposit or /journalentry: a create, or an update when the body has an Id. */
export function writeTxn(ctx: WriteContext, type: TxnType, body: unknown): TxnEntity {
  const parsed = parseBody(deleteSchema, body, type);
  if (parsed.Id !== undefined) return updateTxn(ctx, type, body);
  const built = buildTxn(ctx, type, body);
  const time = qboTime(ctx.nowMs);
  const entity = {
    ...built,
    Id: ctx.company.newId(),
    SyncToken: '0',
    MetaData: { CreateTime: time, LastUpdatedTime: time },
  };
  txnStore(ctx, type).set(entity.Id, entity);
  return entity;
}

export function updateTxn(ctx: WriteContext, type: TxnType, body: unknown): TxnEntity {
  const parsed = parseBody(deleteSchema, body, type);
  if (parsed.Id === undefined) throw requiredMissing('Required parameter Id is missing in the request', 'Id');
  const existing = checkSyncToken(txnStore(ctx, type).get(parsed.Id), parsed.Id, parsed.SyncToken, type);
  checkTxnDate(ctx, existing.TxnDate);
  const sparse = (body as { sparse?: unknown }).sparse === true;
  const merged = sparse ? { ...existing, ...(body as Record<string, unknown>) } : body;
  const built = buildTxn(ctx, type, merged);
  const entity: TxnEntity = {
    ...built,
    Id: existing.Id,
    SyncToken: String(Number(existing.SyncToken) + 1),
    MetaData: { CreateTime: existing.MetaData.CreateTime, LastUpdatedTime: qboTime(ctx.nowMs) },
  };
  txnStore(ctx, type).set(entity.Id, entity);
  return entity;
}

/** POST /deposit?operation=delete (and journalentry). */
export function deleteTxn(
  ctx: WriteContext,
  type: TxnType,
  body: unknown,
): { Id: string; status: 'Deleted'; domain: 'QBO' } {
  const parsed = parseBody(deleteSchema, body, type);
  if (parsed.Id === undefined) throw requiredMissing('Required parameter Id is missing in the request', 'Id');
  const existing = checkSyncToken(txnStore(ctx, type).get(parsed.Id), parsed.Id, parsed.SyncToken, type);
  checkTxnDate(ctx, existing.TxnDate);
  txnStore(ctx, type).delete(existing.Id);
  return { Id: existing.Id, status: 'Deleted', domain: 'QBO' };
}

// ------------------------------------------------------------------------------------------ Customer

const NAME_PARTS = ['Title', 'GivenName', 'MiddleName', 'FamilyName', 'Suffix'] as const;

function buildCustomer(
  ctx: WriteContext,
  body: CustomerIn,
  selfId: string | undefined,
): Record<string, unknown> {
  const fromParts = NAME_PARTS.map((p) => body[p]?.trim())
    .filter((s): s is string => Boolean(s))
    .join(' ');
  const displayName = body.DisplayName ?? (fromParts || undefined);
  if (displayName === undefined || displayName.trim() === '') {
    throw requiredMissing(
      'Required parameter DisplayName is missing in the request (send DisplayName, or at least one of Title, ' +
        'GivenName, MiddleName, FamilyName, Suffix)',
      'DisplayName',
    );
  }
  if (/[:\t\n\r]/.test(displayName)) {
    throw businessValidation(
      `DisplayName "${displayName.replace(/[\t\n\r]/g, ' ')}" must not contain ":", a tab or a new line.`,
      'DisplayName',
    );
  }
  checkLength(displayName, 500, 'DisplayName');
  for (const p of NAME_PARTS) checkLength(body[p], p === 'Title' ? 16 : p === 'Suffix' ? 16 : 100, p);
  checkLength(body.CompanyName, 100, 'CompanyName');
  checkLength(body.Notes, 2000, 'Notes');
  const owner = ctx.company.customerIdByName(displayName);
  if (owner !== undefined && owner !== selfId) throw duplicateName();

  const email = body.PrimaryEmailAddr?.Address;
  if (email !== undefined && email !== '' && !(email.includes('@') && email.includes('.'))) {
    throw businessValidation(
      `PrimaryEmailAddr.Address "${email}" is not a valid email address: it must contain "@" and ".".`,
      'PrimaryEmailAddr.Address',
    );
  }
  const s = ctx.company.settings;
  const currency = (body.CurrencyRef?.value ?? s.homeCurrency).toUpperCase();
  if (!s.multicurrency && currency !== s.homeCurrency) {
    throw businessValidation(
      `CurrencyRef ${currency} differs from the home currency ${s.homeCurrency} and multicurrency is off.`,
      'CurrencyRef',
    );
  }
  let fullyQualifiedName = displayName;
  let parent: Record<string, unknown> = {};
  if (body.ParentRef) {
    const p = customer(ctx, body.ParentRef, 'ParentRef');
    fullyQualifiedName = `${String(p.FullyQualifiedName ?? p.DisplayName)}:${displayName}`;
    parent = { ParentRef: { value: p.Id }, Job: true, Level: Number(p.Level ?? 0) + 1 };
  }
  const {
    Id: _id,
    SyncToken: _st,
    sparse: _sp,
    domain: _d,
    MetaData: _m,
    FullyQualifiedName: _f,
    Balance: _b,
    BalanceWithJobs: _bj,
    IsProject: _p,
    CurrencyRef: _c,
    PrimaryEmailAddr: _e,
    ParentRef: _pr,
    ...writable
  } = body;
  return {
    ...customerDefaults(displayName, currency),
    ...writable,
    DisplayName: displayName,
    FullyQualifiedName: fullyQualifiedName,
    PrintOnCheckName: body.PrintOnCheckName ?? displayName,
    ...(email ? { PrimaryEmailAddr: { Address: email } } : {}),
    ...parent,
    Active: body.Active ?? true,
    domain: 'QBO',
    sparse: false,
  };
}

/** POST /customer: a create, or an update when the body has an Id. */
export function writeCustomer(ctx: WriteContext, body: unknown): CustomerEntity {
  const parsed = parseBody(customerSchema, body, 'Customer');
  if (parsed.Id !== undefined) return updateCustomer(ctx, body);
  const built = buildCustomer(ctx, parsed, undefined);
  const time = qboTime(ctx.nowMs);
  const entity: CustomerEntity = {
    ...built,
    DisplayName: String(built.DisplayName),
    Active: built.Active !== false,
    Id: ctx.company.newId(),
    SyncToken: '0',
    MetaData: { CreateTime: time, LastUpdatedTime: time },
  };
  ctx.company.putCustomer(entity);
  return entity;
}

export function updateCustomer(ctx: WriteContext, body: unknown): CustomerEntity {
  const parsed = parseBody(customerSchema, body, 'Customer');
  if (parsed.Id === undefined) throw requiredMissing('Required parameter Id is missing in the request', 'Id');
  const existing = ctx.company.customers.get(parsed.Id);
  if (!existing) throw objectNotFound(`Customer Id ${parsed.Id} was not found.`, 'Id');
  checkSyncToken(existing, parsed.Id, parsed.SyncToken, 'Customer');
  if (parsed.sparse === true && parsed.DisplayName !== undefined && parsed.DisplayName.trim() === '') {
    throw businessValidation('DisplayName cannot be removed with a sparse update.', 'DisplayName');
  }
  const merged =
    parsed.sparse === true
      ? parseBody(customerSchema, { ...stripReadOnly(existing), ...parsed }, 'Customer')
      : parsed;
  const built = buildCustomer(ctx, merged, existing.Id);
  const entity: CustomerEntity = {
    ...built,
    DisplayName: String(built.DisplayName),
    Active: built.Active !== false,
    Id: existing.Id,
    SyncToken: String(Number(existing.SyncToken) + 1),
    MetaData: { CreateTime: existing.MetaData.CreateTime, LastUpdatedTime: qboTime(ctx.nowMs) },
  };
  ctx.company.putCustomer(entity);
  return entity;
}

function stripReadOnly(c: CustomerEntity): Record<string, unknown> {
  const { Balance: _b, BalanceWithJobs: _bj, FullyQualifiedName: _f, IsProject: _p, ...rest } = c;
  return rest;
}
