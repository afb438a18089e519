/**
 * The `qbo-sync` entry point (bin/qbo-sync.cjs runs it through tsx). Minimal for now: it dispatches `local` to
 * local mode (src/local); the operator commands are added by the full CLI.
 */
import { LOCAL_USAGE, parseLocalArgs, runLocal, UsageError } from '../local/index.js';

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'local') {
    let options: ReturnType<typeof parseLocalArgs>;
    try {
      options = parseLocalArgs(rest);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`qbo-sync local: ${error.message}\n`);
      return 2;
    }
    if (options.help) {
      process.stdout.write(LOCAL_USAGE);
      return 0;
    }
    return runLocal(options);
  }
  const help = 'Usage: qbo-sync <command>\n\nCommands:\n  local    run the pipeline on this machine (npm start)\n';
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(help);
    return 0;
  }
  process.stderr.write(`qbo-sync: unknown command "${command}"\n\n${help}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Anything still holding the event loop (keep-alive sockets) must not keep a finished command alive.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`qbo-sync: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
