/** What local mode recovers at start from an earlier run. */
import type { AppLog } from '../app/log.js';
import { internalEventId } from '../app/payout-message.js';
import type { Ledger, PayoutQueue, TenantStore } from '../app/ports.js';

/** Re-queues payouts whose message was lost with the previous run's in-memory queue (RECEIVED or POSTING rows). */
export async function requeueUnfinished(
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
