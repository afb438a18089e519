/** The `qbo-sync` command tree (commander), CONTRACT §8. */
import { Command } from 'commander';
import { LOCAL_USAGE, parseLocalArgs, UsageError } from '../local/args.js';
import { registerConfig } from './commands/config.js';
import { registerConnect } from './commands/connect.js';
import { registerCustomers } from './commands/customers.js';
import { registerDlq } from './commands/dlq.js';
import { registerPayouts } from './commands/payouts.js';
import type { CliIo } from './context.js';
import { CliUsageError } from './errors.js';

export const VERSION = '0.1.0';

const OVERVIEW = `
Targets: commands that read or change state act on the local mode running in this folder (--local, the default
when one runs here) or on a deployed stack (--stack NAME, through its CloudFormation outputs).
Every command takes --json (one JSON document on stdout; a failure prints {"error": …}).
Exit codes: 0 success, 1 failure, 2 bad usage.

Examples:
  npx qbo-sync local                                   run the whole pipeline on this machine
  npx qbo-sync config validate sync.yaml --local       check a config against QuickBooks
  npx qbo-sync payouts list --status HELD              what needs a person
  npx qbo-sync payouts preview po_123 --tenant studio  dry run: the deposit that would be posted
  npx qbo-sync dlq list                                what failed, and why
`;

export function buildProgram(io: CliIo): Command {
  const program = new Command('qbo-sync')
    .description('Operate momence-qbo-sync: Stripe payouts → QuickBooks Online deposits.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addHelpText('after', OVERVIEW)
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  program
    .command('local')
    .description(
      'local mode: the whole pipeline on embedded stand-ins (what `npm start` runs); see `local --help`',
    )
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[args...]', 'local mode options: [--config F] [--port P] [--once] [--fresh] [--data-dir D]')
    .action(async (args: string[]) => {
      let options: ReturnType<typeof parseLocalArgs>;
      try {
        options = parseLocalArgs(args);
      } catch (error) {
        if (error instanceof UsageError) throw new CliUsageError(error.message);
        throw error;
      }
      if (options.help) {
        io.stdout.write(LOCAL_USAGE);
        return;
      }
      // Loaded on demand: local mode pulls in every stand-in and emulator.
      const { runLocal } = require('../local/run.js') as typeof import('../local/run.js');
      const { help: _help, ...localOptions } = options;
      io.exitCode = await runLocal({ ...localOptions, cwd: io.cwd });
    });

  registerConfig(program, io);
  registerCustomers(program, io);
  registerPayouts(program, io);
  registerDlq(program, io);
  registerConnect(program, io);

  // Every command exits through the caller (exit codes 0/1/2), never by commander's process.exit.
  const configure = (cmd: Command) => {
    cmd.exitOverride();
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  return program;
}
