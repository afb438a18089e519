/** `qbo-sync config validate F` / `config import F` / `config export` (CONTRACT §2, §8). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { readConfigFile } from '../../adapters/config-file.js';
import { describeError } from '../../app/log.js';
import type { QuickBooksBooks } from '../../app/ports.js';
import {
  type ClosingDate,
  type ConfigProblem,
  checkTenants,
  importTenants,
  withoutSecrets,
} from '../../app/tenant-config.js';
import type { SyncConfigFile } from '../../domain/config.js';
import { action, type CliIo, type CommandContext, targetOptions } from '../context.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import type { Services } from '../services.js';
import { registerConfigSuggest } from './config-suggest.js';

interface ValidateJson {
  valid: boolean;
  problems: ConfigProblem[];
  /** Tenant ids in the file (when its shape is valid). */
  tenants: string[];
  /** True when accounts and classes were checked against QuickBooks (a target was given). */
  checkedAgainstQuickBooks: boolean;
  /** With a target: each tenant's closing date (`BookCloseDate`, null when none) and its closedPeriod policy. */
  closingDates?: ClosingDate[];
}

function renderClosingDates(dates: readonly ClosingDate[]): string[] {
  return dates.map((d) =>
    d.closedThrough === null
      ? `  ${d.tenant}: the books have no closing date`
      : `  ${d.tenant}: the books are closed through ${d.closedThrough}; a payout dated then is ${d.closedPeriod === 'hold' ? 'HELD (closedPeriod: hold)' : 'posted on the first open day (closedPeriod: nextOpenDate)'}`,
  );
}

function renderProblems(out: Output, file: string, problems: readonly ConfigProblem[]): string {
  const lines = [
    out.red(`${file} is not valid: ${problems.length} problem${problems.length === 1 ? '' : 's'}`),
  ];
  for (const p of problems) {
    const where = p.tenant === null ? p.entry : `tenant ${p.tenant}, ${p.entry}`;
    lines.push(`  - ${out.bold(where)}: ${p.message}`);
  }
  return lines.join('\n');
}

function booksOf(services: Services) {
  return (realmId: string, tenantId: string): QuickBooksBooks => services.books(realmId, tenantId);
}

export function registerConfig(program: Command, io: CliIo): void {
  const config = program
    .command('config')
    .description('the sync config file (tenants, accounts, revenue mappings)')
    .addHelpText(
      'after',
      '\nThe file is YAML or JSON with a `tenants:` list; see docs/configuration.md for its keys.',
    );

  targetOptions(
    config
      .command('validate')
      .description(
        "check a sync config file: its shape alone, or with --local / --stack also every account and class against the tenant's QuickBooks company",
      )
      .argument('<file>', 'the sync config (YAML or JSON)'),
  ).action(
    action(io, async (ctx: CommandContext, file: string) => {
      const full = path.resolve(io.cwd, file);
      const parsed = readConfigFile(full);
      let result: ValidateJson;
      if (!parsed.ok) {
        result = { valid: false, problems: parsed.problems, tenants: [], checkedAgainstQuickBooks: false };
      } else if (!ctx.explicitTarget) {
        result = {
          valid: true,
          problems: [],
          tenants: parsed.config.tenants.map((t) => t.id),
          checkedAgainstQuickBooks: false,
        };
      } else {
        const services = await ctx.services();
        const checked = await checkTenants(
          { books: booksOf(services), tokens: services.tokens },
          parsed.config.tenants,
        );
        result = {
          valid: checked.problems.length === 0,
          problems: checked.problems,
          tenants: parsed.config.tenants.map((t) => t.id),
          checkedAgainstQuickBooks: true,
          closingDates: checked.closingDates,
        };
      }
      ctx.out.result(result, (r) => {
        if (!r.valid) return renderProblems(ctx.out, file, r.problems);
        const n = r.tenants.length;
        const what = `${n} tenant${n === 1 ? '' : 's'} (${r.tenants.join(', ')})`;
        return r.checkedAgainstQuickBooks
          ? [
              `${ctx.out.green('✓')} ${file} is valid: ${what}; every account and class was found in QuickBooks.`,
              ...renderClosingDates(r.closingDates ?? []),
            ].join('\n')
          : `${ctx.out.green('✓')} ${file} has a valid shape: ${what}.\n  Accounts and classes were not checked: add --local or --stack NAME to check them against QuickBooks.`;
      });
      return result.valid ? 0 : 1;
    }),
  );

  targetOptions(
    config
      .command('import')
      .description(
        "validate a sync config against QuickBooks and store its tenants (all or none); a tenant's refreshToken seeds its connection when none is stored",
      )
      .argument('<file>', 'the sync config (YAML or JSON)'),
  ).action(
    action(io, async (ctx: CommandContext, file: string) => {
      const parsed = readConfigFile(path.resolve(io.cwd, file));
      if (!parsed.ok) {
        ctx.out.result({ valid: false, problems: parsed.problems, imported: [] }, (r) =>
          renderProblems(ctx.out, file, r.problems),
        );
        return 1;
      }
      const services = await ctx.services();
      const result = await importTenants(
        { books: booksOf(services), tokens: services.tokens, tenants: services.tenants },
        parsed.config,
      );
      const json = {
        valid: result.problems.length === 0,
        problems: result.problems,
        imported: result.imported.map((t) => t.books.tenantId),
        seeded: result.seeded,
      };
      ctx.out.result(json, (r) => {
        if (!r.valid) return `${renderProblems(ctx.out, file, r.problems)}\nNothing was imported.`;
        const lines = [
          `${ctx.out.green('✓')} Imported ${r.imported.length} tenant${r.imported.length === 1 ? '' : 's'} into ${services.target.description}:`,
        ];
        for (const t of result.imported) {
          const b = t.books;
          lines.push(
            `  ${ctx.out.bold(b.tenantId)}  Stripe ${b.stripeAccount} → QuickBooks company ${b.realmId}, deposits to ${b.depositAccount.name ?? b.depositAccount.value}, ${b.revenue.length} revenue mapping${b.revenue.length === 1 ? '' : 's'}`,
          );
        }
        if (r.seeded.length > 0)
          lines.push(`  QuickBooks connection stored from the file for ${r.seeded.join(', ')}.`);
        return lines.join('\n');
      });
      return json.valid ? 0 : 1;
    }),
  );

  targetOptions(
    config
      .command('export')
      .description(
        'print the stored tenants as a sync config file (YAML; --json for JSON), without refresh tokens',
      )
      .option('-o, --output <file>', 'write it to this file instead of stdout'),
  ).action(
    action(io, async (ctx: CommandContext) => {
      const services = await ctx.services();
      const stored = await services.tenants.list();
      const file: SyncConfigFile = { tenants: stored.map((t) => withoutSecrets(t.source)) };
      const output = (ctx.flags as { output?: string }).output;
      const text = ctx.out.json
        ? `${JSON.stringify(file, null, 2)}\n`
        : `# Sync config exported from ${services.target.description} on ${new Date().toISOString()}\n# (refresh tokens are not exported: they live in the token store)\n${stringify(file)}`;
      if (output !== undefined) {
        const full = path.resolve(io.cwd, output);
        try {
          writeFileSync(full, text);
        } catch (error) {
          throw new CliError(
            `could not write ${full}: ${describeError(error)}`,
            'choose a writable path for --output',
          );
        }
        ctx.out.say(`Wrote ${stored.length} tenant${stored.length === 1 ? '' : 's'} to ${output}.`);
        return 0;
      }
      if (stored.length === 0)
        ctx.out.note(`${services.target.description} has no tenants yet: \`npx qbo-sync config import F\`.`);
      io.stdout.write(text);
      return 0;
    }),
  );

  registerConfigSuggest(config, io);
}
