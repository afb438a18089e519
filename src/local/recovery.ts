/**
 * What local mode recovers at start from an earlier run (CONTRACT §9: a restart loses nothing): the queue and DLQ
 * messages a clean stop saved (queue-state.ts), then, from the ledger, every payout left RECEIVED or POSTING whose
 * message was not among them (a run that did not stop cleanly).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AppLog } from '../app/log.js';
import { internalEventId } from '../app/payout-message.js';
import type { Ledger, PayoutQueue, TenantStore } from '../app/ports.js';
import { type QueueUrls, restoreQueues } from './queue-state.js';
import { LocalStartError } from './types.js';

export interface RecoveryDeps {
  sqs: SQSClient;
  urls: QueueUrls;
  dataDir: string;
  ledger: Pick<Ledger, 'list'>;
  tenants: Pick<TenantStore, 'get'>;
  queue: PayoutQueue;
  log: AppLog;
}

export interface Recovered {
  /** Messages put back on the payout queue / the DLQ from the saved file. */
  queue: number;
  dlq: number;
  /** Payouts queued again from the ledger. */
  requeued: string[];
}

/** The payout id a message body names, if it names one. */
function payoutIdOf(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { payoutId?: unknown }).payoutId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

export async function recoverQueues(deps: RecoveryDeps): Promise<Recovered> {
  const { log } = deps;
  let saved: Awaited<ReturnType<typeof restoreQueues>>;
  try {
    saved = await restoreQueues(deps.sqs, deps.urls, deps.dataDir);
  } catch (error) {
    throw new LocalStartError(
      `could not put back the queue messages saved by the previous run: ${(error as Error).message}; the file stays in the data folder ${deps.dataDir} (start with --fresh to drop it and everything else)`,
    );
  }
  if (saved && (saved.queue.length > 0 || saved.dlq.length > 0)) {
    log.info('queue messages of the previous run put back', {
      queue: saved.queue.length,
      dlq: saved.dlq.length,
      savedAt: saved.savedAt,
    });
  }
  const onQueue = new Set(
    (saved?.queue ?? []).map((m) => payoutIdOf(m.body)).filter((id) => id !== undefined),
  );
  const requeued = await requeueUnfinished(deps, onQueue);
  return { queue: saved?.queue.length ?? 0, dlq: saved?.dlq.length ?? 0, requeued };
}

/** Re-queues payouts left RECEIVED or POSTING whose message is not on the queue (lost with a run that crashed). */
async function requeueUnfinished(
  deps: Pick<RecoveryDeps, 'ledger' | 'tenants' | 'queue' | 'log'>,
  onQueue: ReadonlySet<string>,
): Promise<string[]> {
  const { ledger, tenants, queue, log } = deps;
  const rows = [
    ...(await ledger.list({ status: 'RECEIVED', limit: 1000 })),
    ...(await ledger.list({ status: 'POSTING', limit: 1000 })),
  ];
  const now = new Date().toISOString();
  const requeued: string[] = [];
  for (const row of rows) {
    if (onQueue.has(row.payoutId)) continue;
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
    requeued.push(row.payoutId);
    log.info('re-queued a payout left unfinished by the previous run', {
      payoutId: row.payoutId,
      status: row.status,
    });
  }
  return requeued;
}
