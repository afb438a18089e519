/**
 * `local.json`: how a running local mode is reached. Written into the data folder while `qbo-sync local`
 * runs (removed on a clean exit); the CLI's `--local` reads it with `readLocalTarget(cwd)`.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** The default data folder, relative to the working directory (CONTRACT §9). */
export const DEFAULT_DATA_DIR = '.qbo-sync';
export const LOCAL_JSON = 'local.json';

const url = z.string().url();

export const LocalTargetSchema = z.object({
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
  /** `http://127.0.0.1:<port>`: the webhook is `<url>/webhooks/stripe`. */
  url,
  startedAt: z.string(),
  dataDir: z.string(),
  region: z.string(),
  endpoints: z.object({
    dynamodb: url,
    sqs: url,
    secretsManager: url,
    /** The QuickBooks API origin (`QBO_API_BASE`). */
    quickbooks: url,
    /** The OAuth token endpoint (`QBO_OAUTH_TOKEN_URL`). */
    tokenUrl: url,
    /** The Stripe API origin (`STRIPE_API_BASE`). */
    stripe: url,
    /** The QuickBooks stand-in's OAuth authorize page (`QBO_AUTHORIZE_URL`); null with a real QuickBooks. */
    authorizeUrl: url.nullable(),
  }),
  tables: z.object({
    tenants: z.string(),
    customers: z.string(),
    ledger: z.string(),
    idempotency: z.string(),
  }),
  queueUrl: url,
  dlqUrl: url,
  maxReceiveCount: z.number().int().positive(),
  /** The webhook signing secret local mode generated; `null` when it was given (STRIPE_WEBHOOK_SECRET): never on disk. */
  webhookSecret: z.string().nullable(),
  /** The QuickBooks OAuth redirect URI (`QBO_REDIRECT_URI`): `<url>/quickbooks/callback` unless set. */
  redirectUri: url,
  tokenSecretPrefix: z.string(),
  /**
   * Credentials of the embedded stand-ins (fake, local only). `null` where the value came from the
   * environment of the local-mode process (a real Stripe key or Intuit app): the CLI then reads it from its own
   * environment, so real secrets are never written to disk.
   */
  credentials: z.object({
    stripeSecretKey: z.string().nullable(),
    qboClientId: z.string().nullable(),
    qboClientSecret: z.string().nullable(),
  }),
  /** Which parts run embedded in the local-mode process. */
  embedded: z.object({ aws: z.boolean(), quickbooks: z.boolean(), stripe: z.boolean() }),
  /** Tenant ids imported at start. */
  tenants: z.array(z.string()),
});
export type LocalTarget = z.infer<typeof LocalTargetSchema>;

/** Thrown by `readLocalTarget` for a `local.json` of another user, or naming a non-loopback endpoint. */
export class UntrustedLocalTargetError extends Error {
  override readonly name = 'UntrustedLocalTargetError';
}

/** Thrown by `readLocalTarget` when no local mode runs for this folder; the message says how to start one. */
export class LocalModeNotRunningError extends Error {
  override readonly name = 'LocalModeNotRunningError';
}

export function resolveDataDir(cwd: string, dataDir?: string): string {
  return path.resolve(cwd, dataDir ?? DEFAULT_DATA_DIR);
}

/**
 * Creates the data folder private to its user (0700: it holds tokens, the ledger and the generated webhook secret),
 * and makes an existing one private too.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Hosts the CLI's `--local` may talk to: the loopback interface only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackUrl(text: string): boolean {
  try {
    const host = new URL(text).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    // `*.localhost` is loopback too (RFC 6761); the SQS emulator names its queues sqs.<region>.localhost.
    return (
      host === 'localhost' ||
      host.endsWith('.localhost') ||
      host === '::1' ||
      /^127(\.\d{1,3}){3}$/.test(host)
    );
  } catch {
    return false;
  }
}

/** Writes `local.json` atomically (temp file + rename), readable by the owner only. */
export function writeLocalTarget(dataDir: string, target: LocalTarget): string {
  ensurePrivateDir(dataDir);
  const file = path.join(dataDir, LOCAL_JSON);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(target, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

/** Removes `local.json` if it is ours (same pid), so a newer instance's file is never removed by an older one. */
export function removeLocalTarget(dataDir: string, pid: number = process.pid): void {
  const file = path.join(dataDir, LOCAL_JSON);
  try {
    const current = LocalTargetSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (current.success && current.data.pid !== pid) return;
    rmSync(file, { force: true });
  } catch {
    // absent or unreadable: nothing to remove
  }
}

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const HOW_TO_START =
  'start it in this folder with `npm start` (or `npx qbo-sync local`) and run the command again';

/**
 * The running local mode of `cwd` (its data folder `dataDir`, default `.qbo-sync/`).
 * @throws LocalModeNotRunningError when none runs there (no `local.json`, an unreadable one, or its process is gone).
 */
export function readLocalTarget(
  cwd: string = process.cwd(),
  dataDir?: string,
  opts: { uid?: number | undefined } = {},
): LocalTarget {
  const dir = resolveDataDir(cwd, dataDir);
  const file = path.join(dir, LOCAL_JSON);
  if (!existsSync(file)) {
    throw new LocalModeNotRunningError(`local mode is not running here (no ${file}): ${HOW_TO_START}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new LocalModeNotRunningError(
      `${file} is not valid JSON (${(error as Error).message}): delete it, then ${HOW_TO_START}`,
    );
  }
  const parsed = LocalTargetSchema.safeParse(raw);
  if (!parsed.success) {
    const problem = parsed.error.issues[0];
    throw new LocalModeNotRunningError(
      `${file} is not a local-mode target file (${problem?.path.join('.') || 'file'}: ${problem?.message}): delete it, then ${HOW_TO_START}`,
    );
  }
  // The CLI acts on whatever local.json names (and sends it credentials): only a file of this user, naming only
  // loopback endpoints, is trusted (CONTRACT §7).
  const uid = opts.uid ?? process.getuid?.();
  if (uid !== undefined && statSync(file).uid !== uid) {
    throw new UntrustedLocalTargetError(
      `${file} belongs to another user (uid ${statSync(file).uid}), so --local does not trust it: start local mode yourself in this folder, or give --data-dir a folder of your own`,
    );
  }
  const { authorizeUrl, ...endpoints } = parsed.data.endpoints;
  const named: [string, string][] = [
    ['url', parsed.data.url],
    ['queueUrl', parsed.data.queueUrl],
    ['dlqUrl', parsed.data.dlqUrl],
    ...Object.entries(endpoints).map(([k, v]): [string, string] => [`endpoints.${k}`, v]),
    ...(authorizeUrl ? [['endpoints.authorizeUrl', authorizeUrl] as [string, string]] : []),
  ];
  const remote = named.filter(([, v]) => !isLoopbackUrl(v));
  if (remote.length > 0) {
    throw new UntrustedLocalTargetError(
      `${file} names ${remote.map(([k, v]) => `${k} ${v}`).join(', ')}, which ${remote.length > 1 ? 'are' : 'is'} not on this machine (loopback), so --local does not use it: --local talks only to a local mode on 127.0.0.1; use --stack NAME for a deployed stack`,
    );
  }
  if (!isProcessAlive(parsed.data.pid)) {
    throw new LocalModeNotRunningError(
      `local mode is not running here (${file} names process ${parsed.data.pid}, which has exited): ${HOW_TO_START}`,
    );
  }
  return parsed.data;
}

/**
 * The environment the pipeline's code (`buildRuntime(env)`, the Lambda handlers) needs to reach a local mode:
 * endpoints, table names, queue URLs and the stand-ins' credentials. Values the target does not hold
 * (real credentials, `null` in `credentials`) are left out, so the caller's own environment supplies them.
 */
export function localTargetEnv(target: LocalTarget): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: target.region,
    AWS_ENDPOINT_URL_DYNAMODB: target.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: target.endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: target.endpoints.secretsManager,
    TENANTS_TABLE: target.tables.tenants,
    CUSTOMERS_TABLE: target.tables.customers,
    LEDGER_TABLE: target.tables.ledger,
    IDEMPOTENCY_TABLE: target.tables.idempotency,
    QUEUE_URL: target.queueUrl,
    DLQ_URL: target.dlqUrl,
    MAX_RECEIVE_COUNT: String(target.maxReceiveCount),
    QBO_TOKEN_SECRET_PREFIX: target.tokenSecretPrefix,
    QBO_API_BASE: target.endpoints.quickbooks,
    QBO_OAUTH_TOKEN_URL: target.endpoints.tokenUrl,
    STRIPE_API_BASE: target.endpoints.stripe,
    QBO_REDIRECT_URI: target.redirectUri,
  };
  if (target.webhookSecret !== null) env.STRIPE_WEBHOOK_SECRET = target.webhookSecret;
  if (target.embedded.aws) {
    // The embedded emulators accept any credentials; give the SDK some when the caller has none.
    env.AWS_ACCESS_KEY_ID = process.env.AWS_ACCESS_KEY_ID ?? 'local';
    env.AWS_SECRET_ACCESS_KEY = process.env.AWS_SECRET_ACCESS_KEY ?? 'local';
  }
  if (target.endpoints.authorizeUrl) env.QBO_AUTHORIZE_URL = target.endpoints.authorizeUrl;
  if (target.credentials.stripeSecretKey) env.STRIPE_SECRET_KEY = target.credentials.stripeSecretKey;
  if (target.credentials.qboClientId) env.QBO_CLIENT_ID = target.credentials.qboClientId;
  if (target.credentials.qboClientSecret) env.QBO_CLIENT_SECRET = target.credentials.qboClientSecret;
  return env;
}
