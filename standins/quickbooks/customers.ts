import { qboTime } from './clock.js';
import { type CustomerEntity, customerDefaults } from './company.js';
import { businessValidation, duplicateName, objectNotFound, requiredMissing } from './faults.js';
import {
  checkLength,
  checkSyncToken,
  currencyOfCustomer,
  customer,
  parseBody,
  type WriteContext,
} from './write-rules.js';
import { type CustomerIn, customerSchema } from './write-schemas.js';

// ------------------------------------------------------------------------------------------ Customer

const NAME_PARTS = ['Title', 'GivenName', 'MiddleName', 'FamilyName', 'Suffix'] as const;

function buildCustomer(
  ctx: WriteContext,
  body: CustomerIn,
  selfId: string | undefined,
  /** An existing customer's currency: "Once set, it cannot be changed" (Intuit's Customer reference). */
  fixedCurrency?: string,
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
  const currency = (body.CurrencyRef?.value ?? fixedCurrency ?? s.homeCurrency).toUpperCase();
  if (fixedCurrency !== undefined && currency !== fixedCurrency) {
    throw businessValidation(
      `CurrencyRef: the customer is in ${fixedCurrency}; a customer's currency cannot be changed once set.`,
      'CurrencyRef',
    );
  }
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
  const built = buildCustomer(
    ctx,
    merged,
    existing.Id,
    currencyOfCustomer(existing, ctx.company.settings.homeCurrency),
  );
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
