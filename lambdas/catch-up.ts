/**
 * The daily catch-up (EventBridge schedule) → `catchUp`, then the QuickBooks keep-alive:
 * - every tenant's payouts paid in the last 7 days whose ledger row is missing or unsettled, and those that failed or
 *   were canceled while an entry of theirs may be live, are queued as `sync` messages (src/app/catch-up.ts);
 * - every QuickBooks company whose tokens were last refreshed over 30 days ago is refreshed, so its rolling
 *   ~100-day refresh token never expires for a quiet studio (src/app/keep-alive.ts);
 * - the drift audit: every tenant's posted entries (and reversing JournalEntries of payouts that failed after
 *   posting) deleted or edited in QuickBooks since posting, counted in the EntriesDrifted metric the stack alarms
 *   on, the findings kept on the ledger rows (src/app/audit-drift.ts).
 * Thin: the logic is in those use cases.
 */
import { type AuditResult, auditDrift } from '../src/app/audit-drift.js';
import { type CatchUpResult, catchUp } from '../src/app/catch-up.js';
import {
  type CatchUpHandlerDeps,
  type KeepAliveResult,
  keepConnectionsAlive,
} from '../src/app/keep-alive.js';
import { buildCatchUpDeps } from '../src/runtime.js';
import { builtOnFirstUse } from '../src/runtime-base.js';

export type CatchUpHandler = () => Promise<
  CatchUpResult & { keepAlive?: KeepAliveResult; drift?: AuditResult }
>;

export interface CatchUpHandlerOptions {
  /** How far back to look (default 7 days). */
  days?: number;
  /** Keep-alive threshold (default 30 days). */
  keepAliveAfterDays?: number;
}

/**
 * The handler over given dependencies, or a provider called once (cached; a rejection is not). When some tenant
 * or QuickBooks company failed, or some payout could not be read, the invocation fails after every other one was
 * processed (and every readable payout queued), so the schedule's error metric (the CatchUpFailed alarm) shows it,
 * and the error names each one.
 */
export function makeCatchUpHandler(
  deps: CatchUpHandlerDeps | (() => Promise<CatchUpHandlerDeps>),
  opts: CatchUpHandlerOptions = {},
): CatchUpHandler {
  const resolve = builtOnFirstUse(typeof deps === 'function' ? deps : () => Promise.resolve(deps));
  return async () => {
    const ready = await resolve();
    const result = await catchUp(ready, opts.days !== undefined ? { days: opts.days } : {});
    const keepAlive =
      ready.connections === undefined
        ? undefined
        : await keepConnectionsAlive(
            { tenants: ready.tenants, connections: ready.connections, log: ready.log },
            opts.keepAliveAfterDays !== undefined ? { olderThanDays: opts.keepAliveAfterDays } : {},
          );
    const drift =
      ready.drift === undefined
        ? undefined
        : await auditDrift({ ...ready.drift, tenants: ready.tenants, log: ready.log });
    if (drift !== undefined && ready.driftMetrics !== undefined) {
      ready.driftMetrics.drifted(drift.findings.length);
      ready.driftMetrics.publish();
    }
    const problems = [
      ...result.failures.map((f) => `${f.tenantId}: ${f.reason}`),
      ...result.unreadable.map((u) => `${u.payoutId} (${u.tenantId}): ${u.reason}`),
      ...(drift?.tenants ?? [])
        .filter((t) => t.error !== undefined)
        .map((t) => `${t.tenantId}: the drift audit failed: ${t.error}`),
      ...(keepAlive?.failures ?? []).map(
        (f) => `QuickBooks company ${f.realmId} (${f.tenantIds.join(', ')}): ${f.reason}; ${f.hint}`,
      ),
    ];
    if (problems.length > 0) {
      throw new Error(
        `catch-up failed for ${result.failures.length} of ${result.tenants} tenant(s)` +
          `${result.unreadable.length > 0 ? `, could not read ${result.unreadable.length} payout(s)` : ''}` +
          ` (${result.enqueued.length} payout(s) queued)` +
          `${keepAlive !== undefined ? `, keep-alive failed for ${keepAlive.failures.length} of ${keepAlive.realms} QuickBooks compan${keepAlive.realms === 1 ? 'y' : 'ies'}` : ''}: ${problems.join('; ')}`,
      );
    }
    return {
      ...result,
      ...(keepAlive !== undefined ? { keepAlive } : {}),
      ...(drift !== undefined ? { drift } : {}),
    };
  };
}

/** The Lambda entry point: dependencies from the environment the stack gives this function, built on first use. */
export const handler: CatchUpHandler = makeCatchUpHandler(() => buildCatchUpDeps(process.env));
