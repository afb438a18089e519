/**
 * A person's requests to the worker, put on the payout queue as `sync` / `resync` messages (CONTRACT §8):
 * `payouts sync`, `payouts backfill` and `payouts resync`. The worker (`syncPayout`) does the work.
 *
 * Exactly once: each message id is derived from the payout and its ledger row's `version`, so running the same
 * command again before the worker has acted on the first one (an interrupted CLI, a double Enter) sends the same
 * id, which the FIFO queue (5-minute deduplication) and the worker's idempotency layer (keyed on the id) collapse
 * into one. Once the worker has acted, the row's version has moved on and a new request is a new message.
 */
import type { Payout } from '../domain/stripe.js';
import type { LedgerStatus } from '../domain/types.js';
import { PermanentError } from './errors.js';
import { internalEventId } from './payout-message.js';
import type {
  ActionRecorder,
  Ledger,
  LedgerRecord,
  PayoutMessage,
  PayoutQueue,
  PayoutSource,
  TenantStore,
} from './ports.js';
import { type Actor, recordAction } from './record-action.js';
import { configuredTenant } from './tenant-config.js';

/** Rows in these statuses are done with: `backfill` skips them (a person re-runs one with `payouts sync`). */
export const BACKFILL_SKIPS: ReadonlySet<LedgerStatus> = new Set(['POSTED', 'HELD', 'SKIPPED', 'REVERSED']);

const PAYOUT_ID = /^po_[A-Za-z0-9_]+$/;

/** A usage problem the caller can fix by changing the command (exit 2 in the CLI). */
export class RequestUsageError extends Error {
  override readonly name = 'RequestUsageError';
}

export interface RequestDeps {
  tenants: Pick<TenantStore, 'get'>;
  ledger: Pick<Ledger, 'get' | 'ensure'>;
  queue: PayoutQueue;
  /** Where the person's request is recorded (the ledger); with `actor` in the input. */
  actions?: ActionRecorder;
  now?: () => Date;
}

export interface RequestResult {
  payout: string;
  tenant: string;
  eventType: 'sync' | 'resync';
  eventId: string;
  /** The ledger row when the message was sent. */
  status: LedgerStatus;
  version: number;
  quickbooks: LedgerRecord['quickbooks'];
}

export function checkPayoutId(payoutId: string): void {
  if (!PAYOUT_ID.test(payoutId)) {
    throw new RequestUsageError(
      `"${payoutId}" is not a Stripe payout id: payout ids look like po_1PzXqR2eZvKYlo2C (copy it from the Stripe dashboard or \`npx qbo-sync payouts list\`)`,
    );
  }
}

function message(
  kind: 'sync' | 'resync',
  row: LedgerRecord,
  stripeAccount: string,
  now: Date,
): PayoutMessage {
  return {
    eventId: internalEventId(kind, row.payoutId, `v${row.version}`),
    eventType: kind,
    tenantId: row.tenantId,
    stripeAccount,
    payoutId: row.payoutId,
    receivedAt: now.toISOString(),
  };
}

function resultOf(msg: PayoutMessage, row: LedgerRecord): RequestResult {
  return {
    payout: row.payoutId,
    tenant: row.tenantId,
    eventType: msg.eventType as 'sync' | 'resync',
    eventId: msg.eventId,
    status: row.status,
    version: row.version,
    quickbooks: row.quickbooks,
  };
}

/**
 * `payouts sync <po> [--tenant T]`: the ledger row is created (RECEIVED) if absent, so `payouts status` shows the
 * request at once, and a `sync` message is queued. The tenant may be left out when the ledger knows the payout.
 */
export async function requestSync(
  deps: RequestDeps,
  input: { payoutId: string; tenantId?: string; actor?: Actor },
): Promise<RequestResult> {
  checkPayoutId(input.payoutId);
  const known = await deps.ledger.get(input.payoutId);
  const tenantId = input.tenantId ?? known?.tenantId;
  if (tenantId === undefined) {
    throw new RequestUsageError(
      `the ledger does not know payout ${input.payoutId}, so its tenant is needed: add --tenant T`,
    );
  }
  if (known !== undefined && known.tenantId !== tenantId) {
    throw new PermanentError(
      `payout ${input.payoutId} belongs to tenant "${known.tenantId}" in the ledger, not "${tenantId}"`,
      `leave out --tenant, or pass --tenant ${known.tenantId}`,
    );
  }
  const tenant = await configuredTenant(deps.tenants, tenantId);
  const row = known ?? (await deps.ledger.ensure(input.payoutId, tenantId));
  const now = deps.now ?? (() => new Date());
  const msg = message('sync', row, tenant.books.stripeAccount, now());
  await deps.queue.enqueue(msg);
  await recordAction(deps.actions, input.actor, row.payoutId, 'sync', now);
  return resultOf(msg, row);
}

/**
 * `payouts resync <po>`: after a mapping fix, the worker removes the posted object (delete, or a reversing
 * JournalEntry) and posts the corrected one; still at most one live object. For a REVERSED payout whose reversing
 * JournalEntry the audit found deleted or edited: the worker reverses the entry again.
 */
export async function requestResync(
  deps: RequestDeps,
  input: { payoutId: string; actor?: Actor },
): Promise<RequestResult> {
  checkPayoutId(input.payoutId);
  const row = await deps.ledger.get(input.payoutId);
  if (row === undefined) {
    throw new PermanentError(
      `the ledger does not know payout ${input.payoutId}: nothing was posted for it`,
      `sync it instead: \`npx qbo-sync payouts sync ${input.payoutId} --tenant T\``,
    );
  }
  // A REVERSED payout stays out of the books: a resync only restores its reversal after the audit found it
  // deleted or edited in QuickBooks (the worker's `restoreReversal`).
  if (row.status === 'REVERSED' && !row.drift) {
    throw new PermanentError(
      `payout ${input.payoutId} was reversed (${row.reason ?? 'failed or canceled in Stripe'}): there is nothing to resync`,
      'a failed or canceled payout stays out of the books; `npx qbo-sync payouts audit` tells whether its reversal is still live',
    );
  }
  const tenant = await configuredTenant(deps.tenants, row.tenantId);
  const now = deps.now ?? (() => new Date());
  const msg = message('resync', row, tenant.books.stripeAccount, now());
  await deps.queue.enqueue(msg);
  await recordAction(deps.actions, input.actor, row.payoutId, 'resync', now);
  return resultOf(msg, row);
}

export interface BackfillDeps extends RequestDeps {
  payouts: Pick<PayoutSource, 'listPayouts'>;
}

export interface BackfillResult {
  tenant: string;
  /** ISO date-time of the window's start (arrival date). */
  since: string;
  /** Paid payouts found in the window. */
  found: number;
  enqueued: string[];
  skipped: { payout: string; status: LedgerStatus | 'MANUAL' }[];
}

export interface BackfillProgress {
  /** Called once the payouts are listed, with how many will be looked at. */
  onListed?: (total: number) => void;
  /** Called after each payout is enqueued or skipped. */
  onPayout?: (done: number, total: number) => void;
}

/**
 * `payouts backfill --tenant T --since DATE`: every paid automatic payout arriving since DATE is queued as a
 * `sync` message, except those the ledger already settled (POSTED, HELD, SKIPPED, REVERSED). Resumable: running it
 * again after an interruption skips what the worker finished and re-sends the rest under the same ids.
 */
export async function backfillPayouts(
  deps: BackfillDeps,
  input: { tenantId: string; since: Date } & BackfillProgress,
): Promise<BackfillResult> {
  const tenant = await configuredTenant(deps.tenants, input.tenantId);
  const { stripeAccount, tenantId } = tenant.books;
  const sinceSeconds = Math.floor(input.since.getTime() / 1000);
  const listed: Array<Pick<Payout, 'id' | 'automatic' | 'arrival_date'>> = [];
  for await (const item of deps.payouts.listPayouts(stripeAccount, {
    status: 'paid',
    arrivalSince: sinceSeconds,
  })) {
    // One the product cannot read is queued all the same (last): the worker holds it, naming what it could not read.
    listed.push(
      'problem' in item
        ? { id: item.id, automatic: true, arrival_date: Number.MAX_SAFE_INTEGER }
        : item.payout,
    );
  }
  // Oldest first, so the books fill in date order.
  listed.sort((a, b) => a.arrival_date - b.arrival_date || a.id.localeCompare(b.id));
  input.onListed?.(listed.length);

  const result: BackfillResult = {
    tenant: tenantId,
    since: new Date(sinceSeconds * 1000).toISOString(),
    found: listed.length,
    enqueued: [],
    skipped: [],
  };
  const now = deps.now ?? (() => new Date());
  let done = 0;
  for (const payout of listed) {
    if (!payout.automatic) {
      result.skipped.push({ payout: payout.id, status: 'MANUAL' });
    } else {
      const known = await deps.ledger.get(payout.id);
      if (known !== undefined && BACKFILL_SKIPS.has(known.status)) {
        result.skipped.push({ payout: payout.id, status: known.status });
      } else {
        if (known !== undefined && known.tenantId !== tenantId) {
          throw new PermanentError(
            `payout ${payout.id} belongs to tenant "${known.tenantId}" in the ledger, not "${tenantId}"`,
            'check that each Stripe account belongs to one tenant in the sync config',
          );
        }
        const row = known ?? (await deps.ledger.ensure(payout.id, tenantId));
        await deps.queue.enqueue(message('sync', row, stripeAccount, now()));
        result.enqueued.push(payout.id);
      }
    }
    done += 1;
    input.onPayout?.(done, listed.length);
  }
  return result;
}
