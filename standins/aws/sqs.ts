/**
 * SQS stand-in: fauxqs 1.9.2 (FIFO queues, dedup, group lock, DLQ redrive after maxReceiveCount), bound to 127.0.0.1.
 *
 * fauxqs is ESM-only. Where a real dynamic `import()` works (tsx, jest's globalSetup) it runs in this process; where it
 * does not (a CommonJS transform such as @swc/jest rewrites `import()` into `require()`), it runs in a child process.
 * Queue URLs take the host of the request that created the queue (`http://127.0.0.1:<port>/000000000000/<name>`).
 * fauxqs lacks StartMessageMoveTask: DLQ replay is done by the app (receive → send → delete).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

type Fauxqs = typeof import('fauxqs', { with: { 'resolution-mode': 'import' }});

export interface SqsStandIn {
  endpoint: string;
  /** `in-process` or `child-process`. */
  mode: 'in-process' | 'child-process';
  close(): Promise<void>;
}

export async function startSqsStandIn(options: { region?: string } = {}): Promise<SqsStandIn> {
  const fauxqs = await loadFauxqs();
  if (!fauxqs) return startInChild(options.region);
  const app = fauxqs.buildApp({ logger: false, defaultRegion: options.region ?? 'us-east-1' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, mode: 'in-process', close: () => app.close() };
}

/** `import('fauxqs')`; else the same by file URL (a module loaded from a data: URL cannot resolve bare names). */
async function loadFauxqs(): Promise<Fauxqs | undefined> {
  try {
    return await import('fauxqs');
  } catch {
    // fall through
  }
  try {
    for (const dir of require.resolve.paths('fauxqs') ?? []) {
      const pkgFile = join(dir, 'fauxqs', 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
        exports?: { '.'?: { import?: { default?: string } } };
      };
      const entry = pkg.exports?.['.']?.import?.default ?? './dist/app.js';
      return (await import(pathToFileURL(join(dir, 'fauxqs', entry)).href)) as Fauxqs;
    }
  } catch {
    // fall through: run it in a child process
  }
  return undefined;
}

async function startInChild(region: string | undefined): Promise<SqsStandIn> {
  const child = spawn(process.execPath, [join(dirname(__filename), 'fauxqs-process.mjs')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_REGION: region ?? process.env.AWS_REGION ?? 'us-east-1' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(
      () => reject(new Error('fauxqs child process did not start within 10 s')),
      10_000,
    );
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`fauxqs child process exited early (code ${code})`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      try {
        resolve((JSON.parse(line) as { port: number }).port);
      } catch {
        reject(new Error(`fauxqs child process printed "${line}" instead of its port`));
      }
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    mode: 'child-process',
    close: async () => {
      child.stdin?.end();
      await exited;
    },
  };
}
