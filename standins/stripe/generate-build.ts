/**
 * A generated payout's plan (generate-plan.ts) as the Stripe objects Stripe lists with
 * `expand[]=data.source&expand[]=data.source.charge`: the payout, and its balance transactions newest first with
 * their sources expanded (a refund's or dispute's `charge` expanded too).
 *
 * Shapes follow the `stripe` package 23.1.0's types (node_modules/stripe/cjs/resources/*.d.ts): `Payout.metadata`,
 * `Refund.metadata` and `FeeRefund.metadata` are `Metadata | null`, and `description`s are `string | null`; with
 * `nulls` > 0 a share of them is sent as `null`, as Stripe may. The categories of the rarer transactions and their
 * sources, from docs.stripe.com/reports/reporting-categories and the same types:
 * - refund failure: `type: adjustment`, `reporting_category: refund_failure`, source the refund (`status: failed`);
 * - partial-capture reversal: `reporting_category: partial_capture_reversal`, source the charge; its `type` is not
 *   documented, `adjustment` here (the product reads the category);
 * - charge failure: `type: payment_failure_refund`, `reporting_category: charge_failure`, source a refund of the
 *   charge (`pyr_…`);
 * - fee refund: `type: adjustment`, `reporting_category: fee`, source a `fee_refund` (`fr_…`, FeeRefunds.d.ts).
 */
import { createHash } from 'node:crypto';
import type { BalanceTransaction, Payout } from '../../src/domain/stripe.js';
import { chargeFee, type PlanItem, prng, scaleFor } from './generate-plan.js';

export interface GeneratedPayout {
  payout: Payout;
  /** Newest first, the payout's own transaction first. */
  transactions: BalanceTransaction[];
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A Stripe-looking id (`prefix` + 24 base62 characters), a pure function of `key`. */
export function stableId(prefix: string, key: string): string {
  const bytes = createHash('sha256').update(key).digest();
  let out = '';
  for (let i = 0; i < 24; i++) out += BASE62[(bytes[i] ?? 0) % 62];
  return `${prefix}${out}`;
}

export interface BuildSpec {
  seedKey: string;
  payoutId: string;
  currency: string;
  arrivalDate: number;
  items: PlanItem[];
  /** Share of nullable fields sent as `null` (payout and refund metadata, descriptions); default 0. */
  nulls?: number;
  /** Seeds the choice of null fields (its own stream, so the amounts do not depend on `nulls`). */
  nullSeed?: number;
}

const DAY = 86_400;

export function build(spec: BuildSpec): GeneratedPayout {
  const { currency, items, payoutId } = spec;
  const scale = scaleFor(currency);
  const key = (what: string, i: number | string): string => `${spec.seedKey}|${payoutId}|${what}|${i}`;
  const payoutCreated = spec.arrivalDate - 2 * DAY;
  const windowStart = payoutCreated - 7 * DAY;
  const step = Math.max(1, Math.floor((7 * DAY) / (items.length + 1)));
  const createdAt = (i: number): number => Math.min(payoutCreated - 1, windowStart + i * step);

  const charges = new Map<number, Record<string, unknown>>();
  const refunds = new Map<number, Record<string, unknown>>();
  const txns: BalanceTransaction[] = [];
  let total = 0;
  const share = spec.nulls ?? 0;
  const nullRand = prng(spec.nullSeed ?? 0);
  /** `value`, or `null` for a share of the objects (fields Stripe's types declare `| null`). */
  const orNull = <T>(value: T): T | null => (share > 0 && nullRand() < share ? null : value);
  const push = (t: Record<string, unknown>): void => {
    txns.push(t as unknown as BalanceTransaction);
  };

  const base = (i: number, created: number) => ({
    id: stableId('txn_', key('txn', i)),
    object: 'balance_transaction' as const,
    available_on: payoutCreated,
    balance_type: 'payments',
    created,
    currency,
    exchange_rate: null,
    status: 'available',
  });

  items.forEach((item, i) => {
    const created = createdAt(i);
    const common = base(i, created);
    if (item.kind === 'charge') {
      const fee = chargeFee(item.amount, scale);
      const label = item.category.subcategory
        ? `${item.category.category} / ${item.category.subcategory}`
        : item.category.category;
      const metadata: Record<string, string> = {
        revenue_category: item.category.category,
        ...(item.category.subcategory ? { revenue_subcategory: item.category.subcategory } : {}),
        member_email: item.member.email,
        ...(item.member.name ? { member_name: item.member.name } : {}),
      };
      const charge: Record<string, unknown> = {
        id: stableId('ch_', key('charge', i)),
        object: 'charge',
        amount: item.amount,
        amount_captured: item.amount,
        amount_refunded: 0,
        balance_transaction: common.id,
        billing_details: {
          address: null,
          email: item.member.email,
          name: item.member.name ?? null,
          phone: null,
        },
        captured: true,
        created,
        currency,
        customer: null,
        description: orNull(label),
        disputed: false,
        livemode: false,
        metadata,
        paid: true,
        payment_intent: stableId('pi_', key('pi', i)),
        receipt_email: item.member.email,
        refunded: false,
        status: 'succeeded',
      };
      charges.set(i, charge);
      total += item.amount - fee;
      txns.push({
        ...common,
        amount: item.amount,
        description: label,
        fee,
        fee_details: [
          {
            amount: fee,
            application: null,
            currency,
            description: orNull('Stripe processing fees'),
            type: 'stripe_fee',
          },
        ],
        net: item.amount - fee,
        reporting_category: 'charge',
        source: charge as BalanceTransaction['source'],
        type: 'charge',
      });
    } else if (item.kind === 'refund') {
      const charge = charges.get(item.of) as Record<string, unknown>;
      const refunded = (charge.amount_refunded as number) + item.amount;
      charge.amount_refunded = refunded;
      charge.refunded = refunded >= (charge.amount as number);
      const refund = {
        id: stableId('re_', key('refund', i)),
        object: 'refund',
        amount: item.amount,
        balance_transaction: common.id,
        charge,
        created,
        currency,
        metadata: orNull({}),
        payment_intent: charge.payment_intent,
        reason: 'requested_by_customer',
        status: 'succeeded',
      };
      refunds.set(i, refund);
      total -= item.amount;
      txns.push({
        ...common,
        amount: -item.amount,
        description: `REFUND FOR CHARGE (${String(charge.description)})`,
        fee: 0,
        fee_details: [],
        net: -item.amount,
        reporting_category: 'refund',
        source: refund as BalanceTransaction['source'],
        type: 'refund',
      });
    } else if (item.kind === 'dispute') {
      const charge = charges.get(item.of) as Record<string, unknown>;
      charge.disputed = true;
      const amount = charge.amount as number;
      const dispute = {
        id: stableId('dp_', key('dispute', i)),
        object: 'dispute',
        amount,
        charge,
        created,
        currency,
        metadata: {},
        payment_intent: charge.payment_intent,
        reason: 'fraudulent',
        status: 'needs_response',
      };
      total -= amount + scale.disputeFee;
      txns.push({
        ...common,
        amount: -amount,
        description: `Chargeback withdrawal for ${String(charge.id)}`,
        fee: scale.disputeFee,
        fee_details: [
          {
            amount: scale.disputeFee,
            application: null,
            currency,
            description: 'Dispute fee',
            type: 'stripe_fee',
          },
        ],
        net: -amount - scale.disputeFee,
        reporting_category: 'dispute',
        source: dispute as BalanceTransaction['source'],
        type: 'adjustment',
      });
    } else if (item.kind === 'refundFailure') {
      // The refund failed (e.g. the card was closed): its amount comes back (docs.stripe.com/refunds#failed-refunds).
      const refund = refunds.get(item.of) as Record<string, unknown>;
      const amount = refund.amount as number;
      refund.status = 'failed';
      refund.failure_reason = 'expired_or_canceled_card';
      refund.failure_balance_transaction = common.id;
      total += amount;
      push({
        ...common,
        amount,
        description: orNull(`REFUND FAILURE (${String(refund.id)})`),
        fee: 0,
        fee_details: [],
        net: amount,
        reporting_category: 'refund_failure',
        source: refund,
        type: 'adjustment',
      });
    } else if (item.kind === 'partialCapture') {
      const charge = charges.get(item.of) as Record<string, unknown>;
      charge.amount_captured = (charge.amount as number) - item.amount;
      total -= item.amount;
      push({
        ...common,
        amount: -item.amount,
        description: orNull(`Partial capture reversal for ${String(charge.id)}`),
        fee: 0,
        fee_details: [],
        net: -item.amount,
        reporting_category: 'partial_capture_reversal',
        source: charge,
        type: 'adjustment',
      });
    } else if (item.kind === 'chargeFailure') {
      const charge = charges.get(item.of) as Record<string, unknown>;
      const amount = charge.amount as number;
      charge.status = 'failed';
      const refund = {
        id: stableId('pyr_', key('charge-failure', i)),
        object: 'refund',
        amount,
        balance_transaction: common.id,
        charge,
        created,
        currency,
        metadata: orNull({}),
        payment_intent: charge.payment_intent,
        reason: null,
        status: 'succeeded',
      };
      total -= amount;
      push({
        ...common,
        amount: -amount,
        description: orNull(`Payment failure refund for ${String(charge.id)}`),
        fee: 0,
        fee_details: [],
        net: -amount,
        reporting_category: 'charge_failure',
        source: refund,
        type: 'payment_failure_refund',
      });
    } else if (item.kind === 'feeRefund') {
      total += item.amount;
      const feeRefund = {
        id: stableId('fr_', key('fee-refund', i)),
        object: 'fee_refund',
        amount: item.amount,
        balance_transaction: common.id,
        created,
        currency,
        fee: stableId('fee_', key('fee', i)),
        metadata: orNull({}),
      };
      push({
        ...common,
        amount: item.amount,
        description: orNull('Stripe fee refund'),
        fee: 0,
        fee_details: [],
        net: item.amount,
        reporting_category: 'fee',
        source: feeRefund,
        type: 'adjustment',
      });
    } else {
      total += item.amount;
      const reserve = {
        id: stableId('rtx_', key('reserve', i)),
        object: 'reserve_transaction',
        amount: item.amount,
        currency,
        description: item.amount < 0 ? 'Rolling reserve hold' : 'Rolling reserve release',
      };
      txns.push({
        ...common,
        amount: item.amount,
        description: reserve.description,
        fee: 0,
        fee_details: [],
        net: item.amount,
        reporting_category: 'risk_reserved_funds',
        source: reserve as BalanceTransaction['source'],
        type: 'reserve_transaction',
      });
    }
  });

  const payoutTxnId = stableId('txn_', key('txn', 'payout'));
  // `metadata` may be null, as Stripe's types allow (the domain's parsed Payout type has `{}` there).
  const payout = {
    id: payoutId,
    object: 'payout',
    amount: total,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: spec.arrivalDate,
    automatic: true,
    balance_transaction: payoutTxnId,
    created: payoutCreated,
    currency,
    description: 'STRIPE PAYOUT',
    destination: stableId('ba_', key('bank', 0)),
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: orNull({}),
    method: 'standard',
    original_payout: null,
    reconciliation_status: 'completed',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: null,
    status: 'paid',
    trace_id: { status: 'supported', value: stableId('', key('trace', 0)).slice(0, 15) },
    type: 'bank_account',
  } as unknown as Payout;
  const payoutTxn: BalanceTransaction = {
    ...base(0, payoutCreated),
    id: payoutTxnId,
    amount: -total,
    description: 'STRIPE PAYOUT',
    fee: 0,
    fee_details: [],
    net: -total,
    reporting_category: 'payout',
    source: structuredClone(payout) as BalanceTransaction['source'],
    type: 'payout',
  };
  return { payout, transactions: [payoutTxn, ...txns.reverse()] };
}
