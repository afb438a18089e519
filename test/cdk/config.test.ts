/**
 * Stage context parsing and the constructs' own guards: fast, no synthesis of the full stack.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { readCdkJson } from '../../lib/app.js';
import { readStageConfig } from '../../lib/config.js';
import { AlarmTopic } from '../../lib/constructs/alarm-topic.js';
import { NodeFunction } from '../../lib/constructs/node-function.js';
import { PayoutQueue } from '../../lib/constructs/payout-queue.js';

/** Skips esbuild: these tests look at templates, not bundles. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

const configOf = (context: Record<string, unknown>) => readStageConfig(new App({ context }));

describe('stage context', () => {
  it('has working defaults: stage dev, stack qbo-sync-dev', () => {
    expect(configOf({})).toEqual({
      stage: 'dev',
      stackName: 'qbo-sync-dev',
      workerConcurrency: 5,
      workerReservedConcurrency: 5,
      workerBatchSize: 1,
      workerTimeoutSeconds: 180,
      logRetentionDays: RetentionDays.ONE_MONTH,
      logLevel: 'INFO',
      catchUpHourUtc: 6,
      apiRateLimit: 50,
      apiBurstLimit: 100,
      apiCloudWatchRole: true,
      deletionProtection: true,
      stripeMode: 'test',
      bundleMetafile: false,
    });
  });

  it('accepts -c strings as well as JSON values', () => {
    // Act
    const config = configOf({
      stage: 'prod',
      workerConcurrency: '20',
      workerBatchSize: 10,
      logRetentionDays: '90',
      deletionProtection: 'false',
      alarmEmail: 'ops@example.com',
      qboApiBase: 'https://sandbox-quickbooks.api.intuit.com',
    });
    // Assess
    expect(config).toMatchObject({
      stage: 'prod',
      stackName: 'qbo-sync-prod',
      workerConcurrency: 20,
      workerBatchSize: 10,
      logRetentionDays: 90,
      deletionProtection: false,
      alarmEmail: 'ops@example.com',
      qboApiBase: 'https://sandbox-quickbooks.api.intuit.com',
    });
  });

  it('reserves the worker concurrency unless told otherwise, never less than the queue may invoke', () => {
    expect(configOf({ workerConcurrency: 8 }).workerReservedConcurrency).toBe(8);
    expect(configOf({ workerConcurrency: 8, workerReservedConcurrency: '0' }).workerReservedConcurrency).toBe(
      0,
    );
    expect(configOf({ workerConcurrency: 8, workerReservedConcurrency: 12 }).workerReservedConcurrency).toBe(
      12,
    );
    expect(() => configOf({ workerConcurrency: 8, workerReservedConcurrency: 4 })).toThrow(
      /workerReservedConcurrency: 4 is below workerConcurrency \(8\)/,
    );
  });

  it('rejects bad values naming every bad key and how to fix it', () => {
    // Act
    let message = '';
    try {
      configOf({ workerConcurrency: '1', workerBatchSize: 11, logRetentionDays: 31, alarmEmail: 'nope' });
    } catch (error) {
      message = (error as Error).message;
    }
    // Assess
    expect(message).toContain('workerConcurrency: workerConcurrency must be at least 2 (got "1")');
    expect(message).toContain('workerBatchSize: workerBatchSize must be at most 10 (got 11)');
    expect(message).toMatch(/logRetentionDays: logRetentionDays must be one of 1, 3, 5, .* \(got 31\)/);
    expect(message).toContain('alarmEmail: alarmEmail must be an email address (got "nope")');
    expect(message).toContain('-c workerConcurrency=5');
    expect(() => configOf({ stage: 'Prod' })).toThrow(/stage must be 1-20 characters/);
    expect(() => configOf({ qboApiBase: 'https://sandbox-quickbooks.api.intuit.com/v3' })).toThrow(
      /origin without a path/,
    );
    expect(() => configOf({ qboApiBase: 'http://127.0.0.1:9000' })).toThrow(/https:\/\//);
  });

  it('cdk.json turns CLI telemetry and notices off and runs the app through tsx', () => {
    const json = readCdkJson();
    expect(json.app).toBe('npx tsx bin/app.ts');
    expect(json.context['cli-telemetry']).toBe(false);
    // The CLI reads "notices" from cdk.json's top level (its settings), not from "context".
    expect(json.notices).toBe(false);
  });
});

describe('constructs', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'qbo-sync-cdk-'));
  });
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('PayoutQueue refuses a consumer whose timeout exceeds a sixth of the visibility timeout', () => {
    // Prepare
    const stack = new Stack(new App({ outdir, context: NO_BUNDLING }), 'Guard');
    const queue = new PayoutQueue(stack, 'Queue', { workerTimeout: Duration.seconds(60) });
    const slow = new NodeFunction(stack, 'Slow', {
      entry: 'test/cdk/fixtures/noop-handler.ts',
      description: 'slow',
      timeout: Duration.seconds(61),
      logRetention: RetentionDays.ONE_DAY,
      logLevel: 'INFO',
    });
    const fits = new NodeFunction(stack, 'Fits', {
      entry: 'test/cdk/fixtures/noop-handler.ts',
      description: 'fits',
      timeout: Duration.seconds(60),
      logRetention: RetentionDays.ONE_DAY,
      logLevel: 'INFO',
    });
    // Act + Assess
    expect(() => queue.consumeWith(slow, { batchSize: 10, maxConcurrency: 2 })).toThrow(
      /visibility timeout \(360 s\) must be at least 6 × the worker's timeout \(61 s\)/,
    );
    expect(() => queue.consumeWith(fits, { batchSize: 11, maxConcurrency: 2 })).toThrow(
      /batchSize must be 1-10/,
    );
    expect(() => queue.consumeWith(fits, { batchSize: 10, maxConcurrency: 2 })).not.toThrow();
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 360 });
  });

  it('AlarmTopic subscribes the alarm email only when one is given', () => {
    const stack = new Stack(new App({ outdir, context: NO_BUNDLING }), 'Topic');
    new AlarmTopic(stack, 'With', { email: 'ops@example.com' });
    new AlarmTopic(stack, 'Without', {});
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});
