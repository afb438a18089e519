import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { NodeFunction } from './node-function.js';

export interface PayoutQueueProps {
  /** The consumer's timeout: the queue's visibility timeout is six times this (AWS guidance for Lambda). */
  readonly workerTimeout: Duration;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** Notified when the DLQ holds a message (and again when it is empty). */
  readonly alarmTopic: ITopic;
}

/**
 * The payout queue: SQS FIFO (MessageGroupId = tenant, so one tenant's payouts are processed one at a time and
 * in order; MessageDeduplicationId = the Stripe event id, so content-based dedup is off), its FIFO dead-letter
 * queue after `maxReceiveCount` receives, and an alarm on the DLQ's depth. Both queues are encrypted
 * (SSE-SQS), refuse non-TLS access and keep messages 14 days, so a worker outage of days loses nothing.
 */
export class PayoutQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly maxReceiveCount: number;
  /** The main queue's visibility timeout: 6 × the worker's timeout. */
  readonly visibilityTimeout: Duration;
  /** ApproximateNumberOfMessagesVisible ≥ 1 on the DLQ. */
  readonly dlqDepthAlarm: Alarm;

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

    this.dlqDepthAlarm = new Alarm(this, 'DlqDepthAlarm', {
      alarmDescription:
        `A payout message failed ${this.maxReceiveCount} times and is in the dead-letter queue: its ledger row ` +
        'says why. Fix the cause, then `npx qbo-sync dlq list` and `npx qbo-sync dlq replay --payout <po>` ' +
        '(docs/deploying.md, "The alarms").',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.dlqDepthAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
    this.dlqDepthAlarm.addOkAction(new SnsAction(props.alarmTopic));
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
