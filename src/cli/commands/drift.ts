/**
 * `qbo-sync payouts audit | accept` (CONTRACT §8): drift, i.e. posted entries a person deleted or edited in
 * QuickBooks since posting (found through change data capture), each with its fix; and recording that an edit was
 * intended so the audit stops reporting it.
 */
import type { Command } from 'commander';
import { acceptDrift } from '../../app/accept-drift.js';
import { auditDrift, CDC_MAX_DAYS, type DriftFinding } from '../../app/audit-drift.js';
import {
  action,
  type CliIo,
  type CommandContext,
  parseDate,
  parsePayoutId,
  targetOptions,
  tenantOption,
} from '../context.js';
import { CliError } from '../errors.js';
import { table } from '../output.js';
import { statusJson } from './payouts.js';

function findingLabel(finding: DriftFinding['finding']): string {
  return finding === 'deleted' ? 'deleted' : finding === 'redated' ? 'date moved' : 'changed';
}

/**
 * A finding on a reversing JournalEntry an earlier resync posted: no resync fixes it (it replaces the live entry), so
 * its hint (src/domain/drift.ts `earlierReversalHint`) offers a fix by hand in QuickBooks, then `payouts accept`.
 */
const byHand = (d: DriftFinding) => !d.hint.includes('payouts resync');

export function registerDrift(payouts: Command, io: CliIo): void {
  // ---------------------------------------------------------------------------------------------- audit
  targetOptions(
    payouts
      .command('audit')
      .description(
        'drift: posted entries (and reversing entries of failed payouts) deleted or edited in QuickBooks since posting (via change data capture), each with its fix',
      )
      .addOption(tenantOption('only this tenant', false))
      .option(
        '--since <date>',
        `changes since this date (default ${CDC_MAX_DAYS} days ago, QuickBooks' limit for change data capture; older: every entry is read back)`,
        parseDate,
      ),
  ).action(
    action(io, async (ctx: CommandContext) => {
      const f = ctx.flags as { tenant?: string; since?: Date };
      const services = await ctx.services();
      const result = await auditDrift(services.runtime.auditDeps(), {
        ...(f.tenant !== undefined ? { tenantId: f.tenant } : {}),
        ...(f.since !== undefined ? { since: f.since } : {}),
      }).catch((error: unknown) => {
        throw new CliError(
          error instanceof Error ? error.message : String(error),
          'check the tenant id with `npx qbo-sync config export`',
        );
      });
      const failed = result.tenants.filter((t) => t.error !== undefined);
      for (const t of failed) ctx.out.note(`tenant ${t.tenantId} could not be audited: ${t.error}`);
      ctx.out.result(result.findings, (findings) => {
        const entries = result.tenants.reduce((n, t) => n + t.entries, 0);
        const tenants = `${result.tenants.length} tenant${result.tenants.length === 1 ? '' : 's'}`;
        const unverifiable = result.tenants.reduce((n, t) => n + t.unverifiable, 0);
        const lines: string[] = [];
        if (findings.length === 0) {
          lines.push(
            `${ctx.out.green('✓')} No drift: the ${entries} live entr${entries === 1 ? 'y' : 'ies'} of ${tenants} ${entries === 1 ? 'is' : 'are'} as posted.`,
          );
        } else {
          lines.push(
            table(
              ['PAYOUT', 'TENANT', 'QUICKBOOKS', 'FINDING', 'DETAIL', 'FIX'],
              findings.map((d) => [
                d.payout,
                d.tenant,
                `${d.quickbooks.type} ${d.quickbooks.id}`,
                ctx.out.red(findingLabel(d.finding)),
                d.detail,
                byHand(d)
                  ? `by hand, then payouts accept ${d.payout}`
                  : `payouts resync ${d.payout} | payouts accept ${d.payout}`,
              ]),
              { paint: ctx.out.bold },
            ),
            '',
            `${findings.length} of ${entries} live entr${entries === 1 ? 'y' : 'ies'} (${tenants}) differ from what was posted.`,
            '  `npx qbo-sync payouts resync <po>` posts the computed entry again (one live entry per payout), or, for',
            "  a reversing JournalEntry (a payout that failed in Stripe), reverses the payout's entry again;",
            '  `npx qbo-sync payouts accept <po>` records that the edit was intended: it is not reported again.',
            ...findings
              .filter(byHand)
              .map(
                (d) =>
                  `  ${d.payout} (${d.quickbooks.type} ${d.quickbooks.id}, replaced by a resync): ${d.hint}.`,
              ),
          );
        }
        if (unverifiable > 0) {
          lines.push(
            `  ${unverifiable} entr${unverifiable === 1 ? 'y' : 'ies'} changed in QuickBooks were posted (or reversed) before the ledger kept what it posted: only a deletion is checked for ${unverifiable === 1 ? 'it' : 'them'}.`,
          );
        }
        return lines.join('\n');
      });
      return failed.length > 0 ? 1 : 0;
    }),
  );

  // ---------------------------------------------------------------------------------------------- accept
  targetOptions(
    payouts
      .command('accept')
      .description(
        'record that the edit `payouts audit` found in QuickBooks was intended, so it is not reported again',
      )
      .argument('<payout>', 'the Stripe payout id (po_…)', parsePayoutId),
  ).action(
    action(io, async (ctx: CommandContext, payoutId: string) => {
      const services = await ctx.services();
      const row = await acceptDrift({ ledger: services.ledger }, payoutId);
      const accepted = row.accepted;
      const json = { ...statusJson(row), accepted: accepted ?? null };
      ctx.out.result(json, (r) => {
        const what = accepted ? `${accepted.ref.type} ${accepted.ref.id}` : 'the entry';
        const verb = accepted?.finding === 'deleted' ? 'deleted' : 'edited';
        return [
          `${ctx.out.green('✓')} Accepted: ${what} of ${r.payout} was ${verb} in QuickBooks on purpose (${accepted?.detail ?? ''}).`,
          accepted && r.quickbooks?.id !== accepted.ref.id
            ? `  The audit ${accepted.finding === 'deleted' ? 'no longer watches it' : 'now compares QuickBooks with this version'} (the reversal of an entry a resync replaced).`
            : accepted?.finding === 'deleted'
              ? '  The audit no longer watches it. To post the computed entry again: npx qbo-sync payouts resync ' +
                r.payout
              : '  The audit now compares QuickBooks with this version and reports it only if it changes again.',
        ].join('\n');
      });
      return 0;
    }),
  );
}
