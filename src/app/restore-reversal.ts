/**
 * `payouts resync <po>` on a REVERSED payout whose reversing JournalEntry the drift audit found deleted or edited
 * in QuickBooks: the entry it cancelled counts in the books again, though Stripe failed or canceled the payout.
 *
 * The edited reversing JournalEntry is deleted (a person's version is kept only by `payouts accept`), then the row is
 * put back in the state of a payout that failed after posting: POSTING with `quickbooks` = the entry to remove. The
 * worker's usual removal follows (`removeLive` → `recordReversal`): the entry is deleted where QuickBooks now allows
 * it, or reversed again by a new JournalEntry posted under a write intent. Crash-safe: a retry of the message finds
 * the edited JournalEntry gone (QuickBooks says so and the step goes on), or the row POSTING, which resumes the
 * removal like any interrupted one.
 */

import type { Payout } from '../domain/stripe.js';
import type { TenantBooks } from '../domain/types.js';
import { PermanentError } from './errors.js';
import { reversedEntryOf, updateOrConflict } from './reverse-payout.js';
import { booksFor, isFailedPayout, type Run } from './sync-run.js';

export async function restoreReversal(run: Run, tenant: TenantBooks, payout: Payout): Promise<void> {
  const row = run.row;
  const po = row.payoutId;
  const reversal = row.quickbooks;
  if (!isFailedPayout(payout)) {
    throw new PermanentError(
      `payout ${po} is ${payout.status} in Stripe, yet the ledger says it was reversed`,
      'report it with `npx qbo-sync payouts status` output; nothing was changed in QuickBooks',
    );
  }
  const original = reversedEntryOf(row);
  if (reversal === null || original === undefined) {
    throw new PermanentError(
      `the ledger does not say which entry the reversal of payout ${po} cancels`,
      `find the entry whose memo begins "Stripe payout ${po}" in QuickBooks and delete it (or reverse it by hand), then \`npx qbo-sync payouts accept ${po}\``,
    );
  }
  const name = `${reversal.type} ${reversal.id} (the reversal of ${original.type} ${original.id})`;
  let what = `${name} was deleted in QuickBooks`;
  if (row.drift?.finding !== 'deleted') {
    const deleted = await booksFor(run, tenant).deleteEntry(reversal, run.newId());
    if (deleted === 'refused') {
      throw new PermanentError(
        `QuickBooks refuses to delete ${name}, edited in QuickBooks after it was posted`,
        `undo the edit in QuickBooks (\`npx qbo-sync payouts audit\` says what changed), or keep it with \`npx qbo-sync payouts accept ${po}\``,
      );
    }
    what = `${name} was edited in QuickBooks; deleted`;
  }
  run.row = await updateOrConflict(
    run.deps.ledger,
    row,
    {
      status: 'POSTING',
      quickbooks: original,
      intent: null,
      reason: `resync: ${what}; reversing ${original.type} ${original.id} again`,
      hint: null,
      lastEventId: run.message.eventId,
    },
    'claiming the reversed payout',
  );
  run.claimed = true;
  run.restoring = what;
  run.log.info('reversal found drifted; reversing the entry again', {
    payoutId: po,
    reversalId: reversal.id,
    type: original.type,
    id: original.id,
  });
}
