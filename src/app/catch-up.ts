/**
 * The daily catch-up (EventBridge schedule): for every tenant, the payouts Stripe paid in the last days whose
 * ledger row is missing or not settled are queued as `sync` messages. Covers lost webhooks and payouts left
 * WAITING_FOR_RECONCILIATION (CONTRACT §1).
 */

import type { LedgerStatus } from '../domain/types.js';
import { type AppLog, describeError } from './log.js';
import { internalEventId } from './payout-message.js';
import type { Ledger, PayoutQueue, PayoutSource, TenantStore } from './ports.js';

/** Rows in these statuses are settled: the catch-up leaves them alone (a person re-runs HELD ones). */
export const SETTLED_STATUSES: ReadonlySet<LedgerStatus> = new Set(['POSTED', 'HELD', 'SKIPPED', 'REVERSED']);

export interface CatchUpDeps {
  tenants: Pick<TenantStore, 'list'>;
  payouts: Pick<PayoutSource, 'listPaidPayouts'>;
  ledger: Pick<Ledger, 'get'>;
  queue: PayoutQueue;
  log: AppLog;
  now?: () => Date;
}

export interface CatchUpResult {
  tenants: number;
  /** Paid payouts seen in the window. */
  seen: number;
  enqueued: { tenantId: string; payoutId: string; status: LedgerStatus | null }[];
  /** Tenants whose listing or enqueueing failed (the others were still processed). */
  failures: { tenantId: string; reason: string }[];
}

export async function catchUp(deps: CatchUpDeps, opts: { days?: number } = {}): Promise<CatchUpResult> {
  const now = (deps.now ?? (() => new Date()))();
  const days = opts.days ?? 7;
  const since = Math.floor(now.getTime() / 1000) - days * 86_400;
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  const result: CatchUpResult = { tenants: 0, seen: 0, enqueued: [], failures: [] };

  for (const tenant of await deps.tenants.list()) {
    const { tenantId, stripeAccount } = tenant.books;
    result.tenants += 1;
    try {
      for await (const payout of deps.payouts.listPaidPayouts(stripeAccount, since)) {
        result.seen += 1;
        const row = await deps.ledger.get(payout.id);
        if (row !== undefined && SETTLED_STATUSES.has(row.status)) continue;
        // One id per payout and day: a re-run the same day is deduplicated by the queue and the idempotency layer.
        await deps.queue.enqueue({
          eventId: internalEventId('catchup', payout.id, day),
          eventType: 'sync',
          tenantId,
          stripeAccount,
          payoutId: payout.id,
          receivedAt: now.toISOString(),
        });
        result.enqueued.push({ tenantId, payoutId: payout.id, status: row?.status ?? null });
      }
    } catch (error) {
      const reason = describeError(error);
      deps.log.error('catch-up failed for a tenant', { tenantId, reason });
      result.failures.push({ tenantId, reason });
    }
  }
  deps.log.info('catch-up done', {
    tenants: result.tenants,
    seen: result.seen,
    enqueued: result.enqueued.length,
    failures: result.failures.length,
  });
  return result;
}
