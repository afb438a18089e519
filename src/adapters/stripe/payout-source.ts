/**
 * `PayoutSource` on the official `stripe` client: payouts and their balance transactions, read as the tenant's
 * connected account (`Stripe-Account`) unless it is `platform`, every object validated with the domain schemas.
 */
import Stripe from 'stripe';
import { PermanentError, TransientError } from '../../app/errors.js';
import type { ListedPayout, PayoutListFilter, PayoutSource } from '../../app/ports.js';
import {
  type BalanceTransaction,
  BalanceTransactionSchema,
  type Payout,
  PayoutSchema,
} from '../../domain/stripe.js';
import { parseStripeObject, type StripeClientOptions, stripeClient, translateStripeError } from './client.js';

export type StripePayoutSourceOptions = StripeClientOptions;

/** A balance transaction's source, and a refund's or dispute's charge, expanded: 3 levels with `data`. */
export const TRANSACTION_EXPAND = ['data.source', 'data.source.charge'] as const;

const ACCOUNT_ID = /^acct_[A-Za-z0-9]+$/;

/** Times a listing starts over when Stripe no longer knows a page's cursor, before the queue retries it later. */
export const MAX_LISTING_RESTARTS = 2;

/** Stripe refused a page's cursor (`starting_after` / `ending_before` unknown: the object it named is gone). */
function isCursorRefusal(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    (error.param === 'starting_after' || error.param === 'ending_before')
  );
}

export class StripePayoutSource implements PayoutSource {
  readonly stripe: Stripe;

  constructor(opts: StripePayoutSourceOptions) {
    this.stripe = stripeClient(opts);
  }

  async getPayout(stripeAccount: string, payoutId: string): Promise<Payout> {
    const options = requestOptions(stripeAccount);
    checkPayoutId(payoutId);
    const doing = `reading payout ${payoutId} of ${stripeAccount}`;
    let raw: unknown;
    try {
      raw = await this.stripe.payouts.retrieve(payoutId, {}, options);
    } catch (error) {
      throw translateStripeError(error, doing, stripeAccount);
    }
    return parseStripeObject(PayoutSchema, raw, 'payout');
  }

  async listPayoutTransactions(stripeAccount: string, payoutId: string): Promise<BalanceTransaction[]> {
    const options = requestOptions(stripeAccount);
    checkPayoutId(payoutId);
    const doing = `listing the balance transactions of payout ${payoutId} of ${stripeAccount}`;
    // A cursor Stripe no longer knows, half-way through: the whole list is read again (never a partial list).
    for (let restart = 0; ; restart++) {
      const out: BalanceTransaction[] = [];
      try {
        const pages = this.stripe.balanceTransactions.list(
          { payout: payoutId, limit: 100, expand: [...TRANSACTION_EXPAND] },
          options,
        );
        for await (const raw of pages) {
          out.push(
            parseStripeObject(BalanceTransactionSchema, raw, 'balance transaction', `payout ${payoutId}`),
          );
        }
        return out;
      } catch (error) {
        if (!isCursorRefusal(error)) throw translateStripeError(error, doing, stripeAccount);
        if (restart >= MAX_LISTING_RESTARTS) {
          throw new TransientError(
            `Stripe refused the pagination cursor ${restart + 1} times while ${doing}; the payout is retried later`,
            undefined,
            { cause: error },
          );
        }
      }
    }
  }

  async *listPayouts(stripeAccount: string, filter: PayoutListFilter): AsyncIterable<ListedPayout> {
    const options = requestOptions(stripeAccount);
    const { status, arrivalSince } = filter;
    if (!Number.isInteger(arrivalSince)) {
      throw new PermanentError(
        `arrivalSince must be unix seconds, got ${arrivalSince}`,
        'pass a whole number of seconds since 1970 (e.g. Math.floor(date.getTime() / 1000))',
      );
    }
    const doing = `listing the ${status} payouts of ${stripeAccount} arriving since ${new Date(arrivalSince * 1000).toISOString()}`;
    const pages = this.stripe.payouts.list(
      { status, arrival_date: { gte: arrivalSince }, limit: 100 },
      options,
    );
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Stripe.Payout>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw translateStripeError(error, doing, stripeAccount);
      }
      if (next.done) return;
      // One payout the product cannot read is reported with its id; the listing goes on (CONTRACT §3, §7).
      const raw: unknown = next.value;
      const id = typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : '(no id)';
      let listed: ListedPayout;
      try {
        listed = { id, payout: parseStripeObject(PayoutSchema, raw, 'payout') };
      } catch (error) {
        if (!(error instanceof PermanentError)) throw error;
        listed = { id, problem: error.message };
      }
      yield listed;
    }
  }
}

/** `platform` → no header; `acct_…` → `Stripe-Account: acct_…`; anything else is a configuration mistake. */
function requestOptions(stripeAccount: string): Stripe.RequestOptions | undefined {
  if (stripeAccount === 'platform') return undefined;
  if (!ACCOUNT_ID.test(stripeAccount)) {
    throw new PermanentError(
      `"${stripeAccount}" is not a Stripe account: expected "platform" or an "acct_…" id`,
      "fix the tenant's stripeAccount in the sync config and import it again",
    );
  }
  return { stripeAccount };
}

function checkPayoutId(payoutId: string): void {
  if (!/^po_[A-Za-z0-9_]+$/.test(payoutId)) {
    throw new PermanentError(
      `"${payoutId}" is not a Stripe payout id`,
      'payout ids look like po_1PzXqR2eZvKYlo2C…; copy it from the Stripe dashboard or the ledger',
    );
  }
}
