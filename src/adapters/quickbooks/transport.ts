/**
 * HTTP to the QuickBooks Online Accounting API v3 for one company (realm): authenticated by the token manager, kept
 * within QuickBooks' limits by the per-realm limiter, retried with exponential backoff and full jitter on
 * throttling, 5xx, network errors and timeouts (never on validation faults), giving up with a `TransientError`
 * before the caller's deadline (a Lambda's remaining time).
 */
import { randomUUID } from 'node:crypto';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { z } from 'zod';
import { PermanentError, WrittenIdUnknownError } from '../../app/errors.js';
import type { QboRealmCalls } from './counters.js';
import {
  errorForResponse,
  QboReconnectRequiredError,
  QboTransientError,
  QboValidationFault,
} from './faults.js';
import type { Admission } from './limiter.js';
import {
  BatchEnvelopeSchema,
  type BatchItemResponse,
  QueryEnvelopeSchema,
  type QueryResponse,
} from './responses.js';
import type { QboLogger, QboTokenManager } from './tokens.js';

export const MINOR_VERSION = 75;
/** QuickBooks' batch limit. */
export const BATCH_SIZE = 30;
/** QuickBooks' query page limit. */
export const PAGE_SIZE = 1000;

export interface TransportOptions {
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  deadline?: () => number;
  deadlineReserveMs?: number;
  timeoutMs?: number;
  /** After a 429 / 3001, no request of the realm starts for this long (Intuit asks for 60 s; default 60 000). */
  throttlePauseMs?: number;
  logger?: QboLogger;
}

export interface SendRequest<T> {
  method: 'GET' | 'POST';
  /** Below `/v3/company/<realm>`. */
  path: string;
  params?: Record<string, string>;
  body?: unknown;
  /** Request units for the limiter (a batch of n items costs n). */
  units?: number;
  batchItems?: number;
  /** For messages: "the deposit", "the customer query"… */
  operation: string;
  /**
   * A write under a `requestid` that creates an object: a fault is marked as a definite refusal, and a 2xx whose
   * body cannot be read is "written, id unknown" (`WrittenIdUnknownError`), never retried as a new write.
   */
  write?: boolean;
  schema: z.ZodType<T>;
}

export interface RealmClientDeps {
  realmId: string;
  tenantId: string | undefined;
  apiBase: string;
  http: AxiosInstance;
  tokens: QboTokenManager;
  limiter: Admission;
  calls: QboRealmCalls;
  options: TransportOptions;
}

/** Codes of a 401/403 that only a reconnect fixes (external-apis.md §6: 100, 120, 3100, 3200). */
const AUTHORIZATION_CODES = new Set(['100', '120', '3100', '3200']);

function isAuthorizationFault(fault: QboValidationFault): boolean {
  return fault.errors.some((e) => AUTHORIZATION_CODES.has(e.code));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class QboTransport {
  readonly realmId: string;
  readonly tenantId: string | undefined;
  readonly logger: QboLogger | undefined;
  private readonly deps: RealmClientDeps;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly reserveMs: number;
  private readonly timeoutMs: number;
  private readonly throttlePauseMs: number;

  constructor(deps: RealmClientDeps) {
    this.deps = deps;
    this.realmId = deps.realmId;
    this.tenantId = deps.tenantId;
    this.logger = deps.options.logger;
    const retry = deps.options.retry ?? {};
    this.maxAttempts = Math.max(1, retry.maxAttempts ?? 6);
    this.baseDelayMs = Math.max(0, retry.baseDelayMs ?? 500);
    this.maxDelayMs = Math.max(this.baseDelayMs, retry.maxDelayMs ?? 20_000);
    this.reserveMs = deps.options.deadlineReserveMs ?? 1000;
    this.timeoutMs = deps.options.timeoutMs ?? 30_000;
    this.throttlePauseMs = Math.max(0, deps.options.throttlePauseMs ?? 60_000);
  }

  async query(q: string, operation: string): Promise<QueryResponse> {
    const { data } = await this.send({
      method: 'GET',
      path: '/query',
      params: { query: q },
      operation,
      schema: QueryEnvelopeSchema,
    });
    return data.QueryResponse;
  }

  /** One batch request (≤ 30 items, costing one unit each); answers by bId. */
  async batch(
    items: readonly Record<string, unknown>[],
    operation: string,
    write: boolean,
  ): Promise<Map<string, BatchItemResponse>> {
    if (items.length > BATCH_SIZE) throw new Error(`a QuickBooks batch holds at most ${BATCH_SIZE} items`);
    const { data } = await this.send({
      method: 'POST',
      path: '/batch',
      // A UUID is 36 characters: the batch requestid limit. Queries get one too; it is harmless.
      params: write ? { requestid: randomUUID() } : {},
      body: { BatchItemRequest: items },
      units: items.length,
      batchItems: items.length,
      operation,
      schema: BatchEnvelopeSchema,
    });
    return new Map(data.BatchItemResponse.map((r) => [r.bId, r]));
  }

  // ------------------------------------------------------------ transport

  deadlineAt(): number | undefined {
    const d = this.deps.options.deadline?.();
    return d === undefined ? undefined : d - this.reserveMs;
  }

  async send<T>(req: SendRequest<T>): Promise<{ data: T; intuitTid?: string }> {
    const { calls, limiter, tokens, http } = this.deps;
    const units = req.units ?? 1;
    const url = `${this.deps.apiBase}/v3/company/${encodeURIComponent(this.realmId)}${req.path}`;
    let refreshedAfter401 = false;
    let lastError: QboTransientError | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; ) {
      const giveUpAt = this.deadlineAt();
      if (giveUpAt !== undefined && Date.now() >= giveUpAt) {
        throw lastError ?? new QboTransientError(`no time left for ${req.operation} before the deadline`);
      }
      const token = await tokens.accessToken(this.realmId, { tenantId: this.tenantId });
      const release = await limiter.acquire(units, {
        ...(giveUpAt !== undefined ? { giveUpAt } : {}),
        batch: req.batchItems !== undefined,
      });
      let response: AxiosResponse<unknown> | undefined;
      let networkError: unknown;
      try {
        calls.requests += 1;
        calls.units += units;
        if (req.batchItems !== undefined) {
          calls.batchRequests += 1;
          calls.batchItems += req.batchItems;
        }
        if (attempt > 1) calls.retries += 1;
        const timeout =
          giveUpAt !== undefined
            ? Math.max(1, Math.min(this.timeoutMs, giveUpAt - Date.now()))
            : this.timeoutMs;
        response = await http.request({
          method: req.method,
          url,
          params: { ...req.params, minorversion: String(MINOR_VERSION) },
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/json',
            ...(req.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          },
          ...(req.body !== undefined ? { data: JSON.stringify(req.body) } : {}),
          timeout,
        });
      } catch (e) {
        networkError = e;
      } finally {
        release();
      }

      let failure: QboTransientError;
      if (response === undefined) {
        const code = axios.isAxiosError(networkError) ? networkError.code : undefined;
        failure = new QboTransientError(
          `could not reach QuickBooks for ${req.operation}: ${code ?? (networkError instanceof Error ? networkError.message : 'network error')}`,
          { ...(code !== undefined ? { code } : {}), cause: networkError },
        );
      } else {
        const intuitTid = headerValue(response.headers, 'intuit_tid');
        if (response.status === 401) {
          if (refreshedAfter401) {
            throw new QboReconnectRequiredError(
              this.realmId,
              'unauthorized',
              'QuickBooks refused a freshly refreshed access token (401)',
              { intuitTid, tenantId: this.tenantId },
            );
          }
          refreshedAfter401 = true;
          await tokens.accessTokenAfterUnauthorized(this.realmId, token, { tenantId: this.tenantId });
          continue; // the retry after a refresh is not counted as a failed attempt
        }
        const problem = errorForResponse(response.status, response.data, {
          intuitTid,
          retryAfter: headerValue(response.headers, 'retry-after'),
          operation: req.operation,
          tenantId: this.tenantId,
        });
        if (problem === undefined) return { data: this.parse(req, response.data, intuitTid), intuitTid };
        if (
          problem instanceof QboValidationFault &&
          response.status === 403 &&
          isAuthorizationFault(problem)
        ) {
          // 403 3100 (lower-case envelope on real companies): the app's authorisation for this company is gone.
          throw new QboReconnectRequiredError(
            this.realmId,
            problem.code,
            `QuickBooks refused ${req.operation}: ${problem.qboMessage || 'HTTP 403'}${problem.detail ? ` (${problem.detail})` : ''}`,
            { intuitTid, tenantId: this.tenantId },
          );
        }
        if (problem instanceof QboValidationFault) {
          // QuickBooks answers a known requestid with its first answer: a fault here is the definite one.
          if (req.write) problem.refusedWrite = true;
          throw problem;
        }
        failure = problem;
        if (failure.code === '3001') {
          calls.throttled += 1;
          // Intuit: after a 429, wait 60 s before the next request of this company — every request, not this one.
          const until = Date.now() + this.throttlePauseMs;
          limiter.pause(until);
          failure = new QboTransientError(failure.message, {
            ...(failure.status !== undefined ? { status: failure.status } : {}),
            code: '3001',
            ...(failure.intuitTid !== undefined ? { intuitTid: failure.intuitTid } : {}),
            retryAfterMs: Math.max(failure.retryAfterMs ?? 0, this.throttlePauseMs),
          });
        }
      }

      lastError = failure;
      if (attempt >= this.maxAttempts) break;
      const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
      const delay =
        failure.code === '3001'
          ? Math.max(Math.random() * ceiling, failure.retryAfterMs ?? 0)
          : Math.max(Math.random() * ceiling, Math.min(failure.retryAfterMs ?? 0, this.maxDelayMs));
      const limit = this.deadlineAt();
      if (limit !== undefined && Date.now() + delay >= limit) break;
      this.deps.options.logger?.debug('QuickBooks request failed; retrying', {
        realmId: this.realmId,
        operation: req.operation,
        attempt,
        delayMs: Math.round(delay),
        status: failure.status,
        intuitTid: failure.intuitTid,
      });
      await sleep(delay);
      attempt += 1;
    }
    throw lastError ?? new QboTransientError(`QuickBooks did not complete ${req.operation}`);
  }

  private parse<T>(req: SendRequest<T>, raw: unknown, intuitTid: string | undefined): T {
    const tid = intuitTid ? ` [intuit_tid ${intuitTid}]` : '';
    let json: unknown = raw;
    if (typeof raw === 'string') {
      try {
        json = raw.trim() === '' ? {} : (JSON.parse(raw) as unknown);
      } catch {
        if (req.write) throw this.writtenIdUnknown(req, 'a body that is not JSON', tid);
        throw new QboTransientError(`QuickBooks answered ${req.operation} with a body that is not JSON`, {
          ...(intuitTid !== undefined ? { intuitTid } : {}),
        });
      }
    }
    const parsed = req.schema.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      if (req.write) throw this.writtenIdUnknown(req, `an unexpected shape (${where})`, tid);
      throw new PermanentError(
        `QuickBooks answered ${req.operation} with an unexpected shape (${where})${tid}`,
        'this is a bug or an API change; report it with the intuit_tid',
      );
    }
    return parsed.data;
  }

  /** A 2xx to a write whose body cannot be read: QuickBooks made the object, its id is unknown. */
  private writtenIdUnknown(req: SendRequest<unknown>, what: string, tid: string): WrittenIdUnknownError {
    const requestId = req.params?.requestid;
    return new WrittenIdUnknownError(
      `QuickBooks accepted ${req.operation} (HTTP 2xx) but answered with ${what}: it is in QuickBooks, its id is unknown${tid}`,
      `nothing is posted again: \`npx qbo-sync payouts sync\` replays the same request${requestId ? ` (requestid ${requestId})` : ''} and records the entry once QuickBooks answers it readably; if it stays held, find the entry in QuickBooks by its memo "Stripe payout <po_…>" and report the intuit_tid`,
    );
  }
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function checkRequestId(requestId: string, max: number): void {
  if (requestId.length === 0 || requestId.length > max) {
    throw new Error(`a QuickBooks requestid must be 1–${max} characters (got ${requestId.length})`);
  }
}
