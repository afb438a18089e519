export {
  describeIssues,
  parseStripeApiBase,
  parseStripeObject,
  STRIPE_API_VERSION,
  type StripeClientOptions,
  stripeClient,
  translateStripeError,
} from './client.js';
export { StripePayoutSource, type StripePayoutSourceOptions, TRANSACTION_EXPAND } from './payout-source.js';
export { SignatureError, type SignatureFailureReason, verifyStripeSignature } from './signature.js';
