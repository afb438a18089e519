import { Duration, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * The worker's status metrics (exact; src/adapters/metrics.ts emits them, a test checks both agree): namespace
 * `qbo-sync/<stack name>` (the deposit builder's POWERTOOLS_METRICS_NAMESPACE), dimension `service`.
 */
export const STATUS_METRICS = {
  service: 'deposit-builder',
  held: 'PayoutsHeld',
  failed: 'PayoutsFailed',
} as const;

/**
 * The daily catch-up's drift metric (exact; src/adapters/metrics.ts `DRIFT_METRIC` emits it, a test checks both
 * agree): entries its audit found deleted or edited in QuickBooks since posting.
 */
export const DRIFT_METRICS = { service: 'catch-up', drifted: 'EntriesDrifted' } as const;

/** The CloudWatch namespace of a stack's own metrics. */
export function metricsNamespace(stackName: string): string {
  return `qbo-sync/${stackName}`;
}

/** The webhook 4xx alarm: at least this many requests in the hour … */
export const CLIENT_ERROR_MIN_REQUESTS = 3;
/** … of which at least this percentage answered 4xx (a wrong or rolled webhook signing secret answers 400 to all). */
export const CLIENT_ERROR_PERCENT = 25;
/** The oldest message on the payout queue may wait this long before the alarm (seconds). */
export const OLDEST_MESSAGE_SECONDS = 3600;

export interface SyncAlarmsProps {
  /** Every alarm notifies this topic when it fires and when it recovers. */
  readonly topic: ITopic;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly depositBuilder: IFunction;
  readonly catchUp: IFunction;
  readonly api: RestApi;
  /** The queue's maxReceiveCount, named in the DLQ alarm's text. */
  readonly maxReceiveCount: number;
}

/**
 * Every alarm of the stack (CONTRACT §7), each notifying the one SNS topic on ALARM and on OK. Each description says
 * what it means and the first command to run (docs/deploying.md, "The alarms", has the same list). Missing data
 * never alarms: a quiet day is not an incident.
 */
export class SyncAlarms extends Construct {
  readonly dlqNotEmpty: Alarm;
  readonly payoutHeld: Alarm;
  readonly payoutFailed: Alarm;
  readonly queueStuck: Alarm;
  readonly depositBuilderErrors: Alarm;
  readonly depositBuilderThrottles: Alarm;
  readonly apiServerErrors: Alarm;
  readonly apiClientErrors: Alarm;
  readonly catchUpFailed: Alarm;
  readonly entriesDrifted: Alarm;

  private readonly topic: ITopic;

  constructor(scope: Construct, id: string, props: SyncAlarmsProps) {
    super(scope, id);
    this.topic = props.topic;
    const namespace = metricsNamespace(Stack.of(this).stackName);
    const fiveMinutes = Duration.minutes(5);
    const statusMetric = (metricName: string) =>
      new Metric({
        namespace,
        metricName,
        dimensionsMap: { service: STATUS_METRICS.service },
        statistic: 'Sum',
        period: fiveMinutes,
      });

    this.dlqNotEmpty = this.alarm('DlqNotEmpty', {
      description:
        `A payout message failed ${props.maxReceiveCount} times and is in the dead-letter queue; its ledger row says ` +
        'why. First: `npx qbo-sync dlq list --stack <stack>`; fix the cause, then `npx qbo-sync dlq replay --payout <po> --stack <stack>`.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
    });
    this.payoutHeld = this.alarm('PayoutHeld', {
      description:
        'A payout was HELD: it needs a person (an unmapped category, a closed period, a lost QuickBooks connection…). ' +
        'First: `npx qbo-sync payouts list --status HELD --stack <stack>`; each reason and hint say what to fix and ' +
        'what to run then (docs/playbook.md, "When an alarm fires").',
      metric: statusMetric(STATUS_METRICS.held),
      threshold: 1,
    });
    this.payoutFailed = this.alarm('PayoutFailed', {
      description:
        'A payout FAILED: its retries are exhausted and its message is in the dead-letter queue. First: ' +
        '`npx qbo-sync payouts list --status FAILED --stack <stack>`, then `npx qbo-sync dlq list --stack <stack>`.',
      metric: statusMetric(STATUS_METRICS.failed),
      threshold: 1,
    });
    this.queueStuck = this.alarm('QueueStuck', {
      description:
        `The oldest payout message has waited over ${OLDEST_MESSAGE_SECONDS / 3600} h: the deposit builder is not ` +
        "consuming (disabled trigger, throttled, failing on every attempt). First: the DepositBuilder function's " +
        'log group in CloudWatch Logs, then `npx qbo-sync payouts list --status RECEIVED --stack <stack>`.',
      metric: props.queue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: 'Maximum' }),
      threshold: OLDEST_MESSAGE_SECONDS,
    });
    this.depositBuilderErrors = this.alarm('DepositBuilderErrors', {
      description:
        'The deposit builder failed a whole invocation (not one payout: those are retried and counted as FAILED). ' +
        "First: the DepositBuilder function's log group in CloudWatch Logs (errors at the time of the alarm).",
      metric: props.depositBuilder.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 1,
    });
    this.depositBuilderThrottles = this.alarm('DepositBuilderThrottles', {
      description:
        'The deposit builder was throttled: the account or its reserved concurrency has no room, so payouts wait. ' +
        'First: `aws lambda get-function-concurrency --function-name <DepositBuilder function>` and the account’s ' +
        'concurrency in the Lambda console (context workerConcurrency / workerReservedConcurrency).',
      metric: props.depositBuilder.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 1,
    });
    this.apiServerErrors = this.alarm('ApiServerErrors', {
      description:
        'The webhook or OAuth callback answered 5xx: events are not being queued (Stripe retries them for 3 days). ' +
        "First: the Webhook function's log group in CloudWatch Logs (a missing secret or queue permission says so).",
      metric: props.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 1,
    });
    const hour = Duration.hours(1);
    this.apiClientErrors = this.alarm('ApiClientErrors', {
      description:
        `At least ${CLIENT_ERROR_PERCENT} % of at least ${CLIENT_ERROR_MIN_REQUESTS} API requests in an hour ` +
        'answered 4xx: usually a wrong or rolled webhook signing secret (every Stripe delivery gets 400; Stripe ' +
        "disables the endpoint after days of failures). First: the Webhook function's log group " +
        '("webhook signature rejected"), then compare the signing secrets in the webhook secret with the Stripe dashboard.',
      metric: new MathExpression({
        label: '4xx % of requests',
        expression: `IF(requests >= ${CLIENT_ERROR_MIN_REQUESTS}, 100 * errors / requests, 0)`,
        usingMetrics: {
          errors: props.api.metricClientError({ period: hour, statistic: 'Sum' }),
          requests: props.api.metricCount({ period: hour, statistic: 'SampleCount' }),
        },
        period: hour,
      }),
      threshold: CLIENT_ERROR_PERCENT,
    });
    this.catchUpFailed = this.alarm('CatchUpFailed', {
      description:
        'The daily catch-up failed for some tenant (listing payouts, queueing them, or keeping a QuickBooks ' +
        'connection alive). First: the CatchUp function\'s log group ("catch-up failed for a tenant", ' +
        '"keep-alive failed"); then `npx qbo-sync payouts backfill --tenant T --since DATE --stack <stack>` or ' +
        '`npx qbo-sync connect --tenant T --stack <stack>` as the log says.',
      metric: props.catchUp.metricErrors({ period: hour, statistic: 'Sum' }),
      threshold: 1,
    });
    this.entriesDrifted = this.alarm('EntriesDrifted', {
      description:
        'The daily drift audit found posted entries, or reversing entries (of failed payouts, or of entries a resync ' +
        'replaced in closed books), deleted or edited in ' +
        'QuickBooks since posting (a person changed them; the ledger keeps each finding). First: ' +
        '`npx qbo-sync payouts audit --stack <stack>`; then, for each, ' +
        '`npx qbo-sync payouts resync <po> --stack <stack>` (post the computed entry, or the reversal, again) or ' +
        "`npx qbo-sync payouts accept <po> --stack <stack>` (the edit was intended); a replaced entry's reversal: " +
        'the fix by hand its hint gives, then accept.',
      metric: new Metric({
        namespace,
        metricName: DRIFT_METRICS.drifted,
        dimensionsMap: { service: DRIFT_METRICS.service },
        statistic: 'Maximum',
        period: Duration.days(1),
      }),
      threshold: 1,
    });
  }

  /** Every alarm, for tests and documentation. */
  all(): Alarm[] {
    return [
      this.dlqNotEmpty,
      this.payoutHeld,
      this.payoutFailed,
      this.queueStuck,
      this.depositBuilderErrors,
      this.depositBuilderThrottles,
      this.apiServerErrors,
      this.apiClientErrors,
      this.catchUpFailed,
      this.entriesDrifted,
    ];
  }

  private alarm(id: string, props: { description: string; metric: IMetric; threshold: number }): Alarm {
    const stackName = Stack.of(this).stackName;
    const alarm = new Alarm(this, id, {
      alarmName: `${stackName}-${id}`,
      alarmDescription: props.description.replaceAll('<stack>', stackName),
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    return alarm;
  }
}
