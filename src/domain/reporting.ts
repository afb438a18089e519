/**
 * What a balance transaction's gross amount books to, read the way Stripe says to read it (CONTRACT §3): by
 * `reporting_category` where Stripe gives one, else by `type`.
 *
 * Sources: docs.stripe.com/reports/reporting-categories ("use the `reporting_category` field instead of the
 * `type` field" for accounting; it splits `type: adjustment` into `dispute`, `dispute_reversal`,
 * `refund_failure` and `fee`, and has its own `partial_capture_reversal`); the category list is stripe 23.1.0's
 * `Reporting.ReportRunCreateParams.Parameters.ReportingCategory` (node_modules/stripe/cjs/resources/Reporting/
 * ReportRuns.d.ts); the type list is `BalanceTransaction.type`'s doc comment in BalanceTransactions.d.ts.
 */
import { type BalanceTransaction, type BalanceTransactionSource, isDispute, sourceId } from './stripe.js';

export const BOOKING_KINDS = [
  'revenue',
  'refund',
  'dispute',
  'adjustment',
  'processingFee',
  'platformFee',
] as const;
export type BookingKind = (typeof BOOKING_KINDS)[number];

/** A gross amount's kind: a booking kind, or a failed payout's funds coming back (itemised, see classify.ts). */
export type GrossKind = BookingKind | 'payoutReversal';

/** Every `reporting_category` Stripe documents (stripe 23.1.0); any other string is accepted as an adjustment. */
export const DOCUMENTED_REPORTING_CATEGORIES = [
  'advance',
  'advance_funding',
  'anticipation_repayment',
  'charge',
  'charge_failure',
  'climate_order_purchase',
  'climate_order_refund',
  'connect_collection_transfer',
  'connect_reserved_funds',
  'contribution',
  'dispute',
  'dispute_reversal',
  'fee',
  'financing_paydown',
  'financing_paydown_reversal',
  'financing_payout',
  'financing_payout_reversal',
  'issuing_authorization_hold',
  'issuing_authorization_release',
  'issuing_dispute',
  'issuing_transaction',
  'network_cost',
  'other_adjustment',
  'partial_capture_reversal',
  'payout',
  'payout_reversal',
  'platform_earning',
  'platform_earning_refund',
  'refund',
  'refund_failure',
  'risk_reserved_funds',
  'tax',
  'topup',
  'topup_reversal',
  'transfer',
  'transfer_reversal',
  'unreconciled_customer_funds',
] as const;

/** `reporting_category` → kind (CONTRACT §3); every other category is an adjustment. */
export const CATEGORY_KINDS: ReadonlyMap<string, GrossKind> = new Map<string, GrossKind>([
  ['charge', 'revenue'],
  ['refund', 'refund'],
  ['refund_failure', 'refund'],
  ['partial_capture_reversal', 'refund'],
  ['charge_failure', 'refund'],
  ['dispute', 'dispute'],
  ['dispute_reversal', 'dispute'],
  ['fee', 'processingFee'],
  ['platform_earning', 'platformFee'],
  ['platform_earning_refund', 'platformFee'],
  ['payout_reversal', 'payoutReversal'],
]);

/** `type` → kind, for a transaction without `reporting_category`; `adjustment` is read by its source. */
export const TYPE_KINDS: ReadonlyMap<string, GrossKind> = new Map<string, GrossKind>([
  ['charge', 'revenue'],
  ['payment', 'revenue'],
  ['refund', 'refund'],
  ['payment_refund', 'refund'],
  ['payment_failure_refund', 'refund'],
  ['refund_failure', 'refund'],
  ['stripe_fee', 'processingFee'],
  ['stripe_fx_fee', 'processingFee'],
  ['tax_fee', 'processingFee'],
  ['application_fee', 'platformFee'],
  ['application_fee_refund', 'platformFee'],
  ['payout_failure', 'payoutReversal'],
  ['payout_cancel', 'payoutReversal'],
]);

/** A dispute source: an expanded dispute, or a `du_…` / `dp_…` id. */
export function isDisputeSource(source: BalanceTransactionSource): boolean {
  if (isDispute(source)) return true;
  const id = sourceId(source);
  return id !== undefined && (id.startsWith('du_') || id.startsWith('dp_'));
}

/** A fee refund source: an expanded `fee_refund`, or an `fr_…` id (stripe 23.1.0 FeeRefunds.d.ts). */
export function isFeeRefundSource(source: BalanceTransactionSource): boolean {
  if (typeof source === 'object' && source !== null && source.object === 'fee_refund') return true;
  return sourceId(source)?.startsWith('fr_') === true;
}

/** The category a transaction is read by: its `reporting_category`, else its `type`. */
export function categoryOf(bt: BalanceTransaction): string {
  return bt.reporting_category ?? bt.type;
}

/** The kind of a transaction's gross amount: by `reporting_category` where present, else by `type` (and source). */
export function grossKindOf(bt: BalanceTransaction): GrossKind {
  if (bt.reporting_category !== undefined && bt.reporting_category !== null) {
    return CATEGORY_KINDS.get(bt.reporting_category) ?? 'adjustment';
  }
  const byType = TYPE_KINDS.get(bt.type);
  if (byType !== undefined) return byType;
  if (bt.type === 'adjustment') {
    if (isDisputeSource(bt.source)) return 'dispute';
    if (isFeeRefundSource(bt.source)) return 'processingFee';
  }
  return 'adjustment';
}

/** The failed payout a `payout_reversal` transaction returns the funds of (its source), if it names one. */
export function returnedPayoutOf(bt: BalanceTransaction): string | undefined {
  if (grossKindOf(bt) !== 'payoutReversal') return undefined;
  const id = sourceId(bt.source);
  return id?.startsWith('po_') ? id : undefined;
}

/** `fee_details` types booked to the platform fee account; every other type (known or not) is a processing fee. */
export const PLATFORM_FEE_DETAIL_TYPES: ReadonlySet<string> = new Set(['application_fee']);

/** The kind a `fee_details` entry books to. */
export function kindOfFeeDetail(type: string): 'processingFee' | 'platformFee' {
  return PLATFORM_FEE_DETAIL_TYPES.has(type) ? 'platformFee' : 'processingFee';
}
