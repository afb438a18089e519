/**
 * The CPU floor of a run (CONTRACT §10, `cpuVsFloor`): the CPU that merely touching the run's data takes in this
 * process — `JSON.parse` of the exact bytes Stripe answered and `JSON.stringify` of the exact bodies sent to
 * QuickBooks (parsed beforehand, outside the clock). The median of a few passes, so one collection pause does not
 * decide it.
 */
import http from 'node:http';
import type { CapturedBytes } from './host.js';
import { collectGarbage } from './measure.js';

export interface CpuFloor {
  /** Median CPU of one pass (ms, fractional). */
  cpuMs: number;
  passes: number;
  stripeAnswers: number;
  stripeBytes: number;
  quickbooksBodies: number;
  quickbooksBytes: number;
}

let sink = 0;

function onePass(stripe: readonly string[], bodies: readonly unknown[]): number {
  const t0 = process.cpuUsage();
  for (const text of stripe) {
    const parsed = JSON.parse(text) as { data?: unknown[] };
    sink += Array.isArray(parsed.data) ? parsed.data.length : 1;
  }
  for (const body of bodies) sink += JSON.stringify(body).length;
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/**
 * The floor of the posting invocation alone: every Stripe answer, and of the QuickBooks bodies only the entry's
 * (customer batches come after POSTED when the entry references no customer).
 */
export function postingBytes(bytes: CapturedBytes): CapturedBytes {
  const keep = bytes.quickbooksPaths.map((p) => !p.startsWith('/batch'));
  return {
    stripeAnswers: bytes.stripeAnswers,
    quickbooksBodies: bytes.quickbooksBodies.filter((_, i) => keep[i]),
    quickbooksPaths: bytes.quickbooksPaths.filter((_, i) => keep[i]),
  };
}

export function measureCpuFloor(bytes: CapturedBytes, passes = 5): CpuFloor {
  const bodies = bytes.quickbooksBodies.map((b) => JSON.parse(b) as unknown);
  const times: number[] = [];
  for (let i = 0; i < passes; i++) {
    collectGarbage();
    times.push(onePass(bytes.stripeAnswers, bodies));
  }
  times.sort((a, b) => a - b);
  const size = (list: readonly string[]) => list.reduce((n, s) => n + Buffer.byteLength(s), 0);
  return {
    cpuMs: Math.round((times[Math.floor((times.length - 1) / 2)] ?? 0) * 10) / 10,
    passes,
    stripeAnswers: bytes.stripeAnswers.length,
    stripeBytes: size(bytes.stripeAnswers),
    quickbooksBodies: bytes.quickbooksBodies.length,
    quickbooksBytes: size(bytes.quickbooksBodies),
  };
}

/** Keeps the optimiser from dropping the passes' work. */
export function floorSink(): number {
  return sink;
}

/**
 * Besides the contract's floor: the CPU, in this process, of merely making as many HTTP round trips as the run made
 * (each a keep-alive `node:http` GET to a loopback server in the stand-ins' process that answers at once, 4 in flight
 * — no SDK, no signing, no body): what any client pays per call before it touches the data. Median of `passes`.
 */
export interface RequestFloor {
  requests: number;
  cpuMs: number;
  passes: number;
}

export async function measureRequestFloor(
  sinkUrl: string,
  requests: number,
  passes = 3,
): Promise<RequestFloor> {
  const url = new URL(sinkUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: url.hostname, port: url.port, path: '/', method: 'GET', agent },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => {
            sink += (JSON.parse(Buffer.concat(parts).toString('utf8')) as { ok?: boolean }).ok ? 1 : 0;
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  const run = async (n: number) => {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        await once();
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };
  try {
    await run(Math.min(requests, 20)); // connections open before the clock starts
    const times: number[] = [];
    for (let i = 0; i < passes; i++) {
      collectGarbage();
      const t0 = process.cpuUsage();
      await run(requests);
      const d = process.cpuUsage(t0);
      times.push((d.user + d.system) / 1000);
    }
    times.sort((a, b) => a - b);
    return {
      requests,
      cpuMs: Math.round((times[Math.floor((times.length - 1) / 2)] ?? 0) * 10) / 10,
      passes,
    };
  } finally {
    agent.destroy();
  }
}
