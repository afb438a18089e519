/**
 * Zod schemas for the Stripe objects the pipeline reads: payouts, balance transactions (with their
 * expanded `source`), charges, refunds, disputes and the webhook event envelope.
 *
 * Read as Stripe documents them (CONTRACT §3), checked against the `stripe` package 23.1.0's generated types
 * (node_modules/stripe/cjs/resources/{Payouts,Refunds,Charges,Disputes,BalanceTransactions}.d.ts, generated
 * from Stripe's OpenAPI spec, stripe/openapi `openapi/spec3.json`):
 * - every field the API reference marks nullable may be `null`: `Payout.metadata: Metadata | null`,
 *   `Refund.metadata: Metadata | null`, `Refund.charge`, `Refund.status`, `Payout.description`, `failure_*`,
 *   `BalanceTransaction.source`, `description`, `exchange_rate`, `FeeDetail.description`, `application`;
 * - every expandable field (`source`, a refund's or dispute's `charge`, `payout.balance_transaction`) may
 *   arrive as an id string or as the object;
 * - fields Stripe adds later are accepted: a payout and the webhook envelope keep them (loose); the objects read
 *   by the thousand (balance transactions, their fee details and expanded sources) keep only the fields the
 *   product reads (zod's default strip), so validating a 10,000-transaction payout copies no more than it needs;
 *   enumerations Stripe marks
 *   `| OtherString` (balance transaction `type` and `reporting_category`, fee detail `type`, payout `status`
 *   and `reconciliation_status`) are plain strings, and an expanded `source` of an object type we do not know
 *   is accepted as `OtherSource`.
 */
import { z } from 'zod';

// Read for every amount of every balance transaction: checks and `overwrite` (no refine or transform layers, which
// cost a wrapper and an allocation per field). zod's `int()` accepts safe integers only.
const minor = (what: string) =>
  z
    .number({ error: `${what} must be a number of minor units` })
    .int({
      error: (issue) =>
        issue.code === 'too_big' || issue.code === 'too_small'
          ? `${what} is too large to be exact`
          : `${what} must be a whole number of minor units`,
    })
    // JSON can carry -0; amounts are compared and summed exactly, so it enters the domain as 0.
    .overwrite((n) => (n === 0 ? 0 : n));

const unixSeconds = (what: string) =>
  z
    .number({ error: `${what} must be a unix timestamp in seconds` })
    .int({ error: `${what} must be whole seconds` });

const currency = z
  .string({ error: 'currency must be a text value' })
  .regex(/^[a-zA-Z]{3}$/, { error: 'currency must be a three-letter ISO code, e.g. "usd"' })
  .toLowerCase();

const idWith = (what: string, prefixes: readonly string[]) =>
  z.string({ error: `${what} must be a text value` }).refine((s) => prefixes.some((p) => s.startsWith(p)), {
    error: `${what} must start with ${prefixes.map((p) => `"${p}"`).join(' or ')}`,
  });

/**
 * Stripe metadata: string keys and string values. Absent or `null` (payouts, refunds and fee refunds declare
 * `metadata: Metadata | null` in stripe 23.1.0's types) both mean `{}`.
 */
export const MetadataSchema = z
  .record(z.string(), z.string())
  .nullable()
  .optional()
  .transform((m): Record<string, string> => m ?? {});

const nullableText = z.string().nullable().optional();

export const BillingDetailsSchema = z
  .object({
    email: nullableText,
    name: nullableText,
  })
  .strip();

/** A charge (`ch_…`), or a connected-account payment (`py_…`, also `object: 'charge'`). */
export const ChargeSchema = z
  .object({
    id: idWith('charge id', ['ch_', 'py_']),
    object: z.literal('charge'),
    amount: minor('charge amount'),
    currency,
    metadata: MetadataSchema,
    billing_details: BillingDetailsSchema.nullable().optional(),
    receipt_email: nullableText,
    description: nullableText,
    created: unixSeconds('charge created').optional(),
  })
  .strip();
export type Charge = z.infer<typeof ChargeSchema>;

/** Copies a nested parse's issues into the outer context, under their own paths. */
function reportIssues(ctx: z.RefinementCtx, issues: readonly z.core.$ZodIssue[], prefix: string): void {
  for (const issue of issues) {
    ctx.addIssue({ code: 'custom', path: issue.path, message: `${prefix}${issue.message}` });
  }
}

/** A charge reference: its id, or the expanded charge. */
export const ChargeRefSchema = z.unknown().transform((value, ctx): string | Charge => {
  if (typeof value === 'string') return value;
  const parsed = ChargeSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  reportIssues(ctx, parsed.error.issues, 'charge: ');
  return z.NEVER;
});
export type ChargeRef = z.infer<typeof ChargeRefSchema>;

export const RefundSchema = z
  .object({
    id: z.string(),
    object: z.literal('refund'),
    amount: minor('refund amount').optional(),
    currency: currency.optional(),
    charge: ChargeRefSchema.nullable().optional(),
    metadata: MetadataSchema,
    status: z.string().nullable().optional(),
  })
  .strip();
export type Refund = z.infer<typeof RefundSchema>;

export const DisputeSchema = z
  .object({
    id: z.string(),
    object: z.literal('dispute'),
    amount: minor('dispute amount').optional(),
    currency: currency.optional(),
    charge: ChargeRefSchema.nullable().optional(),
    status: z.string().nullable().optional(),
    reason: z.string().nullable().optional(),
  })
  .strip();
export type Dispute = z.infer<typeof DisputeSchema>;

/** Any other expanded source (transfer, payout, application fee, topup, reserve transaction, …). */
export const OtherSourceSchema = z
  .object({
    id: z.string({ error: 'an expanded source must have an id' }),
    object: z.string({ error: 'an expanded source must have an object type' }),
    /** A returned payout's own balance transaction (a `payout_reversal`'s source is the failed payout). */
    balance_transaction: z.unknown().optional(),
  })
  .strip();
export type OtherSource = z.infer<typeof OtherSourceSchema>;

/** The schema of an expanded source's own kind; undefined for a kind read as `OtherSource`. */
function schemaOfKind(kind: unknown) {
  return kind === 'charge'
    ? ChargeSchema
    : kind === 'refund'
      ? RefundSchema
      : kind === 'dispute'
        ? DisputeSchema
        : undefined;
}

/**
 * An expanded source, checked in one walk: a `charge`, `refund` or `dispute` against its own schema (its problems
 * reported with their paths, prefixed with the object's kind and id), any other object type as `OtherSource`.
 */
function parseExpandedSource(value: unknown, ctx: z.RefinementCtx): Charge | Refund | Dispute | OtherSource {
  const kind =
    typeof value === 'object' && value !== null ? (value as { object?: unknown }).object : undefined;
  const own = schemaOfKind(kind);
  if (own === undefined) {
    const other = OtherSourceSchema.safeParse(value);
    if (other.success) return other.data;
    reportIssues(ctx, other.error.issues, '');
    return z.NEVER;
  }
  const parsed = own.safeParse(value);
  if (parsed.success) return parsed.data;
  reportIssues(ctx, parsed.error.issues, `${String(kind)} ${String((value as { id?: unknown }).id)}: `);
  return z.NEVER;
}

/**
 * An expanded balance transaction source. A `charge`, `refund` or `dispute` must match its own schema
 * (its problems are reported with their paths); any other object type is accepted as `OtherSource`.
 */
export const ExpandedSourceSchema = z.unknown().transform(parseExpandedSource);
export type ExpandedSource = z.infer<typeof ExpandedSourceSchema>;

/** A balance transaction's `source`: `null`, an id, or the expanded object. */
export const BalanceTransactionSourceSchema = z
  .unknown()
  .transform((value, ctx): ExpandedSource | string | null => {
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return value;
    return parseExpandedSource(value, ctx);
  });
export type BalanceTransactionSource = z.infer<typeof BalanceTransactionSourceSchema>;

export const FeeDetailSchema = z
  .object({
    amount: minor('fee detail amount'),
    currency,
    /** `stripe_fee`, `application_fee`, `tax`, `withheld_tax`, `payment_method_passthrough_fee`, or a later one. */
    type: z.string(),
    description: z.string().nullable().optional(),
    application: z.string().nullable().optional(),
  })
  .strip();
export type FeeDetail = z.infer<typeof FeeDetailSchema>;

export const BalanceTransactionSchema = z
  .object({
    id: idWith('balance transaction id', ['txn_']),
    object: z.literal('balance_transaction').optional(),
    /** Gross, in the settlement currency (the payout's). */
    amount: minor('balance transaction amount'),
    currency,
    net: minor('balance transaction net'),
    fee: minor('balance transaction fee'),
    fee_details: z
      .array(FeeDetailSchema)
      .nullable()
      .optional()
      .transform((d) => d ?? []),
    /** Any string: Stripe adds types over time. */
    type: z.string(),
    /**
     * How Stripe says to classify the transaction for accounting (`charge`, `refund`, `refund_failure`, `fee`,
     * `payout_reversal`, …; any string). Absent on old API versions: the product falls back to `type`.
     */
    reporting_category: z.string().nullable().optional(),
    exchange_rate: z.number().nullable().optional(),
    created: unixSeconds('balance transaction created'),
    description: z.string().nullable().optional(),
    status: z.string().nullable().optional(),
    source: BalanceTransactionSourceSchema.default(null),
  })
  .strip();
export type BalanceTransaction = z.infer<typeof BalanceTransactionSchema>;

export const PAYOUT_STATUSES = ['paid', 'pending', 'in_transit', 'canceled', 'failed'] as const;

export const PayoutSchema = z
  .object({
    id: idWith('payout id', ['po_']),
    object: z.literal('payout'),
    amount: minor('payout amount'),
    currency,
    arrival_date: unixSeconds('arrival_date'),
    created: unixSeconds('created'),
    automatic: z.boolean({ error: 'automatic must be true or false' }),
    balance_transaction: z
      .union([z.string(), z.object({ id: z.string() }).loose()])
      .nullable()
      .optional()
      .default(null),
    /** `paid`, `pending`, `in_transit`, `canceled`, `failed` (a string, in case Stripe adds one). */
    status: z.string(),
    /** `completed`, `in_progress`, `not_applicable`, or a later value (`Payout.ReconciliationStatus | OtherString`). */
    reconciliation_status: z.string().optional(),
    livemode: z.boolean(),
    metadata: MetadataSchema,
    method: z.string().nullable().optional(),
    type: z.string().nullable().optional(),
    failure_code: z.string().nullable().optional(),
    failure_message: z.string().nullable().optional(),
    description: z.string().nullable().optional(),
  })
  .loose();
export type Payout = z.infer<typeof PayoutSchema>;

/** The webhook event envelope. `data.object` is validated by the consumer (e.g. with `PayoutSchema`). */
export const StripeEventSchema = z
  .object({
    id: idWith('event id', ['evt_']),
    object: z.literal('event'),
    type: z.string(),
    account: z.string().optional(),
    livemode: z.boolean(),
    created: unixSeconds('event created'),
    api_version: z.string().nullable().optional(),
    data: z
      .object({
        object: z.unknown(),
        previous_attributes: z.unknown().optional(),
      })
      .loose(),
  })
  .loose();
export type StripeEvent = z.infer<typeof StripeEventSchema>;

// ---------------------------------------------------------------------------------------------
// Helpers over the union types (pure).

export function isCharge(source: BalanceTransactionSource | ChargeRef | undefined): source is Charge {
  return typeof source === 'object' && source !== null && source.object === 'charge' && 'amount' in source;
}

export function isRefund(source: BalanceTransactionSource | undefined): source is Refund {
  return typeof source === 'object' && source !== null && source.object === 'refund';
}

export function isDispute(source: BalanceTransactionSource | undefined): source is Dispute {
  return typeof source === 'object' && source !== null && source.object === 'dispute';
}

/** The id of a source, whether it is a bare id or expanded. `undefined` when there is none. */
export function sourceId(source: BalanceTransactionSource | undefined): string | undefined {
  if (source === null || source === undefined) return undefined;
  return typeof source === 'string' ? source : source.id;
}

/** The id of the payout's own balance transaction, if Stripe gave one. */
export function payoutBalanceTransactionId(payout: Payout): string | undefined {
  const bt = payout.balance_transaction;
  if (bt === null || bt === undefined) return undefined;
  return typeof bt === 'string' ? bt : bt.id;
}
