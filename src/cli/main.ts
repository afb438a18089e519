/**
 * The `qbo-sync` entry point (bin/qbo-sync.cjs runs it through tsx). Parses the command line, runs the command and
 * exits 0 on success, 1 on a failure, 2 on bad usage. Every error is caught here and printed as its message (with
 * `--json`: `{"error": …}` on stdout); a stack trace is printed only with QBO_SYNC_DEBUG=1.
 */
import { type Command, CommanderError } from 'commander';
import { describeError } from '../app/log.js';
import type { CliIo } from './context.js';
import { CliError, CliUsageError, hintOf } from './errors.js';
import { Output } from './output.js';
import { buildProgram } from './program.js';

const USAGE_CODES = new Set([
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.conflictingOption',
  'commander.unknownOption',
  'commander.excessArguments',
  'commander.unknownCommand',
  'commander.invalidArgument',
  'commander.help',
  'commander.error',
]);

/** Runs the CLI on `argv` (without `node` and the script); resolves with the exit code. */
export async function runCli(argv: readonly string[], partial: Partial<CliIo> = {}): Promise<number> {
  let interrupted = false;
  const io: CliIo = {
    cwd: partial.cwd ?? process.cwd(),
    env: partial.env ?? process.env,
    stdout: partial.stdout ?? process.stdout,
    stderr: partial.stderr ?? process.stderr,
    exitCode: 0,
    cleanups: [],
    interrupted: partial.interrupted ?? (() => interrupted),
  };
  const json = argv.includes('--json');
  const out = new Output({ json, stdout: io.stdout, stderr: io.stderr, env: io.env });
  const isLocal = argv[0] === 'local';
  // Ctrl-C: a command that is waiting (connect, --wait) stops and says so; anything else ends shortly after (every
  // request is safe to repeat: backfill resumes, replay never loses a message). A second Ctrl-C ends at once.
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    setTimeout(() => process.exit(130), 1500).unref();
  };
  if (!isLocal) process.on('SIGINT', onSignal);

  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return io.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      // Commander has printed its message on stderr already.
      const help = helpHint(program, argv);
      if (json) {
        const doc = { error: error.message.replace(/^error: /, ''), hint: help };
        io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      } else io.stderr.write(`  fix: ${help}\n`);
      return USAGE_CODES.has(error.code) || error.exitCode === 1 ? 2 : error.exitCode;
    }
    if (error instanceof CliUsageError) {
      const help = helpHint(program, argv);
      out.error(error.message, { hint: help });
      if (!json) io.stderr.write(`  fix: ${help}\n`);
      return 2;
    }
    const hint = hintOf(error);
    const details = error instanceof CliError ? error.details : {};
    out.error(describeError(error), { ...(hint ? { hint } : {}), ...details });
    if (hint && !json) io.stderr.write(`  fix: ${hint}\n`);
    if (io.env.QBO_SYNC_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    for (const cleanup of io.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // closing is best effort
      }
    }
  }
}

/** `see \`npx qbo-sync payouts status --help\``: the help of the deepest command the arguments name. */
export function helpHint(program: Command, argv: readonly string[]): string {
  const names: string[] = [];
  let cmd = program;
  for (const word of argv) {
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub === undefined) break;
    names.push(sub.name());
    cmd = sub;
  }
  return `see the usage with \`npx qbo-sync ${[...names, '--help'].join(' ')}\``;
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.write('')) stream.once('drain', () => resolve());
    else resolve();
  });
}

// Run when started as the program: bin/qbo-sync.cjs (also through npx's symlink, which Node resolves), not when a
// test imports runCli.
const entry = require.main?.filename ?? '';
if (require.main === module || /[\\/]bin[\\/]qbo-sync\.cjs$/.test(entry)) {
  void runCli(process.argv.slice(2)).then(async (code) => {
    await Promise.all([flush(process.stdout), flush(process.stderr)]);
    // Open sockets (SDK keep-alive) must not keep a finished command alive.
    process.exit(code);
  });
}
