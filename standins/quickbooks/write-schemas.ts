/**
 * The request bodies the stand-in accepts for Customer, Deposit and JournalEntry writes: strict schemas, so an
 * unknown property is refused as QuickBooks refuses it (external-apis.md §1–4).
 */
import { z } from 'zod';

// ------------------------------------------------------------------------------------------ schemas

export const id = z.union([z.string(), z.number()]).transform(String);
export const ref = z.strictObject({ value: id, name: z.string().optional(), type: z.string().optional() });
export type RefIn = z.infer<typeof ref>;
export const amount = z.union([z.number(), z.string()]);
/** Read-only fields QuickBooks returns; accepted (and ignored) in a request, as QuickBooks does. */
export const readOnly = {
  Id: id.optional(),
  SyncToken: id.optional(),
  sparse: z.boolean().optional(),
  domain: z.string().optional(),
  MetaData: z.unknown().optional(),
};
export const phone = z.strictObject({ FreeFormNumber: z.string() });
export const address = z.strictObject({
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

export const customerSchema = z.strictObject({
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
export type CustomerIn = z.infer<typeof customerSchema>;

export const linkedTxn = z.strictObject({ TxnId: id, TxnType: z.string(), TxnLineId: id.optional() });

export const depositLineSchema = z.strictObject({
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

export const txnHeader = {
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

export const depositSchema = z.strictObject({
  ...txnHeader,
  DepositToAccountRef: ref.optional(),
  CashBack: z
    .strictObject({ AccountRef: ref.optional(), Amount: amount.optional(), Memo: z.string().optional() })
    .optional(),
  Line: z.array(depositLineSchema).optional(),
});
export type DepositIn = z.infer<typeof depositSchema>;

export const jeLineSchema = z.strictObject({
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

export const journalSchema = z.strictObject({
  ...txnHeader,
  Adjustment: z.boolean().optional(),
  Line: z.array(jeLineSchema).optional(),
});
export type JournalIn = z.infer<typeof journalSchema>;

export const deleteSchema = z.looseObject({ Id: id.optional(), SyncToken: id.optional() });
