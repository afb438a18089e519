/** Local mode's settings from the environment: endpoints named there, credentials real services need, port, retry scale. */
import { parsePort } from './args.js';
import { RETRY_SCALE_ENV, STRIPE_OUTAGE_ENV } from './constants.js';
import { parseRetryScale } from './poller.js';
import { LocalStartError } from './types.js';

/** An AWS endpoint the environment names for a service (the SDK's own variables); undefined: use the embedded one. */
export function endpointFromEnv(
  env: NodeJS.ProcessEnv,
  service: 'DYNAMODB' | 'SQS' | 'SECRETS_MANAGER',
): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
}

function required(env: NodeJS.ProcessEnv, name: string, because: string, how: string): string {
  const value = env[name];
  if (!value) throw new LocalStartError(`${name} is not set. ${because}, so it is needed: ${how}`);
  return value;
}

/** Which parts run embedded: a service the environment points elsewhere is used there instead. */
export interface EmbeddedParts {
  quickbooks: boolean;
  stripe: boolean;
  aws: boolean;
  /** The AWS endpoints the environment names (undefined: embedded). */
  awsOverrides: { dynamodb?: string; sqs?: string; secretsManager?: string };
}

/**
 * Which parts run embedded, checking that real services named by the environment have their credentials.
 * @throws LocalStartError naming the variable to set.
 */
export function embeddedParts(env: NodeJS.ProcessEnv): EmbeddedParts {
  const quickbooks = !env.QBO_API_BASE;
  const stripe = !env.STRIPE_API_BASE;
  if (!quickbooks) {
    const how = "use your Intuit app's keys (developer.intuit.com → your app → Keys and credentials)";
    required(env, 'QBO_CLIENT_ID', 'QBO_API_BASE points local mode at a real QuickBooks', how);
    required(env, 'QBO_CLIENT_SECRET', 'QBO_API_BASE points local mode at a real QuickBooks', how);
  }
  if (!stripe) {
    required(
      env,
      'STRIPE_SECRET_KEY',
      'STRIPE_API_BASE points local mode at a real Stripe',
      'use a test-mode secret key (sk_test_…, dashboard.stripe.com/test/apikeys)',
    );
  }
  const awsOverrides = {
    dynamodb: endpointFromEnv(env, 'DYNAMODB'),
    sqs: endpointFromEnv(env, 'SQS'),
    secretsManager: endpointFromEnv(env, 'SECRETS_MANAGER'),
  };
  const aws = !awsOverrides.dynamodb || !awsOverrides.sqs || !awsOverrides.secretsManager;
  return { quickbooks, stripe, aws, awsOverrides };
}

/** The retry scale from the options, else the environment, else 1. @throws LocalStartError for a bad value. */
export function resolveRetryScale(fromOptions: number | undefined, env: NodeJS.ProcessEnv): number {
  try {
    if (fromOptions !== undefined) return parseRetryScale(String(fromOptions), 'retryScale');
    const text = env[RETRY_SCALE_ENV];
    return text ? parseRetryScale(text, RETRY_SCALE_ENV) : 1;
  } catch (error) {
    throw new LocalStartError((error as Error).message);
  }
}

export function parsePortEnv(text: string): number {
  try {
    return parsePort(text, 'PORT');
  } catch (error) {
    throw new LocalStartError((error as Error).message);
  }
}

/**
 * The payouts of `QBO_SYNC_LOCAL_STRIPE_OUTAGE` (empty when unset).
 * @throws LocalStartError for an id that is not a payout id, or when Stripe is not the embedded stand-in
 */
export function stripeOutagePayouts(env: NodeJS.ProcessEnv, stripeEmbedded: boolean): string[] {
  const text = env[STRIPE_OUTAGE_ENV]?.trim();
  if (!text) return [];
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = ids.find((id) => !/^po_[A-Za-z0-9_]+$/.test(id));
  if (bad !== undefined) {
    throw new LocalStartError(
      `${STRIPE_OUTAGE_ENV} must list Stripe payout ids separated by commas (po_…), not "${bad}"`,
    );
  }
  if (!stripeEmbedded) {
    throw new LocalStartError(
      `${STRIPE_OUTAGE_ENV} makes the embedded Stripe stand-in fail, but STRIPE_API_BASE points at another Stripe: unset one of them`,
    );
  }
  return ids;
}
