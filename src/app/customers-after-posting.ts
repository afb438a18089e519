/**
 * Customers created after posting (CONTRACT §5): a `customers` message, queued by `syncPayout` once QuickBooks has
 * an entry that references no customer, carries the payout's members. Their customers are resolved exactly as
 * before a post — the mapping table, then a QuickBooks lookup, then creation in batches of 30 at QuickBooks'
 * metered rate, each mapping stored as soon as its batch of 25 is complete (`resolveCustomers`) — but in the
 * tenant's customers message group, so the tenant's next payouts never queue behind them.
 *
 * Crashes and time: a message that fails (or whose invocation dies) is delivered again and starts over; what was
 * created is found in the mapping table or by the lookup, never created twice. When the invocation runs out of
 * time, a new `customers` message with the same members continues in the next one (not a failure toward the DLQ).
 * A failure that outlasts the queue's retries goes to the DLQ like any message; the posted entry is not touched.
 */
import { OutOfTimeError } from './errors.js';
import { describeError, maskEmailsIn } from './log.js';
import { internalEventId, unpackMembers } from './payout-message.js';
import type { PayoutMessage } from './ports.js';
import { resolveCustomers } from './resolve-customers.js';
import { DEFAULT_MAX_RECEIVE_COUNT, type SyncPayoutDeps } from './sync-run.js';

export interface CustomersAfterPostingResult {
  payoutId: string;
  tenantId: string;
  outcome: 'customers-created' | 'continued';
  members: number;
  created: number;
  lookedUp: number;
  fromMap: number;
}

export async function createCustomersAfterPosting(
  deps: SyncPayoutDeps,
  input: {
    message: PayoutMessage;
    /** SQS `ApproximateReceiveCount` of this delivery, and the queue's `maxReceiveCount` (then the DLQ). */
    receiveCount?: number;
    maxReceiveCount?: number;
  },
): Promise<CustomersAfterPostingResult> {
  const { message } = input;
  const work = message.customers;
  if (message.eventType !== 'customers' || work === undefined) {
    throw new Error(`message ${message.eventId} is not a customers message`);
  }
  const members = unpackMembers(work);
  const base = { payoutId: message.payoutId, tenantId: message.tenantId, members: members.length };
  // Within background work's share of the realm's limits: a payout posted meanwhile still finds room.
  const books = deps.quickbooks(work.realmId, { tenantId: message.tenantId, background: true });
  try {
    const resolved = await resolveCustomers(
      { books, customerMap: deps.customers },
      {
        realmId: work.realmId,
        members,
        ...(deps.isOutOfTime !== undefined ? { isOutOfTime: deps.isOutOfTime } : {}),
      },
    );
    deps.log.info('customers created after posting', {
      payoutId: message.payoutId,
      members: members.length,
      fromMap: resolved.fromMap,
      lookedUp: resolved.lookedUp,
      created: resolved.created,
    });
    return {
      ...base,
      outcome: 'customers-created',
      created: resolved.created,
      lookedUp: resolved.lookedUp,
      fromMap: resolved.fromMap,
    };
  } catch (error) {
    if (!(error instanceof OutOfTimeError)) {
      const reason = maskEmailsIn(describeError(error));
      const last = (input.receiveCount ?? 0) >= (input.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT);
      deps.log.warn(
        `customers after posting: attempt failed${last ? ', going to the DLQ' : ', will retry'}`,
        {
          payoutId: message.payoutId,
          reason,
        },
      );
      if (last) await noteInLedger(deps, message, reason);
      throw error;
    }
    const newId = deps.newId ?? (() => globalThis.crypto.randomUUID());
    await deps.queue.enqueue({
      ...message,
      eventId: internalEventId('customers', message.payoutId, newId()),
      receivedAt: (deps.now?.() ?? new Date()).toISOString(),
    });
    deps.log.info('customers after posting continue in the next invocation', {
      payoutId: message.payoutId,
      reason: describeError(error),
    });
    return { ...base, outcome: 'continued', created: 0, lookedUp: 0, fromMap: 0 };
  }
}

/**
 * The last delivery failed: the payout's row (POSTED, left so) says why and how to resume, which is what
 * `dlq list` shows beside the message. Never hides the original error.
 */
async function noteInLedger(deps: SyncPayoutDeps, message: PayoutMessage, reason: string): Promise<void> {
  try {
    const row = await deps.ledger.get(message.payoutId);
    if (row === undefined) return;
    await deps.ledger.update(row.payoutId, row.version, {
      reason: `the entry is posted, but creating its members' customers afterwards failed: ${reason}`,
      hint: `retries exhausted: the customers message is in the dead-letter queue. Fix the cause, then \`npx qbo-sync dlq replay --payout ${message.payoutId}\``,
    });
  } catch (noteError) {
    deps.log.error('could not note the failed customers in the ledger', {
      payoutId: message.payoutId,
      reason: describeError(noteError),
    });
  }
}
