/**
 * `qbo-sync local` (what `npm start` runs): the whole pipeline on this machine, CONTRACT §9.
 *
 *   HTTP (node:http, loopback) ── POST /webhooks/stripe ──▶ the webhook Lambda's handler (API Gateway proxy events)
 *                                                              │ enqueue
 *   SQS FIFO (fauxqs) ◀───────────────────────────────────────┘
 *        │ long poll: QueuePoller = the event source mapping
 *        ▼
 *   the deposit-builder Lambda's handler ──▶ Stripe (stand-in), QuickBooks (stand-in), DynamoDB (dynalite)
 *
 * Each embedded part is used only where the environment does not point elsewhere (QBO_API_BASE, STRIPE_API_BASE,
 * AWS_ENDPOINT_URL_*). State persists in the data folder (`.qbo-sync/`): DynamoDB tables, token secrets, the
 * QuickBooks stand-in's company, and the local webhook secret.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { handler as depositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { handler as qboCallbackHandler } from '../../lambdas/qbo-callback.js';
import { handler as webhookHandler } from '../../lambdas/webhook.js';
import { type AwsEmulators, startAwsEmulators } from '../../standins/aws/index.js';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import {
  demoPayout,
  makePayoutEvent,
  type StripeStandIn,
  signWebhook,
  startStripeStandIn,
} from '../../standins/stripe/index.js';
import { awsClients, resetAwsClients } from '../adapters/aws/clients.js';
import { provisionLocalResources } from '../adapters/aws/provision.js';
import { resourcesToEnv } from '../adapters/aws/resources.js';
import { readConfigFile } from '../adapters/config-file.js';
import { type AppLog, describeError } from '../app/log.js';
import { internalEventId } from '../app/payout-message.js';
import type { Ledger, LedgerRecord, PayoutQueue, TenantStore } from '../app/ports.js';
import type { ConfigProblem } from '../app/tenant-config.js';
import { importTenants } from '../app/tenant-config.js';
import type { TenantConfig } from '../domain/config.js';
import { formatMinor } from '../domain/money.js';
import { buildRuntime } from '../runtime.js';
import { parsePort } from './args.js';
import { formatProblems } from './config-import.js';
import {
  DEFAULT_PORT,
  LOCAL_INVOCATION_BUDGET_MS,
  LOCAL_MAX_RECEIVE_COUNT,
  LOCAL_VISIBILITY_TIMEOUT_SECONDS,
  RESOURCE_PREFIX,
  RETRY_SCALE_ENV,
  TOKEN_SECRET_PREFIX,
} from './constants.js';
import {
  demoTenantConfig,
  describeNotPosted,
  describePosted,
  samplePayouts,
  waitForSettled,
} from './demo.js';
import { type LocalHttpServer, type ProxyHandler, startLocalHttpServer } from './http.js';
import { localLogger, readableLogs } from './log.js';
import { parseRetryScale, QueuePoller, retryDelaySeconds } from './poller.js';
import {
  isProcessAlive,
  LOCAL_JSON,
  type LocalTarget,
  LocalTargetSchema,
  removeLocalTarget,
  resolveDataDir,
  writeLocalTarget,
} from './target.js';

const SETTINGS_FILE = 'settings.json';
const QUICKBOOKS_STATE_FILE = 'quickbooks.json';
/** What a data folder may hold: `--fresh` refuses to empty a folder holding anything else. */
const DATA_DIR_ENTRIES = new Set([
  'dynamodb',
  'secrets.json',
  'aws.lock',
  QUICKBOOKS_STATE_FILE,
  SETTINGS_FILE,
  LOCAL_JSON,
]);
/** How long the demo waits for the worker: enough for a payout that keeps failing to reach the DLQ. */
const DEMO_TIMEOUT_MS = 200_000;

export interface LocalOptions {
  /** The working directory (the data folder is found from it). Default `process.cwd()`. */
  cwd?: string;
  /** A sync config file to import at start; without it the demo tenant is used. */
  config?: string;
  /** HTTP port; default `PORT`, else 3000. 0 picks a free port. */
  port?: number;
  /** Run the demo payout, print it, stop: exit 0 when POSTED. */
  once?: boolean;
  /** Empty the data folder first. */
  fresh?: boolean;
  /** The data folder, default `.qbo-sync` (relative to `cwd`). */
  dataDir?: string;
  /**
   * Scales the queue poller's waits between receives of a failing message (0 < scale ≤ 1); default
   * `QBO_SYNC_LOCAL_RETRY_SCALE`, else 1 (5, 10, 15, 20 s).
   */
  retryScale?: number;
  /** The environment to read settings from. Default `process.env`. The handlers always read `process.env`, which local mode sets. */
  env?: NodeJS.ProcessEnv;
  /** Where the banner and the deposit table go. Default stdout. */
  out?: (text: string) => void;
  /** Where start-up problems go. Default stderr. */
  err?: (text: string) => void;
  /** Whether runLocal installs SIGINT/SIGTERM handlers. Default true. */
  handleSignals?: boolean;
}

/** A start-up failure a person can fix (bad config, port in use…): printed without a stack trace. */
export class LocalStartError extends Error {
  override readonly name = 'LocalStartError';
  constructor(
    message: string,
    readonly problems: readonly ConfigProblem[] = [],
  ) {
    super(message);
  }
}

export interface DemoOutcome {
  payoutId: string;
  /** The ledger row at the end (undefined: the payout never reached the ledger in time). */
  row: LedgerRecord | undefined;
  /** True when this run sent the webhook; false when an earlier run had already processed the payout. */
  sent: boolean;
}

export interface LocalInstance {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly target: LocalTarget;
  /** Tenant ids imported at start. */
  readonly tenants: readonly string[];
  /** True when no config was given and the embedded Stripe and QuickBooks run: `runDemo` can run. */
  readonly demoAvailable: boolean;
  /** Things a person should know, printed after the banner (tenants not imported for lack of a connection). */
  readonly warnings: readonly string[];
  /** Payouts besides the demo one that the embedded Stripe stand-in holds (empty otherwise). */
  readonly samplePayoutIds: readonly string[];
  /** The embedded stand-ins (undefined where the environment points at a real service), for tests and tools. */
  readonly standIns: { quickbooks?: QuickBooksStandIn; stripe?: StripeStandIn };
  /** Sends the demo payout (unless an earlier run processed it), waits for the ledger, prints the deposit. */
  runDemo(): Promise<DemoOutcome>;
  /** Stops everything (HTTP, poller, stand-ins, emulators) and removes local.json. Idempotent. */
  stop(): Promise<void>;
  /** Resolves once stopped. */
  readonly stopped: Promise<void>;
}

// ------------------------------------------------------------------------------------------------ data folder

const SettingsSchema = z.object({ webhookSecret: z.string().regex(/^whsec_\S+$/) });

/** The local webhook secret, generated once per data folder. */
function loadOrCreateSettings(dataDir: string): z.infer<typeof SettingsSchema> {
  const file = path.join(dataDir, SETTINGS_FILE);
  if (existsSync(file)) {
    try {
      const parsed = SettingsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (parsed.success) return parsed.data;
    } catch {
      // rewritten below
    }
  }
  const settings = { webhookSecret: `whsec_${randomBytes(24).toString('base64url')}` };
  writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  return settings;
}

function refuseIfRunning(dataDir: string): void {
  const file = path.join(dataDir, LOCAL_JSON);
  if (!existsSync(file)) return;
  try {
    const parsed = LocalTargetSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success && parsed.data.pid !== process.pid && isProcessAlive(parsed.data.pid)) {
      throw new LocalStartError(
        `local mode is already running with the data folder ${dataDir} (process ${parsed.data.pid}, ${parsed.data.url}): stop it (Ctrl-C in its terminal) or give this one another --data-dir`,
      );
    }
  } catch (error) {
    if (error instanceof LocalStartError) throw error;
  }
  rmSync(file, { force: true }); // left by a process that did not exit cleanly
}

function emptyDataDir(dataDir: string): void {
  if (!existsSync(dataDir)) return;
  const strangers = readdirSync(dataDir).filter(
    (name) => !DATA_DIR_ENTRIES.has(name) && !name.endsWith('.tmp'),
  );
  if (strangers.length > 0) {
    throw new LocalStartError(
      `--fresh would empty ${dataDir}, but it holds ${strangers
        .slice(0, 5)
        .map((s) => `"${s}"`)
        .join(
          ', ',
        )}, which local mode did not create: point --data-dir at a local-mode data folder (or a new one)`,
    );
  }
  for (const name of readdirSync(dataDir)) rmSync(path.join(dataDir, name), { recursive: true, force: true });
}

// ------------------------------------------------------------------------------------------------ environment

function endpointFromEnv(
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

// ------------------------------------------------------------------------------------------------ start

export async function startLocal(options: LocalOptions = {}): Promise<LocalInstance> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const dataDir = resolveDataDir(cwd, options.dataDir);
  const out = options.out ?? ((text: string) => void process.stdout.write(text));
  const port = options.port ?? (env.PORT ? parsePortEnv(env.PORT) : DEFAULT_PORT);
  const retryScale = resolveRetryScale(options.retryScale, env);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';

  refuseIfRunning(dataDir);
  if (options.fresh) emptyDataDir(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const webhookSecret = env.STRIPE_WEBHOOK_SECRET || loadOrCreateSettings(dataDir).webhookSecret;

  // Real services named by the environment need their credentials.
  const qboEmbedded = !env.QBO_API_BASE;
  const stripeEmbedded = !env.STRIPE_API_BASE;
  if (!qboEmbedded) {
    const how = "use your Intuit app's keys (developer.intuit.com → your app → Keys and credentials)";
    required(env, 'QBO_CLIENT_ID', 'QBO_API_BASE points local mode at a real QuickBooks', how);
    required(env, 'QBO_CLIENT_SECRET', 'QBO_API_BASE points local mode at a real QuickBooks', how);
  }
  if (!stripeEmbedded) {
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
  const awsEmbedded = !awsOverrides.dynamodb || !awsOverrides.sqs || !awsOverrides.secretsManager;

  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  let http: LocalHttpServer | undefined;
  let poller: QueuePoller | undefined;
  let ready = false;
  let stopping: Promise<void> | undefined;
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  const log: AppLog = localLogger();

  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c.close();
      } catch (error) {
        log.warn(`could not stop the ${c.name} cleanly`, { reason: describeError(error) });
      }
    }
  };

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      ready = false;
      await http?.close();
      if (poller) {
        // An invocation in flight gets a while to finish; otherwise its message comes back after the visibility timeout.
        await Promise.race([poller.stop(), new Promise((r) => setTimeout(r, 15_000).unref())]);
      }
      await closeAll();
      removeLocalTarget(dataDir);
      resetAwsClients();
      resolveStopped();
    })();
    return stopping;
  };

  try {
    // 1. The HTTP endpoint first, so /healthz answers (503) while the rest starts.
    const notReady = () => ({
      statusCode: 503,
      body: { status: 'starting', message: 'local mode is starting; try again in a moment' },
    });
    /** A Lambda handler behind the endpoint, answering 503 until everything is ready. */
    const whenReady =
      (handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>): ProxyHandler =>
      async (event) => {
        if (!ready) return { statusCode: 503, body: JSON.stringify(notReady().body) };
        return handler(event);
      };
    http = await startLocalHttpServer({
      port,
      routes: [
        {
          method: 'GET',
          path: '/healthz',
          respond: () => (ready ? { statusCode: 200, body: { status: 'ok' } } : notReady()),
        },
        {
          method: 'POST',
          path: '/webhooks/stripe',
          functionName: 'qbo-sync-local-webhook',
          handler: whenReady(webhookHandler),
        },
        {
          method: 'GET',
          path: '/quickbooks/callback',
          functionName: 'qbo-sync-local-qbo-callback',
          handler: whenReady(qboCallbackHandler),
        },
      ],
      onError: (error, route) =>
        log.error('a local handler failed', { route: route.path, reason: describeError(error) }),
    }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') {
        throw new LocalStartError(
          `port ${port} is in use (another local mode, or another server): stop it, or choose another port with --port P or PORT=P`,
        );
      }
      if (code === 'EACCES')
        throw new LocalStartError(`port ${port} cannot be opened here: choose one above 1023 with --port P`);
      throw error;
    });
    const url = http.url;

    // 2. The embedded parts, in parallel.
    const started = await Promise.allSettled([
      awsEmbedded ? startAwsEmulators({ dataDir, region }) : Promise.resolve(undefined),
      qboEmbedded
        ? startQuickBooksStandIn({
            statePath: path.join(dataDir, QUICKBOOKS_STATE_FILE),
            companies: [demoCompanySeed()],
            ...(env.QBO_CLIENT_ID ? { clientId: env.QBO_CLIENT_ID } : {}),
            ...(env.QBO_CLIENT_SECRET ? { clientSecret: env.QBO_CLIENT_SECRET } : {}),
          })
        : Promise.resolve(undefined),
      stripeEmbedded
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

    const endpoints = {
      dynamodb: awsOverrides.dynamodb ?? aws?.endpoints.dynamodb ?? '',
      sqs: awsOverrides.sqs ?? aws?.endpoints.sqs ?? '',
      secretsManager: awsOverrides.secretsManager ?? aws?.endpoints.secretsManager ?? '',
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
    const redirectUri =
      env.QBO_REDIRECT_URI || `${url.replace('127.0.0.1', 'localhost')}/quickbooks/callback`;

    // 3. The environment the Lambda handlers build their dependencies from (read on their first call).
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
    if (awsEmbedded && !env.AWS_ACCESS_KEY_ID) {
      process.env.AWS_ACCESS_KEY_ID = 'local';
      process.env.AWS_SECRET_ACCESS_KEY = 'local';
    }
    resetAwsClients();
    const clients = awsClients();
    const resources = await provisionLocalResources(clients, {
      prefix: RESOURCE_PREFIX,
      maxReceiveCount: LOCAL_MAX_RECEIVE_COUNT,
      visibilityTimeoutSeconds: LOCAL_VISIBILITY_TIMEOUT_SECONDS,
    });
    Object.assign(process.env, resourcesToEnv({ ...resources, tokenSecretPrefix: TOKEN_SECRET_PREFIX }));

    // 4. The adapters local mode itself uses (imports, the demo, recovery): the same composition root as the Lambdas.
    const runtime = await buildRuntime(process.env, { serviceName: 'qbo-sync-local' });
    const { tenants, ledger, tokens, queue, quickbooks } = runtime;
    const books = (realmId: string, tenantId: string) => quickbooks.forRealm(realmId, { tenantId });

    /** Seeds a realm's refresh token, only when none is stored (a restart never rolls a rotated token back). */
    const seedToken = async (realmId: string, refreshToken: string, force = false): Promise<boolean> => {
      if (!force && (await tokens.get(realmId))) return false;
      await tokens.put({
        realmId,
        accessToken: 'expired-seed',
        refreshToken,
        accessTokenExpiresAt: 0,
        updatedAt: new Date().toISOString(),
      });
      return true;
    };

    // 5. Tenants: the config's, or the demo tenant.
    let tenantConfigs: TenantConfig[];
    if (options.config) {
      const configPath = path.resolve(cwd, options.config);
      const parsed = readConfigFile(configPath);
      if (!parsed.ok)
        throw new LocalStartError(`the config file ${configPath} is not valid`, parsed.problems);
      tenantConfigs = parsed.config.tenants;
    } else {
      if (!qbo) {
        throw new LocalStartError(
          'QBO_API_BASE points at a real QuickBooks, so the demo company is not available: pass --config F with your tenants (their realmId, accounts and a refreshToken)',
        );
      }
      tenantConfigs = [demoTenantConfig()];
    }
    // A config's refreshToken seeds its realm on import (only when no token is stored). Without one, the embedded
    // stand-in issues a connection; a tenant whose company was never connected is left out (not an error: `connect`
    // needs local mode running).
    const notConnected: TenantConfig[] = [];
    for (const t of tenantConfigs) {
      const realmId = t.quickbooks.realmId;
      if (t.quickbooks.refreshToken || (await tokens.get(realmId))) continue;
      const issued = qbo ? issueToken(qbo, realmId) : undefined;
      if (issued) await seedToken(realmId, issued);
      else notConnected.push(t);
    }
    const warnings = notConnected.map(
      (t) =>
        `tenant ${t.id} was not imported: no QuickBooks connection is stored for company ${t.quickbooks.realmId}. Connect it with \`npx qbo-sync connect --tenant ${t.id} --local\`, then \`npx qbo-sync config import ${options.config ?? '<file>'} --local\` (or restart local mode); or add quickbooks.refreshToken to the config`,
    );
    tenantConfigs = tenantConfigs.filter((t) => !notConnected.includes(t));
    const importDeps = { tenants, tokens, books };
    let imported = await importTenants(importDeps, { tenants: tenantConfigs });
    if (imported.problems.length > 0 && qbo && !options.config) {
      // The demo's stored token may belong to an emptied stand-in state: connect again and retry once.
      const realmId = tenantConfigs[0]?.quickbooks.realmId ?? '';
      const issued = issueToken(qbo, realmId);
      if (issued) {
        await seedToken(realmId, issued, true);
        imported = await importTenants(importDeps, { tenants: tenantConfigs });
      }
    }
    if (imported.problems.length > 0) {
      const taken = imported.problems.some((p) => p.entry === 'stripeAccount');
      throw new LocalStartError(
        `${options.config ? `the config file ${options.config} does not match QuickBooks` : 'the demo tenant could not be set up'}${
          taken
            ? ` (tenants imported by an earlier run stay in the data folder ${dataDir}, e.g. the demo's demo-studio on "platform": start with --fresh to drop them)`
            : ''
        }`,
        imported.problems,
      );
    }

    // 6. Demo data in the Stripe stand-in (in memory: added on every start, before any message can need it).
    const demoAvailable = !options.config && Boolean(stripe && qbo);
    const demo = demoPayout();
    const allSamples = samplePayouts();
    if (stripe) {
      for (const p of [demo, ...allSamples])
        stripe.addPayout({ account: 'platform', payout: p.payout, transactions: p.transactions });
    }
    // They are the platform account's payouts: worth showing when a tenant uses it.
    const samples =
      imported.imported.some((t) => t.books.stripeAccount === 'platform') && stripe ? allSamples : [];

    // 7. The worker: the same handler as the Lambda, fed by a long-polling loop.
    poller = new QueuePoller({
      sqs: clients.sqs,
      queueUrl: resources.queueUrl,
      handler: depositBuilderHandler,
      region,
      logger: log,
      budgetMs: LOCAL_INVOCATION_BUDGET_MS,
      retryDelay: (receiveCount) => retryDelaySeconds(receiveCount, Math.random, retryScale),
    });
    await poller.start();

    // 8. Payouts an earlier run accepted but did not finish: their messages were in the in-memory queue.
    if (!awsOverrides.sqs) await requeueUnfinished(ledger, tenants, queue, log);

    const target: LocalTarget = {
      pid: process.pid,
      port: http.port,
      url,
      startedAt: new Date().toISOString(),
      dataDir,
      region,
      endpoints: { ...endpoints, authorizeUrl: qbo ? qbo.authorizeUrl : null },
      tables: {
        tenants: resources.tenantsTable,
        customers: resources.customersTable,
        ledger: resources.ledgerTable,
        idempotency: resources.idempotencyTable,
      },
      queueUrl: resources.queueUrl,
      dlqUrl: resources.dlqUrl,
      maxReceiveCount: LOCAL_MAX_RECEIVE_COUNT,
      webhookSecret,
      redirectUri,
      tokenSecretPrefix: TOKEN_SECRET_PREFIX,
      credentials,
      embedded: { aws: awsEmbedded, quickbooks: qboEmbedded, stripe: stripeEmbedded },
      tenants: imported.imported.map((t) => t.books.tenantId),
    };
    writeLocalTarget(dataDir, target);
    ready = true;
    log.info('local mode ready', { url, dataDir, tenants: target.tenants });

    out(
      banner(
        target,
        cwd,
        imported.imported.map(
          (t) => `${t.books.tenantId} (${t.books.stripeAccount} → QuickBooks realm ${t.books.realmId})`,
        ),
        samples.map((p) => `${p.payout.id} (${formatMinor(p.payout.amount, p.payout.currency)})`),
        retryScale,
      ),
    );

    const runDemo = async (): Promise<DemoOutcome> => {
      if (!demoAvailable || !stripe)
        throw new Error('the demo needs the embedded Stripe and QuickBooks and no --config');
      const payout = demo.payout;
      const earlier = await ledger.get(payout.id);
      let sent = false;
      if (!earlier) {
        const event = makePayoutEvent('payout.paid', payout);
        const payload = JSON.stringify(event);
        out(
          `\nSending the demo payout ${payout.id} (${formatMinor(payout.amount, payout.currency)}, ${demo.transactions.length - 1} balance transactions) as a signed payout.paid webhook to ${url}/webhooks/stripe …\n`,
        );
        const response = await fetch(`${url}/webhooks/stripe`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'stripe-signature': signWebhook(payload, webhookSecret),
          },
          body: payload,
        });
        const answer = await response.text();
        if (!response.ok) {
          out(`The webhook endpoint answered ${response.status}: ${answer}\n`);
          return { payoutId: payout.id, row: await ledger.get(payout.id), sent: true };
        }
        sent = true;
        const eventId = /"eventId":"([^"]+)"/.exec(answer)?.[1];
        out(
          `The endpoint answered ${response.status}${eventId ? ` (event ${eventId} queued)` : ''}; the worker is building the deposit …\n`,
        );
      } else {
        out(
          `\nThe demo payout ${payout.id} was processed by an earlier run (ledger: ${earlier.status}); it is not sent again. Start with --fresh to run it anew.\n`,
        );
      }
      const row = await waitForSettled(
        (id) => ledger.get(id),
        payout.id,
        DEMO_TIMEOUT_MS,
        () => stopping !== undefined,
      );
      if (row?.status === 'POSTED' || row?.status === 'REVERSED') {
        const tenant = await tenants.get(row.tenantId);
        const text = await describePosted(
          books(tenant?.books.realmId ?? '', row.tenantId),
          row,
          payout,
          tenant?.books.depositAccount.value,
        ).catch(
          (error: unknown) =>
            `Could not read the posted entry back from QuickBooks: ${describeError(error)}\n`,
        );
        out(`\n${text}`);
      } else {
        out(`\n${describeNotPosted(row, payout.id, DEMO_TIMEOUT_MS)}`);
      }
      return { payoutId: payout.id, row, sent };
    };

    return {
      url,
      port: http.port,
      dataDir,
      target,
      tenants: target.tenants,
      demoAvailable,
      warnings,
      samplePayoutIds: samples.map((p) => p.payout.id),
      standIns: { ...(qbo ? { quickbooks: qbo } : {}), ...(stripe ? { stripe } : {}) },
      runDemo,
      stop,
      stopped,
    };
  } catch (error) {
    ready = false;
    await http?.close().catch(() => {});
    if (poller) await poller.stop().catch(() => {});
    await closeAll();
    removeLocalTarget(dataDir);
    resetAwsClients();
    throw error;
  }
}

/** The retry scale from the options, else the environment, else 1. @throws LocalStartError for a bad value. */
function resolveRetryScale(fromOptions: number | undefined, env: NodeJS.ProcessEnv): number {
  try {
    if (fromOptions !== undefined) return parseRetryScale(String(fromOptions), 'retryScale');
    const text = env[RETRY_SCALE_ENV];
    return text ? parseRetryScale(text, RETRY_SCALE_ENV) : 1;
  } catch (error) {
    throw new LocalStartError((error as Error).message);
  }
}

function parsePortEnv(text: string): number {
  try {
    return parsePort(text, 'PORT');
  } catch (error) {
    throw new LocalStartError((error as Error).message);
  }
}

/** A refresh token from the QuickBooks stand-in for a realm it knows (as after "connect"); undefined otherwise. */
function issueToken(qbo: QuickBooksStandIn, realmId: string): string | undefined {
  try {
    return qbo.issueRefreshToken(realmId);
  } catch {
    return undefined;
  }
}

/** Re-queues payouts whose message was lost with the previous run's in-memory queue (RECEIVED or POSTING rows). */
async function requeueUnfinished(
  ledger: Ledger,
  tenants: TenantStore,
  queue: PayoutQueue,
  log: AppLog,
): Promise<void> {
  const rows = [
    ...(await ledger.list({ status: 'RECEIVED', limit: 1000 })),
    ...(await ledger.list({ status: 'POSTING', limit: 1000 })),
  ];
  const now = new Date().toISOString();
  for (const row of rows) {
    const tenant = await tenants.get(row.tenantId);
    if (!tenant) continue;
    await queue.enqueue({
      eventId: internalEventId('sync', row.payoutId, `restart-${Date.now().toString(36)}`),
      eventType: 'sync',
      tenantId: row.tenantId,
      stripeAccount: tenant.books.stripeAccount,
      payoutId: row.payoutId,
      receivedAt: now,
    });
    log.info('re-queued a payout left unfinished by the previous run', {
      payoutId: row.payoutId,
      status: row.status,
    });
  }
}

function banner(
  target: LocalTarget,
  cwd: string,
  tenantLines: string[],
  sampleLines: string[],
  retryScale: number,
): string {
  const rel = path.relative(cwd, target.dataDir) || '.';
  const e = target.embedded;
  const rows: Array<[string, string]> = [
    ['Webhook endpoint', `${target.url}/webhooks/stripe`],
    ['Health', `${target.url}/healthz`],
    ['Webhook secret', target.webhookSecret],
    [
      'QuickBooks',
      e.quickbooks
        ? `stand-in at ${target.endpoints.quickbooks} (demo company Demo Yoga Studio)`
        : target.endpoints.quickbooks,
    ],
    ['Stripe', e.stripe ? `stand-in at ${target.endpoints.stripe} (demo payouts)` : target.endpoints.stripe],
    [
      'DynamoDB, SQS, Secrets Manager',
      e.aws
        ? `embedded; state kept in ${rel}${path.sep}`
        : `${target.endpoints.dynamodb}, ${target.endpoints.sqs}`,
    ],
    ['Tenants', tenantLines.join('; ') || '(none)'],
    ...(sampleLines.length > 0 ? [['More sample payouts', sampleLines.join(', ')] as [string, string]] : []),
    ...(retryScale !== 1
      ? [
          [
            'Retry waits',
            `${[1, 2, 3, 4].map((n) => retryDelaySeconds(n, () => 0.5, retryScale)).join(', ')} s between receives of a failing payout (${RETRY_SCALE_ENV}=${retryScale})`,
          ] as [string, string],
        ]
      : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `\nqbo-sync local mode (pid ${target.pid})\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

/** The lines printed once the demo is done and local mode keeps serving. */
export function servingHelp(target: LocalTarget, samplePayoutIds: readonly string[] = []): string {
  const port = target.port;
  const tenant = target.tenants[0] ?? '<tenant>';
  // The CLI finds local mode through its data folder: name it when it is not the default one of this folder.
  const local =
    target.dataDir === resolveDataDir(process.cwd())
      ? '--local'
      : `--local --data-dir ${JSON.stringify(target.dataDir)}`;
  const rows: Array<[string, string]> = [];
  if (samplePayoutIds[0]) {
    rows.push([
      'Post another payout',
      `npx qbo-sync payouts sync ${samplePayoutIds[0]} --tenant ${tenant} ${local}`,
    ]);
  }
  rows.push(['See the ledger', `npx qbo-sync payouts list ${local}`]);
  rows.push(['Forward Stripe events', `stripe listen --forward-to localhost:${port}/webhooks/stripe`]);
  rows.push([
    '',
    target.embedded.stripe
      ? '(for Stripe test mode, start with STRIPE_API_BASE=https://api.stripe.com STRIPE_SECRET_KEY=sk_test_… STRIPE_WEBHOOK_SECRET=<the whsec_… stripe listen prints>)'
      : '(STRIPE_WEBHOOK_SECRET must be the whsec_… that stripe listen prints)',
  ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    '',
    `Serving on ${target.url}. Stop with Ctrl-C. From another terminal in this folder:`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
  ].join('\n');
}

// ------------------------------------------------------------------------------------------------ run

/** Runs local mode as the CLI does; resolves with the exit code (0 on a clean stop, 1 on a failure). */
export async function runLocal(options: LocalOptions = {}): Promise<number> {
  const out = options.out ?? ((text: string) => void process.stdout.write(text));
  const err = options.err ?? ((text: string) => void process.stderr.write(text));
  let instance: LocalInstance | undefined;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      err(`\n${signal} again: exiting at once.\n`);
      process.exit(130);
    }
    interrupted = true;
    err(`\n${signal}: stopping local mode …\n`);
    void instance?.stop();
  };
  const handleSignals = options.handleSignals ?? true;
  const restoreLogs = readableLogs(options.env ?? process.env);
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    try {
      instance = await startLocal({ ...options, out });
    } catch (error) {
      if (error instanceof LocalStartError) {
        err(
          `qbo-sync local: ${error.message}${error.problems.length > 0 ? `:\n${formatProblems(error.problems)}` : ''}\n`,
        );
        return 1;
      }
      err(`qbo-sync local: could not start: ${describeError(error)}\n`);
      return 1;
    }
    if (interrupted) {
      await instance.stop();
      return 0;
    }
    for (const warning of instance.warnings) err(`qbo-sync local: ${warning}\n`);
    let code = instance.warnings.length > 0 ? 1 : 0;
    if (instance.demoAvailable) {
      try {
        const outcome = await instance.runDemo();
        code = outcome.row?.status === 'POSTED' ? 0 : 1;
      } catch (error) {
        err(`qbo-sync local: the demo payout could not be run: ${describeError(error)}\n`);
        code = 1;
      }
    }
    if (options.once || interrupted) {
      await instance.stop();
      return interrupted ? 0 : code;
    }
    out(servingHelp(instance.target, instance.samplePayoutIds));
    await instance.stopped;
    out('Local mode stopped.\n');
    return 0;
  } finally {
    restoreLogs();
    if (handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
