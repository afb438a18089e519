/**
 * `qbo-sync local` (what `npm start` runs): the whole pipeline on this machine, CONTRACT §9. This file wires the
 * parts together (start, stop, run); each part lives in its own file: endpoint.ts (HTTP routes), embedded.ts (the
 * stand-ins and the published environment), tenant-setup.ts, recovery.ts, demo-run.ts, banner.ts, data-dir.ts.
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
import path from 'node:path';
import { handler as depositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { demoPayout } from '../../standins/stripe/index.js';
import { awsClients, resetAwsClients } from '../adapters/aws/clients.js';
import { provisionLocalResources } from '../adapters/aws/provision.js';
import { resourcesToEnv } from '../adapters/aws/resources.js';
import { osUserName } from '../adapters/os-user.js';
import { type AppLog, describeError } from '../app/log.js';
import { parseSigningSecrets } from '../app/signing-secrets.js';
import type { ConsoleServices } from '../console/services.js';
import { consoleServicesFrom } from '../console/services.js';
import { formatMinor } from '../domain/money.js';
import { buildRuntime } from '../runtime.js';
import { banner, servingHelp } from './banner.js';
import { formatProblems } from './config-import.js';
import {
  DEFAULT_PORT,
  LOCAL_INVOCATION_BUDGET_MS,
  LOCAL_MAX_RECEIVE_COUNT,
  LOCAL_VISIBILITY_TIMEOUT_SECONDS,
  RESOURCE_PREFIX,
  TOKEN_SECRET_PREFIX,
} from './constants.js';
import { emptyDataDir, loadOrCreateSettings, refuseIfRunning } from './data-dir.js';
import { samplePayouts } from './demo.js';
import { runDemoPayout } from './demo-run.js';
import { type Closer, publishEnvironment, startEmbedded } from './embedded.js';
import { startEndpoint } from './endpoint.js';
import { embeddedParts, parsePortEnv, resolveRetryScale, stripeOutagePayouts } from './environment.js';
import type { LocalHttpServer } from './http.js';
import { localLogger, readableLogs } from './log.js';
import { QueuePoller, retryDelaySeconds } from './poller.js';
import { saveQueues } from './queue-state.js';
import { recoverQueues } from './recovery.js';
import {
  ensurePrivateDir,
  type LocalTarget,
  removeLocalTarget,
  resolveDataDir,
  writeLocalTarget,
} from './target.js';
import { setUpTenants } from './tenant-setup.js';
import { type DemoOutcome, type LocalInstance, type LocalOptions, LocalStartError } from './types.js';

export { servingHelp } from './banner.js';
export { type DemoOutcome, type LocalInstance, type LocalOptions, LocalStartError } from './types.js';

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
  if (options.fresh) {
    const removed = emptyDataDir(dataDir);
    const rel = path.relative(cwd, dataDir) || '.';
    out(
      removed > 0
        ? `--fresh: emptied the data folder ${rel}${path.sep} (tenants, ledger, tokens, queues and the QuickBooks stand-in's company): starting over.\n`
        : `--fresh: the data folder ${rel}${path.sep} was already empty.\n`,
    );
  }
  ensurePrivateDir(dataDir);
  // A secret given in the environment is used, never printed nor written to disk; a generated one may be shown.
  const givenWebhookSecret = env.STRIPE_WEBHOOK_SECRET || undefined;
  const webhookSecret = givenWebhookSecret ?? loadOrCreateSettings(dataDir).webhookSecret;

  // Real services named by the environment need their credentials.
  const parts = embeddedParts(env);
  const outage = stripeOutagePayouts(env, parts.stripe);

  const closers: Closer[] = [];
  let http: LocalHttpServer | undefined;
  let poller: QueuePoller | undefined;
  let ready = false;
  /** Saves the embedded queues' messages for the next start (set once they exist). */
  let saveQueuesOnStop: (() => Promise<void>) | undefined;
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
      await saveQueuesOnStop?.().catch((error: unknown) =>
        log.error('could not save the queue messages for the next start', { reason: describeError(error) }),
      );
      await closeAll();
      removeLocalTarget(dataDir);
      resetAwsClients();
      resolveStopped();
    })();
    return stopping;
  };

  try {
    // 1. The HTTP endpoint first, so /healthz answers (503) while the rest starts.
    // The support console answers (503) from the start too; its adapters are set once built (step 4).
    let consoleServices: ConsoleServices | undefined;
    http = await startEndpoint({
      port,
      isReady: () => ready,
      log,
      console: {
        user: osUserName(),
        services: async () => {
          if (consoleServices === undefined) throw new Error('local mode is still starting');
          return consoleServices;
        },
      },
    });
    const url = http.url;

    // 2. The embedded parts, in parallel.
    const services = await startEmbedded({ dataDir, region, env, parts, closers });
    const { qbo, stripe } = services;

    // 3. The environment the Lambda handlers build their dependencies from (read on their first call).
    const { endpoints, credentials, redirectUri } = publishEnvironment({
      env,
      url,
      region,
      parts,
      services,
      webhookSecret,
    });
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
    // The emulator answers an empty receive at once: no long poll needed to see every DLQ message.
    consoleServices = consoleServicesFrom(runtime, { dlqWaitSeconds: 0, local: true });
    const books = (realmId: string, tenantId: string) => quickbooks.forRealm(realmId, { tenantId });

    // 5. Tenants: the config's, or the demo tenant.
    const { imported, warnings } = await setUpTenants({
      cwd,
      dataDir,
      config: options.config,
      qbo,
      deps: { tenants, tokens, books },
    });

    // 6. Demo data in the Stripe stand-in (in memory: added on every start, before any message can need it).
    const demoAvailable = !options.config && Boolean(stripe && qbo);
    const demo = demoPayout();
    const allSamples = samplePayouts();
    if (stripe) {
      for (const p of [demo, ...allSamples])
        stripe.addPayout({ account: 'platform', payout: p.payout, transactions: p.transactions });
      for (const id of outage) {
        const path = new RegExp(`^/v1/payouts/${id}$`);
        stripe.injectFault({ status: 503, count: Number.POSITIVE_INFINITY, path });
      }
    }
    // They are the platform account's payouts: worth showing when a tenant uses it.
    const samples = imported.some((t) => t.books.stripeAccount === 'platform') && stripe ? allSamples : [];

    // 7. The worker: the same handler as the Lambda, fed by a long-polling loop.
    poller = new QueuePoller({
      sqs: clients.sqs,
      queueUrl: resources.queueUrl,
      handler: depositBuilderHandler,
      region,
      logger: log,
      budgetMs: LOCAL_INVOCATION_BUDGET_MS,
      retryDelay: (receiveCount) => retryDelaySeconds(receiveCount, Math.random, retryScale),
      maxReceiveCount: LOCAL_MAX_RECEIVE_COUNT,
    });
    await poller.start();

    // 8. The embedded queue is in memory: what a previous run left on it (or in its DLQ) is put back, and saved
    //    again at stop.
    if (!parts.awsOverrides.sqs) {
      const urls = { queueUrl: resources.queueUrl, dlqUrl: resources.dlqUrl };
      await recoverQueues({ sqs: clients.sqs, urls, dataDir, ledger, tenants, queue, log });
      saveQueuesOnStop = async () => {
        const saved = await saveQueues(endpoints.sqs, urls, dataDir);
        if (saved.queue.length > 0 || saved.dlq.length > 0)
          log.info('queue messages saved for the next start', {
            queue: saved.queue.length,
            dlq: saved.dlq.length,
          });
      };
    }

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
      webhookSecret: givenWebhookSecret === undefined ? webhookSecret : null,
      redirectUri,
      tokenSecretPrefix: TOKEN_SECRET_PREFIX,
      credentials,
      embedded: { aws: parts.aws, quickbooks: parts.quickbooks, stripe: parts.stripe },
      tenants: imported.map((t) => t.books.tenantId),
    };
    writeLocalTarget(dataDir, target);
    ready = true;
    log.info('local mode ready', { url, dataDir, tenants: target.tenants });

    out(
      banner(
        target,
        cwd,
        imported.map(
          (t) => `${t.books.tenantId} (${t.books.stripeAccount} → QuickBooks realm ${t.books.realmId})`,
        ),
        samples.map((p) => `${p.payout.id} (${formatMinor(p.payout.amount, p.payout.currency)})`),
        retryScale,
        outage,
      ),
    );

    const runDemo = async (): Promise<DemoOutcome> => {
      if (!demoAvailable || !stripe)
        throw new Error('the demo needs the embedded Stripe and QuickBooks and no --config');
      return runDemoPayout({
        demo,
        url,
        // The demo signs as Stripe's platform endpoint would: with the first secret (markers removed).
        webhookSecret:
          parseSigningSecrets(webhookSecret, { allowUnmarked: true })[0]?.secret ?? webhookSecret,
        ledger,
        tenants,
        books,
        out,
        isStopping: () => stopping !== undefined,
      });
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
