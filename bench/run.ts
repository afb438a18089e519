/**
 * `npm run bench [-- --json] [-- --sizes 100,1000] …`: see bench/bench.ts and docs/benchmark.md.
 * With `--json`, stdout carries only the JSON document of CONTRACT §10; progress goes to stderr.
 */
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_PACE, DEFAULT_SIZES, renderTable, runBench } from './bench.js';
import type { Pace } from './bounds.js';
import { type StandInHost, startStandInsInChild, startStandInsInProcess } from './host.js';

function positiveIntegers(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim().replace(/_/g, ''));
  const numbers = parts.map(Number);
  if (parts.length === 0 || numbers.some((n) => !Number.isInteger(n) || n < 2 || n > 100_000)) {
    throw new InvalidArgumentError(
      'give comma-separated whole numbers from 2 to 100000, e.g. 100,1000,10000',
    );
  }
  return numbers;
}

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`give a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

function pace(value: string): Pace {
  const parts = value.split(',').map((p) => Number(p.trim().replace(/_/g, '')));
  const [quickbooksMs, stripeMs] = parts;
  if (
    parts.length !== 2 ||
    quickbooksMs === undefined ||
    stripeMs === undefined ||
    parts.some((n) => !Number.isInteger(n) || n < 0 || n > 10_000)
  ) {
    throw new InvalidArgumentError(
      'give the QuickBooks and Stripe latencies in ms, comma-separated, each from 0 to 10000, e.g. 250,150',
    );
  }
  return { quickbooksMs, stripeMs };
}

interface CliOptions {
  json: boolean;
  sizes: number[];
  repeat: number;
  naive: boolean;
  latency: Pace | false;
  naiveConcurrency: number;
  naiveBudget: number;
  events: number;
  eventConcurrency: number;
  seed: number;
  inProcess: boolean;
  profile?: string;
  logs: boolean;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('npm run bench --')
    .description(
      'Benchmark the deposit builder and the webhook path against the local stand-ins (CONTRACT §10).',
    )
    .option('--json', 'print only the JSON report on stdout', false)
    .option('--sizes <list>', 'balance transactions per payout', positiveIntegers, [...DEFAULT_SIZES])
    .option('--repeat <n>', 'builder runs per size (the median is reported)', wholeNumber(1, 20), 3)
    .option('--no-naive', 'skip the naive one-call-per-item baseline')
    .option(
      '--latency <qboMs,stripeMs>',
      "time to the books: the paced stand-ins' latencies (QuickBooks a request, metering on; Stripe a page)",
      pace,
      DEFAULT_PACE,
    )
    .option('--no-latency', 'skip the time to the books')
    .option('--profile <dir>', "write a CPU profile of each size's first builder run to this folder")
    .option('--naive-concurrency <n>', 'emails the naive baseline works on at once', wholeNumber(1, 64), 4)
    .option(
      '--naive-budget <seconds>',
      'stop the naive baseline starting new emails after this long',
      wholeNumber(1, 3600),
      600,
    )
    .option(
      '--events <n>',
      'signed webhook events to send (0 skips the webhook part)',
      wholeNumber(0, 100_000),
      1000,
    )
    .option('--event-concurrency <n>', 'webhook requests in flight', wholeNumber(1, 256), 10)
    .option('--seed <n>', 'base of the payout generator seeds', wholeNumber(0, 2 ** 31 - 1), 20_261_000)
    .option('--in-process', 'run the stand-ins in this process (CPU and memory then include them)', false)
    .option('--logs', "let the product's logs through (to stdout; not with --json)", false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<CliOptions>();
  if (o.json && o.logs) {
    process.stderr.write(
      '--logs cannot be combined with --json: the logs would mix with the JSON on stdout\n',
    );
    return 2;
  }
  if (!o.logs) process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

  const progress = (line: string) => process.stderr.write(`${line}\n`);
  progress(`starting the stand-ins ${o.inProcess ? 'in this process' : 'in a child process'}…`);
  let host: StandInHost | undefined;
  try {
    host = o.inProcess ? await startStandInsInProcess({ aws: true }) : await startStandInsInChild();
    const report = await runBench({
      host,
      sizes: o.sizes,
      seed: o.seed,
      repeat: o.repeat,
      naive: o.naive,
      pace: o.latency === false ? null : o.latency,
      ...(o.profile !== undefined ? { profileDir: o.profile } : {}),
      naiveConcurrency: o.naiveConcurrency,
      naiveBudgetMs: o.naiveBudget * 1000,
      webhookEvents: o.events,
      webhookConcurrency: o.eventConcurrency,
      progress,
    });
    process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderTable(report)}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (o.json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
    process.stderr.write(`benchmark failed: ${message}\n`);
    return 1;
  } finally {
    await host?.close().catch(() => {});
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
