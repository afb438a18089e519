/**
 * Builders for domain tests: Stripe objects (parsed through the real schemas, so the fixtures stay honest)
 * and a tenant's books.
 */
import {
  type BalanceTransaction,
  BalanceTransactionSchema,
  type Charge,
  ChargeSchema,
  type Payout,
  PayoutSchema,
} from '../../src/domain/stripe.js';
import type { CustomerDirectory, Ref, TenantBooks } from '../../src/domain/types.js';

/** 2024-03-15T12:00:00Z */
export const ARRIVAL = 1710504000;

export function payout(overrides: Partial<Record<keyof Payout, unknown>> = {}): Payout {
  return PayoutSchema.parse({
    id: 'po_123',
    object: 'payout',
    amount: 0,
    currency: 'usd',
    arrival_date: ARRIVAL,
    created: ARRIVAL - 86400,
    automatic: true,
    balance_transaction: 'txn_payout',
    status: 'paid',
    reconciliation_status: 'completed',
    livemode: false,
    metadata: {},
    ...overrides,
  });
}

export interface ChargeOptions {
  id?: string;
  amount?: number;
  currency?: string;
  category?: string;
  subcategory?: string;
  email?: string | null;
  name?: string;
  billingEmail?: string | null;
  billingName?: string | null;
  receiptEmail?: string | null;
  split?: unknown;
  created?: number;
}

export function charge(o: ChargeOptions = {}): Charge {
  const metadata: Record<string, string> = {};
  if (o.category !== undefined) metadata.revenue_category = o.category;
  if (o.subcategory !== undefined) metadata.revenue_subcategory = o.subcategory;
  if (o.email !== undefined && o.email !== null) metadata.member_email = o.email;
  if (o.name !== undefined) metadata.member_name = o.name;
  if (o.split !== undefined)
    metadata.revenue_split = typeof o.split === 'string' ? o.split : JSON.stringify(o.split);
  return ChargeSchema.parse({
    id: o.id ?? 'ch_1',
    object: 'charge',
    amount: o.amount ?? 1000,
    currency: o.currency ?? 'usd',
    metadata,
    billing_details: { email: o.billingEmail ?? null, name: o.billingName ?? null },
    receipt_email: o.receiptEmail ?? null,
    created: o.created ?? ARRIVAL - 3 * 86400,
  });
}

export interface TxnOptions {
  id: string;
  type: string;
  amount: number;
  fee?: number;
  net?: number;
  currency?: string;
  feeDetails?: { amount: number; type: string; currency?: string }[];
  source?: unknown;
  /** Stripe's `reporting_category`; omitted = absent (an old API version: the product reads `type`). */
  reportingCategory?: string;
}

export function txn(o: TxnOptions): BalanceTransaction {
  const currency = o.currency ?? 'usd';
  const feeDetails = (o.feeDetails ?? []).map((f) => ({ currency, ...f }));
  const fee = o.fee ?? feeDetails.reduce((a, f) => a + f.amount, 0);
  return BalanceTransactionSchema.parse({
    id: o.id,
    object: 'balance_transaction',
    amount: o.amount,
    currency,
    net: o.net ?? o.amount - fee,
    fee,
    fee_details: feeDetails,
    type: o.type,
    ...(o.reportingCategory === undefined ? {} : { reporting_category: o.reportingCategory }),
    created: ARRIVAL - 2 * 86400,
    source: o.source ?? null,
  });
}

/** A `charge` balance transaction of a charge, with a Stripe fee. */
export function chargeTxn(c: Charge, o: Partial<TxnOptions> = {}): BalanceTransaction {
  return txn({
    id: `txn_${c.id}`,
    type: 'charge',
    amount: c.amount,
    feeDetails: [{ amount: Math.round(c.amount * 0.029) + 30, type: 'stripe_fee' }],
    source: c,
    ...o,
  });
}

export function refundTxn(
  c: Charge | string,
  amount: number,
  o: Partial<TxnOptions> & { refundId?: string } = {},
) {
  const refundId = o.refundId ?? `re_${typeof c === 'string' ? c : c.id}`;
  return txn({
    id: `txn_${refundId}`,
    type: 'refund',
    amount,
    source: { id: refundId, object: 'refund', amount: -amount, currency: 'usd', charge: c, metadata: {} },
    ...o,
  });
}

export function disputeTxn(
  c: Charge | string,
  amount: number,
  o: Partial<TxnOptions> & { disputeId?: string } = {},
) {
  const disputeId = o.disputeId ?? `du_${typeof c === 'string' ? c : c.id}`;
  return txn({
    id: `txn_${disputeId}_${amount < 0 ? 'lost' : 'won'}`,
    type: 'adjustment',
    amount,
    feeDetails: amount < 0 ? [{ amount: 1500, type: 'stripe_fee' }] : [],
    source: { id: disputeId, object: 'dispute', amount: Math.abs(amount), currency: 'usd', charge: c },
    ...o,
  });
}

export const ACCOUNTS = {
  checking: { value: '35', name: 'Checking' },
  fees: { value: '80', name: 'Stripe Fees' },
  platform: { value: '81', name: 'Platform Fees' },
  disputes: { value: '82', name: 'Chargebacks' },
  adjustments: { value: '83', name: 'Stripe Adjustments' },
  sales: { value: '79', name: 'Sales' },
  classPacks: { value: '90', name: 'Class Pack Revenue' },
  classes: { value: '91', name: 'Class Revenue' },
  virtual: { value: '92', name: 'Virtual Class Revenue' },
  memberships: { value: '93', name: 'Membership Revenue' },
} satisfies Record<string, Ref>;

export const CLASSES = {
  online: { value: '5000', name: 'Online' },
  studio: { value: '5001', name: 'Studio' },
} satisfies Record<string, Ref>;

export function tenant(overrides: Partial<TenantBooks> = {}): TenantBooks {
  return {
    tenantId: 'downtown-yoga',
    stripeAccount: 'acct_1PzXqR2eZvKYlo2C',
    realmId: '9341453187',
    depositAccount: ACCOUNTS.checking,
    processingFeesAccount: ACCOUNTS.fees,
    platformFeesAccount: ACCOUNTS.platform,
    adjustmentsAccount: ACCOUNTS.adjustments,
    lineDetail: 'customer',
    maxDepositLines: 1000,
    closedPeriod: 'hold',
    revenue: [
      { category: 'Class Packs', account: ACCOUNTS.classPacks },
      { category: 'Classes', account: ACCOUNTS.classes, class: CLASSES.studio },
      { category: 'Classes', subcategory: 'Virtual', account: ACCOUNTS.virtual, class: CLASSES.online },
      { category: 'Memberships', account: ACCOUNTS.memberships },
    ],
    company: { homeCurrency: 'USD', multicurrency: false, classTrackingPerTxnLine: true },
    ...overrides,
  };
}

export function directory(entries: Record<string, Ref | { value: null; name: string }>): CustomerDirectory {
  return new Map(Object.entries(entries));
}
