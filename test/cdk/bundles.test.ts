/**
 * What goes into the Lambda bundles, read from esbuild's metafiles (context bundleMetafile=true): every function
 * is bundled by the local esbuild, and the webhook's bundle carries no QuickBooks (intuit-oauth) or axios code.
 * A smoke function importing the CommonJS-heavy dependencies proves the check can see them, and that the house
 * ESM bundle (createRequire banner) loads them in Node.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type BundleReport, bundleReports, forbiddenPackagesIn, packageOf } from '../../lib/bundle-report.js';
import { NodeFunction } from '../../lib/constructs/node-function.js';
import { buildTestApp, type TestApp } from './cdk-app.js';

const QUICKBOOKS_PACKAGES = ['intuit-oauth', 'axios'];

let built: TestApp;
let reports: BundleReport[];
let smoke: BundleReport;

beforeAll(() => {
  built = buildTestApp({ bundleMetafile: true }, (app) => {
    const stack = new Stack(app, 'BundleSmoke');
    new NodeFunction(stack, 'CjsDeps', {
      entry: 'test/cdk/fixtures/cjs-deps.ts',
      description: 'smoke',
      logRetention: RetentionDays.ONE_DAY,
      logLevel: 'INFO',
      metafile: true,
    });
    const [report] = bundleReports(stack);
    if (report === undefined) throw new Error('no smoke bundle');
    smoke = report;
  });
  reports = bundleReports(built.stack);
});

afterAll(() => built.dispose());

function report(id: string): BundleReport {
  const found = reports.find((r) => r.id === `${id}/Function`);
  if (found === undefined) throw new Error(`no bundle ${id}; have ${reports.map((r) => r.id).join(', ')}`);
  return found;
}

it('bundles all five functions with the local esbuild, each with a source map and a metafile', () => {
  expect(reports.map((r) => r.id)).toEqual([
    'Webhook/Function',
    'DepositBuilder/Function',
    'CatchUp/Function',
    'QboCallback/Function',
    'SupportConsole/Function/Function',
  ]);
  for (const r of reports) {
    expect(r.bundleBytes).toBeGreaterThan(0);
    expect(r.sourceMapBytes).toBeGreaterThan(0);
    expect(r.inputs?.some((input) => input.startsWith('lambdas/'))).toBe(true);
  }
});

it('the webhook bundle carries no QuickBooks (intuit-oauth) or axios code', () => {
  expect(forbiddenPackagesIn(report('Webhook'), QUICKBOOKS_PACKAGES)).toEqual([]);
});

it('the check sees QuickBooks code where it is bundled', () => {
  expect(forbiddenPackagesIn(smoke, QUICKBOOKS_PACKAGES)).toEqual(QUICKBOOKS_PACKAGES);
  expect(smoke.packages?.map((p) => p.name)).toEqual(
    expect.arrayContaining(['stripe', '@aws-lambda-powertools/logger']),
  );
});

it('an ESM bundle of the CommonJS dependencies loads and runs in Node', () => {
  // Act: import the bundle in a fresh Node process and call its handler.
  const bundle = path.join(smoke.assetDir, 'index.mjs');
  const output = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(`file://${bundle}`)}); console.log(JSON.stringify(await m.handler()));`,
    ],
    { encoding: 'utf8', env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' } },
  );
  // Assess
  expect(JSON.parse(output.trim())).toEqual(['function', 'function', 'function', 'function']);
});

it('names packages from input paths', () => {
  expect(packageOf('node_modules/intuit-oauth/src/OAuthClient.js')).toBe('intuit-oauth');
  expect(packageOf('node_modules/@aws-sdk/client-sqs/dist-es/index.js')).toBe('@aws-sdk/client-sqs');
  expect(packageOf('node_modules/a/node_modules/@smithy/core/dist/x.js')).toBe('@smithy/core');
  expect(packageOf('src/app/ingest-webhook.ts')).toBe('(project)');
});
