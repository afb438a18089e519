/**
 * POST /webhooks/stripe (API Gateway REST, proxy integration) → `ingestWebhook`.
 *
 * Thin: decodes the API Gateway event (base64 bodies, case-insensitive headers) and answers JSON. Its
 * dependencies are built on the first call and cached for the container's life (settings are read once per
 * cold start); a failure to build them answers 500 and is retried on the next call. Importing this module has no
 * side effects. It imports no QuickBooks code (bundle size): only `src/runtime-base.ts`.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createLogger } from '../src/adapters/logging.js';
import { type IngestWebhookDeps, ingestWebhook } from '../src/app/ingest-webhook.js';
import { type AppLog, describeError } from '../src/app/log.js';
import { buildWebhookDeps, builtOnFirstUse } from '../src/runtime-base.js';

export type WebhookHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** A header value by case-insensitive name (single- or multi-value headers). */
export function headerValue(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>,
  name: string,
) {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted && values !== undefined && values.length > 0) return values.join(',');
  }
  return undefined;
}

/** The raw body bytes exactly as Stripe signed them. */
export function rawBodyOf(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/**
 * The handler over given dependencies, or a provider called once (its result cached; a rejection is not cached,
 * so the next delivery tries again).
 */
export function makeWebhookHandler(
  deps: IngestWebhookDeps | (() => Promise<IngestWebhookDeps>),
  opts: { log?: AppLog } = {},
): WebhookHandler {
  const resolve = builtOnFirstUse(typeof deps === 'function' ? deps : () => Promise.resolve(deps));
  return async (event) => {
    let ready: IngestWebhookDeps;
    try {
      ready = await resolve();
    } catch (error) {
      const log = opts.log ?? createLogger('qbo-sync-webhook');
      log.error('webhook not configured: answering 500 so Stripe retries', { reason: describeError(error) });
      return json(500, { error: 'the webhook endpoint is not configured; Stripe will retry' });
    }
    const signature = headerValue(event, 'stripe-signature');
    const response = await ingestWebhook(ready, {
      rawBody: rawBodyOf(event),
      ...(signature === undefined ? {} : { signature }),
    });
    return json(response.status, response.body);
  };
}

/** The Lambda entry point: dependencies from the environment (tables, queue, Stripe secrets), built on first use. */
export const handler: WebhookHandler = makeWebhookHandler(() => buildWebhookDeps(process.env));
