/**
 * The composition root: every adapter built from the environment, once, and the dependencies of each use case.
 * Used by the Lambdas (once per cold start), local mode and the CLI. Importing this module does nothing; call
 * `buildRuntime(env)`.
 *
 * Environment (docs/ARCHITECTURE.md): TENANTS_TABLE, CUSTOMERS_TABLE, LEDGER_TABLE, IDEMPOTENCY_TABLE, QUEUE_URL,
 * DLQ_URL, QBO_TOKEN_SECRET_PREFIX; the settings (STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET / QBO_CLIENT_ID /
 * QBO_CLIENT_SECRET, else the secrets named by STRIPE_SECRET_ARN and QBO_APP_SECRET_ARN); STRIPE_API_BASE,
 * QBO_API_BASE, QBO_OAUTH_TOKEN_URL (origins; unset = production); MAX_RECEIVE_COUNT (default 5); the standard
 * AWS_ENDPOINT_URL_* for emulators.
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { type AwsClients, awsClients } from './adapters/aws/clients.js';
import { DynamoConnectStateStore } from './adapters/aws/connect-state-store.js';
import {
  createAwsAdapters,
  type DynamoCustomerMap,
  DynamoLedger,
  SqsPayoutQueue,
} from './adapters/aws/index.js';
import { type AwsResources, resourcesFromEnv } from './adapters/aws/resources.js';
import { loadQboSettings, loadSettings, loadStripeSettings, type Settings } from './adapters/aws/settings.js';
import { DynamoTenantStore } from './adapters/aws/tenant-store.js';
import { SecretsTokenStore } from './adapters/aws/token-store.js';
import { createLogger } from './adapters/logging.js';
import { PowertoolsDriftMetrics } from './adapters/metrics.js';
import { DEFAULT_API_BASE, QuickBooksClientFactory } from './adapters/quickbooks/client.js';
import { readCompanyInfo } from './adapters/quickbooks/company-info.js';
import { QboTokenManager } from './adapters/quickbooks/tokens.js';
import type { StripePayoutSource } from './adapters/stripe/payout-source.js';
import type { AuditDeps } from './app/audit-drift.js';
import type { CompleteConnectionDeps } from './app/connect-quickbooks.js';
import { type IngestWebhookDeps, stripeKeyMode } from './app/ingest-webhook.js';
import type { CatchUpHandlerDeps } from './app/keep-alive.js';
import type { AppLog } from './app/log.js';
import type { PendingConnectionStore } from './app/start-connection.js';
import { DEFAULT_MAX_RECEIVE_COUNT, type SyncPayoutDeps } from './app/sync-payout.js';
import { type BaseDepsOptions, stripePayoutSource, webhookDepsOf } from './runtime-base.js';

export interface RuntimeOptions {
  /** Default `awsClients()` (endpoints from `AWS_ENDPOINT_URL_*`). */
  clients?: AwsClients;
  /** Default `createLogger(serviceName)` (the Powertools Logger, redacting). */
  log?: AppLog;
  /** Default `qbo-sync` (POWERTOOLS_SERVICE_NAME wins). */
  serviceName?: string;
  /** Settings to use instead of reading them (tests, local mode). */
  settings?: Settings;
  /** QuickBooks retry/limit options passed to the client factory (tests shorten the backoff). */
  quickbooks?: Partial<
    Pick<
      ConstructorParameters<typeof QuickBooksClientFactory>[0],
      'retry' | 'limits' | 'timeoutMs' | 'throttlePauseMs'
    >
  >;
  /** Stripe client retries (stripe-node's own; default 2). */
  stripeMaxNetworkRetries?: number;
}

export interface Runtime {
  readonly env: NodeJS.ProcessEnv;
  readonly log: AppLog;
  readonly clients: AwsClients;
  readonly resources: AwsResources;
  readonly settings: Settings;
  readonly tenants: DynamoTenantStore;
  readonly customers: DynamoCustomerMap;
  readonly ledger: DynamoLedger;
  readonly tokens: SecretsTokenStore;
  readonly queue: SqsPayoutQueue;
  readonly payouts: StripePayoutSource;
  readonly quickbooks: QuickBooksClientFactory;
  /** Pending `connect` states: written by the CLI, read and completed by the callback. */
  readonly connectStates: PendingConnectionStore;
  /** The queue's maxReceiveCount (MAX_RECEIVE_COUNT, default 5). */
  readonly maxReceiveCount: number;
  /** Sets the epoch ms by which QuickBooks calls give up (a Lambda's remaining time); undefined = none. */
  setDeadline(deadlineEpochMs: number | undefined): void;
  /** Sends a queue record to the DLQ as it is (a malformed message), keeping its id for `dlq list`. */
  sendToDeadLetterQueue(record: SQSRecord, reason: string): Promise<void>;
  /** Makes a received queue record invisible for `seconds` (its next delivery waits that long). */
  retryLater(record: SQSRecord, seconds: number): Promise<void>;
  /** `syncPayout`'s dependencies (the deposit builder adds `isOutOfTime` per invocation). */
  syncDeps(): Omit<SyncPayoutDeps, 'isOutOfTime'>;
  webhookDeps(): IngestWebhookDeps;
  /** The catch-up's dependencies, with the token manager for the QuickBooks keep-alive. */
  catchUpDeps(): CatchUpHandlerDeps;
  /** The drift audit's dependencies (`payouts audit`, the daily catch-up). */
  auditDeps(): AuditDeps;
  connectDeps(): CompleteConnectionDeps;
}

function maxReceiveCountOf(env: NodeJS.ProcessEnv): number {
  const raw = env.MAX_RECEIVE_COUNT;
  if (raw === undefined || raw.trim() === '') return DEFAULT_MAX_RECEIVE_COUNT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new Error(
      `MAX_RECEIVE_COUNT must be a whole number from 1 to 1000 (the queue's maxReceiveCount), not "${raw}"`,
    );
  }
  return n;
}

/**
 * Builds every adapter from `env`. Throws, naming what is missing, when a variable or a setting is absent.
 * Call it once per process (the Lambdas cache it for the container's life).
 */
export async function buildRuntime(
  env: NodeJS.ProcessEnv = process.env,
  opts: RuntimeOptions = {},
): Promise<Runtime> {
  const resources = resourcesFromEnv(undefined, env);
  const maxReceiveCount = maxReceiveCountOf(env);
  const clients = opts.clients ?? awsClients();
  const log = opts.log ?? createLogger(opts.serviceName ?? 'qbo-sync');
  const settings = opts.settings ?? (await loadSettings({ env }));

  const { tenants, customers, ledger, tokens, queue } = createAwsAdapters(resources, clients);
  const payouts = stripePayoutSource(settings, env, opts.stripeMaxNetworkRetries);
  let deadline: number | undefined;
  const quickbooks = new QuickBooksClientFactory({
    tokens,
    clientId: settings.qboClientId,
    clientSecret: settings.qboClientSecret,
    ...(env.QBO_API_BASE ? { apiBase: env.QBO_API_BASE } : {}),
    ...(env.QBO_OAUTH_TOKEN_URL ? { tokenUrl: env.QBO_OAUTH_TOKEN_URL } : {}),
    deadline: () => deadline ?? Number.POSITIVE_INFINITY,
    logger: log,
    ...opts.quickbooks,
  });
  const connectStates = new DynamoConnectStateStore({ doc: clients.doc, tableName: resources.tenantsTable });

  const runtime: Runtime = {
    env,
    log,
    clients,
    resources,
    settings,
    tenants,
    customers,
    ledger,
    tokens,
    queue,
    payouts,
    quickbooks,
    connectStates,
    maxReceiveCount,
    setDeadline(deadlineEpochMs) {
      deadline = deadlineEpochMs;
    },
    async sendToDeadLetterQueue(record, reason) {
      const attributes: Record<string, MessageAttributeValue> = {
        'qboSync.originalMessageId': { DataType: 'String', StringValue: record.messageId },
        'qboSync.receiveCount': {
          DataType: 'Number',
          StringValue: String(Number(record.attributes?.ApproximateReceiveCount) || 1),
        },
        'qboSync.problem': { DataType: 'String', StringValue: reason.slice(0, 1000) || 'malformed' },
      };
      const sent = Number(record.attributes?.SentTimestamp);
      if (Number.isFinite(sent))
        attributes['qboSync.firstSentAt'] = { DataType: 'Number', StringValue: String(sent) };
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: resources.dlqUrl,
          MessageBody: record.body === '' ? '(empty)' : record.body,
          MessageGroupId: record.attributes?.MessageGroupId || 'malformed',
          MessageDeduplicationId: `malformed-${record.messageId}`.slice(0, 128),
          MessageAttributes: attributes,
        }),
      );
    },
    async retryLater(record, seconds) {
      await clients.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: resources.queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    },
    syncDeps() {
      return {
        tenants,
        ledger,
        payouts,
        quickbooks: (realmId, ctx) => quickbooks.forRealm(realmId, ctx),
        customers,
        queue,
        log,
        newId: randomUUID,
      };
    },
    webhookDeps() {
      // Local mode and tests: the signing secrets and the mode come with the key (STRIPE_WEBHOOK_SECRET, STRIPE_MODE).
      return webhookDepsOf({
        tenants,
        queue,
        webhookSecret: settings.stripeWebhookSecret ?? '',
        stripeMode:
          env.STRIPE_MODE === 'live' || env.STRIPE_MODE === 'test'
            ? env.STRIPE_MODE
            : stripeKeyMode(settings.stripeSecretKey),
        log,
      });
    },
    catchUpDeps() {
      return {
        tenants,
        payouts,
        ledger,
        queue,
        log,
        connections: quickbooks.tokenManager,
        drift: { ledger, quickbooks: (realmId, ctx) => quickbooks.forRealm(realmId, ctx) },
      };
    },
    auditDeps() {
      return { tenants, ledger, quickbooks: (realmId, ctx) => quickbooks.forRealm(realmId, ctx), log };
    },
    connectDeps() {
      return connectDepsOf({
        states: connectStates,
        tenants,
        tokenManager: quickbooks.tokenManager,
        apiBase: quickbooks.apiBase,
        ...(settings.qboRedirectUri !== undefined ? { redirectUri: settings.qboRedirectUri } : {}),
        log,
      });
    },
  };
  return runtime;
}

/**
 * The QuickBooks callback's dependencies from the environment its Lambda is given: `TENANTS_TABLE`,
 * `QBO_TOKEN_SECRET_PREFIX`, the QuickBooks app settings (`QBO_CLIENT_ID` / `QBO_CLIENT_SECRET` / `QBO_REDIRECT_URI`,
 * else the secret named by `QBO_APP_SECRET_ARN`) and `QBO_OAUTH_TOKEN_URL`.
 */
export async function buildConnectDeps(
  env: NodeJS.ProcessEnv = process.env,
  opts: BaseDepsOptions = {},
): Promise<CompleteConnectionDeps> {
  const { tenantsTable, tokenSecretPrefix } = resourcesFromEnv(['tenantsTable', 'tokenSecretPrefix'], env);
  const clients = opts.clients ?? awsClients();
  const log = opts.log ?? createLogger('qbo-sync-qbo-callback');
  const settings = await loadQboSettings({ env });
  const tokenManager = tokenManagerFrom(env, { clients, tenantsTable, tokenSecretPrefix, log }, settings);
  return connectDepsOf({
    states: new DynamoConnectStateStore({ doc: clients.doc, tableName: tenantsTable }),
    tenants: new DynamoTenantStore({ doc: clients.doc, tableName: tenantsTable }),
    tokenManager,
    apiBase: (env.QBO_API_BASE ?? DEFAULT_API_BASE).replace(/\/+$/, ''),
    ...(settings.qboRedirectUri !== undefined ? { redirectUri: settings.qboRedirectUri } : {}),
    log,
  });
}

/**
 * The OAuth callback's use case over built parts: the code exchanged by the token manager, the company confirmed by
 * reading its CompanyInfo with the new access token at `apiBase`, the tokens stored under the realm's lock.
 */
export function connectDepsOf(parts: {
  states: CompleteConnectionDeps['states'];
  tenants: CompleteConnectionDeps['tenants'];
  tokenManager: QboTokenManager;
  apiBase: string;
  redirectUri?: string;
  log: AppLog;
}): CompleteConnectionDeps {
  const { tokenManager, apiBase } = parts;
  return {
    states: parts.states,
    tenants: parts.tenants,
    exchangeCode: (code, redirectUri, realmId, ctx) =>
      tokenManager.exchangeCode(code, redirectUri, realmId, ctx),
    confirmRealm: (accessToken, realmId) => readCompanyInfo({ apiBase, realmId, accessToken }),
    storeTokens: (tokens) => tokenManager.storeConnected(tokens),
    ...(parts.redirectUri !== undefined ? { redirectUri: parts.redirectUri } : {}),
    log: parts.log,
  };
}

/** The QuickBooks token manager over the per-realm token secrets (the callback's and the catch-up's). */
function tokenManagerFrom(
  env: NodeJS.ProcessEnv,
  parts: { clients: AwsClients; tenantsTable: string; tokenSecretPrefix: string; log: AppLog },
  settings: { qboClientId: string; qboClientSecret: string },
): QboTokenManager {
  return new QboTokenManager({
    store: new SecretsTokenStore({
      secrets: parts.clients.secrets,
      doc: parts.clients.doc,
      tenantsTable: parts.tenantsTable,
      secretPrefix: parts.tokenSecretPrefix,
    }),
    clientId: settings.qboClientId,
    clientSecret: settings.qboClientSecret,
    ...(env.QBO_OAUTH_TOKEN_URL ? { tokenUrl: env.QBO_OAUTH_TOKEN_URL } : {}),
    logger: parts.log,
  });
}

/**
 * The catch-up's dependencies from the environment its Lambda is given: `TENANTS_TABLE`, `LEDGER_TABLE`,
 * `QUEUE_URL`, the Stripe settings and `STRIPE_API_BASE` (the catch-up itself); `QBO_TOKEN_SECRET_PREFIX`, the
 * QuickBooks app settings, `QBO_OAUTH_TOKEN_URL` (the keep-alive) and `QBO_API_BASE` (the drift audit, whose
 * metric goes to `POWERTOOLS_METRICS_NAMESPACE`).
 */
export async function buildCatchUpDeps(
  env: NodeJS.ProcessEnv = process.env,
  opts: BaseDepsOptions & { stripeMaxNetworkRetries?: number } = {},
): Promise<CatchUpHandlerDeps> {
  const { tenantsTable, ledgerTable, queueUrl, tokenSecretPrefix } = resourcesFromEnv(
    ['tenantsTable', 'ledgerTable', 'queueUrl', 'tokenSecretPrefix'],
    env,
  );
  const clients = opts.clients ?? awsClients();
  const log = opts.log ?? createLogger('qbo-sync-catch-up');
  const [stripe, qbo] = await Promise.all([loadStripeSettings({ env }), loadQboSettings({ env })]);
  // The webhook ignores events of the other mode: a key of the wrong mode would leave every payout unsynced.
  const keyMode = stripeKeyMode(stripe.stripeSecretKey);
  if (env.STRIPE_MODE && env.STRIPE_MODE !== keyMode) {
    throw new Error(
      `the stack serves Stripe ${env.STRIPE_MODE} mode (context stripeMode), but the Stripe secret key is a ${keyMode}-mode key: put the ${env.STRIPE_MODE}-mode key in the Stripe secret, or deploy with -c stripeMode=${keyMode}`,
    );
  }
  const ledger = new DynamoLedger({ doc: clients.doc, tableName: ledgerTable });
  // One client factory (and its token manager: one refresh lock per realm) for the keep-alive and the drift audit.
  const quickbooks = new QuickBooksClientFactory({
    tokens: new SecretsTokenStore({
      secrets: clients.secrets,
      doc: clients.doc,
      tenantsTable,
      secretPrefix: tokenSecretPrefix,
    }),
    clientId: qbo.qboClientId,
    clientSecret: qbo.qboClientSecret,
    ...(env.QBO_API_BASE ? { apiBase: env.QBO_API_BASE } : {}),
    ...(env.QBO_OAUTH_TOKEN_URL ? { tokenUrl: env.QBO_OAUTH_TOKEN_URL } : {}),
    logger: log,
  });
  return {
    tenants: new DynamoTenantStore({ doc: clients.doc, tableName: tenantsTable }),
    ledger,
    queue: new SqsPayoutQueue({ sqs: clients.sqs, queueUrl }),
    payouts: stripePayoutSource(stripe, env, opts.stripeMaxNetworkRetries),
    connections: quickbooks.tokenManager,
    drift: { ledger, quickbooks: (realmId, ctx) => quickbooks.forRealm(realmId, ctx) },
    driftMetrics: new PowertoolsDriftMetrics(),
    log,
  };
}
