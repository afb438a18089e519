/**
 * `qbo-sync config suggest --tenant T [--days N] [-o F]` (CONTRACT §8): a draft sync config from the categories on
 * the tenant's recent payouts and the company's accounts and classes (src/app/suggest-config.ts). The draft is YAML
 * with comments: what was found, and for each TODO entry its candidates. Without -o it goes to stdout and the summary
 * to stderr, so `> F` keeps the file clean.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Document, isMap, isSeq } from 'yaml';
import { describeError } from '../../app/log.js';
import { type SuggestConfigResult, suggestConfig, TODO_ACCOUNT } from '../../app/suggest-config.js';
import { categoryLabel } from '../../domain/categories.js';
import { formatMinor } from '../../domain/money.js';
import {
  action,
  type CliIo,
  type CommandContext,
  parsePositiveInt,
  targetOptions,
  tenantOption,
} from '../context.js';
import { CliError } from '../errors.js';
import { type Output, table } from '../output.js';

const quote = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');

/** The draft as YAML, with what was found as a header and each TODO entry's candidates beside it. */
export function draftYaml(r: SuggestConfigResult, generatedAt: Date): string {
  const doc = new Document(r.draft);
  const found = r.categories.map((s) => {
    const what = `${categoryLabel(s.found)}: ${s.found.charges} charge${s.found.charges === 1 ? '' : 's'}, ${formatMinor(s.found.total, s.found.currency)}`;
    if (s.mapped) return ` ${what} (already mapped to ${s.mapped.account})`;
    return s.account ? ` ${what} → ${s.account}` : ` ${what} → TODO`;
  });
  doc.commentBefore = [
    ` Draft sync config for tenant ${r.tenant}, suggested by \`npx qbo-sync config suggest\` on ${generatedAt.toISOString()}`,
    ` from ${r.payouts} payout${r.payouts === 1 ? '' : 's'} of the last ${r.days} days${r.from ? ` (${r.from} to ${r.to})` : ''}.`,
    ' Revenue categories found on their charges:',
    ...found.map((l) => ` ${l}`),
    ` Income accounts: ${r.incomeAccounts.join(', ') || '(none)'}`,
    ` Classes: ${r.classes.join(', ') || '(none)'}`,
    ' Replace each TODO with an account (and add a class: if you track them), then:',
    `   npx qbo-sync config validate <this file> --local   (or --stack NAME), and config import <this file>`,
  ].join('\n');
  const revenue = doc.getIn(['tenants', 0, 'revenue'], true);
  if (isSeq(revenue)) {
    for (const item of revenue.items) {
      if (!isMap(item) || item.get('account') !== TODO_ACCOUNT) continue;
      const label = categoryLabel({
        category: String(item.get('category')),
        ...(item.has('subcategory') ? { subcategory: String(item.get('subcategory')) } : {}),
      });
      const s = r.categories.find((c) => categoryLabel(c.found) === label);
      item.commentBefore = ` TODO: no account is clearly right for "${label}"; candidates: ${quote(s?.candidates ?? []) || '(no income account)'}`;
    }
  }
  return doc.toString({ lineWidth: 0 });
}

function summary(out: Output, r: SuggestConfigResult): string {
  const lines = [
    `Read ${r.payouts} payout${r.payouts === 1 ? '' : 's'} of tenant ${r.tenant} from the last ${r.days} days${r.from ? ` (${r.from} to ${r.to})` : ''}.`,
  ];
  if (r.categories.length === 0) {
    lines.push('No revenue categories were found on their charges: try more --days.');
  } else {
    lines.push(
      '',
      table(
        ['CATEGORY', 'CHARGES', 'TOTAL', 'ACCOUNT'],
        r.categories.map((s) => [
          categoryLabel(s.found),
          String(s.found.charges),
          formatMinor(s.found.total, s.found.currency),
          s.mapped
            ? `${s.mapped.account} (already mapped)`
            : s.account
              ? `${s.account} (suggested: the names match)`
              : out.yellow(`TODO: candidates ${quote(s.candidates) || '(none)'}`),
        ]),
        { paint: out.bold },
      ),
    );
  }
  lines.push(
    '',
    `Income accounts: ${r.incomeAccounts.join(', ') || '(none)'}`,
    `Classes:         ${r.classes.join(', ') || '(none)'}`,
  );
  return lines.join('\n');
}

export function registerConfigSuggest(config: Command, io: CliIo): void {
  targetOptions(
    config
      .command('suggest')
      .description(
        "a draft sync config from the revenue categories on the tenant's recent payouts and the company's income accounts and classes; unclear ones marked TODO with candidates",
      )
      .addOption(tenantOption('the tenant (already imported) whose payouts to read', true))
      .option(
        '--days <n>',
        'read the payouts of the last N days (default 30)',
        parsePositiveInt('--days', 3650),
      )
      .option('-o, --output <file>', 'write the draft to this file (default: stdout)'),
  ).action(
    action(io, async (ctx: CommandContext) => {
      const f = ctx.flags as { tenant: string; days?: number; output?: string };
      const services = await ctx.services();
      const now = new Date();
      const result = await ctx.out.withProgress('Reading payouts', (progress) =>
        suggestConfig(
          { tenants: services.tenants, payouts: services.payouts, books: (r, t) => services.books(r, t) },
          {
            tenantId: f.tenant,
            days: f.days ?? 30,
            onProgress: (done, total) => {
              progress.total(total);
              progress.update(done, 'payouts');
            },
          },
        ),
      );
      if (ctx.out.json) {
        ctx.out.result(result, () => '');
        return 0;
      }
      const yaml = draftYaml(result, now);
      const next = [
        result.todo > 0
          ? `${result.todo} categor${result.todo === 1 ? 'y is' : 'ies are'} left TODO: choose ${result.todo === 1 ? 'its account' : 'their accounts'} in the draft.`
          : 'Every category has an account.',
        `Then: npx qbo-sync config validate ${f.output ?? '<file>'} --local   (it lists what is left), and config import ${f.output ?? '<file>'}.`,
        ...(result.latestPayout
          ? [`Test deposit: npx qbo-sync payouts preview ${result.latestPayout} --tenant ${result.tenant}`]
          : []),
      ];
      if (f.output === undefined) {
        io.stderr.write(`${summary(ctx.out, result)}\n\n${next.join('\n')}\n`);
        io.stdout.write(yaml);
        return 0;
      }
      const full = path.resolve(io.cwd, f.output);
      try {
        writeFileSync(full, yaml);
      } catch (error) {
        throw new CliError(
          `could not write ${full}: ${describeError(error)}`,
          'choose a writable path for -o',
        );
      }
      ctx.out.say(`${summary(ctx.out, result)}\n\nWrote the draft to ${f.output}. ${next.join('\n')}`);
      return 0;
    }),
  );
}
