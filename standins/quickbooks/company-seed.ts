/**
 * A company's seed, as tests and local mode give it: the account types the stand-in knows, the seed's schema,
 * and the ordering of sub-accounts and sub-classes after their parents. Split from company.ts.
 */
import { z } from 'zod';
import { exchangeRatesSchema } from './exchange-rates.js';

export const ACCOUNT_TYPES = {
  Bank: { classification: 'Asset', subType: 'Checking' },
  'Accounts Receivable': { classification: 'Asset', subType: 'AccountsReceivable' },
  'Other Current Asset': { classification: 'Asset', subType: 'OtherCurrentAssets' },
  'Fixed Asset': { classification: 'Asset', subType: 'OtherFixedAssets' },
  'Other Asset': { classification: 'Asset', subType: 'OtherLongTermAssets' },
  'Accounts Payable': { classification: 'Liability', subType: 'AccountsPayable' },
  'Credit Card': { classification: 'Liability', subType: 'CreditCard' },
  'Other Current Liability': { classification: 'Liability', subType: 'OtherCurrentLiabilities' },
  'Long Term Liability': { classification: 'Liability', subType: 'OtherLongTermLiabilities' },
  Equity: { classification: 'Equity', subType: 'OwnersEquity' },
  Income: { classification: 'Revenue', subType: 'OtherPrimaryIncome' },
  'Other Income': { classification: 'Revenue', subType: 'OtherMiscellaneousIncome' },
  'Cost of Goods Sold': { classification: 'Expense', subType: 'SuppliesMaterialsCogs' },
  Expense: { classification: 'Expense', subType: 'OtherMiscellaneousServiceCost' },
  'Other Expense': { classification: 'Expense', subType: 'OtherMiscellaneousExpense' },
  'Non-Posting': { classification: undefined, subType: 'OtherNonPosting' },
} as const satisfies Record<string, { classification: string | undefined; subType: string }>;
export type AccountType = keyof typeof ACCOUNT_TYPES;

export const seedSchema = z.object({
  realmId: z.string().regex(/^[0-9A-Za-z_-]{1,40}$/, 'realmId: 1–40 letters, digits, "_" or "-"'),
  companyName: z.string().min(1).optional(),
  homeCurrency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'homeCurrency: a 3-letter ISO code')
    .optional(),
  multicurrency: z.boolean().optional(),
  classTrackingPerTxnLine: z.boolean().optional(),
  closedBefore: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'closedBefore: YYYY-MM-DD')
    .optional(),
  exchangeRates: exchangeRatesSchema.optional(),
  accounts: z
    .array(
      z.object({
        Id: z.string().regex(/^\d+$/).optional(),
        Name: z
          .string()
          .min(1)
          .max(100)
          .refine((s) => !s.includes(':') && !s.includes('"'), 'no ":" or \'"\' in Name'),
        AccountType: z.enum(Object.keys(ACCOUNT_TYPES) as [AccountType, ...AccountType[]]),
        AccountSubType: z.string().min(1).optional(),
        Active: z.boolean().optional(),
        CurrencyRef: z
          .string()
          .regex(/^[A-Za-z]{3}$/)
          .optional(),
        ParentName: z.string().min(1).optional(),
      }),
    )
    .optional(),
  classes: z
    .array(
      z.object({
        Id: z.string().regex(/^\d+$/).optional(),
        Name: z.string().min(1).max(100),
        Active: z.boolean().optional(),
        ParentName: z.string().min(1).optional(),
      }),
    )
    .optional(),
  customers: z
    .array(
      z.object({
        Id: z.string().regex(/^\d+$/).optional(),
        DisplayName: z.string().min(1).max(500),
        Email: z.string().optional(),
        Active: z.boolean().optional(),
        CreateTime: z.string().optional(),
        /** ISO currency of the customer (its `CurrencyRef`); default the home currency. */
        CurrencyRef: z
          .string()
          .regex(/^[A-Za-z]{3}$/, 'CurrencyRef: a 3-letter ISO code')
          .optional(),
      }),
    )
    .optional(),
});

/** Orders seed items so parents come before children; throws on an unknown parent or a cycle. */
export function resolveParents<T>(
  items: readonly T[],
  name: (t: T) => string,
  parentName: (t: T) => string | undefined,
  what: string,
): Array<{ item: T; parent: string | undefined }> {
  const out: Array<{ item: T; parent: string | undefined }> = [];
  const placed = new Set<string>();
  const fqn = new Map<string, string>();
  let pending = [...items];
  while (pending.length > 0) {
    const next: T[] = [];
    for (const item of pending) {
      const p = parentName(item);
      const parentFqn = p === undefined ? undefined : placed.has(p) ? p : fqn.get(p);
      if (p !== undefined && parentFqn === undefined) {
        next.push(item);
        continue;
      }
      const full = parentFqn ? `${parentFqn}:${name(item)}` : name(item);
      placed.add(full);
      if (!fqn.has(name(item))) fqn.set(name(item), full);
      out.push({ item, parent: parentFqn });
    }
    if (next.length === pending.length) {
      const names = next.map((i) => `${name(i)} (parent ${parentName(i)})`).join(', ');
      throw new Error(`QuickBooks stand-in: ${what}: unknown parent for ${names}`);
    }
    pending = next;
  }
  return out;
}
