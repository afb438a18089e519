/**
 * The offline AWS: DynamoDB (dynalite-plus), SQS (fauxqs) and Secrets Manager (a small stub), all on 127.0.0.1 with
 * random ports. Used by jest's globalSetup (once per run) and by local mode (`npx qbo-sync local`).
 *
 * ```ts
 * const aws = await startAwsEmulators({ dataDir: '.qbo-sync' });
 * Object.assign(process.env, localAwsEnv(aws.endpoints));   // the SDK clients then find them
 * // … await aws.close();
 * ```
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DynalitePlus, startDynalitePlus } from './dynalite-plus.js';
import { type SecretsManagerStub, startSecretsManagerStub } from './secrets-manager.js';
import { type SqsStandIn, startSqsStandIn } from './sqs.js';

export interface AwsEndpoints {
  dynamodb: string;
  sqs: string;
  secretsManager: string;
}

export interface AwsEmulators {
  endpoints: AwsEndpoints;
  close(): Promise<void>;
}

export interface StartAwsEmulatorsOptions {
  /**
   * Keep state across restarts: DynamoDB in `<dataDir>/dynamodb` (LevelDB), secrets in `<dataDir>/secrets.json`.
   * SQS is always in memory (queues are re-created by provisioning at start). In memory when omitted.
   */
  dataDir?: string;
  /** Region used in ARNs and queue URLs. Default `AWS_REGION`, else us-east-1. */
  region?: string;
}

export async function startAwsEmulators(options: StartAwsEmulatorsOptions = {}): Promise<AwsEmulators> {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const lock = options.dataDir ? lockDataDir(options.dataDir) : undefined;
  const started: { close(): Promise<void> }[] = [];
  const closeEverything = async () => {
    try {
      await closeAll(started);
    } finally {
      await lock?.close();
    }
  };
  try {
    // allSettled: whatever did start is tracked (and closed) even when another part fails.
    const [dynamodb, sqs, secrets] = await Promise.allSettled([
      track(started, startDynalitePlus(options.dataDir ? { path: join(options.dataDir, 'dynamodb') } : {})),
      track(started, startSqsStandIn({ region })),
      track(
        started,
        startSecretsManagerStub({
          region,
          ...(options.dataDir ? { file: join(options.dataDir, 'secrets.json') } : {}),
        }),
      ),
    ]);
    if (dynamodb.status === 'rejected') throw dynamodb.reason;
    if (sqs.status === 'rejected') throw sqs.reason;
    if (secrets.status === 'rejected') throw secrets.reason;
    return {
      endpoints: {
        dynamodb: dynamodb.value.endpoint,
        sqs: sqs.value.endpoint,
        secretsManager: secrets.value.endpoint,
      },
      close: closeEverything,
    };
  } catch (err) {
    await closeEverything().catch(() => undefined);
    throw err;
  }
}

/**
 * One process at a time per data folder: LevelDB cannot be shared, and dynalite only notices on the first request
 * (by crashing). `<dataDir>/aws.lock` holds the owner's pid; a lock whose process is gone is taken over.
 */
function lockDataDir(dataDir: string): { close(): Promise<void> } {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'aws.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new Error(
          `the data folder ${dataDir} is in use by process ${pid} (is local mode already running?); stop it, or use another folder`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  return {
    close: async () => {
      rmSync(file, { force: true });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The environment that points the AWS SDK (and Powertools) at the emulators: the standard `AWS_ENDPOINT_URL_*`
 * variables, a region, dummy credentials (never real ones), and the Node-version warning silenced.
 */
export function localAwsEnv(endpoints: AwsEndpoints, region = process.env.AWS_REGION ?? 'us-east-1') {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

async function track<T extends DynalitePlus | SqsStandIn | SecretsManagerStub>(
  list: { close(): Promise<void> }[],
  p: Promise<T>,
): Promise<T> {
  const v = await p;
  list.push(v);
  return v;
}

async function closeAll(list: readonly { close(): Promise<void> }[]): Promise<void> {
  const results = await Promise.allSettled(list.map((x) => x.close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
