/** `qbo-sync local [--config F] [--port P] [--once] [--fresh] [--data-dir D]`: its arguments. */
import { parseArgs } from 'node:util';

export interface LocalCliOptions {
  config?: string;
  port?: number;
  once: boolean;
  fresh: boolean;
  dataDir?: string;
  help: boolean;
}

export const LOCAL_USAGE = `Usage: qbo-sync local [--config F] [--port P] [--once] [--fresh] [--data-dir D]

Runs the whole pipeline on this machine: the Stripe webhook endpoint, the FIFO queue and the deposit builder,
on embedded stand-ins for QuickBooks, Stripe, DynamoDB, SQS and Secrets Manager (unless the environment points
elsewhere). Without --config, a demo payout goes through and the posted deposit is printed.

Options:
  --config F     import the tenants of this sync config file (YAML or JSON) at start
  --port P       HTTP port (default: $PORT, else 3000; 0 picks a free one)
  --once         run the demo payout, print it and exit (0 when POSTED, 1 otherwise)
  --fresh        empty the data folder first
  --data-dir D   the data folder (default: .qbo-sync in the working directory)
  -h, --help     show this help

Environment: PORT, STRIPE_API_BASE, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, QBO_API_BASE,
QBO_OAUTH_TOKEN_URL, QBO_CLIENT_ID, QBO_CLIENT_SECRET, QBO_REDIRECT_URI, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS,
AWS_ENDPOINT_URL_SECRETS_MANAGER; QBO_SYNC_LOCAL_RETRY_SCALE (above 0, at most 1: shortens the waits between
retries of a failing payout, e.g. 0.05 to see one reach the dead-letter queue in seconds; default 1);
QBO_SYNC_LOCAL_STRIPE_OUTAGE=po_…[,po_…] (the embedded Stripe answers 503 to every read of those payouts while
local mode runs: a Stripe outage, to make a payout FAILED on purpose).
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text.trim()) || Number(text) > 65535) {
    throw new UsageError(`${what} must be a port number from 0 to 65535, got "${text}"`);
  }
  return Number(text);
}

/** Parses the arguments after `local`. @throws UsageError naming the bad argument. */
export function parseLocalArgs(args: readonly string[]): LocalCliOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${LOCAL_USAGE}`);
  }
  const v = parsed.values;
  if (parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${parsed.positionals[0]}"\n\n${LOCAL_USAGE}`);
  }
  for (const name of ['config', 'data-dir'] as const) {
    if (v[name] !== undefined && v[name].trim() === '') throw new UsageError(`--${name} needs a path`);
  }
  return {
    ...(v.config !== undefined ? { config: v.config } : {}),
    ...(v.port !== undefined ? { port: parsePort(v.port, '--port') } : {}),
    ...(v['data-dir'] !== undefined ? { dataDir: v['data-dir'] } : {}),
    once: v.once ?? false,
    fresh: v.fresh ?? false,
    help: v.help ?? false,
  };
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      once: { type: 'boolean' },
      fresh: { type: 'boolean' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
