/**
 * The sync config file (CONTRACT §2): its shape, as written by people. Accounts and classes are still
 * names here; `src/adapters/quickbooks/chart.ts` resolves them to ids (→ `TenantBooks`).
 */
import { z } from 'zod';

const nonEmpty = (what: string) =>
  z
    .string({ error: `${what} must be a text value` })
    .trim()
    .min(1, { error: `${what} must not be empty` });

/** An account or class named by Id, `Name` or `FullyQualifiedName`; a draft's `TODO` is refused, naming the entry. */
const accountName = (what: string) =>
  nonEmpty(what)
    .max(300)
    .refine((v) => !/^TODO\b/i.test(v), {
      error: `${what} is still TODO: choose one of the candidates \`config suggest\` listed, or remove the entry`,
    });

export const RevenueEntrySchema = z
  .object({
    category: nonEmpty('category'),
    subcategory: nonEmpty('subcategory').optional(),
    account: accountName('account'),
    class: accountName('class').optional(),
  })
  .strict();

export const LINE_DETAIL_MODES = ['customer', 'category', 'transaction'] as const;

/** What happens to a payout dated on or before the company's closing date (CONTRACT §2). */
export const CLOSED_PERIOD_POLICIES = ['hold', 'nextOpenDate'] as const;

export const QuickBooksSectionSchema = z
  .object({
    realmId: z
      .union([z.string(), z.number().int()])
      .transform((v) => String(v).trim())
      .pipe(
        z
          .string()
          .regex(/^\d{1,20}$/, { error: 'realmId must be the company id: digits only, e.g. "9341453187"' }),
      ),
    depositAccount: accountName('depositAccount'),
    processingFeesAccount: accountName('processingFeesAccount'),
    platformFeesAccount: accountName('platformFeesAccount').optional(),
    disputesAccount: accountName('disputesAccount').optional(),
    adjustmentsAccount: accountName('adjustmentsAccount'),
    uncategorizedAccount: accountName('uncategorizedAccount').optional(),
    walkInCustomer: nonEmpty('walkInCustomer').optional(),
    lineDetail: z
      .enum(LINE_DETAIL_MODES, { error: 'lineDetail must be one of customer, category, transaction' })
      .default('customer'),
    maxDepositLines: z
      .number({ error: 'maxDepositLines must be a whole number' })
      .int({ error: 'maxDepositLines must be a whole number' })
      .min(1)
      .max(100000)
      .default(1000),
    closedPeriod: z
      .enum(CLOSED_PERIOD_POLICIES, { error: 'closedPeriod must be hold or nextOpenDate' })
      .default('hold'),
    refreshToken: nonEmpty('refreshToken').optional(),
  })
  .strict();

export const TenantConfigSchema = z
  .object({
    id: z
      .string({ error: 'id must be a text value' })
      .regex(/^[a-z0-9-]{2,64}$/, { error: 'id must be 2–64 characters of a-z, 0-9 and "-"' }),
    stripeAccount: z
      .string({ error: 'stripeAccount must be a text value' })
      .regex(/^(platform|acct_[A-Za-z0-9]+)$/, {
        error: 'stripeAccount must be a connected account id (acct_…) or "platform"',
      }),
    quickbooks: QuickBooksSectionSchema,
    revenue: z.array(RevenueEntrySchema).default([]),
  })
  .strict();

export const SyncConfigFileSchema = z
  .object({
    tenants: z.array(TenantConfigSchema).min(1, { error: 'the file must list at least one tenant' }),
  })
  .strict()
  .superRefine((file, ctx) => {
    const ids = new Map<string, number>();
    const accounts = new Map<string, number>();
    file.tenants.forEach((t, i) => {
      const prevId = ids.get(t.id);
      if (prevId !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['tenants', i, 'id'],
          message: `tenant id "${t.id}" is already used by tenants[${prevId}]; ids must be unique`,
        });
      } else ids.set(t.id, i);
      const prevAcct = accounts.get(t.stripeAccount);
      if (prevAcct !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['tenants', i, 'stripeAccount'],
          message: `stripeAccount "${t.stripeAccount}" is already used by tenants[${prevAcct}]; each Stripe account belongs to one tenant`,
        });
      } else accounts.set(t.stripeAccount, i);
    });
  });

export type RevenueEntry = z.infer<typeof RevenueEntrySchema>;
export type TenantConfig = z.infer<typeof TenantConfigSchema>;
export type SyncConfigFile = z.infer<typeof SyncConfigFileSchema>;
