/**
 * QuickBooks keep-alive, run by the daily catch-up (CONTRACT §7): a QuickBooks refresh token expires after about 100
 * days unused (`x_refresh_token_expires_in`, rolling: each refresh restarts it; Intuit, "Refresh tokens", and
 * docs/quickbooks.md), so a studio with no payouts for a season would have to reconnect. Every realm whose tokens
 * were last refreshed more than {@link KEEP_ALIVE_AFTER_DAYS} days ago is refreshed now, under the same per-realm
 * lock as any other refresh (the token manager's), so it never races a worker posting a payout.
 */
import type { DriftAuditParts, DriftMetrics } from './audit-drift.js';
import type { CatchUpDeps } from './catch-up.js';
import { PermanentError } from './errors.js';
import { type AppLog, describeError } from './log.js';
import type { TenantStore } from './ports.js';

/** Refresh a realm whose refresh token is older than this (well inside Intuit's ~100 days). */
export const KEEP_ALIVE_AFTER_DAYS = 30;
const DAY_MS = 86_400_000;

export type KeepAliveOutcome = 'refreshed' | 'fresh' | 'missing';

/** The token manager's keep-alive (QboTokenManager.keepAlive). */
export interface ConnectionKeeper {
  keepAlive(realmId: string, olderThanMs: number, ctx: { tenantId?: string }): Promise<KeepAliveOutcome>;
}

/**
 * The catch-up Lambda's dependencies: `catchUp`'s, the token manager for the keep-alive, and the QuickBooks books and
 * ledger for the drift audit with its metric (each omitted: that part is not run).
 */
export type CatchUpHandlerDeps = CatchUpDeps & {
  connections?: ConnectionKeeper;
  drift?: DriftAuditParts;
  driftMetrics?: DriftMetrics;
};

export interface KeepAliveDeps {
  tenants: Pick<TenantStore, 'list'>;
  connections: ConnectionKeeper;
  log: AppLog;
}

export interface KeepAliveResult {
  realms: number;
  refreshed: string[];
  /** Realms that could not be kept alive (a person must reconnect them), with the tenants using them. */
  failures: { realmId: string; tenantIds: string[]; reason: string; hint: string }[];
}

export async function keepConnectionsAlive(
  deps: KeepAliveDeps,
  opts: { olderThanDays?: number } = {},
): Promise<KeepAliveResult> {
  const olderThanMs = (opts.olderThanDays ?? KEEP_ALIVE_AFTER_DAYS) * DAY_MS;
  const byRealm = new Map<string, string[]>();
  for (const tenant of await deps.tenants.list()) {
    const { realmId, tenantId } = tenant.books;
    byRealm.set(realmId, [...(byRealm.get(realmId) ?? []), tenantId]);
  }
  const result: KeepAliveResult = { realms: byRealm.size, refreshed: [], failures: [] };
  for (const [realmId, tenantIds] of byRealm) {
    const connect = `npx qbo-sync connect --tenant ${tenantIds[0]}`;
    try {
      const outcome = await deps.connections.keepAlive(realmId, olderThanMs, { tenantId: tenantIds[0] });
      if (outcome === 'refreshed') result.refreshed.push(realmId);
      if (outcome === 'missing') {
        result.failures.push({
          realmId,
          tenantIds,
          reason: `no QuickBooks tokens are stored for company ${realmId}`,
          hint: `connect QuickBooks: ${connect}`,
        });
      }
    } catch (error) {
      const reason = describeError(error);
      const hint =
        error instanceof PermanentError
          ? error.hint
          : `it is retried tomorrow; if it keeps failing: ${connect}`;
      deps.log.error('keep-alive failed for a QuickBooks company', { realmId, tenantIds, reason });
      result.failures.push({ realmId, tenantIds, reason, hint });
    }
  }
  deps.log.info('keep-alive done', {
    realms: result.realms,
    refreshed: result.refreshed.length,
    failures: result.failures.length,
  });
  return result;
}
