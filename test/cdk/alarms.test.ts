/**
 * Every alarm of CONTRACT §7, on one synthesis: what each watches, its threshold, and that each notifies the one
 * SNS topic when it fires and when it recovers. Also the worker's reserved concurrency the throttles alarm relates to.
 */

import { DRIFT_METRICS, metricsNamespace, STATUS_METRICS } from '../../lib/constructs/sync-alarms.js';
import { DRIFT_METRIC, METRICS_SERVICE, PAYOUT_STATUS_METRICS } from '../../src/adapters/metrics.js';
import { buildTestApp, logicalIdOf, resourcesOf, Template, type TestApp } from './cdk-app.js';

let built: TestApp;
let template: Template;
const ids: Record<string, string> = {};

beforeAll(() => {
  built = buildTestApp({ 'aws:cdk:bundling-stacks': [] });
  const { stack } = built;
  template = Template.fromStack(stack);
  Object.assign(ids, {
    topic: logicalIdOf(stack, stack.alarms.topic),
    queue: logicalIdOf(stack, stack.payoutQueue.queue),
    dlq: logicalIdOf(stack, stack.payoutQueue.deadLetterQueue),
    depositBuilder: logicalIdOf(stack, stack.functions.depositBuilder.function),
    catchUp: logicalIdOf(stack, stack.functions.catchUp.function),
    api: logicalIdOf(stack, stack.api.api),
  });
});

afterAll(() => built.dispose());

type Props = Record<string, unknown>;
function alarms(): Props[] {
  return Object.values(resourcesOf(template))
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .map((r) => r.Properties ?? {});
}
function alarmNamed(suffix: string): Props {
  const found = alarms().filter((a) => a.AlarmName === `qbo-sync-dev-${suffix}`);
  expect(found).toHaveLength(1);
  return found[0] as Props;
}

it('has the ten alarms, each notifying the one topic on ALARM and on OK, never on missing data', () => {
  expect(
    alarms()
      .map((a) => a.AlarmName)
      .sort(),
  ).toEqual(
    [
      'ApiClientErrors',
      'ApiServerErrors',
      'CatchUpFailed',
      'DepositBuilderErrors',
      'DepositBuilderThrottles',
      'DlqNotEmpty',
      'EntriesDrifted',
      'PayoutFailed',
      'PayoutHeld',
      'QueueStuck',
    ].map((n) => `qbo-sync-dev-${n}`),
  );
  for (const alarm of alarms()) {
    expect(alarm).toMatchObject({
      AlarmActions: [{ Ref: ids.topic }],
      OKActions: [{ Ref: ids.topic }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    // Each says what it means and the first thing to run or read.
    expect(String(alarm.AlarmDescription)).toMatch(/First: /);
    expect(String(alarm.AlarmDescription)).not.toContain('<stack>');
  }
});

it('a message in the DLQ', () => {
  expect(alarmNamed('DlqNotEmpty')).toMatchObject({
    Namespace: 'AWS/SQS',
    MetricName: 'ApproximateNumberOfMessagesVisible',
    Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
    Statistic: 'Maximum',
    Period: 60,
    Threshold: 1,
  });
  expect(String(alarmNamed('DlqNotEmpty').AlarmDescription)).toContain(
    'npx qbo-sync dlq list --stack qbo-sync-dev',
  );
});

it('a payout HELD and a payout FAILED: the metrics the worker emits, per stack', () => {
  // The names the alarms watch are the ones src/adapters/metrics.ts emits.
  expect(STATUS_METRICS).toEqual({
    service: METRICS_SERVICE,
    held: PAYOUT_STATUS_METRICS.HELD,
    failed: PAYOUT_STATUS_METRICS.FAILED,
  });
  const namespace = metricsNamespace('qbo-sync-dev');
  for (const [suffix, metric] of [
    ['PayoutHeld', 'PayoutsHeld'],
    ['PayoutFailed', 'PayoutsFailed'],
  ] as const) {
    expect(alarmNamed(suffix)).toMatchObject({
      Namespace: namespace,
      MetricName: metric,
      Dimensions: [{ Name: 'service', Value: 'deposit-builder' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
    });
  }
  const fn = resourcesOf(template)[ids.depositBuilder as string];
  const env = (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables;
  expect(env?.POWERTOOLS_METRICS_NAMESPACE).toBe(namespace);
});

it('the oldest message on the main queue older than 1 hour', () => {
  expect(alarmNamed('QueueStuck')).toMatchObject({
    Namespace: 'AWS/SQS',
    MetricName: 'ApproximateAgeOfOldestMessage',
    Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }],
    Statistic: 'Maximum',
    Threshold: 3600,
  });
});

it('deposit-builder errors, and throttles (its reserved concurrency equals the queue’s maximum concurrency)', () => {
  for (const [suffix, metric] of [
    ['DepositBuilderErrors', 'Errors'],
    ['DepositBuilderThrottles', 'Throttles'],
  ] as const) {
    expect(alarmNamed(suffix)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: metric,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.depositBuilder } }],
      Statistic: 'Sum',
      Threshold: 1,
    });
  }
  expect(resourcesOf(template)[ids.depositBuilder as string]?.Properties?.ReservedConcurrentExecutions).toBe(
    5,
  );
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    ScalingConfig: { MaximumConcurrency: 5 },
  });
});

it('API Gateway 5xx, and 4xx above a small rate', () => {
  expect(alarmNamed('ApiServerErrors')).toMatchObject({
    Namespace: 'AWS/ApiGateway',
    MetricName: '5XXError',
    Dimensions: [{ Name: 'ApiName', Value: 'qbo-sync-dev' }],
    Statistic: 'Sum',
    Threshold: 1,
  });
  expect(resourcesOf(template)[ids.api as string]?.Properties?.Name).toBe('qbo-sync-dev');
  const clientErrors = alarmNamed('ApiClientErrors');
  expect(clientErrors).toMatchObject({ Threshold: 25 });
  const queries = clientErrors.Metrics as { Id: string; Expression?: string; MetricStat?: Props }[];
  expect(queries.find((q) => q.Expression !== undefined)?.Expression).toBe(
    'IF(requests >= 3, 100 * errors / requests, 0)',
  );
  expect(queries.find((q) => q.Id === 'errors')?.MetricStat).toMatchObject({
    Metric: { Namespace: 'AWS/ApiGateway', MetricName: '4XXError' },
    Period: 3600,
    Stat: 'Sum',
  });
  expect(queries.find((q) => q.Id === 'requests')?.MetricStat).toMatchObject({
    Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Count' },
    Stat: 'SampleCount',
  });
});

it('the catch-up failing', () => {
  expect(alarmNamed('CatchUpFailed')).toMatchObject({
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.catchUp } }],
    Period: 3600,
    Threshold: 1,
  });
});

it('posted entries drifted in QuickBooks: the catch-up’s drift audit metric, per stack', () => {
  // The names the alarm watches are the ones src/adapters/metrics.ts emits.
  expect(DRIFT_METRICS).toEqual({ service: DRIFT_METRIC.service, drifted: DRIFT_METRIC.name });
  const namespace = metricsNamespace('qbo-sync-dev');
  expect(alarmNamed('EntriesDrifted')).toMatchObject({
    Namespace: namespace,
    MetricName: 'EntriesDrifted',
    Dimensions: [{ Name: 'service', Value: 'catch-up' }],
    Statistic: 'Maximum',
    Period: 86_400,
    Threshold: 1,
  });
  expect(String(alarmNamed('EntriesDrifted').AlarmDescription)).toContain(
    'npx qbo-sync payouts audit --stack qbo-sync-dev',
  );
  const fn = resourcesOf(template)[ids.catchUp as string];
  const env = (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables;
  expect(env?.POWERTOOLS_METRICS_NAMESPACE).toBe(namespace);
});
