/**
 * The drift audit (CONTRACT §8 `payouts audit`): for every entry the ledger says is ours and live (POSTED with a
 * QuickBooks id), is it still what was posted? A person may have deleted it, changed its total or lines (amount,
 * account, class, customer) or moved its date in QuickBooks after it was posted. The same holds for the reversing
 * JournalEntry of a payout that failed in Stripe after posting (REVERSED with a QuickBooks id): deleted or edited,
 * the books carry money the bank never received again. It is compared with what the ledger kept when the reversal
 * was posted (`reversal.expected`); a row reversed before that was kept is checked for deletion only. And for the
 * reversing JournalEntries resyncs posted for the entries they replaced in closed books (`earlierReversals`, see
 * earlier-reversals.ts): deleted or edited, the replaced entry counts in the books again beside the new one.
 *
 * How: QuickBooks' change data capture lists the Deposits and JournalEntries changed since `since` (at most 30 days
 * back, default the full 30); each one that is ours is compared with the snapshot the ledger kept when it posted
 * (or when a person accepted an edit). When CDC cannot answer for the whole period (`since` older than 30 days, or
 * its 1,000-object cap reached), every live entry of the tenant is read back by Id instead.
 *
 * The finding is kept on the ledger row (`drift`: a finding, not a status; exactly-once is untouched) until a
 * resync posts the computed entry again, a person accepts it (`payouts accept`), or the entry is found as posted
 * again; so a finding older than the CDC window is still reported. Audit notes do not move the row's `updatedAt`.
 */
import {
  compareSnapshots,
  type DriftKind,
  type DriftRecord,
  driftHint,
  type EntrySnapshot,
  snapshotOf,
} from '../domain/drift.js';
import type { TenantBooks } from '../domain/types.js';
import { earlierHint, judgeEarlier } from './earlier-reversals.js';
import { type AppLog, describeError } from './log.js';
import type { Ledger, LedgerRecord, PostedRef, QuickBooksBooks, TenantStore } from './ports.js';
import { reversedEntryOf } from './reverse-payout.js';

/** QuickBooks' CDC look-back limit. */
export const CDC_MAX_DAYS = 30;
const DAY_MS = 86_400_000;
/** The look-back actually asked for: a margin keeps a request at the limit from arriving just past it. */
const CDC_REACH_MS = CDC_MAX_DAYS * DAY_MS - 15 * 60_000;
/** Rows read per tenant and status. */
const MAX_ROWS = 1_000_000;

export interface AuditDeps {
  tenants: Pick<TenantStore, 'list'>;
  ledger: Pick<Ledger, 'list' | 'update'>;
  quickbooks: (realmId: string, ctx: { tenantId: string }) => QuickBooksBooks;
  log: AppLog;
  now?: () => Date;
}

/** The dependencies the daily catch-up adds to run the audit (its tenants and log are the catch-up's own). */
export type DriftAuditParts = Pick<AuditDeps, 'ledger' | 'quickbooks'>;

/** What the catch-up reports about drift: a metric the stack alarms on. */
export interface DriftMetrics {
  /** Entries found drifted by this run (0 when none: the alarm then recovers). */
  drifted(count: number): void;
  /** Writes what was recorded (once per invocation). */
  publish(): void;
}

export interface AuditInput {
  /** One tenant; every tenant when omitted. */
  tenantId?: string;
  /** Changes since this moment; default 30 days ago (CDC's limit, less a margin). Older: entries are read back by Id. */
  since?: Date;
}

/** One finding (CONTRACT §8 `payouts audit --json`). */
export interface DriftFinding {
  payout: string;
  tenant: string;
  quickbooks: PostedRef;
  finding: DriftKind;
  detail: string;
  hint: string;
}

export interface TenantAudit {
  tenantId: string;
  /** Live entries of the tenant the audit covers. */
  entries: number;
  /** How QuickBooks was asked: change data capture, or every entry read back by Id. */
  method: 'cdc' | 'read';
  /** Entries changed in QuickBooks that were posted before the ledger kept snapshots: deletion only is checked. */
  unverifiable: number;
  findings: number;
  /** Set when the tenant could not be audited (the others still were). */
  error?: string;
}

export interface AuditResult {
  findings: DriftFinding[];
  tenants: TenantAudit[];
}

const refKey = (ref: PostedRef) => `${ref.type}#${ref.id}`;

/**
 * Rows whose entry the audit watches, unless a person accepted its deletion: POSTED with an id (the entry), and
 * REVERSED with an id (the reversing JournalEntry; a deleted entry leaves a REVERSED row without one).
 */
function watched(row: LedgerRecord): row is LedgerRecord & { quickbooks: PostedRef } {
  if ((row.status !== 'POSTED' && row.status !== 'REVERSED') || row.quickbooks === null) return false;
  const accepted = row.accepted;
  return !(
    accepted?.finding === 'deleted' &&
    accepted.ref.type === row.quickbooks.type &&
    accepted.ref.id === row.quickbooks.id
  );
}

function sameFinding(a: DriftRecord | null | undefined, b: DriftRecord | null): boolean {
  if (!a || !b) return !a && !b;
  return a.finding === b.finding && a.detail === b.detail;
}

export async function auditDrift(deps: AuditDeps, input: AuditInput = {}): Promise<AuditResult> {
  const now = (deps.now ?? (() => new Date()))();
  const since = input.since ?? new Date(now.getTime() - CDC_REACH_MS);
  const tenants = (await deps.tenants.list()).filter(
    (t) => input.tenantId === undefined || t.books.tenantId === input.tenantId,
  );
  if (input.tenantId !== undefined && tenants.length === 0) {
    throw new Error(`tenant "${input.tenantId}" is not configured: import the sync config that defines it`);
  }
  const result: AuditResult = { findings: [], tenants: [] };
  for (const tenant of tenants) {
    const audit = await auditTenant(deps, tenant.books, since, now).catch(
      (error: unknown): { audit: TenantAudit; findings: DriftFinding[] } => {
        const reason = describeError(error);
        deps.log.error('drift audit failed for a tenant', { tenantId: tenant.books.tenantId, reason });
        return {
          audit: {
            tenantId: tenant.books.tenantId,
            entries: 0,
            method: 'cdc',
            unverifiable: 0,
            findings: 0,
            error: reason,
          },
          findings: [],
        };
      },
    );
    result.tenants.push(audit.audit);
    result.findings.push(...audit.findings);
  }
  return result;
}

/** Statuses whose rows may hold earlier reversals (a resync that replaced an entry, then posted or held). */
const EARLIER_STATUSES = ['POSTED', 'REVERSED', 'HELD', 'FAILED'] as const;

/** One entry the audit watches: a row's live entry, or one of its earlier reversals (`earlier`: its index). */
interface Watch {
  row: LedgerRecord;
  ref: PostedRef;
  earlier?: number;
}

async function auditTenant(
  deps: AuditDeps,
  tenant: TenantBooks,
  since: Date,
  now: Date,
): Promise<{ audit: TenantAudit; findings: DriftFinding[] }> {
  const rows: LedgerRecord[] = [];
  for (const status of EARLIER_STATUSES) {
    rows.push(...(await deps.ledger.list({ tenantId: tenant.tenantId, status, limit: MAX_ROWS })));
  }
  const watches: Watch[] = [];
  for (const row of rows) {
    if (watched(row)) watches.push({ row, ref: row.quickbooks });
    (row.earlierReversals ?? []).forEach((e, i) => {
      watches.push({ row, ref: e.reversal, earlier: i });
    });
  }
  const byRef = new Map(watches.map((w) => [refKey(w.ref), w]));
  const audit: TenantAudit = {
    tenantId: tenant.tenantId,
    entries: watches.length,
    method: 'cdc',
    unverifiable: 0,
    findings: 0,
  };
  if (watches.length === 0) return { audit, findings: [] };

  const books = deps.quickbooks(tenant.realmId, { tenantId: tenant.tenantId });
  // What QuickBooks has now, for the entries it may have changed: undefined = deleted.
  const seen = new Map<string, Record<string, unknown> | undefined>();
  const cdcReaches = now.getTime() - since.getTime() <= CDC_REACH_MS;
  let complete = false;
  if (cdcReaches) {
    const cdc = await books.changedEntries(since);
    for (const change of cdc.changes) {
      if (byRef.has(refKey(change.ref)))
        seen.set(refKey(change.ref), change.deleted ? undefined : change.body);
    }
    complete = cdc.complete;
  }
  if (!complete) {
    audit.method = 'read';
    for (const type of ['Deposit', 'JournalEntry'] as const) {
      const ids = watches.filter((w) => w.ref.type === type).map((w) => w.ref.id);
      if (ids.length === 0) continue;
      const live = await books.readEntries(type, ids);
      for (const id of ids) seen.set(refKey({ type, id }), live.get(id));
    }
  }

  const foundAt = now.toISOString();
  /** The finding now: judged where QuickBooks reported the entry, else the one kept on the row. */
  const judged = (
    kept: DriftRecord | null | undefined,
    ref: PostedRef,
    judge: (body: Record<string, unknown> | undefined) => DriftRecord | null | undefined,
  ): DriftRecord | null => {
    const key = refKey(ref);
    if (!seen.has(key)) return kept ?? null;
    const drift = judge(seen.get(key));
    if (drift !== undefined) return drift;
    audit.unverifiable += 1;
    return kept ?? null;
  };
  const findings: DriftFinding[] = [];
  for (const row of rows) {
    let drift: DriftRecord | null = row.drift ?? null;
    if (watched(row)) {
      const ref = row.quickbooks;
      drift = judged(row.drift, ref, (body) => judge({ ...row, quickbooks: ref }, body, foundAt));
      if (drift) {
        findings.push({
          payout: row.payoutId,
          tenant: row.tenantId,
          quickbooks: ref,
          finding: drift.finding,
          detail: drift.detail,
          hint: driftHint(row.payoutId, drift.finding, row.status === 'REVERSED'),
        });
      }
    }
    const earlier = (row.earlierReversals ?? []).map((item) => {
      const found = judged(item.drift, item.reversal, (body) => judgeEarlier(row, item, body, foundAt));
      if (found) {
        findings.push({
          payout: row.payoutId,
          tenant: row.tenantId,
          quickbooks: item.reversal,
          finding: found.finding,
          detail: found.detail,
          hint: earlierHint(row, item, found),
        });
      }
      return { ...item, drift: found };
    });
    const earlierMoved = earlier.some((e, i) => !sameFinding(row.earlierReversals?.[i]?.drift, e.drift));
    if (!sameFinding(row.drift, drift) || earlierMoved) {
      const updated = await deps.ledger.update(row.payoutId, row.version, {
        drift,
        ...(earlierMoved ? { earlierReversals: earlier } : {}),
        // A finding is a note on the row, not a change of its status: the listing order stays.
        updatedAt: row.updatedAt,
      });
      if (updated === undefined) {
        // The row moved meanwhile (a resync, say): the next audit looks again.
        deps.log.info('ledger row changed during the audit; not noted', { payoutId: row.payoutId });
      }
    }
  }
  audit.findings = findings.length;
  deps.log.info('drift audit', { ...audit });
  return { audit, findings };
}

/**
 * The finding for one entry as QuickBooks has it (`body` undefined: deleted): a record, null when it is as expected,
 * or undefined when it cannot be compared (posted, or reversed, before snapshots were kept).
 */
function judge(
  row: LedgerRecord & { quickbooks: PostedRef },
  body: Record<string, unknown> | undefined,
  foundAt: string,
): DriftRecord | null | undefined {
  const ref = row.quickbooks;
  const reversed = row.status === 'REVERSED' ? reversedEntryOf(row) : undefined;
  // A reversing JournalEntry is named as such: "JournalEntry 45, the reversal of Deposit 12 (…), was deleted".
  const what = row.status === 'REVERSED' ? `${reversalName(ref, reversed)},` : `${ref.type} ${ref.id}`;
  if (body === undefined) {
    // Unchanged finding keeps the time it was first found.
    if (row.drift?.finding === 'deleted') return row.drift;
    const counts = reversed ? `: ${reversed.type} ${reversed.id} counts in the books again` : '';
    return { finding: 'deleted', detail: `${what} was deleted in QuickBooks${counts}`, foundAt, found: null };
  }
  const expected: EntrySnapshot | null | undefined =
    row.status === 'REVERSED' ? row.reversal?.expected : row.posted;
  if (!expected) return undefined;
  const found = snapshotOf({ type: ref.type, body }, expected.currency);
  const diff = compareSnapshots(expected, found);
  if (diff === undefined) return null;
  const detail = row.status === 'REVERSED' ? `${what} was edited: ${diff.detail}` : diff.detail;
  if (row.drift && row.drift.finding === diff.finding && row.drift.detail === detail) return row.drift;
  return { finding: diff.finding, detail, foundAt, found };
}

/** "JournalEntry 45, the reversal of Deposit 12 (the payout failed in Stripe)". */
function reversalName(ref: PostedRef, reversed: PostedRef | undefined): string {
  const of = reversed ? ` of ${reversed.type} ${reversed.id}` : '';
  return `${ref.type} ${ref.id}, the reversal${of} (the payout failed in Stripe)`;
}
