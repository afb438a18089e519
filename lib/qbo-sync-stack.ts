import { Aws, CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import type { StageConfig } from './config.js';
import { AlarmTopic } from './constructs/alarm-topic.js';
import { NodeFunction } from './constructs/node-function.js';
import { PayoutQueue } from './constructs/payout-queue.js';
import { SupportConsole } from './constructs/support-console.js';
import { metricsNamespace, SyncAlarms } from './constructs/sync-alarms.js';
import { SyncApi } from './constructs/sync-api.js';
import { SyncSecrets } from './constructs/sync-secrets.js';
import { TENANTS_ITEMS as ITEMS, SyncTables } from './constructs/sync-tables.js';

export interface QboSyncStackProps extends StackProps {
  readonly config: StageConfig;
}

/** The output keys `qbo-sync … --stack NAME` reads (exact). */
export const OUTPUT_KEYS = [
  'WebhookUrl',
  'CallbackUrl',
  'QueueUrl',
  'DlqUrl',
  'TenantsTable',
  'CustomersTable',
  'LedgerTable',
  'IdempotencyTable',
  'StripeSecretArn',
  'StripeWebhookSecretArn',
  'QboAppSecretArn',
  'QboTokenSecretPrefix',
  'ConsoleUrl',
  'ConsoleUserPoolId',
] as const;
export type OutputKey = (typeof OUTPUT_KEYS)[number];

/**
 * momence-qbo-sync on AWS, as in the diagram:
 *
 * ```
 * Stripe ─▶ API POST /webhooks/stripe ─▶ Webhook fn ─▶ PayoutQueue (FIFO) ─▶ DepositBuilder fn ─▶ QuickBooks
 *                                                          │  └─ 5 failures ─▶ DLQ
 *   SyncAlarms (DLQ, HELD, FAILED, queue age, worker errors/throttles, API 5xx/4xx, catch-up) ─▶ AlarmTopic
 * CatchUpSchedule (daily) ─▶ CatchUp fn ───────────────────┘
 * Intuit OAuth ─▶ API GET /quickbooks/callback ─▶ QboCallback fn ─▶ token secrets, tenants
 * ```
 *
 * Environment-agnostic (no account or region in the template, no lookups): every setting comes from the
 * validated stage context (lib/config.ts). Each function is granted exactly what it uses.
 */
export class QboSyncStack extends Stack {
  readonly functions: {
    readonly webhook: NodeFunction;
    readonly depositBuilder: NodeFunction;
    readonly catchUp: NodeFunction;
    readonly qboCallback: NodeFunction;
  };
  readonly tables: SyncTables;
  readonly secrets: SyncSecrets;
  readonly payoutQueue: PayoutQueue;
  readonly api: SyncApi;
  readonly alarms: AlarmTopic;
  /** Every alarm, each notifying `alarms.topic`. */
  readonly alarmSet: SyncAlarms;
  readonly supportConsole: SupportConsole;

  constructor(scope: Construct, id: string, props: QboSyncStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('app', 'momence-qbo-sync');
    Tags.of(this).add('stage', config.stage);

    const fnDefaults = {
      logRetention: config.logRetentionDays,
      logLevel: config.logLevel,
      metafile: config.bundleMetafile,
    };
    const workerTimeout = Duration.seconds(config.workerTimeoutSeconds);

    // Stateful: tables, secrets, the queue and its alarm.
    this.tables = new SyncTables(this, 'Tables', { deletionProtection: config.deletionProtection });
    this.secrets = new SyncSecrets(this, 'Secrets');
    this.alarms = new AlarmTopic(this, 'Alarms', { email: config.alarmEmail });
    this.payoutQueue = new PayoutQueue(this, 'PayoutQueue', { workerTimeout });
    const { tables, secrets, payoutQueue } = this;

    // Webhook: verify the Stripe signature, find the tenant, enqueue. No QuickBooks access of any kind.
    const webhook = new NodeFunction(this, 'Webhook', {
      ...fnDefaults,
      entry: 'lambdas/webhook.ts',
      description: 'Stripe webhook: verifies the signature and enqueues payout events',
      timeout: Duration.seconds(10),
    })
      // The account index only (which tenant owns a Stripe account), its own signing secrets (never the Stripe API
      // key), and the mode it serves from configuration.
      .bindTableItems('TENANTS_TABLE', tables.tenants, { read: [ITEMS.account] })
      .bindSecret('STRIPE_WEBHOOK_SECRET_ARN', secrets.stripeWebhook)
      .setSetting('STRIPE_MODE', config.stripeMode)
      .bindQueue('QUEUE_URL', payoutQueue.queue);

    // Deposit builder: the queue's worker; reads Stripe, writes QuickBooks, the ledger and the customer map.
    // It re-enqueues a `continue` message when a payout outlasts one invocation. Lambda's recursive-loop detection
    // (left on) stops a chain after 16 such hops (48 min of work at the default timeout, more than the largest
    // payout needs) and sends the message to the DLQ, where the alarm and `dlq replay` take over.
    const depositBuilder = new NodeFunction(this, 'DepositBuilder', {
      ...fnDefaults,
      entry: 'lambdas/deposit-builder.ts',
      description: 'Queue worker: builds and posts one QuickBooks deposit per Stripe payout',
      timeout: workerTimeout,
      memorySize: 1024,
      // At most workerConcurrency tenants at once, whatever else runs in the account (docs/deploying.md).
      ...(config.workerReservedConcurrency > 0
        ? { reservedConcurrency: config.workerReservedConcurrency }
        : {}),
    })
      .bindTableItems('TENANTS_TABLE', tables.tenants, { read: [ITEMS.tenant], write: [ITEMS.refreshLock] })
      .bindTable('CUSTOMERS_TABLE', tables.customers, 'readWrite')
      .bindTable('LEDGER_TABLE', tables.ledger, 'readWrite')
      .bindTable('IDEMPOTENCY_TABLE', tables.idempotency, 'readWrite')
      .bindSecret('STRIPE_SECRET_ARN', secrets.stripe)
      .bindSecret('QBO_APP_SECRET_ARN', secrets.qboApp)
      .bindSecretPrefix('QBO_TOKEN_SECRET_PREFIX', secrets.tokens, 'readWrite')
      .bindQueue('QUEUE_URL', payoutQueue.queue)
      // A malformed message is moved to the DLQ at once (it could never succeed), and the last delivery of a
      // failing one is recorded FAILED: the worker must know the DLQ and the queue's maxReceiveCount.
      .bindQueue('DLQ_URL', payoutQueue.deadLetterQueue)
      .setSetting('MAX_RECEIVE_COUNT', String(payoutQueue.maxReceiveCount))
      // The namespace of the PayoutsHeld / PayoutsFailed metrics the alarms watch (one per stack).
      .setSetting('POWERTOOLS_METRICS_NAMESPACE', metricsNamespace(this.stackName));
    payoutQueue.consumeWith(depositBuilder, {
      batchSize: config.workerBatchSize,
      maxConcurrency: config.workerConcurrency,
    });

    // Daily catch-up: re-enqueues recent payouts that never reached a final status, and keeps quiet QuickBooks
    // connections alive (refreshes tokens last refreshed over 30 days ago).
    const catchUp = new NodeFunction(this, 'CatchUp', {
      ...fnDefaults,
      entry: 'lambdas/catch-up.ts',
      description:
        'Daily catch-up: enqueues payouts of the last 7 days not yet settled; refreshes QuickBooks tokens over 30 days old; audits drift',
      timeout: Duration.minutes(5),
    })
      // Lists the tenants (a Scan: no key to limit), writes only the refresh locks (keep-alive).
      .bindTableItems('TENANTS_TABLE', tables.tenants, { scan: true, write: [ITEMS.refreshLock] })
      .bindTable('LEDGER_TABLE', tables.ledger, 'read')
      .bindSecret('STRIPE_SECRET_ARN', secrets.stripe)
      .bindQueue('QUEUE_URL', payoutQueue.queue)
      // The QuickBooks keep-alive: refreshes tokens older than 30 days under the realm's lock (a tenants-table item).
      .bindSecret('QBO_APP_SECRET_ARN', secrets.qboApp)
      .bindSecretPrefix('QBO_TOKEN_SECRET_PREFIX', secrets.tokens, 'readWrite')
      .setSetting('STRIPE_MODE', config.stripeMode)
      // The namespace of the EntriesDrifted metric (the drift audit) the alarms watch.
      .setSetting('POWERTOOLS_METRICS_NAMESPACE', metricsNamespace(this.stackName));
    // The drift audit notes its findings on the ledger rows: UpdateItem, nothing else.
    tables.ledger.grant(catchUp.role, 'dynamodb:UpdateItem');
    new Rule(this, 'CatchUpSchedule', {
      description: `Runs the catch-up every day at ${String(config.catchUpHourUtc).padStart(2, '0')}:15 UTC`,
      schedule: Schedule.cron({ minute: '15', hour: String(config.catchUpHourUtc) }),
      targets: [new LambdaFunction(catchUp.function, { retryAttempts: 2 })],
    });

    // QuickBooks OAuth callback: exchanges the code, stores the realm's tokens, links the tenant.
    const qboCallback = new NodeFunction(this, 'QboCallback', {
      ...fnDefaults,
      entry: 'lambdas/qbo-callback.ts',
      description: 'QuickBooks OAuth callback: stores the company tokens and links the tenant',
      timeout: Duration.seconds(29),
    })
      .bindTableItems('TENANTS_TABLE', tables.tenants, {
        read: [ITEMS.state, ITEMS.tenant, ITEMS.realm],
        write: [ITEMS.state, ITEMS.realm, ITEMS.refreshLock],
      })
      .bindSecret('QBO_APP_SECRET_ARN', secrets.qboApp)
      .bindSecretPrefix('QBO_TOKEN_SECRET_PREFIX', secrets.tokens, 'create');

    if (config.qboApiBase !== undefined) {
      depositBuilder.setSetting('QBO_API_BASE', config.qboApiBase);
      qboCallback.setSetting('QBO_API_BASE', config.qboApiBase);
      catchUp.setSetting('QBO_API_BASE', config.qboApiBase);
    }

    this.functions = { webhook, depositBuilder, catchUp, qboCallback };

    this.api = new SyncApi(this, 'Api', {
      webhook,
      qboCallback,
      rateLimit: config.apiRateLimit,
      burstLimit: config.apiBurstLimit,
      logRetention: config.logRetentionDays,
      cloudWatchRole: config.apiCloudWatchRole,
    });

    // The support console: one more function behind the same API, with its Cognito user pool (issue 17).
    this.supportConsole = new SupportConsole(this, 'SupportConsole', {
      api: this.api.api,
      // SyncApi's stage, as a literal: its Stage resource depends on the console's methods, which depend on the
      // function whose environment names this URL (test/cdk/console.test.ts checks they agree).
      stageName: 'v1',
      tables,
      secrets,
      payoutQueue,
      domainPrefix: config.consoleDomainPrefix ?? `qbo-sync-${config.stage}-${Aws.ACCOUNT_ID}`,
      logRetention: config.logRetentionDays,
      logLevel: config.logLevel,
      metafile: config.bundleMetafile,
      ...(config.qboApiBase !== undefined ? { qboApiBase: config.qboApiBase } : {}),
    });

    this.alarmSet = new SyncAlarms(this, 'Alarm', {
      topic: this.alarms.topic,
      queue: payoutQueue.queue,
      deadLetterQueue: payoutQueue.deadLetterQueue,
      maxReceiveCount: payoutQueue.maxReceiveCount,
      depositBuilder: depositBuilder.function,
      catchUp: catchUp.function,
      api: this.api.api,
    });

    const outputs: Record<OutputKey, { value: string; description: string }> = {
      WebhookUrl: {
        value: this.api.webhookUrl,
        description: 'Register as the Stripe (Connect) webhook endpoint',
      },
      CallbackUrl: { value: this.api.callbackUrl, description: 'Register as the Intuit app redirect URI' },
      QueueUrl: { value: payoutQueue.queue.queueUrl, description: 'Payout queue (FIFO)' },
      DlqUrl: { value: payoutQueue.deadLetterQueue.queueUrl, description: 'Dead-letter queue (FIFO)' },
      TenantsTable: { value: tables.tenants.tableName, description: 'Tenants table' },
      CustomersTable: { value: tables.customers.tableName, description: 'Customer map table' },
      LedgerTable: { value: tables.ledger.tableName, description: 'Payout ledger table' },
      IdempotencyTable: { value: tables.idempotency.tableName, description: 'Idempotency table' },
      StripeSecretArn: {
        value: secrets.stripe.secretArn,
        description: 'Stripe secret: {secretKey}',
      },
      StripeWebhookSecretArn: {
        value: secrets.stripeWebhook.secretArn,
        description: 'Stripe webhook signing secrets: {webhookSecret: "platform:whsec_…,connect:whsec_…"}',
      },
      QboAppSecretArn: {
        value: secrets.qboApp.secretArn,
        description: 'QuickBooks app secret: {clientId, clientSecret, redirectUri}',
      },
      QboTokenSecretPrefix: {
        value: secrets.tokens.prefix,
        description: 'Per-realm token secrets: <prefix><realmId>',
      },
      ConsoleUrl: {
        value: `${this.supportConsole.url}/`,
        description:
          'The support console (sign in with a user of ConsoleUserPoolId in the support or viewer group)',
      },
      ConsoleUserPoolId: {
        value: this.supportConsole.userPool.userPoolId,
        description: "The support console's Cognito user pool: add people and put them in support or viewer",
      },
    };
    for (const key of OUTPUT_KEYS) new CfnOutput(this, key, outputs[key]);
  }
}
