/**
 * What every command gets: its output (JSON or text), its flags, and the target's services, built on first use so
 * `config validate F` without a target never looks for one. Also the option helpers every command shares.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { LEDGER_STATUSES, type LedgerStatus } from '../domain/types.js';
import { CliUsageError } from './errors.js';
import { Output } from './output.js';
import type { Services } from './services.js';
import { hasTargetFlag, resolveTarget, type TargetFlags } from './target.js';

export interface CliIo {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Set by a command that wants an exit code other than 0 without throwing. */
  exitCode: number;
  /** Closed after the command (open services…). */
  cleanups: Array<() => void | Promise<void>>;
  /** Resolves when the person interrupts (Ctrl-C); long waits stop early. */
  interrupted: () => boolean;
}

export interface CommonFlags extends TargetFlags {
  json?: boolean;
}

export interface CommandContext {
  io: CliIo;
  out: Output;
  flags: CommonFlags;
  /** True when --local or --stack was given. */
  explicitTarget: boolean;
  services(): Promise<Services>;
}

/** Adds `--json` to a command. */
export function jsonOption(cmd: Command): Command {
  return cmd.option('--json', 'print the result as one JSON document on stdout');
}

/** Adds `--json`, `--local`, `--stack NAME` and `--data-dir D` to a command that acts on a target. */
export function targetOptions(cmd: Command): Command {
  return jsonOption(cmd)
    .option('--local', 'act on the local mode running in this folder (the default when one runs here)')
    .option('--stack <name>', 'act on a deployed stack, found through its CloudFormation outputs')
    .option('--data-dir <dir>', "local mode's data folder (default: .qbo-sync in this folder)");
}

/**
 * Wraps a command's action: builds its context from the command's options (and its parents'), runs it, and
 * records the exit code it returns.
 */
export function action<Args extends unknown[]>(
  io: CliIo,
  fn: (ctx: CommandContext, ...args: Args) => Promise<number | undefined>,
): (...args: unknown[]) => Promise<void> {
  return async (...raw: unknown[]) => {
    const cmd = raw[raw.length - 1] as Command;
    const flags = cmd.optsWithGlobals<CommonFlags>();
    const out = new Output({ json: flags.json === true, stdout: io.stdout, stderr: io.stderr, env: io.env });
    let services: Promise<Services> | undefined;
    const ctx: CommandContext = {
      io,
      out,
      flags,
      explicitTarget: hasTargetFlag(flags),
      services: () => {
        services ??= resolveTarget(flags, io.cwd, io.env).then(async (target) => {
          // Loaded on demand (the AWS, Stripe and QuickBooks clients), so --help and usage errors answer fast.
          const { openServices } = require('./services.js') as typeof import('./services.js');
          const opened = await openServices(target);
          io.cleanups.push(() => opened.close());
          return opened;
        });
        return services;
      },
    };
    // The positional arguments come first, then the options object and the command itself.
    const args = raw.slice(0, -2) as Args;
    const code = await fn(ctx, ...args);
    if (code !== undefined) io.exitCode = code;
  };
}

// ------------------------------------------------------------------------------------------------ option parsers

export function parsePositiveInt(what: string, max = 100_000) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > max) {
      throw new InvalidArgumentError(`${what} must be a whole number from 1 to ${max}.`);
    }
    return Number(value);
  };
}

export function parseStatus(value: string): LedgerStatus {
  const upper = value.trim().toUpperCase() as LedgerStatus;
  if (!LEDGER_STATUSES.includes(upper)) {
    throw new InvalidArgumentError(`must be one of ${LEDGER_STATUSES.join(', ')}.`);
  }
  return upper;
}

/** `2026-01-15` (UTC midnight) or an ISO date-time. */
export function parseDate(value: string): Date {
  const text = value.trim();
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00.000Z` : text;
  const t = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? Date.parse(iso)
    : Number.NaN;
  if (!Number.isFinite(t)) {
    throw new InvalidArgumentError('must be a date such as 2026-01-15 (UTC) or an ISO date-time.');
  }
  return new Date(t);
}

export function parseTenantId(value: string): string {
  if (!/^[a-z0-9-]{2,64}$/.test(value)) {
    throw new InvalidArgumentError('must be a tenant id: 2–64 characters of a-z, 0-9 and "-".');
  }
  return value;
}

export function parsePayoutId(value: string): string {
  if (!/^po_[A-Za-z0-9_]+$/.test(value)) {
    throw new InvalidArgumentError('must be a Stripe payout id, e.g. po_1PzXqR2eZvKYlo2C.');
  }
  return value;
}

export function parseSeconds(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 3600) {
    throw new InvalidArgumentError('must be a number of seconds from 1 to 3600.');
  }
  return Number(value);
}

/** `--tenant T` with the tenant-id check. */
export function tenantOption(description: string, required: boolean): Option {
  const option = new Option('--tenant <id>', description).argParser(parseTenantId);
  return required ? option.makeOptionMandatory() : option;
}

export function usage(message: string): never {
  throw new CliUsageError(message);
}
