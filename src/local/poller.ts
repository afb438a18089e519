/**
 * Local mode's event source mapping: long-polls the FIFO queue, hands each batch to the deposit-builder handler
 * as an `SQSEvent` (the same code the Lambda runs), deletes the records it processed, and makes the failed ones
 * visible again after a short backoff. After `maxReceiveCount` receives the queue's redrive policy moves a
 * message to the DLQ, as in AWS.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context.js';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface PollerLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface QueuePollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  region: string;
  logger: PollerLogger;
  /** The time budget of one invocation (`context.getRemainingTimeInMillis`), default 180 s. */
  budgetMs?: number;
  /** Long-poll wait, default 5 s (a stop interrupts it). */
  waitTimeSeconds?: number;
  /** Independent poll loops (different message groups run in parallel), default 2. */
  concurrency?: number;
  /** Seconds a failed record stays invisible before its next receive; default `retryDelaySeconds`. */
  retryDelay?: (receiveCount: number) => number;
  /** The queue's redrive maxReceiveCount: a record failing its last receive is released at once for the DLQ. */
  maxReceiveCount?: number;
  functionName?: string;
}

/**
 * The wait before a failed message is received again: 5, 10, 15, 20, 20… seconds (±20 % jitter), so a
 * payout that fails every time uses its 5 receives in about a minute (plus the adapters' own retries) and
 * reaches the DLQ well within the 3 minutes of CONTRACT §9. `scale` (0 < scale ≤ 1, see `parseRetryScale`)
 * shortens every wait, never below 1 s (SQS visibility timeouts are whole seconds).
 */
export function retryDelaySeconds(
  receiveCount: number,
  random: () => number = Math.random,
  scale = 1,
): number {
  const base = Math.min(20, 5 * Math.max(1, receiveCount));
  const jitter = 0.8 + 0.4 * random();
  return Math.max(1, Math.round(base * jitter * scale));
}

/**
 * Reads a retry scale (`QBO_SYNC_LOCAL_RETRY_SCALE`): a decimal number above 0 and at most 1.
 * @throws Error saying what was wrong and which values work.
 */
export function parseRetryScale(text: string, what: string): number {
  const trimmed = text.trim();
  const value = /^(\d+(\.\d*)?|\.\d+)$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(value > 0 && value <= 1)) {
    throw new Error(
      `${what} must be a number above 0 and at most 1 that scales the retry waits of local mode's queue poller (1, the default: 5, 10, 15, 20 s; 0.05: about 1 s each), got "${text}"`,
    );
  }
  return value;
}

function toMessageAttributes(message: Message): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    out[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return out;
}

/** The Lambda event record for a received message, as the SQS event source mapping builds it. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const a = message.Attributes ?? {};
  const now = String(Date.now());
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? now,
      SenderId: a.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? now,
      ...(a.SequenceNumber !== undefined ? { SequenceNumber: a.SequenceNumber } : {}),
      ...(a.MessageGroupId !== undefined ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId !== undefined ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    },
    messageAttributes: toMessageAttributes(message),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function queueArnFromUrl(queueUrl: string, region: string): string {
  const parts = new URL(queueUrl).pathname.split('/').filter(Boolean);
  return `arn:aws:sqs:${region}:${parts[0] ?? '000000000000'}:${parts[1] ?? 'queue'}`;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

export class QueuePoller {
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private queueArn = '';
  private started = false;
  /** Invocations finished (for status output and tests). */
  invocations = 0;

  constructor(private readonly options: QueuePollerOptions) {}

  /** True once the queue answered and the poll loops run. */
  get ready(): boolean {
    return this.started && !this.abort.signal.aborted;
  }

  /** Checks the queue is reachable, then starts the loops. */
  async start(): Promise<void> {
    const { sqs, queueUrl, region } = this.options;
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    this.queueArn = attrs.Attributes?.QueueArn ?? queueArnFromUrl(queueUrl, region);
    const n = Math.max(1, this.options.concurrency ?? 2);
    this.loops = Array.from({ length: n }, () => this.loop());
    this.started = true;
  }

  /** Stops polling; waits for the invocations in flight to finish (their messages are then deleted or retried). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    const { sqs, queueUrl, logger } = this.options;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let messages: Message[];
      try {
        const response = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.options.waitTimeSeconds ?? 5,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        );
        messages = response.Messages ?? [];
      } catch (error) {
        if (signal.aborted) return;
        logger.warn('could not receive from the queue; retrying in 2 s', { error: (error as Error).message });
        await sleep(2000, signal);
        continue;
      }
      if (messages.length > 0) await this.invoke(messages);
    }
  }

  /** One invocation of the handler on a batch, then the event source mapping's delete / retry. */
  async invoke(messages: Message[]): Promise<void> {
    const { sqs, queueUrl, handler, logger, region } = this.options;
    const records = messages.map((m) =>
      toSqsRecord(m, this.queueArn || queueArnFromUrl(queueUrl, region), region),
    );
    const context = lambdaContext(
      this.options.functionName ?? 'qbo-sync-local-deposit-builder',
      this.options.budgetMs ?? 180_000,
      region,
    );
    let failed: Set<string>;
    try {
      const result = await handler({ Records: records }, context);
      failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      // As with Lambda: a handler that throws returns the whole batch to the queue.
      logger.warn('the deposit builder failed the whole batch; every record will be retried', {
        error: (error as Error).message,
        messages: records.length,
      });
      failed = new Set(records.map((r) => r.messageId));
    }
    this.invocations += 1;
    const done = records.filter((r) => !failed.has(r.messageId));
    const retry = records.filter((r) => failed.has(r.messageId));
    try {
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
          }),
        );
      }
      if (retry.length > 0) {
        const delay = this.options.retryDelay ?? retryDelaySeconds;
        const { maxReceiveCount } = this.options;
        const receives = (r: SQSRecord) => Number(r.attributes.ApproximateReceiveCount) || 1;
        const isLast = (r: SQSRecord) => maxReceiveCount !== undefined && receives(r) >= maxReceiveCount;
        const entries = retry.map((r, i) => ({
          Id: String(i),
          ReceiptHandle: r.receiptHandle,
          // The last receive failed: visible again at once, so the redrive policy moves it to the DLQ.
          VisibilityTimeout: isLast(r) ? 0 : delay(receives(r)),
        }));
        await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        for (const [i, r] of retry.entries()) {
          if (isLast(r)) {
            logger.warn(
              'payout message failed its last delivery; the queue moves it to the dead-letter queue',
              {
                messageId: r.messageId,
                receiveCount: receives(r),
              },
            );
          } else {
            logger.warn('payout message failed; it will be retried', {
              messageId: r.messageId,
              receiveCount: receives(r),
              retryInSeconds: entries[i]?.VisibilityTimeout,
            });
          }
        }
      }
    } catch (error) {
      // The messages come back after the queue's visibility timeout instead.
      logger.warn('could not settle the batch with the queue', { error: (error as Error).message });
    }
  }
}
