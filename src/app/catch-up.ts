/**
 * The daily catch-up (EventBridge schedule), for every tenant (CONTRACT §1, §7):
 * - the payouts Stripe paid in the last days whose ledger row is missing or not settled are queued as `sync`
 *   messages: covers lost webhooks and payouts left WAITING_FOR_RECONCILIATION;
 * - the payouts that failed or were canceled in the same window, whose ledger row may still stand for a live entry,
 *   are queued too: the worker reads the payout (failed) and removes the entry, so a lost `payout.failed` never leaves
 *   a live deposit;
 * - a payout Stripe lists but the product cannot read is reported (and logged) by its id; the others are still
 *   queued. A listing that fails as a whole is reported for its tenant; the other tenants are still processed.
 */

import type { LedgerStatus } from '../domain/types.js';
import { type AppLog, describeError } from './log.js';
import { internalEventId } from './payout-message.js';
import type { Ledger, PayoutListFilter, PayoutQueue, PayoutSource, TenantStore } from './ports.js';

/** Rows in these statuses are settled: the catch-up leaves paid payouts in them alone (a person re-runs HELD ones). */
export const SETTLED_STATUSES: ReadonlySet<LedgerStatus> = new Set(['POSTED', 'HELD', 'SKIPPED', 'REVERSED']);

/** Rows of a failed or canceled payout in these statuses have nothing live in QuickBooks: nothing to do. */
export const NOTHING_LIVE_STATUSES: ReadonlySet<LedgerStatus> = new Set(['SKIPPED', 'REVERSED']);

export interface CatchUpDeps {
  tenants: Pick<TenantStore, 'list'>;
  payouts: Pick<PayoutSource, 'listPayouts'>;
  ledger: Pick<Ledger, 'get'>;
  queue: PayoutQueue;
  log: AppLog;
  now?: () => Date;
}

export interface CatchUpResult {
  tenants: number;
  /** Payouts listed in the window (paid, failed and canceled, readable or not). */
  seen: number;
  /** `payoutStatus`: the payout's status in Stripe (`failed` / `canceled` ones are queued to remove their entry). */
  enqueued: { tenantId: string; payoutId: string; status: LedgerStatus | null; payoutStatus: string }[];
  /** Payouts Stripe listed that the product cannot read: not queued, each named with what could not be read. */
  unreadable: { tenantId: string; payoutId: string; reason: string }[];
  /** Tenants whose listing or enqueueing failed (the others were still processed). */
  failures: { tenantId: string; reason: string }[];
}

const STATUSES: PayoutListFilter['status'][] = ['paid', 'failed', 'canceled'];

export async function catchUp(deps: CatchUpDeps, opts: { days?: number } = {}): Promise<CatchUpResult> {
  const now = (deps.now ?? (() => new Date()))();
  const days = opts.days ?? 7;
  const since = Math.floor(now.getTime() / 1000) - days * 86_400;
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  const result: CatchUpResult = { tenants: 0, seen: 0, enqueued: [], unreadable: [], failures: [] };

  for (const tenant of await deps.tenants.list()) {
    const { tenantId, stripeAccount } = tenant.books;
    result.tenants += 1;
    const reasons: string[] = [];
    // Each status is its own listing: a failed listing of paid payouts still lets failed ones be removed.
    for (const status of STATUSES) {
      try {
        for await (const listed of deps.payouts.listPayouts(stripeAccount, { status, arrivalSince: since })) {
          result.seen += 1;
          if ('problem' in listed) {
            deps.log.error('catch-up: a payout cannot be read; the others are queued', {
              tenantId,
              payoutId: listed.id,
              reason: listed.problem,
            });
            result.unreadable.push({ tenantId, payoutId: listed.id, reason: listed.problem });
            continue;
          }
          const payoutId = listed.payout.id;
          const row = await deps.ledger.get(payoutId);
          if (status === 'paid') {
            if (row !== undefined && SETTLED_STATUSES.has(row.status)) continue;
          } else if (row === undefined || NOTHING_LIVE_STATUSES.has(row.status)) {
            // Failed or canceled: never seen (nothing of ours can be live), or already removed or skipped.
            continue;
          }
          // One id per payout, day and status: a re-run the same day is deduplicated by the queue and the idempotency
          // layer, while a payout queued as paid that fails later the same day is queued again.
          await deps.queue.enqueue({
            eventId: internalEventId('catchup', payoutId, status === 'paid' ? day : `${day}-${status}`),
            eventType: 'sync',
            tenantId,
            stripeAccount,
            payoutId,
            receivedAt: now.toISOString(),
          });
          result.enqueued.push({ tenantId, payoutId, status: row?.status ?? null, payoutStatus: status });
        }
      } catch (error) {
        reasons.push(`${status} payouts: ${describeError(error)}`);
      }
    }
    if (reasons.length > 0) {
      const reason = reasons.join('; ');
      deps.log.error('catch-up failed for a tenant', { tenantId, reason });
      result.failures.push({ tenantId, reason });
    }
  }
  deps.log.info('catch-up done', {
    tenants: result.tenants,
    seen: result.seen,
    enqueued: result.enqueued.length,
    unreadable: result.unreadable.length,
    failures: result.failures.length,
  });
  return result;
}
