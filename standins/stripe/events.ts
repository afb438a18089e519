/** Webhook helpers: signed `Stripe-Signature` headers and payout event envelopes as Stripe delivers them. */
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import type { Payout, StripeEvent } from '../../src/domain/stripe.js';

/** The API version stripe-node 23.1.0 pins (sent as `Stripe-Version`); events made here carry it. */
export const STANDIN_API_VERSION: string = Stripe.API_VERSION;

const PLATFORM = 'platform';

/** The `Stripe-Signature` header Stripe would send for `payload` (timestamp in unix seconds, default now). */
export function signWebhook(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret,
    ...(timestamp !== undefined ? { timestamp } : {}),
  });
}

/**
 * A Stripe event envelope around `payout`, as Stripe would deliver it for `type` (e.g. `payout.paid`).
 * `account` (an `acct_…`, not `platform`) makes it a connected-account event. The id is random unless given.
 */
export function makePayoutEvent(
  type: string,
  payout: Payout,
  opts: { account?: string; livemode?: boolean; id?: string; created?: number } = {},
): StripeEvent {
  const account = opts.account && opts.account !== PLATFORM ? opts.account : undefined;
  return {
    id: opts.id ?? `evt_${randomBytes(12).toString('hex')}`,
    object: 'event',
    ...(account ? { account } : {}),
    api_version: STANDIN_API_VERSION,
    created: opts.created ?? Math.floor(Date.now() / 1000),
    data: { object: structuredClone(payout) },
    livemode: opts.livemode ?? payout.livemode,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}
