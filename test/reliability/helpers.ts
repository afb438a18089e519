/**
 * Helpers for the reliability tests (test/reliability): they build on the pipeline harness of test/app/harness.ts
 * (real stand-ins, real emulators, real adapters) and add what trying to break the guarantees needs:
 *
 * - counting what is live in the QuickBooks stand-in (entries of a payout, customers sharing an email);
 * - crash injection by wrapping the real ports: the k-th call goes through, then the "process dies" (that call and
 *   every later one throws `SimulatedCrash`), so nothing after the crash point runs, not even error handling;
 * - a second "worker process" over the same tables, queue and token store (its own adapters and caches);
 * - a loopback fault proxy in front of a stand-in (to break one request precisely, e.g. a pagination cursor);
 * - the dead-letter queue seen as the CLI sees it, and capture of everything written to stdout / stderr.
 */
import { createHmac } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueAttributesCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { moveDlqMessages, receiveDlq } from '../../src/adapters/aws/queue.js';
import type { Settings } from '../../src/adapters/aws/settings.js';
import type { DeadLetter, DeadLetterQueue } from '../../src/app/dead-letters.js';
import { type AppLog, silentLog } from '../../src/app/log.js';
import type { LedgerRecord } from '../../src/app/ports.js';
import type { SyncPayoutDeps } from '../../src/app/sync-payout.js';
import type { TenantConfig } from '../../src/domain/config.js';
import { buildRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.js';
import type { QuickBooksStandIn } from '../../standins/quickbooks/index.js';
import {
  addTenantTo,
  HARNESS_QBO_OPTIONS,
  type Harness,
  STRIPE_KEY,
  WEBHOOK_SECRET,
  webhookEvent,
} from '../app/harness.js';

export {
  drainQueue,
  type Harness,
  lambdaContext,
  linesTotalCents,
  OTHER_REALM,
  REALM,
  STRIPE_KEY,
  sqsRecord,
  startHarness,
  tenantConfig,
  WEBHOOK_SECRET,
} from '../app/harness.js';
export { webhookEvent };

// ------------------------------------------------------------------------------------------ QuickBooks state

type Entity = Record<string, unknown>;

/** True when `note` begins `Stripe payout <payoutId>` (and not a longer payout id sharing the prefix). */
export function notesPayout(note: unknown, payoutId: string): boolean {
  const text = String(note ?? '');
  const prefix = `Stripe payout ${payoutId}`;
  return text.startsWith(prefix) && !/[A-Za-z0-9_]/.test(text.charAt(prefix.length));
}

/** Live Deposits and JournalEntries whose PrivateNote begins `Stripe payout <payoutId>` (CONTRACT §4). */
export function liveEntries(qbo: QuickBooksStandIn, realmId: string, payoutId: string): Entity[] {
  return [...qbo.entities(realmId, 'Deposit'), ...qbo.entities(realmId, 'JournalEntry')].filter((e) =>
    notesPayout(e.PrivateNote, payoutId),
  );
}

/** Live reversing JournalEntries of a payout (`Reversal of Stripe payout <po>`). */
export function liveReversals(qbo: QuickBooksStandIn, realmId: string, payoutId: string): Entity[] {
  return qbo
    .entities(realmId, 'JournalEntry')
    .filter((e) => notesPayout(String(e.PrivateNote ?? '').replace(/^Reversal of /, ''), payoutId))
    .filter((e) => String(e.PrivateNote ?? '').startsWith('Reversal of '));
}

/** Emails held by more than one active customer of the realm: duplicates the sync would have made. */
export function duplicateCustomers(qbo: QuickBooksStandIn, realmId: string): Map<string, string[]> {
  const byEmail = new Map<string, string[]>();
  for (const c of qbo.entities(realmId, 'Customer')) {
    if (c.Active === false) continue;
    const email = String((c.PrimaryEmailAddr as { Address?: string } | undefined)?.Address ?? '')
      .trim()
      .toLowerCase();
    if (email === '') continue;
    byEmail.set(email, [...(byEmail.get(email) ?? []), String(c.Id)]);
  }
  return new Map([...byEmail].filter(([, ids]) => ids.length > 1));
}

/**
 * The guarantee for a payout that should be posted: exactly one live entry, and a ledger row that says POSTED with
 * that entry's type and id and no pending intent. Returns a list of what is wrong (empty when all is well), so a
 * sweep can report every failing case at once.
 */
export function postedProblems(
  qbo: QuickBooksStandIn,
  realmId: string,
  payoutId: string,
  row: LedgerRecord | undefined,
): string[] {
  const problems: string[] = [];
  const live = liveEntries(qbo, realmId, payoutId);
  if (live.length !== 1)
    problems.push(`${live.length} live entries (ids ${live.map((e) => e.Id).join(', ')})`);
  if (row === undefined) return [...problems, 'no ledger row'];
  if (row.status !== 'POSTED') problems.push(`ledger ${row.status} (${row.reason ?? 'no reason'})`);
  if (row.intent !== null) problems.push(`ledger intent left pending (${row.intent.requestId})`);
  const only = live[0];
  if (only !== undefined && row.quickbooks?.id !== String(only.Id)) {
    problems.push(`ledger names ${row.quickbooks?.type} ${row.quickbooks?.id}, QuickBooks has ${only.Id}`);
  }
  return problems;
}

// ------------------------------------------------------------------------------------------ crash injection

/** Thrown by a crashed "process": the crash point and every call after it. */
export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

export interface PortCall {
  /** `ledger.update`, `books.createEntry`, … */
  name: string;
  /** 1-based index of this call among every port call of the run. */
  index: number;
  args: readonly unknown[];
}

/**
 * Counts every port call of a run and, when `crashAt(call)` says so, lets that call complete for real and then
 * "kills the process": the call's caller gets `SimulatedCrash`, and so does every later port call (nothing else
 * reaches Stripe, QuickBooks, DynamoDB or SQS: no error handling, no ledger write).
 */
export class CrashSwitch {
  readonly calls: PortCall[] = [];
  crashed: PortCall | undefined;
  constructor(private readonly crashAt: (call: PortCall) => boolean = () => false) {}

  /** Wraps every method of `target` (an adapter instance) as port `name`. */
  wrap<T extends object>(name: string, target: T): T {
    return new Proxy(target, {
      get: (obj, prop, receiver) => {
        const value: unknown = Reflect.get(obj, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        const method = value as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => this.call(`${name}.${prop}`, args, () => method.apply(obj, args));
      },
    });
  }

  private call(name: string, args: unknown[], through: () => unknown): unknown {
    if (this.crashed)
      throw new SimulatedCrash(`the process crashed at ${this.crashed.name}; ${name} never ran`);
    const call: PortCall = { name, index: this.calls.length + 1, args };
    this.calls.push(call);
    const crashHere = this.crashAt(call);
    const result = through();
    if (!crashHere) return result;
    const die = () => {
      this.crashed = call;
      throw new SimulatedCrash(`the process crashed just after ${name} (call ${call.index}) completed`);
    };
    if (result instanceof Promise || (typeof result === 'object' && result !== null && 'then' in result)) {
      return Promise.resolve(result).then(die, die);
    }
    return die();
  }
}

/** `syncPayout`'s dependencies with every port (ledger, Stripe, QuickBooks, customer map, queue, tenants) wrapped. */
export function crashingSyncDeps(deps: Omit<SyncPayoutDeps, 'isOutOfTime'>, sw: CrashSwitch): SyncPayoutDeps {
  return {
    ...deps,
    tenants: sw.wrap('tenants', deps.tenants),
    ledger: sw.wrap('ledger', deps.ledger),
    payouts: sw.wrap('payouts', deps.payouts),
    customers: sw.wrap('customers', deps.customers),
    queue: sw.wrap('queue', deps.queue),
    quickbooks: (realmId, ctx) => sw.wrap('books', deps.quickbooks(realmId, ctx)),
  };
}

// ------------------------------------------------------------------------------------------ more workers

export interface WorkerOptions {
  /** Another QuickBooks stand-in (its url and token url replace the harness's). */
  qbo?: QuickBooksStandIn;
  /** Another Stripe origin (e.g. a fault proxy). */
  stripeApiBase?: string;
  quickbooks?: RuntimeOptions['quickbooks'];
  log?: AppLog;
  serviceName?: string;
  /** Build the logger from the environment (Powertools) instead of `log`. */
  realLogger?: boolean;
}

/**
 * A second worker "process" on the harness's tables, queue and token store: its own adapters, token cache and
 * QuickBooks client and limiter (HARNESS_QBO_OPTIONS unless `quickbooks` says otherwise).
 */
export async function startWorker(h: Harness, opts: WorkerOptions = {}): Promise<Runtime> {
  const qbo = opts.qbo ?? h.qbo;
  const env: NodeJS.ProcessEnv = {
    ...h.env,
    QBO_API_BASE: qbo.url,
    QBO_OAUTH_TOKEN_URL: qbo.tokenUrl,
    QBO_CLIENT_ID: qbo.clientId,
    QBO_CLIENT_SECRET: qbo.clientSecret,
    ...(opts.stripeApiBase !== undefined ? { STRIPE_API_BASE: opts.stripeApiBase } : {}),
  };
  const settings: Settings = {
    stripeSecretKey: STRIPE_KEY,
    stripeWebhookSecret: WEBHOOK_SECRET,
    qboClientId: qbo.clientId,
    qboClientSecret: qbo.clientSecret,
    qboRedirectUri: 'http://127.0.0.1:9/quickbooks/callback',
  };
  return buildRuntime(env, {
    settings,
    ...(opts.realLogger ? {} : { log: opts.log ?? silentLog }),
    ...(opts.serviceName !== undefined ? { serviceName: opts.serviceName } : {}),
    quickbooks: { ...HARNESS_QBO_OPTIONS, ...opts.quickbooks },
    stripeMaxNetworkRetries: 0,
  });
}

/** Imports a tenant through `worker` (its QuickBooks), seeding the realm's tokens from `qbo` first. */
export async function addTenantVia(
  worker: Runtime,
  qbo: QuickBooksStandIn,
  config: TenantConfig,
): Promise<void> {
  await addTenantTo(worker, qbo, config);
}

// ------------------------------------------------------------------------------------------ queues

/** The dead-letter queue as `qbo-sync dlq list|replay` sees it (the SQS adapter's walk). */
export function deadLetterQueue(runtime: Runtime): DeadLetterQueue {
  const walk = {
    sqs: runtime.clients.sqs,
    dlqUrl: runtime.resources.dlqUrl,
    waitSeconds: 0,
    visibilitySeconds: 30,
  };
  const toLetter = (m: Awaited<ReturnType<typeof receiveDlq>>[number]): DeadLetter => ({
    messageId: m.messageId,
    receiveCount: m.receiveCount,
    ...(m.sentAt !== undefined ? { sentAt: m.sentAt } : {}),
    ...(m.groupId !== undefined ? { groupId: m.groupId } : {}),
    ...(m.message !== undefined ? { message: m.message } : {}),
    ...(m.problem !== undefined ? { problem: m.problem } : {}),
  });
  return {
    list: async () => (await receiveDlq(walk)).map(toLetter),
    moveBack: async (match) => {
      const { moved, remaining } = await moveDlqMessages({
        ...walk,
        queueUrl: runtime.resources.queueUrl,
        match: (m) => match(toLetter(m)),
      });
      return { moved: moved.map(toLetter), remaining: remaining.map(toLetter) };
    },
  };
}

/** Messages in a queue (visible + in flight), as SQS counts them. */
export async function queueDepth(runtime: Runtime, which: 'queue' | 'dlq' = 'queue'): Promise<number> {
  const { Attributes = {} } = await runtime.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: which === 'queue' ? runtime.resources.queueUrl : runtime.resources.dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Empties the main queue and the DLQ. */
export async function purgeQueues(runtime: Runtime): Promise<void> {
  for (const QueueUrl of [runtime.resources.queueUrl, runtime.resources.dlqUrl]) {
    await runtime.clients.sqs.send(new PurgeQueueCommand({ QueueUrl }));
  }
}

// ------------------------------------------------------------------------------------------ webhooks

/** `Stripe-Signature` over raw bytes (any bytes, not only UTF-8 text), as Stripe computes it. */
export function signBytes(body: Buffer, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), body]))
    .digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

// ------------------------------------------------------------------------------------------ fault proxy

export interface ProxiedRequest {
  method: string;
  /** Path and query string. */
  url: string;
  headers: IncomingMessage['headers'];
}

export type ProxyRule = (
  req: ProxiedRequest,
) => { status: number; body: string; headers?: Record<string, string> } | undefined;

export interface FaultProxy {
  /** Origin, e.g. `http://127.0.0.1:51234`. */
  url: string;
  /** Requests seen, with whether the rule answered them. */
  seen: Array<ProxiedRequest & { faulted: boolean }>;
  setRule(rule: ProxyRule | undefined): void;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of `target`: requests pass through untouched unless the rule answers one
 * itself (a precise fault the stand-in cannot produce on its own, e.g. "this cursor has expired").
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const origin = new URL(target);
  let rule: ProxyRule | undefined;
  const seen: FaultProxy['seen'] = [];
  const server: Server = createServer((req, res) => {
    const info: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    const answer = rule?.(info);
    seen.push({ ...info, faulted: answer !== undefined });
    if (answer !== undefined) {
      req.resume();
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body);
      return;
    }
    const upstream = httpRequest(
      {
        host: origin.hostname,
        port: origin.port,
        method: info.method,
        path: info.url,
        headers: { ...req.headers, host: origin.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    setRule: (r) => {
      rule = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ------------------------------------------------------------------------------------------ output capture

export interface CapturedOutput {
  text(): string;
  restore(): void;
}

/** Captures (and swallows) everything written to process.stdout / process.stderr until `restore()`. */
export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((s) => s.write);
  for (const stream of streams) {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  return {
    text: () => chunks.join(''),
    restore: () => {
      streams.forEach((s, i) => {
        s.write = originals[i] as typeof s.write;
      });
    },
  };
}

// ------------------------------------------------------------------------------------------ misc

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`waitFor: nothing after ${timeoutMs} ms`);
    await sleep(20);
  }
}
