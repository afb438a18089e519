/**
 * The daily catch-up (EventBridge schedule) → `catchUp`: every tenant's payouts paid in the last 7 days whose ledger
 * row is missing or unsettled, and those that failed or were canceled while an entry of theirs may be live, are
 * queued as `sync` messages. Thin: the logic is in src/app/catch-up.ts.
 */
import { type CatchUpDeps, type CatchUpResult, catchUp } from '../src/app/catch-up.js';
import { buildCatchUpDeps, builtOnFirstUse } from '../src/runtime-base.js';

export type CatchUpHandler = () => Promise<CatchUpResult>;

export interface CatchUpHandlerOptions {
  /** How far back to look (default 7 days). */
  days?: number;
}

/**
 * The handler over given dependencies, or a provider called once (cached; a rejection is not). When some tenant
 * failed, or some payout could not be read, the invocation fails after everything else was queued, so the
 * schedule's error metric (the catch-up alarm) shows it, naming them.
 */
export function makeCatchUpHandler(
  deps: CatchUpDeps | (() => Promise<CatchUpDeps>),
  opts: CatchUpHandlerOptions = {},
): CatchUpHandler {
  const resolve = builtOnFirstUse(typeof deps === 'function' ? deps : () => Promise.resolve(deps));
  return async () => {
    const result = await catchUp(await resolve(), opts.days !== undefined ? { days: opts.days } : {});
    const problems: string[] = [];
    if (result.failures.length > 0) {
      const list = result.failures.map((f) => `${f.tenantId}: ${f.reason}`).join('; ');
      problems.push(`failed for ${result.failures.length} of ${result.tenants} tenant(s): ${list}`);
    }
    if (result.unreadable.length > 0) {
      const list = result.unreadable.map((u) => `${u.payoutId} (${u.tenantId}): ${u.reason}`).join('; ');
      problems.push(`could not read ${result.unreadable.length} payout(s): ${list}`);
    }
    if (problems.length > 0) {
      throw new Error(`catch-up ${problems.join('; ')} (${result.enqueued.length} payout(s) queued)`);
    }
    return result;
  };
}

/** The Lambda entry point: dependencies from the environment the stack gives this function, built on first use. */
export const handler: CatchUpHandler = makeCatchUpHandler(() => buildCatchUpDeps(process.env));
