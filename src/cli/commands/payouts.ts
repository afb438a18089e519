/**
 * `qbo-sync payouts preview | status | list | sync | backfill | resync` (CONTRACT §8): the ledger, the dry run, and
 * the requests a person puts on the queue. `audit | accept` (drift) are in drift.ts.
 */
import type { Command } from 'commander';
import { payoutsInDlq, withCurrentFix } from '../../app/dead-letters.js';
import { earlierHint } from '../../app/earlier-reversals.js';
import type { LedgerRecord } from '../../app/ports.js';
import { previewPayout } from '../../app/preview-payout.js';
import {
  backfillPayouts,
  type RequestResult,
  RequestUsageError,
  requestResync,
  requestSync,
} from '../../app/request-payouts.js';
import { formatMinor } from '../../domain/money.js';
import type { LedgerStatus } from '../../domain/types.js';
import { previewRows, renderDepositTable } from '../../local/deposit-table.js';
import {
  action,
  type CliIo,
  type CommandContext,
  parseDate,
  parsePayoutId,
  parsePositiveInt,
  parseSeconds,
  parseStatus,
  targetOptions,
  tenantOption,
} from '../context.js';
import { CliError, CliUsageError } from '../errors.js';
import { age, clip, type Output, table } from '../output.js';
import type { Services } from '../services.js';
import { registerDrift } from './drift.js';

/** The `payouts status` JSON (CONTRACT §8), plus a few keys for people. */
export interface PayoutStatusJson {
  payout: string;
  tenant: string;
  status: LedgerStatus;
  reason: string | null;
  hint: string | null;
  quickbooks: { type: 'Deposit' | 'JournalEntry'; id: string } | null;
  attempts: number;
  /**
   * The drift audit's open finding on the live entry (`payouts audit`), else on a reversing JournalEntry an earlier
   * resync posted (with its `hint`: a resync does not fix that one), else null.
   */
  drift: { finding: string; detail: string; foundAt: string; hint?: string } | null;
  /** The payout's own date when its entry was posted on the first open day (closedPeriod: nextOpenDate). */
  originalDate: string | null;
  /** Who synced, resynced, replayed or previewed it by hand (the CLI's user, the console's), oldest first. */
  actions: NonNullable<LedgerRecord['actions']>;
  createdAt: string;
  updatedAt: string;
}

function driftOf(row: LedgerRecord): PayoutStatusJson['drift'] {
  if (row.drift) return { finding: row.drift.finding, detail: row.drift.detail, foundAt: row.drift.foundAt };
  const item = row.earlierReversals?.find((e) => e.drift);
  if (!item?.drift) return null;
  const { finding, detail, foundAt } = item.drift;
  return { finding, detail, foundAt, hint: earlierHint(row, item, item.drift) };
}

export function statusJson(row: LedgerRecord): PayoutStatusJson {
  return {
    payout: row.payoutId,
    tenant: row.tenantId,
    status: row.status,
    reason: row.reason,
    hint: row.hint,
    quickbooks: row.quickbooks === null ? null : { type: row.quickbooks.type, id: row.quickbooks.id },
    attempts: row.attempts,
    drift: driftOf(row),
    originalDate: row.originalDate ?? null,
    actions: row.actions ?? [],
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function paintStatus(out: Output, status: string): string {
  if (status === 'POSTED') return out.green(status);
  if (status === 'HELD' || status === 'FAILED') return out.red(status);
  if (status === 'SKIPPED' || status === 'REVERSED') return out.dim(status);
  return out.yellow(status);
}

function renderStatus(out: Output, s: PayoutStatusJson): string {
  const rows: Array<[string, string]> = [
    ['Payout', s.payout],
    ['Tenant', s.tenant],
    ['Status', paintStatus(out, s.status)],
  ];
  if (s.quickbooks) rows.push(['QuickBooks', `${s.quickbooks.type} ${s.quickbooks.id}`]);
  if (s.reason) rows.push(['Reason', s.reason]);
  if (s.hint) rows.push(['Fix', s.hint]);
  if (s.drift) {
    rows.push(['Drift', out.red(`${s.drift.finding} in QuickBooks: ${s.drift.detail}`)]);
    rows.push([
      'Drift fix',
      s.drift.hint ??
        `npx qbo-sync payouts resync ${s.payout} (${s.status === 'REVERSED' ? "reverse the failed payout's entry again" : 'post the computed entry again'}) or npx qbo-sync payouts accept ${s.payout} (intended)`,
    ]);
  }
  rows.push(['Attempts', String(s.attempts)], ['Updated', `${s.updatedAt} (${age(s.updatedAt)})`]);
  const last = s.actions[s.actions.length - 1];
  if (last) rows.push(['Last request', `${last.action} by ${last.by} (${last.via}), ${age(last.at)}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${out.bold(`${k}:`.padEnd(width + 1))} ${v}`).join('\n');
}

const SETTLED: ReadonlySet<LedgerStatus> = new Set([
  'POSTED',
  'HELD',
  'SKIPPED',
  'REVERSED',
  'FAILED',
  'WAITING_FOR_RECONCILIATION',
]);

/** Polls the ledger until the worker has acted on the request (the row's version moved on and it settled). */
async function waitForWorker(
  io: CliIo,
  services: Services,
  request: RequestResult,
  seconds: number,
): Promise<LedgerRecord | undefined> {
  const deadline = Date.now() + seconds * 1000;
  let row: LedgerRecord | undefined;
  for (;;) {
    row = await services.ledger.get(request.payout);
    if (row !== undefined && row.version > request.version && SETTLED.has(row.status)) return row;
    if (Date.now() >= deadline || io.interrupted()) return row;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Prints a request's result, waiting for the worker when asked. Exit 1 when it ends HELD or FAILED, or times out. */
async function finishRequest(
  ctx: CommandContext,
  services: Services,
  request: RequestResult,
  wait: number | undefined,
): Promise<number> {
  const follow = `npx qbo-sync payouts status ${request.payout}`;
  const nothingToWaitFor =
    request.eventType === 'sync' && (request.status === 'POSTED' || request.status === 'REVERSED');
  if (wait === undefined || nothingToWaitFor) {
    const json = { ...request, enqueued: true };
    ctx.out.result(json, (r) => {
      const what = r.eventType === 'resync' ? 'a resync' : 'a sync';
      const lines = [
        `${ctx.out.green('✓')} Queued ${what} of ${r.payout} (tenant ${r.tenant}); the ledger says ${r.status}.`,
      ];
      if (r.eventType === 'sync' && r.status === 'POSTED') {
        lines.push(
          `  It is already posted${r.quickbooks ? ` as ${r.quickbooks.type} ${r.quickbooks.id}` : ''}: the worker only checks Stripe for a failure. To post a corrected entry: npx qbo-sync payouts resync ${r.payout}`,
        );
      }
      lines.push(`  Follow it with: ${follow}`);
      return lines.join('\n');
    });
    return 0;
  }
  const progressNote = ctx.out.json ? undefined : `Waiting up to ${wait} s for the worker …`;
  if (progressNote) ctx.out.note(progressNote);
  const row = await waitForWorker(ctx.io, services, request, wait);
  const settled = row !== undefined && row.version > request.version && SETTLED.has(row.status);
  if (row === undefined)
    throw new CliError(`payout ${request.payout} is not in the ledger`, `check with ${follow}`);
  const json = { ...statusJson(row), eventId: request.eventId, settled };
  ctx.out.result(json, (r) => {
    const head = r.settled
      ? `The worker finished ${request.eventType === 'resync' ? 'the resync' : 'the sync'} of ${r.payout}:`
      : `${ctx.out.yellow('Still in progress')} after ${wait} s (follow it with: ${follow}):`;
    return `${head}\n${renderStatus(ctx.out, r)}`;
  });
  if (!settled) return 1;
  return row.status === 'HELD' || row.status === 'FAILED' ? 1 : 0;
}

function rethrowUsage(error: unknown): never {
  if (error instanceof RequestUsageError) throw new CliUsageError(error.message);
  throw error;
}

export function registerPayouts(program: Command, io: CliIo): void {
  const payouts = program.command('payouts').description('the payout ledger, dry runs, and sync requests');

  // ---------------------------------------------------------------------------------------------- preview
  targetOptions(
    payouts
      .command('preview')
      .description(
        'dry run: read the payout and its transactions from Stripe and print the entry the worker would post (nothing is posted or created)',
      )
      .argument('<payout>', 'the Stripe payout id (po_…)', parsePayoutId)
      .addOption(tenantOption('the tenant the payout belongs to (default: the ledger’s)', false)),
  ).action(
    action(io, async (ctx: CommandContext, payoutId: string) => {
      const services = await ctx.services();
      let tenantId = (ctx.flags as { tenant?: string }).tenant;
      if (tenantId === undefined) {
        tenantId = (await services.ledger.get(payoutId))?.tenantId;
        if (tenantId === undefined) {
          throw new CliUsageError(
            `the ledger does not know payout ${payoutId}, so its tenant is needed: add --tenant T`,
          );
        }
      }
      const preview = await previewPayout(
        {
          tenants: services.tenants,
          payouts: services.payouts,
          customers: services.customers,
          quickbooks: (realmId, c) => services.quickbooks.forRealm(realmId, c),
          actions: services.ledger,
        },
        { payoutId, tenantId, customerNames: !ctx.out.json, actor: services.actor },
      );
      const json = {
        payout: preview.payout,
        tenant: preview.tenant,
        outcome: preview.outcome,
        reason: preview.reason,
        hint: preview.hint,
        entry: preview.entry === null ? null : { type: preview.entry.type, body: preview.entry.body },
        amount: preview.amount,
        currency: preview.currency,
        transactions: preview.transactions,
        lineDetail: preview.lineDetail,
        folded: preview.folded,
        newCustomers: preview.newCustomers,
        note: preview.note,
      };
      ctx.out.result(json, (r) => {
        const amount = formatMinor(r.amount, r.currency);
        if (r.entry === null) {
          const lines = [
            `Payout ${r.payout} (tenant ${r.tenant}, ${amount}) would be ${paintStatus(ctx.out, r.outcome)}: ${r.reason ?? ''}`,
          ];
          if (r.hint) lines.push(`  fix: ${r.hint}`);
          return lines.join('\n');
        }
        const rows = previewRows(r.entry, r.currency, preview.customerLabels);
        const facts: Array<[string, string]> = [
          ['Outcome', `${ctx.out.green('POST')} (dry run: nothing was posted or created)`],
          ['Payout', `${amount}, ${r.transactions} balance transaction${r.transactions === 1 ? '' : 's'}`],
        ];
        if (typeof r.entry.body.TxnDate === 'string') facts.push(['Date', r.entry.body.TxnDate]);
        if (r.folded) facts.push(['Note', `more lines than maxDepositLines: category lines would be used`]);
        if (r.newCustomers.length > 0) {
          facts.push([
            'New customers',
            `${r.newCustomers.length} would be created: ${clip(r.newCustomers.join(', '), 200)}`,
          ]);
        }
        if (r.note) facts.push(['Not yet', r.note]);
        return renderDepositTable(rows, r.currency, {
          title: `${r.entry.type} that would be posted for Stripe payout ${r.payout} (tenant ${r.tenant})`,
          facts,
        });
      });
      return 0;
    }),
  );

  // ---------------------------------------------------------------------------------------------- status
  targetOptions(
    payouts
      .command('status')
      .description("a payout's ledger row: status, QuickBooks object, reason and the fix")
      .argument('<payout>', 'the Stripe payout id (po_…)', parsePayoutId),
  ).action(
    action(io, async (ctx: CommandContext, payoutId: string) => {
      const services = await ctx.services();
      const row = await services.ledger.get(payoutId);
      if (row === undefined) {
        throw new CliError(
          `the ledger does not know payout ${payoutId}`,
          `sync it with \`npx qbo-sync payouts sync ${payoutId} --tenant T\`, or check the id with \`npx qbo-sync payouts list\``,
        );
      }
      const inDlq = await payoutsInDlq(services.dlq, [row]);
      const current =
        row.status === 'FAILED'
          ? withCurrentFix(row, inDlq, { seconds: await services.inTransitSeconds() })
          : row;
      ctx.out.result(statusJson(current), (s) => renderStatus(ctx.out, s));
      return 0;
    }),
  );

  // ---------------------------------------------------------------------------------------------- list
  targetOptions(
    payouts
      .command('list')
      .description('the ledger, newest first, every tenant unless filtered')
      .option('--status <status>', 'only this status (RECEIVED, POSTED, HELD, FAILED, …)', parseStatus)
      .addOption(tenantOption('only this tenant', false))
      .option('--limit <n>', 'at most this many rows (default 50)', parsePositiveInt('--limit', 10_000))
      .option(
        '--since <date>',
        'only rows updated at or after this date (2026-01-15 or an ISO date-time)',
        parseDate,
      ),
  ).action(
    action(io, async (ctx: CommandContext) => {
      const f = ctx.flags as { status?: LedgerStatus; tenant?: string; limit?: number; since?: Date };
      const limit = f.limit ?? 50;
      const services = await ctx.services();
      const rows = await services.ledger.list({
        ...(f.status !== undefined ? { status: f.status } : {}),
        ...(f.tenant !== undefined ? { tenantId: f.tenant } : {}),
        // With --since the newest rows are read until the date is passed.
        limit: f.since !== undefined ? 10_000 : limit,
      });
      const since = f.since?.toISOString();
      const shown = (since === undefined ? rows : rows.filter((r) => r.updatedAt >= since))
        .filter((r) => !r.payoutId.startsWith('message:'))
        .slice(0, limit);
      const inDlq = await payoutsInDlq(services.dlq, shown);
      const inTransit = {
        seconds:
          inDlq.size > 0 || shown.some((r) => r.status === 'FAILED') ? await services.inTransitSeconds() : 0,
      };
      ctx.out.result(
        shown.map((r) => statusJson(withCurrentFix(r, inDlq, inTransit))),
        (list) => {
          if (list.length === 0) return 'No payouts in the ledger match.';
          return table(
            ['PAYOUT', 'TENANT', 'STATUS', 'QUICKBOOKS', 'UPDATED', 'REASON'],
            list.map((s) => [
              s.payout,
              s.tenant,
              paintStatus(ctx.out, s.status),
              s.quickbooks ? `${s.quickbooks.type} ${s.quickbooks.id}` : '',
              age(s.updatedAt),
              clip(s.reason, 60),
            ]),
            { paint: ctx.out.bold },
          );
        },
      );
      return 0;
    }),
  );

  // ---------------------------------------------------------------------------------------------- sync
  targetOptions(
    payouts
      .command('sync')
      .description(
        'queue one payout for the worker (the tenant is needed unless the ledger knows the payout)',
      )
      .argument('<payout>', 'the Stripe payout id (po_…)', parsePayoutId)
      .addOption(tenantOption('the tenant the payout belongs to', false))
      .option('--wait [seconds]', 'wait for the worker and print the outcome (default 120 s)', parseSeconds),
  ).action(
    action(io, async (ctx: CommandContext, payoutId: string) => {
      const f = ctx.flags as { tenant?: string; wait?: number | true };
      const services = await ctx.services();
      const request = await requestSync(
        {
          tenants: services.tenants,
          ledger: services.ledger,
          queue: services.queue,
          actions: services.ledger,
        },
        { payoutId, ...(f.tenant !== undefined ? { tenantId: f.tenant } : {}), actor: services.actor },
      ).catch(rethrowUsage);
      return await finishRequest(ctx, services, request, f.wait === true ? 120 : f.wait);
    }),
  );

  // ---------------------------------------------------------------------------------------------- backfill
  targetOptions(
    payouts
      .command('backfill')
      .description(
        'queue every paid automatic payout of a tenant arriving since DATE (skips those already POSTED, HELD, SKIPPED or REVERSED; safe to run again)',
      )
      .addOption(tenantOption('the tenant', true))
      .requiredOption(
        '--since <date>',
        'arrival date to start from (2026-01-15 or an ISO date-time)',
        parseDate,
      ),
  ).action(
    action(io, async (ctx: CommandContext) => {
      const f = ctx.flags as { tenant: string; since: Date };
      const services = await ctx.services();
      const result = await ctx.out.withProgress('Queueing payouts', (progress) =>
        backfillPayouts(
          {
            tenants: services.tenants,
            ledger: services.ledger,
            queue: services.queue,
            payouts: services.payouts,
          },
          {
            tenantId: f.tenant,
            since: f.since,
            onListed: (total) => progress.total(total),
            onPayout: (done) => progress.update(done),
          },
        ),
      );
      ctx.out.result(result, (r) => {
        const lines = [
          `${ctx.out.green('✓')} Tenant ${r.tenant}: ${r.found} paid payout${r.found === 1 ? '' : 's'} since ${r.since.slice(0, 10)}; ${r.enqueued.length} queued, ${r.skipped.length} skipped.`,
        ];
        if (r.skipped.length > 0) {
          lines.push(
            table(
              ['SKIPPED', 'BECAUSE'],
              r.skipped.map((s) => [
                s.payout,
                s.status === 'MANUAL' ? 'manual payout (Stripe cannot itemise it)' : `already ${s.status}`,
              ]),
            ),
          );
        }
        if (r.enqueued.length > 0) lines.push('Follow them with: npx qbo-sync payouts list --status POSTED');
        return lines.join('\n');
      });
      return 0;
    }),
  );

  // ---------------------------------------------------------------------------------------------- resync
  targetOptions(
    payouts
      .command('resync')
      .description(
        'after a mapping fix: the worker deletes (or reverses) the posted object and posts the corrected one; still one live object per payout. A reversed payout whose reversal the audit found deleted or edited: its entry is reversed again',
      )
      .argument('<payout>', 'the Stripe payout id (po_…)', parsePayoutId)
      .option('--wait [seconds]', 'wait for the worker and print the outcome (default 120 s)', parseSeconds),
  ).action(
    action(io, async (ctx: CommandContext, payoutId: string) => {
      const f = ctx.flags as { wait?: number | true };
      const services = await ctx.services();
      const request = await requestResync(
        {
          tenants: services.tenants,
          ledger: services.ledger,
          queue: services.queue,
          actions: services.ledger,
        },
        { payoutId, actor: services.actor },
      ).catch(rethrowUsage);
      return await finishRequest(ctx, services, request, f.wait === true ? 120 : f.wait);
    }),
  );

  registerDrift(payouts, io);
}
