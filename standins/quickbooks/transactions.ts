import { qboTime } from './clock.js';
import type { TxnEntity } from './company.js';
import {
  businessValidation,
  invalidEnum,
  invalidProperty,
  invalidReference,
  requiredMissing,
} from './faults.js';
import { currencyName, fromMinor } from './money.js';
import {
  account,
  type BuiltTxn,
  checkEntityCurrency,
  checkLength,
  checkLineCurrency,
  checkLinkedTxns,
  checkNoDepartment,
  checkSyncToken,
  checkTxnDate,
  classRef,
  commonHeader,
  customer,
  exchangeRateFields,
  minor,
  parseBody,
  type TxnType,
  txnCurrency,
  type WriteContext,
} from './write-rules.js';
import {
  type DepositIn,
  deleteSchema,
  depositSchema,
  type JournalIn,
  journalSchema,
} from './write-schemas.js';

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
      checkEntityCurrency(ctx, c, currency, `${el}.DepositLineDetail.Entity`);
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
      checkEntityCurrency(ctx, c, currency, `${el}.JournalEntryLineDetail.Entity.EntityRef`);
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
  ctx.company.recordDeletion(type, existing.Id, ctx.nowMs);
  return { Id: existing.Id, status: 'Deleted', domain: 'QBO' };
}
