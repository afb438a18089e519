/**
 * Where the stand-ins run: the Stripe and QuickBooks stand-ins (QuickBooks' per-minute metering off, its 10 in flight
 * kept) and, for `npm run bench`, the AWS emulators (DynamoDB, SQS, Secrets Manager).
 *
 * - `startStandInsInProcess` runs them in this process (the smoke test: the AWS emulators come from jest's global
 *   setup through AWS_ENDPOINT_URL_*).
 * - `startStandInsInChild` runs the same thing in a child process (bench/standins-child.ts) and talks to it over IPC,
 *   so the benchmark process's CPU time and memory are the deposit builder's own, not the stand-ins'.
 *
 * Either way the host prepares workloads (a generated payout in Stripe, a QuickBooks company with the existing
 * customers) and reads the stand-ins' request logs: the calls actually made to Stripe and to QuickBooks.
 */
import { type ChildProcess, fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Payout } from '../src/domain/stripe.js';
import { type AwsEndpoints, startAwsEmulators } from '../standins/aws/index.js';
import { type QuickBooksStandIn, startQuickBooksStandIn } from '../standins/quickbooks/index.js';
import { type StripeStandIn, startStripeStandIn } from '../standins/stripe/index.js';
import { type Pace, QUICKBOOKS_LIMITS } from './bounds.js';
import { startRecordingProxy } from './recorder.js';
import { buildScenario, type Scenario } from './scenario.js';

export interface ServiceEndpoints {
  stripe: { url: string; secretKey: string };
  quickbooks: { url: string; tokenUrl: string; clientId: string; clientSecret: string };
}

export interface HostEndpoints extends ServiceEndpoints {
  aws: AwsEndpoints;
  /** An HTTP server that answers every request at once with a small JSON body: the request floor's far end. */
  sink: string;
  /**
   * A second pair of stand-ins for the time to the books: QuickBooks with its metering on (500 units a minute, 10 in
   * flight) and both answering at the pace `setPace` sets.
   */
  paced: ServiceEndpoints;
}

export interface PrepareRequest {
  transactions: number;
  seed: number;
  /** Put the workload on the paced stand-ins (`endpoints.paced`) instead of the unpaced ones. */
  paced?: boolean;
}

/** What the CPU floor works on: the exact bytes Stripe answered and the bodies sent to QuickBooks. */
export interface CapturedBytes {
  stripeAnswers: string[];
  quickbooksBodies: string[];
  /** The path of each of `quickbooksBodies` (below `/v3/company/<realm>`), e.g. `/deposit`, `/batch`. */
  quickbooksPaths: string[];
}

export type { Pace };

/** What the benchmark process needs to know about a prepared workload (small: crosses IPC). */
export interface PreparedWorkload {
  payoutId: string;
  stripeAccount: string;
  realmId: string;
  /** A refresh token for the realm, as after `connect`. */
  refreshToken: string;
  /** Existing customers to put in the mapping table before the run. */
  mapped: { email: string; customerId: string }[];
  /** The payout object (for webhook events). */
  payout: Payout;
  counts: Scenario['counts'] & { companyCustomers: number };
}

export interface StripeCallStats {
  requests: number;
  /** `GET /v1/payouts/:id` → count, `GET /v1/balance_transactions` → count… */
  byRoute: Record<string, number>;
  /** Answers other than 2xx. */
  failed: number;
}

export interface QuickBooksCallStats {
  /** Accounting API requests (`/v3/company/…`). */
  requests: number;
  batchRequests: number;
  batchItems: number;
  /** Request units as QuickBooks meters them: a batch counts its items, any other request 1. */
  units: number;
  /** Calls to the OAuth token endpoint (refreshes). */
  tokenCalls: number;
  /** 429 answers (should be 0: the per-minute limit is off). */
  throttled: number;
  /** Answers other than 2xx (429 included). */
  failed: number;
  byRoute: Record<string, number>;
}

export interface CallStats {
  stripe: StripeCallStats;
  quickbooks: QuickBooksCallStats;
}

export interface StandInHost {
  readonly endpoints: HostEndpoints;
  /** `child-process` or `in-process`. */
  readonly mode: 'child-process' | 'in-process';
  prepare(request: PrepareRequest): Promise<PreparedWorkload>;
  /** Forgets the request logs (before a measured run); `capture` keeps the bytes for the CPU floor until the next. */
  clearRequests(capture?: boolean): Promise<void>;
  /** The bytes kept since the last `clearRequests(true)` (unpaced stand-ins). */
  captured(): Promise<CapturedBytes>;
  /** Sets the paced stand-ins' latencies. */
  setPace(pace: Pace): Promise<void>;
  /** The calls recorded since the last `clearRequests`. */
  stats(): Promise<CallStats>;
  /** CPU time used by the process the stand-ins run in, since it started (µs). */
  cpuUsage(): Promise<NodeJS.CpuUsage>;
  close(): Promise<void>;
}

export interface InProcessOptions {
  /** Start the AWS emulators too (`true`), or use these endpoints (e.g. jest's global setup). */
  aws: true | AwsEndpoints;
  /** QuickBooks stand-in's maximum requests in flight per company (kept: the product's own limiter uses 10). */
  qboMaxInFlight?: number;
}

interface Pair {
  qbo: QuickBooksStandIn;
  stripe: StripeStandIn;
}

function route(method: string, p: string): string {
  const generic = p
    .replace(/^\/v3\/company\/[^/]+/, '')
    .replace(/\/(po|txn|ch|re|dp)_[A-Za-z0-9]+/g, '/:id')
    .replace(/\/\d+(?=\/|$)/g, '/:id');
  return `${method} ${generic || '/'}`;
}

export async function startStandInsInProcess(options: InProcessOptions): Promise<StandInHost> {
  const closers: Array<() => Promise<void>> = [];
  try {
    let aws: AwsEndpoints;
    if (options.aws === true) {
      const emulators = await startAwsEmulators();
      closers.push(() => emulators.close());
      aws = emulators.endpoints;
    } else {
      aws = options.aws;
    }
    // Metering off (the benchmark counts calls; the floor it imposes is computed from them), 10 in flight kept.
    const qbo: QuickBooksStandIn = await startQuickBooksStandIn({
      companies: [],
      limits: {
        maxInFlight: options.qboMaxInFlight ?? 10,
        perMinute: Number.MAX_SAFE_INTEGER,
        batchesPerMinute: Number.MAX_SAFE_INTEGER,
      },
    });
    closers.push(() => qbo.close());
    const stripe: StripeStandIn = await startStripeStandIn();
    closers.push(() => stripe.close());
    // The product reaches the unpaced pair through recording proxies (the CPU floor's bytes).
    const stripeProxy = await startRecordingProxy(stripe.url);
    closers.push(() => stripeProxy.close());
    const qboProxy = await startRecordingProxy(qbo.url);
    closers.push(() => qboProxy.close());
    const sink = await startSink();
    closers.push(() => sink.close());
    // The paced pair: QuickBooks' metering on, as QuickBooks has it: 10 in flight, 500 units and 40 batch requests a
    // minute (the stand-in's default batch limit).
    const pacedQbo: QuickBooksStandIn = await startQuickBooksStandIn({
      companies: [],
      limits: { maxInFlight: QUICKBOOKS_LIMITS.maxInFlight, perMinute: QUICKBOOKS_LIMITS.perMinute },
    });
    closers.push(() => pacedQbo.close());
    const pacedStripe: StripeStandIn = await startStripeStandIn();
    closers.push(() => pacedStripe.close());
    const unpaced: Pair = { qbo, stripe };
    const paced: Pair = { qbo: pacedQbo, stripe: pacedStripe };
    let sequence = 0;

    const host: StandInHost = {
      mode: 'in-process',
      endpoints: {
        aws,
        sink: sink.url,
        stripe: { url: stripeProxy.url, secretKey: stripe.secretKey },
        quickbooks: {
          url: qboProxy.url,
          tokenUrl: qbo.tokenUrl,
          clientId: qbo.clientId,
          clientSecret: qbo.clientSecret,
        },
        paced: {
          stripe: { url: pacedStripe.url, secretKey: pacedStripe.secretKey },
          quickbooks: {
            url: pacedQbo.url,
            tokenUrl: pacedQbo.tokenUrl,
            clientId: pacedQbo.clientId,
            clientSecret: pacedQbo.clientSecret,
          },
        },
      },
      async prepare(request) {
        sequence += 1;
        const pair = request.paced ? paced : unpaced;
        const scenario = buildScenario({ transactions: request.transactions, seed: request.seed, sequence });
        pair.stripe.addPayout({
          account: scenario.stripeAccount,
          payout: scenario.generated.payout,
          transactions: scenario.generated.transactions,
        });
        pair.qbo.addCompany(scenario.company);
        const idByEmail = new Map<string, string>();
        let companyCustomers = 0;
        for (const c of pair.qbo.entities(scenario.realmId, 'Customer')) {
          if (c.Active === false) continue;
          companyCustomers++;
          const address = (c.PrimaryEmailAddr as { Address?: string } | undefined)?.Address?.toLowerCase();
          if (address !== undefined && !idByEmail.has(address)) idByEmail.set(address, String(c.Id));
        }
        const mapped = scenario.mappedEmails.map((email) => {
          const customerId = idByEmail.get(email);
          if (customerId === undefined)
            throw new Error(`bench: existing customer ${email} is not in the company`);
          return { email, customerId };
        });
        return {
          payoutId: scenario.payoutId,
          stripeAccount: scenario.stripeAccount,
          realmId: scenario.realmId,
          refreshToken: pair.qbo.issueRefreshToken(scenario.realmId),
          mapped,
          payout: scenario.generated.payout,
          counts: { ...scenario.counts, companyCustomers },
        };
      },
      async captured() {
        const stripeAnswers = stripeProxy.exchanges
          .filter((e) => e.status >= 200 && e.status < 300)
          .map((e) => e.responseBody);
        const sent = qboProxy.exchanges.filter(
          (e) => e.requestBody !== '' && /^\/v3\/company\//.test(e.path),
        );
        return {
          stripeAnswers,
          quickbooksBodies: sent.map((e) => e.requestBody),
          quickbooksPaths: sent.map((e) => e.path.replace(/^\/v3\/company\/[^/]+/, '')),
        };
      },
      async setPace(pace) {
        pacedQbo.setLatency(pace.quickbooksMs);
        pacedStripe.setLatency(pace.stripeMs);
      },
      async clearRequests(capture = false) {
        stripe.clearRequests();
        qbo.clearRequests();
        for (const proxy of [stripeProxy, qboProxy]) {
          proxy.clear();
          proxy.recording = capture;
        }
      },
      async stats() {
        const s: StripeCallStats = { requests: 0, byRoute: {}, failed: 0 };
        for (const r of stripe.requests) {
          s.requests++;
          const key = route(r.method, r.path);
          s.byRoute[key] = (s.byRoute[key] ?? 0) + 1;
          if (r.status < 200 || r.status >= 300) s.failed++;
        }
        const q: QuickBooksCallStats = {
          requests: 0,
          batchRequests: 0,
          batchItems: 0,
          units: 0,
          tokenCalls: 0,
          throttled: 0,
          failed: 0,
          byRoute: {},
        };
        for (const r of qbo.requests) {
          const key = route(r.method, r.path);
          q.byRoute[key] = (q.byRoute[key] ?? 0) + 1;
          if (r.status < 200 || r.status >= 300) q.failed++;
          if (r.status === 429) q.throttled++;
          if (r.realmId === undefined) {
            if (r.path.endsWith('/tokens/bearer')) q.tokenCalls++;
            continue;
          }
          q.requests++;
          if (r.batchItems !== undefined) {
            q.batchRequests++;
            q.batchItems += r.batchItems;
            q.units += r.batchItems;
          } else {
            q.units += 1;
          }
        }
        return { stripe: s, quickbooks: q };
      },
      async cpuUsage() {
        return process.cpuUsage();
      },
      async close() {
        for (const close of closers.splice(0).reverse()) await close();
      },
    };
    return host;
  } catch (error) {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
    throw error;
  }
}

// ------------------------------------------------------------------------------------------------ child process

/** Requests the benchmark process sends to bench/standins-child.ts. */
export type HostRequest =
  | { id: number; op: 'prepare'; request: PrepareRequest }
  | { id: number; op: 'clearRequests'; capture: boolean }
  | { id: number; op: 'captured' }
  | { id: number; op: 'setPace'; pace: Pace }
  | { id: number; op: 'stats' }
  | { id: number; op: 'cpuUsage' }
  | { id: number; op: 'close' };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export type HostMessage =
  | { type: 'ready'; endpoints: HostEndpoints }
  | { type: 'failed'; error: string }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

const ROOT = path.resolve(__dirname, '..');

/** Starts the stand-ins and the AWS emulators in a child process; its stdout goes to this process's stderr. */
export async function startStandInsInChild(): Promise<StandInHost> {
  const child: ChildProcess = fork(
    path.join(ROOT, 'bin', 'run-ts.cjs'),
    [path.join(__dirname, 'standins-child.ts')],
    {
      cwd: ROOT,
      stdio: ['ignore', 2, 'inherit', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT' },
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let closed = false;

  const endpoints = await new Promise<HostEndpoints>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the stand-ins child process did not start within 60 s')),
      60_000,
    );
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the stand-ins child process exited (code ${code}) before it was ready`));
    });
    child.on('message', (raw: unknown) => {
      const message = raw as HostMessage;
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.endpoints);
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`the stand-ins child process failed to start: ${message.error}`));
      } else if (message.type === 'reply') {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (!waiter) return;
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new Error(message.error));
      }
    });
  });
  void exited.then((code) => {
    for (const w of pending.values())
      w.reject(new Error(`the stand-ins child process exited (code ${code})`));
    pending.clear();
  });

  const call = <T>(message: WithoutId<HostRequest>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (closed) {
        reject(new Error('the stand-ins child process is closed'));
        return;
      }
      nextId += 1;
      pending.set(nextId, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...message, id: nextId });
    });

  return {
    mode: 'child-process',
    endpoints,
    prepare: (request) => call<PreparedWorkload>({ op: 'prepare', request }),
    clearRequests: (capture = false) => call<void>({ op: 'clearRequests', capture }),
    captured: () => call<CapturedBytes>({ op: 'captured' }),
    setPace: (pace) => call<void>({ op: 'setPace', pace }),
    stats: () => call<CallStats>({ op: 'stats' }),
    cpuUsage: () => call<NodeJS.CpuUsage>({ op: 'cpuUsage' }),
    async close() {
      if (closed) return;
      try {
        await call<void>({ op: 'close' });
      } catch {
        // exiting anyway
      }
      closed = true;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The request floor's far end: reads the request, answers 200 with a small JSON body, keeps the connection. */
async function startSink(): Promise<{ url: string; close(): Promise<void> }> {
  const body = Buffer.from('{"ok":true}');
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
