/** `qbo-sync dlq list` / `dlq replay --payout po | --all [--dry-run]` (CONTRACT §8). */
import type { Command } from 'commander';
import { listDeadLetters, replayDeadLetters } from '../../app/dead-letters.js';
import { action, type CliIo, type CommandContext, parsePayoutId, targetOptions } from '../context.js';
import { CliUsageError } from '../errors.js';
import { age, clip, table } from '../output.js';

export function registerDlq(program: Command, io: CliIo): void {
  const dlq = program.command('dlq').description('the dead-letter queue: payouts whose retries ran out');

  targetOptions(
    dlq
      .command('list')
      .description('what is in the dead-letter queue, and why (the reason and fix from the ledger)'),
  ).action(
    action(io, async (ctx: CommandContext) => {
      const services = await ctx.services();
      const letters = await listDeadLetters({ dlq: services.dlq, ledger: services.ledger });
      const json = letters.map((l) => ({
        payout: l.payout,
        tenant: l.tenant,
        messageId: l.messageId,
        receiveCount: l.receiveCount,
        reason: l.reason,
        hint: l.hint,
        status: l.status,
        attempts: l.attempts,
        sentAt: l.sentAt,
      }));
      ctx.out.result(json, (list) => {
        if (list.length === 0) return `${ctx.out.green('✓')} The dead-letter queue is empty.`;
        const lines = [
          table(
            ['PAYOUT', 'TENANT', 'AGE', 'ATTEMPTS', 'REASON'],
            list.map((l) => [
              l.payout ?? `(message ${l.messageId})`,
              l.tenant ?? '',
              age(l.sentAt),
              String(l.attempts ?? l.receiveCount),
              clip(l.reason, 80),
            ]),
            { paint: ctx.out.bold },
          ),
          '',
        ];
        for (const l of list) {
          if (l.hint) lines.push(`${l.payout ?? l.messageId}: ${l.hint}`);
        }
        lines.push(
          '',
          'Once the cause is fixed: npx qbo-sync dlq replay --payout <po_…>  (or --all; --dry-run shows what would move)',
        );
        return lines.join('\n');
      });
      return 0;
    }),
  );

  targetOptions(
    dlq
      .command('replay')
      .description(
        'send dead-lettered payouts back to the queue (receive → send → delete: nothing is lost if it stops half-way); their ledger rows become RECEIVED until processed',
      )
      .option('--payout <po>', 'replay this payout', parsePayoutId)
      .option('--all', 'replay every payout in the dead-letter queue')
      .option('--dry-run', 'only say what would be replayed'),
  ).action(
    action(io, async (ctx: CommandContext) => {
      const f = ctx.flags as { payout?: string; all?: boolean; dryRun?: boolean };
      if (f.payout === undefined && !f.all) {
        throw new CliUsageError('say which payouts to replay: --payout po_… or --all');
      }
      if (f.payout !== undefined && f.all) {
        throw new CliUsageError('--payout and --all exclude each other: give one of them');
      }
      const services = await ctx.services();
      const result = await replayDeadLetters(
        {
          dlq: services.dlq,
          ledger: services.ledger,
          actions: services.ledger,
          ...(f.payout !== undefined ? { inTransitSeconds: await services.inTransitSeconds() } : {}),
        },
        {
          ...(f.payout !== undefined ? { payoutId: f.payout } : {}),
          dryRun: f.dryRun === true,
          actor: services.actor,
        },
      );
      const json = {
        replayed: result.replayed,
        remaining: result.remaining,
        ...(result.dryRun ? { dryRun: true } : {}),
      };
      ctx.out.result(json, (r) => {
        const n = r.replayed.length;
        const list = n > 0 ? `: ${r.replayed.join(', ')}` : '';
        const head = result.dryRun
          ? `Would replay ${n} payout${n === 1 ? '' : 's'}${list} (dry run: nothing moved).`
          : `${ctx.out.green('✓')} Replayed ${n} payout${n === 1 ? '' : 's'}${list}; ${r.remaining} message${r.remaining === 1 ? '' : 's'} left in the dead-letter queue.`;
        const lines = [head];
        if (!result.dryRun && n > 0)
          lines.push(
            '  They are RECEIVED until the worker processes them: npx qbo-sync payouts list --status RECEIVED',
          );
        if (result.unreadable > 0) {
          lines.push(
            `  ${result.unreadable} message${result.unreadable === 1 ? ' is' : 's are'} not a payout message and stay${result.unreadable === 1 ? 's' : ''} (see \`npx qbo-sync dlq list\`).`,
          );
        }
        return lines.join('\n');
      });
      return 0;
    }),
  );
}
