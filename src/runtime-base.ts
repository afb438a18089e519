/**
 * The part of the composition root without QuickBooks: what the webhook Lambda needs (tenants, the queue, Stripe's
 * signing secrets). Kept apart from `src/runtime.ts` so its bundle imports neither the QuickBooks adapter nor axios. Each builder reads only the environment variables its Lambda is given by the stack.
 * Nothing happens at import time: everything is built when a function is called.
 */

import { type AwsClients, awsClients } from './adapters/aws/clients.js';
import { SqsPayoutQueue } from './adapters/aws/queue.js';
import { resourcesFromEnv } from './adapters/aws/resources.js';
import { loadWebhookSettings, type StripeSettings } from './adapters/aws/settings.js';
import { DynamoTenantStore } from './adapters/aws/tenant-store.js';
import { createLogger } from './adapters/logging.js';
import { StripePayoutSource } from './adapters/stripe/payout-source.js';
import { verifyStripeSignature } from './adapters/stripe/signature.js';
import type { IngestWebhookDeps, StripeKeyMode } from './app/ingest-webhook.js';
import type { AppLog } from './app/log.js';

/**
 * A Lambda's dependencies built on first use and kept for the container's life: `provide` is called once and its
 * result cached; a rejection is not cached, so the next invocation tries again (e.g. once a missing secret is set).
 */
export function builtOnFirstUse<T>(provide: () => Promise<T>): () => Promise<T> {
  let cached: Promise<T> | undefined;
  return () => {
    cached ??= provide().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}

/** Stripe's default signature tolerance (CONTRACT §1: a timestamp older than 300 s gets 400). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export interface BaseDepsOptions {
  /** Default `awsClients()` (endpoints from `AWS_ENDPOINT_URL_*`). */
  clients?: AwsClients;
  log?: AppLog;
}

/** The Stripe payout source: the secret key, `STRIPE_API_BASE` (unset = production), and stripe-node's retries. */
export function stripePayoutSource(
  settings: Pick<StripeSettings, 'stripeSecretKey'>,
  env: NodeJS.ProcessEnv,
  maxNetworkRetries?: number,
): StripePayoutSource {
  return new StripePayoutSource({
    secretKey: settings.stripeSecretKey,
    ...(env.STRIPE_API_BASE ? { apiBase: env.STRIPE_API_BASE } : {}),
    ...(maxNetworkRetries !== undefined ? { maxNetworkRetries } : {}),
  });
}

/** After a signature failure, the webhook re-reads its secrets at most this often (per container). */
export const WEBHOOK_SECRET_REREAD_MS = 60_000;

/**
 * The webhook use case on built stores: signatures checked with every configured secret, 300 s tolerance. With
 * `reread`, a delivery no secret verifies makes the secrets be read again, at most once a minute, and a secret
 * that changed is kept for the next deliveries.
 */
export function webhookDepsOf(parts: {
  tenants: IngestWebhookDeps['tenants'];
  queue: IngestWebhookDeps['queue'];
  webhookSecret: string;
  stripeMode: StripeKeyMode;
  reread?: () => Promise<string>;
  log: AppLog;
  now?: () => number;
}): IngestWebhookDeps {
  let current = parts.webhookSecret;
  let lastRead = Number.NEGATIVE_INFINITY;
  const now = parts.now ?? Date.now;
  const reread = parts.reread;
  return {
    tenants: parts.tenants,
    queue: parts.queue,
    get webhookSecret() {
      return current;
    },
    ...(reread === undefined
      ? {}
      : {
          rereadWebhookSecret: async () => {
            if (now() - lastRead < WEBHOOK_SECRET_REREAD_MS) return undefined;
            lastRead = now();
            current = await reread();
            return current;
          },
        }),
    stripeMode: parts.stripeMode,
    verify: (rawBody, header, secret) =>
      verifyStripeSignature(rawBody, header, secret, WEBHOOK_TOLERANCE_SECONDS),
    log: parts.log,
  };
}

/**
 * The webhook's dependencies from the environment: `TENANTS_TABLE`, `QUEUE_URL`, `STRIPE_MODE` and the signing
 * secrets (`STRIPE_WEBHOOK_SECRET`, else the secret named by `STRIPE_WEBHOOK_SECRET_ARN`: never the Stripe API key).
 * Throws, naming what is missing, when the environment is incomplete.
 */
export async function buildWebhookDeps(
  env: NodeJS.ProcessEnv = process.env,
  opts: BaseDepsOptions = {},
): Promise<IngestWebhookDeps> {
  const { tenantsTable, queueUrl } = resourcesFromEnv(['tenantsTable', 'queueUrl'], env);
  const clients = opts.clients ?? awsClients();
  const settings = await loadWebhookSettings({ env });
  return webhookDepsOf({
    tenants: new DynamoTenantStore({ doc: clients.doc, tableName: tenantsTable }),
    queue: new SqsPayoutQueue({ sqs: clients.sqs, queueUrl }),
    webhookSecret: settings.webhookSecret,
    stripeMode: settings.stripeMode,
    ...(env.STRIPE_WEBHOOK_SECRET
      ? {}
      : { reread: async () => (await loadWebhookSettings({ env, forceFetch: true })).webhookSecret }),
    log: opts.log ?? createLogger('qbo-sync-webhook'),
  });
}
