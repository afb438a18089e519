/**
 * The CLI's services: the target's environment applied to this process, then the composition root
 * (`buildRuntime`, the same adapters the Lambdas use: DynamoDB stores, the SQS queue, Secrets Manager tokens, the
 * Stripe payout source, the QuickBooks client, the pending-connection store), plus the DLQ tools.
 */
import { resetAwsClients } from '../adapters/aws/clients.js';
import { dlqTransitSeconds, sqsDeadLetterQueue } from '../adapters/aws/queue.js';
import { resetSettingsCache } from '../adapters/aws/settings.js';
import { osUserName } from '../adapters/os-user.js';
import type { DeadLetterQueue } from '../app/dead-letters.js';
import { type AppLog, silentLog } from '../app/log.js';
import type { QuickBooksBooks } from '../app/ports.js';
import type { Actor } from '../app/record-action.js';
import type { PendingConnectionStore } from '../app/start-connection.js';
import { buildRuntime, type Runtime } from '../runtime.js';
import type { ResolvedTarget } from './target.js';

export interface Services {
  readonly target: ResolvedTarget;
  readonly runtime: Runtime;
  readonly tenants: Runtime['tenants'];
  readonly customers: Runtime['customers'];
  readonly ledger: Runtime['ledger'];
  readonly tokens: Runtime['tokens'];
  readonly queue: Runtime['queue'];
  readonly payouts: Runtime['payouts'];
  readonly quickbooks: Runtime['quickbooks'];
  /** Pending `connect` states (written here, completed by the callback). */
  readonly states: PendingConnectionStore;
  readonly dlq: DeadLetterQueue;
  /** The person running the CLI, recorded on the ledger rows of the payouts they sync, resync, replay or preview. */
  readonly actor: Actor;
  /** How long a FAILED payout's message may still be on its way from the queue to the DLQ (seconds). */
  inTransitSeconds(): Promise<number>;
  /** One company's books, for a tenant. */
  books(realmId: string, tenantId: string): QuickBooksBooks;
  close(): void;
}

/** The operating-system user running the CLI. */
export function cliActor(): Actor {
  return { by: osUserName(), via: 'cli' };
}

/** The adapters' log lines go to stderr with QBO_SYNC_DEBUG=1 (stdout is the command's output); else nowhere. */
function cliLog(env: NodeJS.ProcessEnv): AppLog {
  if (!env.QBO_SYNC_DEBUG) return silentLog;
  const write = (level: string) => (message: string, extra?: Record<string, unknown>) =>
    process.stderr.write(`${JSON.stringify({ level, message, ...extra })}\n`);
  return { debug: write('DEBUG'), info: write('INFO'), warn: write('WARN'), error: write('ERROR') };
}

export async function openServices(target: ResolvedTarget): Promise<Services> {
  // The adapters read their endpoints (AWS_ENDPOINT_URL_*), region and origins from process.env, as in a Lambda.
  Object.assign(process.env, target.env);
  resetAwsClients();
  resetSettingsCache();
  const runtime = await buildRuntime(process.env, {
    log: cliLog(process.env),
    serviceName: 'qbo-sync-cli',
    // A person is waiting: fewer, shorter retries than the worker's.
    quickbooks: { retry: { maxAttempts: 3, baseDelayMs: 300, maxDelayMs: 5000 } },
    stripeMaxNetworkRetries: 1,
  });
  const { clients, resources } = runtime;
  // The emulator answers an empty receive at once; real SQS samples servers, so a short wait finds every message.
  const dlq = sqsDeadLetterQueue({
    sqs: clients.sqs,
    dlqUrl: resources.dlqUrl,
    queueUrl: resources.queueUrl,
    waitSeconds: target.kind === 'local' ? 0 : 1,
    visibilitySeconds: 30,
  });
  return {
    target,
    runtime,
    tenants: runtime.tenants,
    customers: runtime.customers,
    ledger: runtime.ledger,
    tokens: runtime.tokens,
    queue: runtime.queue,
    payouts: runtime.payouts,
    quickbooks: runtime.quickbooks,
    states: runtime.connectStates,
    dlq,
    actor: cliActor(),
    inTransitSeconds: () =>
      dlqTransitSeconds({ sqs: clients.sqs, queueUrl: resources.queueUrl, local: target.kind === 'local' }),
    books: (realmId, tenantId) => runtime.quickbooks.forRealm(realmId, { tenantId }),
    close: () => resetAwsClients(),
  };
}
