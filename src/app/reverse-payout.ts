/**
 * Removing a posted QuickBooks object (CONTRACT §4): delete it, or — when QuickBooks refuses the deletion (closed
 * period, deposited or reconciled transaction…) — post a reversing JournalEntry whose `PrivateNote` begins
 * `Reversal of Stripe payout <po_…>`.
 *
 * Used by `syncPayout` for `payout.failed` / `payout.canceled` after posting (→ `REVERSED`) and for `resync`
 * (→ the corrected entry is posted next). Crash-safe through the ledger:
 * - the row keeps `quickbooks` = the object to remove until it is gone, so a redelivery resumes the removal;
 * - a reversing entry is posted under an `intent` recorded first, so a retry replays the same request id and
 *   QuickBooks answers with the original JournalEntry instead of creating a second one.
 */
import { reversalNotePrefix } from '../domain/entry-common.js';
import { buildReversalEntry } from '../domain/reversal-entry.js';
import type { QboEntry } from '../domain/types.js';
import { isRefusedWrite, TransientError } from './errors.js';
import { type AppLog, describeError } from './log.js';
import type { Ledger, LedgerRecord, PostedRef, QuickBooksBooks } from './ports.js';
import { describeAdoption, newIntent, outlivesRequestIdMemory } from './write-intent.js';

export interface RemovePostedDeps {
  ledger: Pick<Ledger, 'update'>;
  books: QuickBooksBooks;
  log: AppLog;
  newId: () => string;
  now: () => Date;
}

export type RemovalOutcome =
  | { how: 'deleted' | 'gone'; removed: PostedRef; row: LedgerRecord }
  /** `entry`: the reversing JournalEntry as it was sent (the drift audit's reference for it). */
  | { how: 'reversed'; removed: PostedRef; reversal: PostedRef; entry: QboEntry; row: LedgerRecord };

/** The ledger row changed under us (another worker): transient, the queue retries against the fresh row. */
export class LedgerConflictError extends TransientError {
  override readonly name: string = 'LedgerConflictError';
  constructor(payoutId: string, step: string) {
    super(`the ledger row of ${payoutId} changed while ${step}; the message will be retried`);
  }
}

/** Conditional ledger update that throws `LedgerConflictError` when someone else changed the row first. */
export async function updateOrConflict(
  ledger: Pick<Ledger, 'update'>,
  row: LedgerRecord,
  patch: Parameters<Ledger['update']>[2],
  step: string,
): Promise<LedgerRecord> {
  const next = await ledger.update(row.payoutId, row.version, patch);
  if (next === undefined) throw new LedgerConflictError(row.payoutId, step);
  return next;
}

function utcDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * Removes `row.quickbooks` from QuickBooks. Returns after the removal is done in QuickBooks; the caller records
 * the final state (`REVERSED`, or the next generation for a resync) in one ledger write.
 * The row passed must have `quickbooks` set; its `intent`, if any, is a reversal already attempted.
 */
export async function removePostedEntry(deps: RemovePostedDeps, row: LedgerRecord): Promise<RemovalOutcome> {
  const { books, log } = deps;
  const ref = row.quickbooks;
  if (ref === null)
    throw new Error(`removePostedEntry: the ledger row of ${row.payoutId} has no QuickBooks object`);

  const result = await books.deleteEntry(ref, deps.newId());
  if (result === 'deleted' || result === 'gone') {
    log.info('posted entry removed from QuickBooks', {
      payoutId: row.payoutId,
      type: ref.type,
      id: ref.id,
      result,
    });
    return { how: result, removed: ref, row };
  }

  // Refused: reverse it with a JournalEntry, under an intent recorded before posting.
  let current = row;
  let intent = current.intent;
  if (intent === null) {
    intent = newIntent(deps.newId(), 'JournalEntry', deps.now());
    current = await updateOrConflict(
      deps.ledger,
      current,
      {
        intent,
        reason: `${ref.type} ${ref.id} cannot be deleted in QuickBooks; reversing it with a JournalEntry`,
      },
      'recording the reversal intent',
    );
  }
  const posted = await books.getEntry(ref);
  if (posted === undefined) {
    log.info('posted entry already gone from QuickBooks', {
      payoutId: row.payoutId,
      type: ref.type,
      id: ref.id,
    });
    return { how: 'gone', removed: ref, row: current };
  }
  // Dated the day the intent was made, so every attempt sends the same entry (and a late one can be found).
  const reversalEntry = buildReversalEntry(
    { type: ref.type, body: posted.body },
    row.payoutId,
    intent.createdAt?.slice(0, 10) ?? utcDate(deps.now()),
  );
  let reversal: PostedRef;
  try {
    const adopted = outlivesRequestIdMemory(intent, deps.now())
      ? await books.findEntry(reversalEntry, reversalNotePrefix(row.payoutId))
      : undefined;
    if (adopted !== undefined) {
      log.info('reversing JournalEntry found in QuickBooks and adopted', {
        payoutId: row.payoutId,
        reason: describeAdoption(adopted, intent),
      });
    }
    reversal = adopted ?? (await books.createEntry(reversalEntry, intent.requestId));
  } catch (error) {
    if (isRefusedWrite(error)) {
      // QuickBooks refused the reversal: nothing was created, so the next attempt needs a new request id
      // (the old one would replay the refusal). Any other error may have posted it: the intent stays.
      log.warn('reversing JournalEntry refused', { payoutId: row.payoutId, reason: describeError(error) });
      await deps.ledger.update(current.payoutId, current.version, { intent: null }).catch(() => undefined);
    }
    throw error;
  }
  log.info('posted entry reversed by a JournalEntry', {
    payoutId: row.payoutId,
    type: ref.type,
    id: ref.id,
    reversalId: reversal.id,
  });
  return { how: 'reversed', removed: ref, reversal, entry: reversalEntry, row: current };
}

/** How a removal reads in the ledger's `reason`. */
export function describeRemoval(outcome: RemovalOutcome): string {
  const what = `${outcome.removed.type} ${outcome.removed.id}`;
  switch (outcome.how) {
    case 'deleted':
      return `${what} deleted in QuickBooks`;
    case 'gone':
      return `${what} was already gone from QuickBooks`;
    case 'reversed':
      return `${what} could not be deleted in QuickBooks; reversed by JournalEntry ${outcome.reversal.id}`;
  }
}

/**
 * The entry a REVERSED row's reversing JournalEntry cancels: kept in `reversal` since it exists; for a row reversed
 * before, read from the reason `describeRemoval` wrote ("Deposit 12 could not be deleted …; reversed by …").
 */
export function reversedEntryOf(row: LedgerRecord): PostedRef | undefined {
  if (row.reversal) return row.reversal.reverses;
  const m =
    /\b(Deposit|JournalEntry) (\w+) could not be deleted in QuickBooks; reversed by JournalEntry\b/.exec(
      row.reason ?? '',
    );
  return m ? { type: m[1] as PostedRef['type'], id: m[2] as string } : undefined;
}
