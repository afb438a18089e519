/**
 * The embedded parts (the AWS emulators, the QuickBooks and Stripe stand-ins), started where the environment does
 * not point at a real service, and the environment local mode publishes for the Lambda handlers (and, through
 * local.json, for the CLI).
 */
import path from 'node:path';
import { type AwsEmulators, startAwsEmulators } from '../../standins/aws/index.js';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import { type StripeStandIn, startStripeStandIn } from '../../standins/stripe/index.js';
import { describeError } from '../app/log.js';
import { LOCAL_MAX_RECEIVE_COUNT } from './constants.js';
import { QUICKBOOKS_STATE_FILE } from './data-dir.js';
import type { EmbeddedParts } from './environment.js';
import type { LocalTarget } from './target.js';
import { LocalStartError } from './types.js';

export interface EmbeddedServices {
  aws?: AwsEmulators;
  qbo?: QuickBooksStandIn;
  stripe?: StripeStandIn;
}

/** Something to close when local mode stops, in reverse order of starting. */
export interface Closer {
  name: string;
  close: () => Promise<void>;
}

/**
 * Starts the embedded parts in parallel. Each one started is pushed to `closers` (even when another fails).
 * @throws LocalStartError when one could not start.
 */
export async function startEmbedded(options: {
  dataDir: string;
  region: string;
  env: NodeJS.ProcessEnv;
  parts: EmbeddedParts;
  closers: Closer[];
}): Promise<EmbeddedServices> {
  const { dataDir, region, env, parts, closers } = options;
  const started = await Promise.allSettled([
    parts.aws ? startAwsEmulators({ dataDir, region }) : Promise.resolve(undefined),
    parts.quickbooks
      ? startQuickBooksStandIn({
          statePath: path.join(dataDir, QUICKBOOKS_STATE_FILE),
          companies: [demoCompanySeed()],
          ...(env.QBO_CLIENT_ID ? { clientId: env.QBO_CLIENT_ID } : {}),
          ...(env.QBO_CLIENT_SECRET ? { clientSecret: env.QBO_CLIENT_SECRET } : {}),
        })
      : Promise.resolve(undefined),
    parts.stripe
      ? startStripeStandIn(env.STRIPE_SECRET_KEY ? { secretKey: env.STRIPE_SECRET_KEY } : {})
      : Promise.resolve(undefined),
  ]);
  const [awsResult, qboResult, stripeResult] = started;
  const aws: AwsEmulators | undefined = awsResult.status === 'fulfilled' ? awsResult.value : undefined;
  const qbo: QuickBooksStandIn | undefined = qboResult.status === 'fulfilled' ? qboResult.value : undefined;
  const stripe: StripeStandIn | undefined =
    stripeResult.status === 'fulfilled' ? stripeResult.value : undefined;
  // Closed in reverse: the stand-ins flush their state before the emulators stop.
  if (aws) closers.push({ name: 'AWS emulators', close: () => aws.close() });
  if (qbo) closers.push({ name: 'QuickBooks stand-in', close: () => qbo.close() });
  if (stripe) closers.push({ name: 'Stripe stand-in', close: () => stripe.close() });
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure)
    throw new LocalStartError(`could not start the embedded services: ${describeError(failure.reason)}`);
  return { ...(aws ? { aws } : {}), ...(qbo ? { qbo } : {}), ...(stripe ? { stripe } : {}) };
}

export interface PublishedSettings {
  endpoints: Omit<LocalTarget['endpoints'], 'authorizeUrl'>;
  credentials: LocalTarget['credentials'];
  redirectUri: string;
}

/**
 * Sets `process.env` as the Lambdas' environment would be (read by the handlers on their first call): the
 * endpoints of the embedded parts or of the services the environment names, and their credentials.
 */
export function publishEnvironment(options: {
  env: NodeJS.ProcessEnv;
  url: string;
  region: string;
  parts: EmbeddedParts;
  services: EmbeddedServices;
  webhookSecret: string;
}): PublishedSettings {
  const { env, url, region, parts, services, webhookSecret } = options;
  const { aws, qbo, stripe } = services;
  const endpoints = {
    dynamodb: parts.awsOverrides.dynamodb ?? aws?.endpoints.dynamodb ?? '',
    sqs: parts.awsOverrides.sqs ?? aws?.endpoints.sqs ?? '',
    secretsManager: parts.awsOverrides.secretsManager ?? aws?.endpoints.secretsManager ?? '',
    quickbooks: qbo ? qbo.url : (env.QBO_API_BASE as string),
    tokenUrl: qbo
      ? qbo.tokenUrl
      : env.QBO_OAUTH_TOKEN_URL || 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
    stripe: stripe ? stripe.url : (env.STRIPE_API_BASE as string),
  };
  const qboClientId = qbo ? qbo.clientId : (env.QBO_CLIENT_ID as string);
  const qboClientSecret = qbo ? qbo.clientSecret : (env.QBO_CLIENT_SECRET as string);
  const stripeSecretKey = stripe ? stripe.secretKey : (env.STRIPE_SECRET_KEY as string);
  // Only the stand-ins' own (fake) credentials go into local.json; values from the environment stay there.
  const credentials = {
    stripeSecretKey: stripe && !env.STRIPE_SECRET_KEY ? stripe.secretKey : null,
    qboClientId: qbo && !env.QBO_CLIENT_ID ? qbo.clientId : null,
    qboClientSecret: qbo && !env.QBO_CLIENT_SECRET ? qbo.clientSecret : null,
  };

  // The QuickBooks OAuth callback of `qbo-sync connect --local` (an Intuit app must list it as a redirect URI).
  const redirectUri = env.QBO_REDIRECT_URI || `${url.replace('127.0.0.1', 'localhost')}/quickbooks/callback`;

  Object.assign(process.env, {
    AWS_REGION: region,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
    QBO_API_BASE: endpoints.quickbooks,
    QBO_OAUTH_TOKEN_URL: endpoints.tokenUrl,
    QBO_CLIENT_ID: qboClientId,
    QBO_CLIENT_SECRET: qboClientSecret,
    QBO_REDIRECT_URI: redirectUri,
    STRIPE_API_BASE: endpoints.stripe,
    STRIPE_SECRET_KEY: stripeSecretKey,
    STRIPE_WEBHOOK_SECRET: webhookSecret,
    MAX_RECEIVE_COUNT: String(LOCAL_MAX_RECEIVE_COUNT),
  });
  if (qbo) process.env.QBO_AUTHORIZE_URL = qbo.authorizeUrl;
  if (parts.aws && !env.AWS_ACCESS_KEY_ID) {
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
  }
  return { endpoints, credentials, redirectUri };
}
