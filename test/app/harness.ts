/**
 * The pipeline on real local parts for the test/app tests: the AWS emulators of the jest global setup (one prefix
 * per harness), the Stripe and QuickBooks stand-ins on random loopback ports, a runtime built by `buildRuntime`
 * from environment variables exactly as a Lambda's, and a small SQS → handler loop standing in for Lambda's event
 * source mapping.
 */
import { randomBytes } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { provisionLocalResources } from '../../src/adapters/aws/provision.js';
import type { Settings } from '../../src/adapters/aws/settings.js';
import { silentLog } from '../../src/app/log.js';
import type { PayoutMessage } from '../../src/app/ports.js';
import { resolveTenantBooks } from '../../src/domain/chart.js';
import { type TenantConfig, TenantConfigSchema } from '../../src/domain/config.js';
import type { BalanceTransaction, Payout } from '../../src/domain/stripe.js';
import { buildRuntime, type Runtime } from '../../src/runtime.js';
import type { QuickBooksStandIn } from '../../standins/quickbooks/index.js';
import { demoCompanySeed, startQuickBooksStandIn } from '../../standins/quickbooks/index.js';
import { type StripeStandIn, startStripeStandIn } from '../../standins/stripe/index.js';

export const REALM = '9341453187';
export const OTHER_REALM = '4620816365';
/**
 * The harness's QuickBooks client options. The harness's stand-in does not throttle (`limits: false`), so the
 * client does not meter batch requests at Intuit's 40 a minute either (the limit has its own tests), and Intuit's
 * 60 s pause after a 429 is shortened: tests measure what happens, not how long.
 */
export const HARNESS_QBO_OPTIONS = {
  retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
  limits: { maxInFlight: 10, perMinute: 500, batchesPerMinute: 1_000_000 },
  throttlePauseMs: 20,
};

export const WEBHOOK_SECRET = 'whsec_test_pipeline_secret';
export const STRIPE_KEY = 'sk_test_local';

export function tenantConfig(
  overrides: Partial<Omit<TenantConfig, 'quickbooks'>> & {
    quickbooks?: Partial<TenantConfig['quickbooks']>;
  } = {},
): TenantConfig {
  const { quickbooks, ...rest } = overrides;
  return TenantConfigSchema.parse({
    id: 'downtown-yoga',
    stripeAccount: 'platform',
    quickbooks: {
      realmId: REALM,
      depositAccount: 'Checking',
      processingFeesAccount: 'Stripe Fees',
      platformFeesAccount: 'Platform Fees',
      disputesAccount: 'Chargebacks',
      adjustmentsAccount: 'Stripe Adjustments',
      walkInCustomer: 'Walk-in',
      ...quickbooks,
    },
    revenue: [
      { category: 'Class Packs', account: 'Class Pack Revenue' },
      { category: 'Memberships', account: 'Membership Revenue' },
      { category: 'Classes', subcategory: 'Virtual', account: 'Virtual Class Revenue', class: 'Online' },
      { category: 'Classes', account: 'In-person Class Revenue', class: 'Studio' },
    ],
    ...rest,
  });
}

export interface Harness {
  prefix: string;
  env: NodeJS.ProcessEnv;
  runtime: Runtime;
  stripe: StripeStandIn;
  qbo: QuickBooksStandIn;
  /** Imports a tenant (accounts resolved against its company) and seeds its QuickBooks tokens. */
  addTenant(config: TenantConfig): Promise<void>;
  /** Adds a payout to the Stripe stand-in (for the tenant's account). */
  addPayout(payout: Payout, transactions: BalanceTransaction[], account?: string): void;
  message(payoutId: string, eventType?: string, tenantId?: string, stripeAccount?: string): PayoutMessage;
  deposits(realmId?: string): Record<string, unknown>[];
  journalEntries(realmId?: string): Record<string, unknown>[];
  /** Takes every message waiting in the main queue (received and deleted), in order. */
  takeQueue(): Promise<PayoutMessage[]>;
  close(): Promise<void>;
}

export async function startHarness(
  name: string,
  opts: {
    maxReceiveCount?: number;
    companies?: string[];
    env?: Record<string, string>;
    /** The QuickBooks client's own per-realm limit (default QuickBooks' 500 a minute, shared by the process). */
    quickbooksPerMinute?: number;
  } = {},
): Promise<Harness> {
  const prefix = `app-${name}-${randomBytes(3).toString('hex')}`;
  const clients = awsClients();
  const resources = await provisionLocalResources(clients, {
    prefix,
    maxReceiveCount: opts.maxReceiveCount ?? 5,
    visibilityTimeoutSeconds: 30,
  });
  const stripe = await startStripeStandIn({ secretKey: STRIPE_KEY }, { host: '127.0.0.1', port: 0 });
  const qbo = await startQuickBooksStandIn(
    { companies: (opts.companies ?? [REALM]).map((realm) => demoCompanySeed(realm)), limits: false },
    { host: '127.0.0.1', port: 0 },
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TENANTS_TABLE: resources.tenantsTable,
    CUSTOMERS_TABLE: resources.customersTable,
    LEDGER_TABLE: resources.ledgerTable,
    IDEMPOTENCY_TABLE: resources.idempotencyTable,
    QUEUE_URL: resources.queueUrl,
    DLQ_URL: resources.dlqUrl,
    QBO_TOKEN_SECRET_PREFIX: `${prefix}/qbo/`,
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: stripe.url,
    QBO_API_BASE: qbo.url,
    QBO_OAUTH_TOKEN_URL: qbo.tokenUrl,
    QBO_CLIENT_ID: qbo.clientId,
    QBO_CLIENT_SECRET: qbo.clientSecret,
    QBO_REDIRECT_URI: 'http://127.0.0.1:9/quickbooks/callback',
    MAX_RECEIVE_COUNT: String(opts.maxReceiveCount ?? 5),
    ...opts.env,
  };
  const settings: Settings = {
    stripeSecretKey: STRIPE_KEY,
    stripeWebhookSecret: WEBHOOK_SECRET,
    qboClientId: qbo.clientId,
    qboClientSecret: qbo.clientSecret,
    qboRedirectUri: 'http://127.0.0.1:9/quickbooks/callback',
  };
  const runtime = await buildRuntime(env, {
    settings,
    log: silentLog,
    quickbooks:
      opts.quickbooksPerMinute === undefined
        ? HARNESS_QBO_OPTIONS
        : {
            ...HARNESS_QBO_OPTIONS,
            limits: { ...HARNESS_QBO_OPTIONS.limits, perMinute: opts.quickbooksPerMinute },
          },
    stripeMaxNetworkRetries: 0,
  });
  const tenants = new Map<string, TenantConfig>();

  const harness: Harness = {
    prefix,
    env,
    runtime,
    stripe,
    qbo,
    async addTenant(config) {
      await addTenantTo(runtime, qbo, config);
      tenants.set(config.id, config);
    },
    addPayout(payout, transactions, account = 'platform') {
      stripe.addPayout({ account, payout, transactions });
    },
    message(payoutId, eventType = 'payout.paid', tenantId = 'downtown-yoga', stripeAccount) {
      return {
        eventId: `evt_${randomBytes(8).toString('hex')}`,
        eventType,
        tenantId,
        stripeAccount: stripeAccount ?? tenants.get(tenantId)?.stripeAccount ?? 'platform',
        payoutId,
        receivedAt: new Date().toISOString(),
      };
    },
    deposits: (realmId = REALM) => qbo.entities(realmId, 'Deposit'),
    journalEntries: (realmId = REALM) => qbo.entities(realmId, 'JournalEntry'),
    async takeQueue() {
      const out: PayoutMessage[] = [];
      for (;;) {
        const { Messages = [] } = await clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: resources.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
          }),
        );
        if (Messages.length === 0) break;
        for (const m of Messages) {
          out.push(JSON.parse(m.Body ?? '{}') as PayoutMessage);
          // Deleting unlocks the FIFO group, so the next receive returns the group's next message.
          if (m.ReceiptHandle) {
            await clients.sqs.send(
              new DeleteMessageCommand({ QueueUrl: resources.queueUrl, ReceiptHandle: m.ReceiptHandle }),
            );
          }
        }
      }
      return out;
    },
    async close() {
      await Promise.all([stripe.close(), qbo.close()]);
    },
  };
  return harness;
}

/** A Lambda context with a fixed remaining time. */
export function lambdaContext(remainingMs = 600_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'deposit-builder',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:deposit-builder',
    memoryLimitInMB: '1024',
    awsRequestId: randomBytes(8).toString('hex'),
    logGroupName: '/aws/lambda/deposit-builder',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** An SQS record as Lambda's event source mapping delivers it. */
export function sqsRecord(
  message: Message | { body: string; groupId: string; receiveCount?: number },
): SQSRecord {
  const m: Message =
    'body' in message
      ? {
          MessageId: randomBytes(8).toString('hex'),
          ReceiptHandle: 'test',
          Body: message.body,
          Attributes: {
            ApproximateReceiveCount: String(message.receiveCount ?? 1),
            MessageGroupId: message.groupId,
            SentTimestamp: String(Date.now()),
          },
        }
      : message;
  const attrs = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? 'unknown',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...(attrs.MessageGroupId ? { MessageGroupId: attrs.MessageGroupId } : {}),
      ...(attrs.MessageDeduplicationId ? { MessageDeduplicationId: attrs.MessageDeduplicationId } : {}),
      ...(attrs.SequenceNumber ? { SequenceNumber: attrs.SequenceNumber } : {}),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:payouts.fifo',
    awsRegion: 'us-east-1',
  };
}

/**
 * Lambda's event source mapping, in miniature: receive up to 10 messages, run the handler, delete the successes,
 * make the failures visible again at once (sooner than the handler's growing waits: test/app/backoff.test.ts
 * covers those). Until the queue is empty (or `maxRounds`).
 */
export async function drainQueue(
  harness: Harness,
  handler: (
    event: SQSEvent,
    context: Context,
  ) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
  opts: { maxRounds?: number; remainingMs?: number } = {},
): Promise<{ rounds: number; processed: number; failures: number }> {
  const { sqs } = harness.runtime.clients;
  const queueUrl = harness.runtime.resources.queueUrl;
  let processed = 0;
  let failures = 0;
  let rounds = 0;
  for (; rounds < (opts.maxRounds ?? 30); rounds++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    const event: SQSEvent = { Records: Messages.map((m) => sqsRecord(m)) };
    let failed: Set<string>;
    try {
      const response = await handler(event, lambdaContext(opts.remainingMs));
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      failed = new Set(event.Records.map((r) => r.messageId));
    }
    for (const m of Messages) {
      if (!m.ReceiptHandle) continue;
      if (failed.has(m.MessageId ?? '')) {
        failures += 1;
        // At once, whatever wait the handler set (retryLater); on a last delivery the handler already released
        // the message (visibility 0), so SQS answers MessageNotInflight: it is visible, as wanted.
        await sqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
          )
          .catch((error: unknown) => {
            if (!(error instanceof Error && error.name === 'MessageNotInflight')) throw error;
          });
      } else {
        processed += 1;
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
    }
  }
  return { rounds, processed, failures };
}

/** Sum of a QuickBooks entry's line amounts, in minor units (2 decimals). */
export function linesTotalCents(entry: Record<string, unknown>): number {
  const lines = (entry.Line as { Amount: number }[] | undefined) ?? [];
  return lines.reduce((sum, l) => sum + Math.round(l.Amount * 100), 0);
}

/**
 * Imports a tenant into a runtime the way `config import` does (accounts resolved against its QuickBooks company) and
 * seeds the realm's tokens from the stand-in, so the first call refreshes them.
 */
export async function addTenantTo(
  runtime: Runtime,
  qbo: QuickBooksStandIn,
  config: TenantConfig,
): Promise<void> {
  const realmId = config.quickbooks.realmId;
  await runtime.tokens.put({
    realmId,
    accessToken: 'expired',
    refreshToken: qbo.issueRefreshToken(realmId),
    accessTokenExpiresAt: 0,
    updatedAt: new Date().toISOString(),
  });
  const books = runtime.quickbooks.forRealm(realmId);
  const chart = await books.getChart();
  const walkIn = config.quickbooks.walkInCustomer
    ? await books.findCustomerByName(config.quickbooks.walkInCustomer)
    : undefined;
  const resolved = resolveTenantBooks(config, chart, walkIn ? { walkInCustomer: walkIn } : {});
  if (!resolved.ok) throw new Error(`test tenant does not resolve: ${JSON.stringify(resolved.problems)}`);
  await runtime.tenants.put({ books: resolved.books, source: config, updatedAt: new Date().toISOString() });
}

/** An API Gateway REST proxy event for POST /webhooks/stripe, as API Gateway presents it (base64 when asked). */
export function webhookEvent(
  body: Buffer | string,
  headers: Record<string, string>,
  opts: { base64?: boolean } = {},
): APIGatewayProxyEvent {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const base64 = opts.base64 ?? false;
  const event = {
    body: base64 ? bytes.toString('base64') : bytes.toString('utf8'),
    isBase64Encoded: base64,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    httpMethod: 'POST',
    path: '/webhooks/stripe',
    resource: '/webhooks/stripe',
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
  };
  return event as unknown as APIGatewayProxyEvent;
}
