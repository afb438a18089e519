/**
 * Measuring one run in this process: wall time, CPU time (`process.cpuUsage` delta), peak memory (RSS and V8 heap
 * sampled every few milliseconds, plus the kernel's own high-water mark), and AWS SDK clients that count every
 * request they send (each attempt, retries included), per service and operation.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../src/adapters/aws/clients.js';
import type { AwsEndpoints } from '../standins/aws/index.js';

const MB = 1024 * 1024;

// ------------------------------------------------------------------------------------------------ counting clients

export class RequestCounter {
  total = 0;
  readonly byOperation: Record<string, number> = {};

  add(operation: string): void {
    this.total += 1;
    this.byOperation[operation] = (this.byOperation[operation] ?? 0) + 1;
  }

  reset(): void {
    this.total = 0;
    for (const k of Object.keys(this.byOperation)) delete this.byOperation[k];
  }
}

export interface CountedAwsClients extends AwsClients {
  counts: { dynamodb: RequestCounter; sqs: RequestCounter; secretsManager: RequestCounter };
}

interface StackLike {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: 'finalizeRequest'; priority: 'low'; name: string },
    ): void;
  };
}

/** The tables a DynamoDB request names (`TableName`, or the keys of `RequestItems`). */
function tablesOf(input: unknown): string[] {
  if (typeof input !== 'object' || input === null) return [];
  const { TableName, RequestItems } = input as { TableName?: unknown; RequestItems?: unknown };
  if (typeof TableName === 'string') return [TableName];
  if (typeof RequestItems === 'object' && RequestItems !== null) return Object.keys(RequestItems);
  return [];
}

/** `bench-1a2b-ledger` → `ledger`: the role of one of the benchmark's tables. */
export function tableRole(table: string): string {
  return /-(tenants|customers|ledger|idempotency)$/.exec(table)?.[1] ?? table;
}

/**
 * Counts each HTTP request the client sends (after the retry middleware: every attempt is a request), by operation
 * and, for DynamoDB, by the role of the table it names (`BatchWriteItem customers`).
 */
function countRequests(client: StackLike, counter: RequestCounter, byTable = false): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const { request, input } = args as { request?: { headers?: Record<string, string> }; input?: unknown };
      const headers = request?.headers ?? {};
      const target = headers['x-amz-target'] ?? headers['X-Amz-Target'] ?? 'unknown';
      const operation = target.slice(target.lastIndexOf('.') + 1);
      const tables = byTable ? tablesOf(input).map(tableRole) : [];
      counter.add(tables.length > 0 ? `${operation} ${tables.join('+')}` : operation);
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'benchRequestCounter' },
  );
}

/** Fresh SDK clients on the emulators' endpoints, counting their requests. */
export function countedAwsClients(endpoints: AwsEndpoints, region = 'us-east-1'): CountedAwsClients {
  const base = { region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const counts = {
    dynamodb: new RequestCounter(),
    sqs: new RequestCounter(),
    secretsManager: new RequestCounter(),
  };
  const dynamodb = new DynamoDBClient({ ...base, endpoint: endpoints.dynamodb });
  countRequests(dynamodb as unknown as StackLike, counts.dynamodb, true);
  const sqs = new SQSClient({ ...base, endpoint: endpoints.sqs, useQueueUrlAsEndpoint: false });
  countRequests(sqs as unknown as StackLike, counts.sqs);
  const secrets = new SecretsManagerClient({ ...base, endpoint: endpoints.secretsManager });
  countRequests(secrets as unknown as StackLike, counts.secretsManager);
  return {
    dynamodb,
    doc: DynamoDBDocumentClient.from(dynamodb, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    }),
    sqs,
    secrets,
    counts,
  };
}

export function destroyClients(clients: AwsClients): void {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
  clients.secrets.destroy();
}

// ------------------------------------------------------------------------------------------------ resources

let gcFn: (() => void) | undefined;

/** A full garbage collection, so one run's garbage does not count against the next (no-op if unavailable). */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = () => {};
    }
  }
  gcFn();
  gcFn();
}

export interface Measured<T> {
  result: T;
  wallMs: number;
  /** User + system CPU time of this process during the run. */
  cpuMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Highest resident set size seen during the run (the whole process). */
  peakRssMb: number;
  /** Resident set size just before the run (modules, clients: what was there before the builder started). */
  rssBeforeMb: number;
  /** Highest V8 heap in use seen during the run. */
  peakHeapMb: number;
  heapBeforeMb: number;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

/**
 * Linux keeps the process's peak RSS (VmHWM); writing 5 to /proc/self/clear_refs resets it to the current RSS
 * (proc(5)). True when that worked, so the peak of a run can be read afterwards, exact and without sampling.
 */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** VmHWM from /proc/self/status, in bytes (undefined when unreadable). */
function peakRssSinceReset(): number | undefined {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` and measures it. Peak RSS: the kernel's high-water mark, reset before the run (exact, costs nothing);
 * where that is not possible, RSS sampled every `sampleMs` plus the kernel's lifetime mark when the run raised it.
 * Peak heap: sampled every `sampleMs` (default 250 ms; each sample costs this process some CPU, which counts
 * against the run).
 */
export async function measure<T>(fn: () => Promise<T>, sampleMs = 250): Promise<Measured<T>> {
  collectGarbage();
  const before = process.memoryUsage();
  const maxRssBeforeKb = process.resourceUsage().maxRSS;
  const exactPeak = resetPeakRss();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const sample = () => {
    if (!exactPeak) {
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
    }
    const heap = getHeapStatistics().used_heap_size;
    if (heap > peakHeap) peakHeap = heap;
  };
  const timer = setInterval(sample, sampleMs);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let result: T;
  try {
    result = await fn();
  } finally {
    clearInterval(timer);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  sample();
  const hwm = exactPeak ? peakRssSinceReset() : undefined;
  if (hwm !== undefined) {
    peakRss = Math.max(peakRss, hwm);
  } else {
    // The kernel's lifetime high-water mark catches a peak between two samples, when this run raised it.
    const maxRssAfterKb = process.resourceUsage().maxRSS;
    if (maxRssAfterKb > maxRssBeforeKb) peakRss = Math.max(peakRss, maxRssAfterKb * 1024);
  }
  return {
    result,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    cpuUserMs: Math.round(cpu.user / 1000),
    cpuSystemMs: Math.round(cpu.system / 1000),
    peakRssMb: round1(peakRss / MB),
    rssBeforeMb: round1(before.rss / MB),
    peakHeapMb: round1(peakHeap / MB),
    heapBeforeMb: round1(before.heapUsed / MB),
  };
}
