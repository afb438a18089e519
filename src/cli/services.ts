/**
 * The CLI's services: the target's environment applied to this process, then the composition root
 * (`buildRuntime`, the same adapters the Lambdas use: DynamoDB stores, the SQS queue, Secrets Manager tokens, the
 * Stripe payout source, the QuickBooks client, the pending-connection store), plus the DLQ tools.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { resetAwsClients } from '../adapters/aws/clients.js';
import { type DlqMessage, moveDlqMessages, receiveDlq } from '../adapters/aws/queue.js';
import { resetSettingsCache } from '../adapters/aws/settings.js';
import type { DeadLetter, DeadLetterQueue } from '../app/dead-letters.js';
import { type AppLog, silentLog } from '../app/log.js';
import type { QuickBooksBooks } from '../app/ports.js';
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
  /** How long a FAILED payout's message may still be on its way from the queue to the DLQ (seconds). */
  inTransitSeconds(): Promise<number>;
  /** One company's books, for a tenant. */
  books(realmId: string, tenantId: string): QuickBooksBooks;
  close(): void;
}

function toDeadLetter(m: DlqMessage): DeadLetter {
  return {
    messageId: m.messageId,
    receiveCount: m.receiveCount,
    ...(m.sentAt !== undefined ? { sentAt: m.sentAt } : {}),
    ...(m.groupId !== undefined ? { groupId: m.groupId } : {}),
    ...(m.message !== undefined ? { message: m.message } : {}),
    ...(m.problem !== undefined ? { problem: m.problem } : {}),
  };
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
  const walk = {
    sqs: clients.sqs,
    dlqUrl: resources.dlqUrl,
    waitSeconds: target.kind === 'local' ? 0 : 1,
    visibilitySeconds: 30,
  };
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
    dlq: {
      list: async () => (await receiveDlq(walk)).map(toDeadLetter),
      moveBack: async (match) => {
        const { moved, remaining } = await moveDlqMessages({
          ...walk,
          queueUrl: resources.queueUrl,
          match: (m) => match(toDeadLetter(m)),
        });
        return { moved: moved.map(toDeadLetter), remaining: remaining.map(toDeadLetter) };
      },
    },
    inTransitSeconds: async () => {
      // Local mode's poller returns a failing message after at most ~24 s (src/local/poller.ts); SQS after the
      // queue's visibility timeout. Either way it reaches the DLQ on the delivery after that; a minute of margin.
      if (target.kind === 'local') return 60;
      const { Attributes } = await clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: resources.queueUrl,
          AttributeNames: ['VisibilityTimeout'],
        }),
      );
      return (Number(Attributes?.VisibilityTimeout) || 0) + 60;
    },
    books: (realmId, tenantId) => runtime.quickbooks.forRealm(realmId, { tenantId }),
    close: () => resetAwsClients(),
  };
}
