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
import type { SyncPayoutDeps } from './sync-run.js';

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
  input: { message: PayoutMessage },
): Promise<CustomersAfterPostingResult> {
  const { message } = input;
  const work = message.customers;
  if (message.eventType !== 'customers' || work === undefined) {
    throw new Error(`message ${message.eventId} is not a customers message`);
  }
  const members = unpackMembers(work);
  const base = { payoutId: message.payoutId, tenantId: message.tenantId, members: members.length };
  const books = deps.quickbooks(work.realmId, { tenantId: message.tenantId });
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
      deps.log.warn('customers after posting: attempt failed, will retry', {
        payoutId: message.payoutId,
        reason: maskEmailsIn(describeError(error)),
      });
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
