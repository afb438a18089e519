import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { NodeFunction } from './node-function.js';

export interface PayoutQueueProps {
  /** The consumer's timeout: the queue's visibility timeout is six times this (AWS guidance for Lambda). */
  readonly workerTimeout: Duration;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
}

/**
 * The payout queue: SQS FIFO (MessageGroupId = tenant, so one tenant's payouts are processed one at a time and
 * in order; MessageDeduplicationId = the Stripe event id, so content-based dedup is off), its FIFO dead-letter
 * queue after `maxReceiveCount` receives (its alarm is in SyncAlarms). Both queues are encrypted
 * (SSE-SQS), refuse non-TLS access and keep messages 14 days, so a worker outage of days loses nothing.
 */
export class PayoutQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly maxReceiveCount: number;
  /** The main queue's visibility timeout: 6 × the worker's timeout. */
  readonly visibilityTimeout: Duration;

  constructor(scope: Construct, id: string, props: PayoutQueueProps) {
    super(scope, id);
    this.maxReceiveCount = props.maxReceiveCount ?? 5;
    this.visibilityTimeout = Duration.seconds(props.workerTimeout.toSeconds() * 6);

    const common = {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    };

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', common);
    this.queue = new Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: this.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
    });
  }

  /**
   * Makes `worker` the queue's consumer: batches of at most `batchSize` (FIFO: ≤ 10) with partial batch
   * responses (`ReportBatchItemFailures`: only the failed messages are retried) and at most `maxConcurrency`
   * concurrent invocations. Throws if the worker's timeout would outlast a sixth of the visibility timeout.
   */
  consumeWith(worker: NodeFunction, options: { batchSize: number; maxConcurrency: number }): void {
    const timeout = worker.function.timeout ?? Duration.seconds(3);
    const visibility = this.visibilityTimeout.toSeconds();
    if (timeout.toSeconds() * 6 > visibility) {
      throw new Error(
        `The queue's visibility timeout (${visibility} s) must be at least 6 × the worker's timeout ` +
          `(${timeout.toSeconds()} s): build the PayoutQueue with workerTimeout = the worker's timeout.`,
      );
    }
    if (options.batchSize < 1 || options.batchSize > 10) {
      throw new Error(`batchSize must be 1-10 for a FIFO queue (got ${options.batchSize}).`);
    }
    worker.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: options.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: options.maxConcurrency,
      }),
    );
  }
}
