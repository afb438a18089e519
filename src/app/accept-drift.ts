/**
 * `payouts accept <po>` (CONTRACT §8): a person says the edit the drift audit found in QuickBooks was intended.
 * The entry as QuickBooks had it becomes the ledger's reference (a deletion: the entry is no longer watched), so the
 * audit stops reporting it, and reports it again only if it changes once more. QuickBooks is not touched.
 * The same for a REVERSED row's reversing JournalEntry (its `reversal.expected` becomes QuickBooks' version), and
 * for the reversing JournalEntries earlier resyncs posted (`earlierReversals`): every finding on the row is accepted.
 */
import { acceptEarlier } from './earlier-reversals.js';
import { PermanentError } from './errors.js';
import type { Ledger, LedgerRecord } from './ports.js';

export interface AcceptDriftDeps {
  ledger: Pick<Ledger, 'get' | 'update'>;
  now?: () => Date;
}

export async function acceptDrift(deps: AcceptDriftDeps, payoutId: string): Promise<LedgerRecord> {
  const row = await deps.ledger.get(payoutId);
  if (row === undefined) {
    throw new PermanentError(
      `payout ${payoutId} is not in the ledger`,
      'check the id with `npx qbo-sync payouts list`',
    );
  }
  // The live entry's finding (POSTED, or a REVERSED row's reversing JournalEntry), and those on earlier reversals.
  const drift =
    row.drift && (row.status === 'POSTED' || row.status === 'REVERSED') && row.quickbooks !== null
      ? row.drift
      : undefined;
  const earlier = (row.earlierReversals ?? []).filter((e) => e.drift);
  const last = earlier[earlier.length - 1];
  if (drift === undefined && last?.drift == null) {
    throw new PermanentError(
      `payout ${payoutId} has no drift finding to accept`,
      'run `npx qbo-sync payouts audit` first; only what it reports can be accepted',
    );
  }
  const at = (deps.now ?? (() => new Date()))().toISOString();
  const ref = drift !== undefined ? row.quickbooks : last?.reversal;
  const taken = drift ?? last?.drift;
  const accepted = taken && ref ? { finding: taken.finding, detail: taken.detail, at, ref } : null;
  const updated = await deps.ledger.update(row.payoutId, row.version, {
    accepted,
    ...(earlier.length > 0 ? { earlierReversals: acceptEarlier(row.earlierReversals ?? []) } : {}),
    ...(drift === undefined || ref === null || ref === undefined
      ? {}
      : {
          drift: null,
          // What QuickBooks has is now what the ledger expects; a deleted entry is no longer expected at all.
          ...(row.status === 'POSTED'
            ? { posted: drift.found }
            : drift.found !== null && row.reversal
              ? { reversal: { ...row.reversal, expected: drift.found } }
              : {}),
          ...(drift.finding === 'deleted'
            ? {
                reason: `${ref.type} ${ref.id} was deleted in QuickBooks; accepted as intended on ${at.slice(0, 10)}`,
              }
            : {}),
        }),
    updatedAt: row.updatedAt,
  });
  if (updated === undefined) {
    throw new PermanentError(
      `payout ${payoutId} changed while accepting`,
      'run `npx qbo-sync payouts audit` again, then accept',
    );
  }
  return updated;
}
