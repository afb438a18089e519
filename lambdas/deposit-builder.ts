/**
 * The deposit builder: SQS FIFO batches → `syncPayout`, one record at a time in queue order.
 *
 * - Powertools batch (`SqsFifoPartialProcessorAsync` + `processPartialResponse`, `skipGroupOnError: true`): a failed
 *   record fails only the later records of its message group (its tenant); other tenants' records go on.
 * - A `customers` message (customers of a posted payout, created after it: CONTRACT §5) goes to
 *   `createCustomersAfterPosting`; every other one to `syncPayout`.
 * - Each body is validated as a `PayoutMessage`. One that is not JSON or not the schema is a permanent failure: the
 *   reason is written to the ledger (FAILED, so `dlq list` shows it) and the message goes to the DLQ — moved there
 *   at once when `deadLetter` is wired, else by the queue's redrive policy — without burning the other records.
 * - Powertools idempotency in front of `syncPayout`, keyed on the message's `eventId` (DynamoDB persistence on
 *   IDEMPOTENCY_TABLE): a duplicate delivery of a processed message returns the stored result.
 * - The Lambda context's remaining time feeds the QuickBooks client deadline and `isOutOfTime`.
 * - On the last delivery (ApproximateReceiveCount ≥ MAX_RECEIVE_COUNT), a record that fails — or that was skipped
 *   because an earlier record of its tenant failed — is recorded FAILED with the reason.
 * - Each failed record is made invisible for a growing time (`retryLater`, src/app/retry-backoff.ts: 30 s, 1, 2,
 *   4 min), and for 0 s on its last delivery so the redrive policy moves it to the DLQ at once: a failing message
 *   holds its tenant's FIFO group for minutes, not the queue's 18-minute visibility timeout per attempt.
 * - A payout newly HELD or FAILED is counted in a metric per status (`metrics`), which the stack alarms on.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { StatusMetrics } from '../src/adapters/metrics.js';
import { PowertoolsStatusMetrics } from '../src/adapters/metrics.js';
import {
  type CustomersAfterPostingResult,
  createCustomersAfterPosting,
} from '../src/app/customers-after-posting.js';
import { TransientError } from '../src/app/errors.js';
import { describeError } from '../src/app/log.js';
import { parsePayoutMessage } from '../src/app/payout-message.js';
import type { PayoutMessage } from '../src/app/ports.js';
import { recordUnprocessedMessage } from '../src/app/record-failure.js';
import { type BackoffSchedule, retryVisibilitySeconds } from '../src/app/retry-backoff.js';
import {
  DEFAULT_MAX_RECEIVE_COUNT,
  type SyncPayoutDeps,
  type SyncPayoutResult,
  syncPayout,
} from '../src/app/sync-payout.js';
import { buildRuntime, type Runtime } from '../src/runtime.js';
import { builtOnFirstUse } from '../src/runtime-base.js';

export interface DepositBuilderDeps {
  /** The use case's dependencies; `isOutOfTime` is set per invocation from the Lambda context. */
  sync: Omit<SyncPayoutDeps, 'isOutOfTime'>;
  /** Powertools persistence (a `DynamoDBPersistenceLayer` on IDEMPOTENCY_TABLE); omitted = no idempotency layer. */
  idempotencyStore?: BasePersistenceLayer;
  /** How long a processed eventId is remembered (default 3600 s). */
  idempotencyExpiresAfterSeconds?: number;
  /** The queue's maxReceiveCount (env MAX_RECEIVE_COUNT, default 5). */
  maxReceiveCount?: number;
  /** Called at the start of each invocation with the epoch ms by which QuickBooks calls must give up. */
  setDeadline?: (deadlineEpochMs: number) => void;
  /** Moves a malformed message to the DLQ at once (the record then succeeds). Omitted: the redrive policy moves it. */
  deadLetter?: (record: SQSRecord, reason: string) => Promise<void>;
  /** `isOutOfTime` turns true when less than this remains (default 60 s). */
  outOfTimeMarginMs?: number;
  /** Kept before the Lambda timeout for the last ledger writes (default 10 s). */
  deadlineReserveMs?: number;
  /** Powertools' default (true) makes a fully failed batch throw, as Lambda expects; local loops may pass false. */
  throwOnFullBatchFailure?: boolean;
  /**
   * Makes a failed record invisible for `seconds` (SQS ChangeMessageVisibility on its receipt handle). Omitted: a
   * failed record comes back after the queue's visibility timeout.
   */
  retryLater?: (record: SQSRecord, seconds: number) => Promise<void>;
  /** The growing waits between deliveries of a failing record (default `AWS_BACKOFF`). */
  backoff?: BackoffSchedule;
  /** Counts payouts newly HELD or FAILED (a CloudWatch metric per status in AWS). */
  metrics?: StatusMetrics;
}

export type DepositBuilderHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** A malformed queue message: never retried into success, so it fails straight to the DLQ. */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
}

function receiveCountOf(record: SQSRecord): number {
  const n = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

export function makeDepositBuilderHandler(
  deps: DepositBuilderDeps | (() => Promise<DepositBuilderDeps>),
): DepositBuilderHandler {
  const resolve = builtOnFirstUse(() =>
    (typeof deps === 'function' ? deps() : Promise.resolve(deps)).then(prepare),
  );
  return async (event, context) => (await resolve()).handle(event, context);
}

interface Ready {
  handle: DepositBuilderHandler;
}

function prepare(deps: DepositBuilderDeps): Ready {
  const log = deps.sync.log;
  const maxReceiveCount = deps.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;
  const marginMs = deps.outOfTimeMarginMs ?? 60_000;
  const reserveMs = deps.deadlineReserveMs ?? 10_000;

  // One idempotency config and one persistence layer per handler (Powertools: never share a layer across configs).
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'eventId',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: deps.idempotencyExpiresAfterSeconds ?? 3600,
  });
  let isOutOfTime: () => boolean = () => false;
  const run = async (
    message: PayoutMessage,
    receiveCount: number,
  ): Promise<SyncPayoutResult | CustomersAfterPostingResult> => {
    const sync = { ...deps.sync, isOutOfTime: () => isOutOfTime() };
    // Customers of a posted payout (their own message group): created and mapped, the ledger left alone.
    if (message.eventType === 'customers') {
      return createCustomersAfterPosting(sync, { message, receiveCount, maxReceiveCount });
    }
    const result = await syncPayout(sync, { message, receiveCount, maxReceiveCount });
    // Inside the idempotent function: a duplicate delivery answered from the store is not counted again.
    if (result.outcome === 'held') deps.metrics?.count('HELD');
    return result;
  };
  const runOnce =
    deps.idempotencyStore === undefined
      ? run
      : makeIdempotent(run, { persistenceStore: deps.idempotencyStore, config: idempotencyConfig });

  const handle: DepositBuilderHandler = async (event, context) => {
    idempotencyConfig.registerLambdaContext(context);
    isOutOfTime = () => context.getRemainingTimeInMillis() < marginMs;
    deps.setDeadline?.(Date.now() + context.getRemainingTimeInMillis() - reserveMs);

    const handled = new Set<string>();
    const handledPayouts = new Set<string>();
    const errors = new Map<string, unknown>();
    const recordHandler = async (
      record: SQSRecord,
    ): Promise<SyncPayoutResult | CustomersAfterPostingResult | { malformed: string }> => {
      handled.add(record.messageId);
      const receiveCount = receiveCountOf(record);
      const parsed = parsePayoutMessage(record.body);
      if (parsed.ok) handledPayouts.add(parsed.message.payoutId);
      if (!parsed.ok) {
        log.error('malformed queue message', { messageId: record.messageId, reason: parsed.reason });
        await recordUnprocessedMessage(deps.sync.ledger, {
          messageId: record.messageId,
          partial: parsed.partial,
          reason: parsed.reason,
          hint: 'the message can never be processed: it was sent by something other than qbo-sync or corrupted. Delete it from the dead-letter queue, then `npx qbo-sync payouts sync <po_…> --tenant <id>` if a payout is missing',
        });
        deps.metrics?.count('FAILED');
        if (deps.deadLetter !== undefined) {
          await deps.deadLetter(record, parsed.reason);
          return { malformed: parsed.reason };
        }
        throw new MalformedMessageError(parsed.reason);
      }
      try {
        return await runOnce(parsed.message, receiveCount);
      } catch (error) {
        errors.set(record.messageId, error);
        // syncPayout recorded FAILED on this last delivery; the message goes to the DLQ.
        if (receiveCount >= maxReceiveCount) deps.metrics?.count('FAILED');
        throw error;
      }
    };

    const response = await processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), {
      context,
      skipGroupOnError: true,
      throwOnFullBatchFailure: false,
    });

    // Records skipped because an earlier record of their tenant failed also reach the DLQ on their last delivery.
    const failedIds = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    const byId = new Map(event.Records.map((r) => [r.messageId, r]));
    for (const id of failedIds) {
      const record = byId.get(id);
      if (record === undefined || handled.has(id) || receiveCountOf(record) < maxReceiveCount) continue;
      const parsed = parsePayoutMessage(record.body);
      // A payout processed earlier in this batch has its own, more precise, reason recorded already.
      if (parsed.ok && handledPayouts.has(parsed.message.payoutId)) continue;
      deps.metrics?.count('FAILED');
      try {
        await recordUnprocessedMessage(deps.sync.ledger, {
          messageId: id,
          partial: parsed.ok ? parsed.message : parsed.partial,
          reason: `not processed: an earlier message of tenant ${record.attributes?.MessageGroupId ?? '?'} kept failing, so this one reached its last delivery too`,
          hint: `fix the earlier payout's problem (\`npx qbo-sync dlq list\`), then \`npx qbo-sync dlq replay --all\``,
        });
      } catch (error) {
        log.error('could not record a skipped message in the ledger', {
          messageId: id,
          reason: describeError(error),
        });
      }
    }
    if (response.batchItemFailures.length > 0) {
      log.warn('batch finished with failures', {
        records: event.Records.length,
        failed: response.batchItemFailures.length,
      });
    }
    if (deps.retryLater !== undefined) await backOff(deps.retryLater, failedIds, byId, errors);
    deps.metrics?.publish();
    if (
      (deps.throwOnFullBatchFailure ?? true) &&
      event.Records.length > 0 &&
      response.batchItemFailures.length === event.Records.length
    ) {
      // Powertools' own behaviour for a fully failed batch: throw, so Lambda returns the whole batch to the queue.
      throw new Error(`all ${event.Records.length} records of the batch failed`);
    }
    return response;
  };
  /** Growing waits for the failed records; 0 on the last delivery (the DLQ takes it at the next receive). */
  const backOff = async (
    retryLater: NonNullable<DepositBuilderDeps['retryLater']>,
    failedIds: Set<string>,
    byId: Map<string, SQSRecord>,
    errors: Map<string, unknown>,
  ): Promise<void> => {
    for (const id of failedIds) {
      const record = byId.get(id);
      if (record === undefined) continue;
      const receiveCount = receiveCountOf(record);
      const error = errors.get(id);
      const retryAfterMs = error instanceof TransientError ? error.retryAfterMs : undefined;
      const seconds =
        receiveCount >= maxReceiveCount
          ? 0
          : retryVisibilitySeconds(receiveCount, {
              ...(deps.backoff !== undefined ? { schedule: deps.backoff } : {}),
              ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
            });
      try {
        await retryLater(record, seconds);
        log.info('failed message will be retried', { messageId: id, receiveCount, retryInSeconds: seconds });
      } catch (e) {
        // It comes back after the queue's visibility timeout instead: slower, never lost.
        log.warn('could not set the retry delay of a failed message', {
          messageId: id,
          reason: describeError(e),
        });
      }
    }
  };
  return { handle };
}

/**
 * The deposit builder's dependencies over a runtime: `syncPayout`'s adapters, Powertools idempotency on
 * IDEMPOTENCY_TABLE (a persistence layer of its own), the QuickBooks deadline, the DLQ for malformed messages.
 */
export function depositBuilderDepsFromRuntime(
  runtime: Runtime,
  overrides: Partial<Omit<DepositBuilderDeps, 'sync'>> = {},
): DepositBuilderDeps {
  return {
    sync: runtime.syncDeps(),
    idempotencyStore: new DynamoDBPersistenceLayer({
      tableName: runtime.resources.idempotencyTable,
      awsSdkV3Client: runtime.clients.dynamodb,
    }),
    maxReceiveCount: runtime.maxReceiveCount,
    setDeadline: (ms) => runtime.setDeadline(ms),
    deadLetter: (record, reason) => runtime.sendToDeadLetterQueue(record, reason),
    retryLater: (record, seconds) => runtime.retryLater(record, seconds),
    ...overrides,
  };
}

/** The Lambda entry point: dependencies from the environment, built on first use and kept for the container. */
export const handler: DepositBuilderHandler = makeDepositBuilderHandler(async () =>
  depositBuilderDepsFromRuntime(
    await buildRuntime(process.env, { serviceName: 'qbo-sync-deposit-builder' }),
    {
      metrics: new PowertoolsStatusMetrics(),
    },
  ),
);
