/**
 * Drives `qbo-sync` as a person does: spawned processes (`node bin/qbo-sync.cjs …`), their real output and exit
 * codes. `startLocalMode` runs `qbo-sync local` in a temp working directory on the test's own QuickBooks and Stripe
 * stand-ins (so a test can read their request logs and entities) with embedded AWS emulators.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LocalTarget, readLocalTarget } from '../../src/local/target.js';
import type { QuickBooksStandIn } from '../../standins/quickbooks/index.js';
import type { StripeStandIn } from '../../standins/stripe/index.js';

export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin', 'qbo-sync.cjs');

/** The environment without anything pointing the child elsewhere (the jest run's shared emulators, real services). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(AWS_ENDPOINT_URL|QBO_|STRIPE_|PORT$|POWERTOOLS_|NO_COLOR$|FORCE_COLOR$)/.test(key)) continue;
    env[key] = value;
  }
  env.POWERTOOLS_LOG_LEVEL = 'WARN';
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not JSON). */
  json<T = unknown>(): T;
}

export function runCli(
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: opts.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `qbo-sync ${args.join(' ')} did not finish in time\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(
              `qbo-sync ${args.join(' ')}: stdout is not JSON (exit ${code})\nstdout:\n${stdout}\nstderr:\n${stderr}`,
            );
          }
        },
      });
    });
  });
}

/** A long-running CLI process (e.g. `connect`): its output so far, and a wait for a pattern in it. */
export interface Background {
  child: ChildProcessWithoutNullStreams;
  output(): { stdout: string; stderr: string };
  waitFor(pattern: RegExp, stream: 'stdout' | 'stderr', timeoutMs?: number): Promise<RegExpExecArray>;
  exit: Promise<number | null>;
}

export function startCli(args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Background {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: opts.env });
  const text = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => {
    text.stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    text.stderr += c.toString('utf8');
  });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let exited = false;
  void exit.then(() => {
    exited = true;
  });
  return {
    child,
    exit,
    output: () => ({ ...text }),
    async waitFor(pattern, stream, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(text[stream]);
        if (m) return m;
        if (exited || Date.now() > deadline) {
          throw new Error(`no ${pattern} on ${stream}\nstdout:\n${text.stdout}\nstderr:\n${text.stderr}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

export interface LocalMode {
  cwd: string;
  target: LocalTarget;
  /** The environment a CLI process of this test gets (the stand-ins' credentials: they are not embedded). */
  env: NodeJS.ProcessEnv;
  cli(args: readonly string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  /** Stops local mode (SIGTERM, as Ctrl-C) and removes the working directory unless `keep` (a restart follows). */
  stop(options?: { keep?: boolean }): Promise<void>;
  logs(): string;
}

/**
 * Spawns `qbo-sync local --fresh --data-dir <cwd>/.qbo-sync --port 0 --config <config>` in a temp working
 * directory, on the given stand-ins; resolves once `/healthz` answers 200. `localEnv` adds to local mode's
 * environment (e.g. `QBO_SYNC_LOCAL_RETRY_SCALE`). `restartIn` starts it again, without `--fresh`, in the working
 * directory of a local mode stopped with `stop({ keep: true })`.
 */
export async function startLocalMode(opts: {
  qbo: QuickBooksStandIn;
  stripe: StripeStandIn;
  configYaml: string;
  localEnv?: Record<string, string>;
  restartIn?: string;
}): Promise<LocalMode> {
  const cwd = opts.restartIn ?? mkdtempSync(path.join(tmpdir(), 'qbo-sync-cli-'));
  writeFileSync(path.join(cwd, 'sync.yaml'), opts.configYaml);
  const services = {
    QBO_API_BASE: opts.qbo.url,
    QBO_OAUTH_TOKEN_URL: opts.qbo.tokenUrl,
    QBO_CLIENT_ID: opts.qbo.clientId,
    QBO_CLIENT_SECRET: opts.qbo.clientSecret,
    STRIPE_API_BASE: opts.stripe.url,
    STRIPE_SECRET_KEY: opts.stripe.secretKey,
  };
  const child = spawn(
    process.execPath,
    [
      BIN,
      'local',
      ...(opts.restartIn ? [] : ['--fresh']),
      '--data-dir',
      path.join(cwd, '.qbo-sync'),
      '--port',
      '0',
      '--config',
      'sync.yaml',
    ],
    { cwd, env: cleanEnv({ ...services, ...opts.localEnv }) },
  );
  let logs = '';
  child.stdout.on('data', (c: Buffer) => {
    logs += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    logs += c.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
  });

  const deadline = Date.now() + 45_000;
  let target: LocalTarget | undefined;
  while (target === undefined) {
    if (done) throw new Error(`local mode exited during start-up:\n${logs}`);
    if (Date.now() > deadline) throw new Error(`local mode did not start in time:\n${logs}`);
    if (existsSync(path.join(cwd, '.qbo-sync', 'local.json'))) {
      try {
        const t = readLocalTarget(cwd);
        const health = await fetch(`${t.url}/healthz`).catch(() => undefined);
        if (health?.status === 200) target = t;
      } catch {
        // not written completely yet
      }
    }
    if (target === undefined) await new Promise((r) => setTimeout(r, 150));
  }
  const env = cleanEnv({ ...services, QBO_AUTHORIZE_URL: opts.qbo.authorizeUrl });
  return {
    cwd,
    target,
    env,
    logs: () => logs,
    cli: (args, extraEnv = {}) => runCli(args, { cwd, env: { ...env, ...extraEnv } }),
    stop: async (options = {}) => {
      if (!done) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(killer);
      }
      if (!options.keep) rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'a condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
