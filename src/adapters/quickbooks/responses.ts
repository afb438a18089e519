/** The QuickBooks answers the client reads (only the fields used), and their mapping to the ports' types. */
import { z } from 'zod';
import type { QboAccount, QboClass, QboCustomer } from '../../app/ports.js';
import { normaliseEmail } from '../../domain/members.js';
import { type FaultObject, FaultSchema, faultFromObject, type QboFault } from './faults.js';

// ---------------------------------------------------------------- response schemas (only the fields used)

export const IdSchema = z.union([z.string(), z.number()]).transform(String);

export const CustomerSchema = z
  .object({
    Id: IdSchema,
    DisplayName: z.string().default(''),
    PrimaryEmailAddr: z.object({ Address: z.string().optional() }).loose().optional(),
    Active: z.boolean().default(true),
    MetaData: z.object({ CreateTime: z.string().optional() }).loose().optional(),
    /** The customer's currency (Intuit's Customer reference); absent from some answers, then unknown. */
    CurrencyRef: z.object({ value: z.string().optional() }).loose().nullish(),
  })
  .loose();

export const AccountSchema = z
  .object({
    Id: IdSchema,
    Name: z.string(),
    FullyQualifiedName: z.string().optional(),
    AccountType: z.string(),
    AccountSubType: z.string().optional(),
    Active: z.boolean().default(true),
    CurrencyRef: z.object({ value: z.string() }).loose().optional(),
  })
  .loose();

export const ClassSchema = z
  .object({
    Id: IdSchema,
    Name: z.string(),
    FullyQualifiedName: z.string().optional(),
    Active: z.boolean().default(true),
  })
  .loose();

const RefSchema = z.object({ value: IdSchema }).loose();

/** A Deposit or JournalEntry as a query returns it (the fields our own-entry lookup compares). */
export const TxnSchema = z
  .object({
    Id: IdSchema,
    TxnDate: z.string().optional(),
    PrivateNote: z.string().nullish(),
    TotalAmt: z.union([z.number(), z.string()]).nullish(),
    DepositToAccountRef: RefSchema.nullish(),
    Line: z
      .array(
        z
          .object({
            JournalEntryLineDetail: z.object({ AccountRef: RefSchema.nullish() }).loose().nullish(),
          })
          .loose(),
      )
      .nullish(),
  })
  .loose();

export type QboTxn = z.infer<typeof TxnSchema>;

export const QueryResponseSchema = z
  .object({
    Deposit: z.array(TxnSchema).optional(),
    JournalEntry: z.array(TxnSchema).optional(),
    Customer: z.array(CustomerSchema).optional(),
    Account: z.array(AccountSchema).optional(),
    Class: z.array(ClassSchema).optional(),
    totalCount: z.number().optional(),
  })
  .loose();

export const QueryEnvelopeSchema = z.object({ QueryResponse: QueryResponseSchema.default({}) }).loose();

export const BatchItemResponseSchema = z
  .object({
    bId: IdSchema,
    // A batch item's fault comes in either casing, with null fields (docs/quickbooks.md, "Error forms").
    Fault: FaultSchema.nullish(),
    fault: FaultSchema.nullish(),
    QueryResponse: QueryResponseSchema.nullish(),
    Customer: CustomerSchema.nullish(),
  })
  .loose();

/** The fault of a batch item, in whichever casing it came. */
export function batchItemFault(r: {
  Fault?: FaultObject | null;
  fault?: FaultObject | null;
}): QboFault | undefined {
  const f = r.Fault ?? r.fault;
  return f ? faultFromObject(f) : undefined;
}

export const BatchEnvelopeSchema = z.object({ BatchItemResponse: z.array(BatchItemResponseSchema) }).loose();

export const EntitySchema = z.object({ Id: IdSchema, SyncToken: IdSchema.optional() }).loose();

export const PreferencesSchema = z
  .object({
    Preferences: z
      .object({
        AccountingInfoPrefs: z
          .object({
            ClassTrackingPerTxnLine: z.boolean().optional(),
            BookCloseDate: z.string().nullable().optional(),
          })
          .loose()
          .optional(),
        CurrencyPrefs: z
          .object({
            MultiCurrencyEnabled: z.boolean().optional(),
            HomeCurrency: z.object({ value: z.string() }).loose().optional(),
          })
          .loose()
          .optional(),
      })
      .loose(),
  })
  .loose();

export type QueryResponse = z.infer<typeof QueryResponseSchema>;
export type BatchItemResponse = z.infer<typeof BatchItemResponseSchema>;

export function toCustomer(c: z.infer<typeof CustomerSchema>): QboCustomer {
  const email = normaliseEmail(c.PrimaryEmailAddr?.Address);
  return {
    id: c.Id,
    displayName: c.DisplayName,
    ...(email !== undefined ? { email } : {}),
    active: c.Active,
    ...(c.MetaData?.CreateTime !== undefined ? { createTime: c.MetaData.CreateTime } : {}),
    ...(c.CurrencyRef?.value ? { currency: c.CurrencyRef.value.trim().toUpperCase() } : {}),
  };
}

export function toAccount(a: z.infer<typeof AccountSchema>): QboAccount {
  return {
    id: a.Id,
    name: a.Name,
    fullyQualifiedName: a.FullyQualifiedName ?? a.Name,
    accountType: a.AccountType,
    ...(a.AccountSubType !== undefined ? { accountSubType: a.AccountSubType } : {}),
    active: a.Active,
    ...(a.CurrencyRef?.value !== undefined ? { currency: a.CurrencyRef.value.toUpperCase() } : {}),
  };
}

export function toClass(c: z.infer<typeof ClassSchema>): QboClass {
  return { id: c.Id, name: c.Name, fullyQualifiedName: c.FullyQualifiedName ?? c.Name, active: c.Active };
}

/**
 * The ExchangeRate entity's read (`GET /exchangerate?sourcecurrencycode=…&asofdate=…`): Intuit's API reference
 * (ExchangeRate: SourceCurrencyCode, TargetCurrencyCode, Rate, AsOfDate, MetaData). `Rate` may come as a string in
 * some SDK serialisations; both are accepted. Fields are optional so a partial answer holds the payout with a
 * reason instead of failing it as an unexpected shape.
 */
export const ExchangeRateResponseSchema = z
  .object({
    ExchangeRate: z
      .object({
        SourceCurrencyCode: z.string().optional(),
        TargetCurrencyCode: z.string().optional(),
        Rate: z
          .union([
            z.number(),
            z
              .string()
              .regex(/^\d+(\.\d+)?$/)
              .transform(Number),
          ])
          .optional(),
        AsOfDate: z.string().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
