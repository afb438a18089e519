import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from '../config.js';

/** The repository root: entries, package-lock.json and tsconfig.json are found from here, whatever the cwd. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The environment variable names the functions read (docs/ARCHITECTURE.md; exact). */
export type TableEnvName = 'TENANTS_TABLE' | 'CUSTOMERS_TABLE' | 'LEDGER_TABLE' | 'IDEMPOTENCY_TABLE';
export type QueueEnvName = 'QUEUE_URL' | 'DLQ_URL';
export type SecretEnvName = 'STRIPE_SECRET_ARN' | 'STRIPE_WEBHOOK_SECRET_ARN' | 'QBO_APP_SECRET_ARN';
export type SecretPrefixEnvName = 'QBO_TOKEN_SECRET_PREFIX';
/** Plain settings: service origins (unset = production) and the queue's maxReceiveCount (read by the worker). */
export type SettingEnvName =
  | 'QBO_API_BASE'
  | 'QBO_OAUTH_TOKEN_URL'
  | 'STRIPE_API_BASE'
  | 'MAX_RECEIVE_COUNT'
  | 'POWERTOOLS_METRICS_NAMESPACE'
  | 'STRIPE_MODE';

/**
 * Lets ESM bundles load the CommonJS dependencies that call `require()` for Node built-ins (intuit-oauth and
 * its helpers do): esbuild's ESM output has no `require` of its own and otherwise throws
 * "Dynamic require of "crypto" is not supported" at cold start.
 */
export const ESM_REQUIRE_SHIM =
  "import { createRequire as __qboSyncCreateRequire } from 'node:module'; " +
  'const require = __qboSyncCreateRequire(import.meta.url);';

/**
 * How every function is bundled: by the esbuild in node_modules (never Docker), as one minified ESM file for
 * Node 22 with a linked source map and *everything* bundled, AWS SDK included, so the code runs against the
 * SDK versions it was tested with rather than whatever the Lambda runtime ships.
 */
export function houseBundling(options: { metafile: boolean }): BundlingOptions {
  return {
    forceDockerBundling: false,
    format: OutputFormat.ESM,
    target: 'node22',
    mainFields: ['module', 'main'],
    externalModules: [],
    minify: true,
    keepNames: true,
    sourceMap: true,
    sourcesContent: false,
    banner: ESM_REQUIRE_SHIM,
    metafile: options.metafile,
    logLevel: LogLevel.WARNING,
  };
}

export interface NodeFunctionProps {
  /** The handler file, relative to the repository root (e.g. `lambdas/webhook.ts`); it exports `handler`. */
  readonly entry: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Retention of the function's log group. */
  readonly logRetention: RetentionDays;
  /** POWERTOOLS_LOG_LEVEL. */
  readonly logLevel: StageConfig['logLevel'];
  /** @default 'qbo-sync' (POWERTOOLS_SERVICE_NAME) */
  readonly serviceName?: string;
  /** Write esbuild's metafile (`index.meta.json`) beside the bundle. @default false */
  readonly metafile?: boolean;
  /** Concurrency reserved for (and capping) this function. @default none */
  readonly reservedConcurrency?: number;
}

/**
 * The house Lambda function: a `NodejsFunction` with the project's defaults, its own log group and its own
 * role, plus `bind*` methods that grant access *and* set the environment variable in one call, so a function
 * can only be given a table, queue or secret together with the permission to use it.
 *
 * Defaults (the one place they are written down):
 * - Runtime Node.js 22 (`nodejs22.x`) on ARM64 (Graviton: ~20 % cheaper per GB-second than x86).
 * - Timeout 30 s and 512 MB unless the props say otherwise.
 * - Bundled locally by esbuild ({@link houseBundling}): ESM (`index.mjs`), target node22, minified, names kept,
 *   linked source map without sources content, all dependencies bundled, {@link ESM_REQUIRE_SHIM} banner,
 *   `forceDockerBundling: false` (no Docker needed or used).
 * - `NODE_OPTIONS=--enable-source-maps`, so stack traces point at the TypeScript sources.
 * - `POWERTOOLS_SERVICE_NAME` (`qbo-sync`) and `POWERTOOLS_LOG_LEVEL` (the stage's `logLevel`).
 * - An explicit `LogGroup` with the stage's retention, removed with the stack (the logs expire anyway).
 * - An explicit role with no managed policies: it may write to its own log group and nothing else until a
 *   `bind*` method grants more.
 */
export class NodeFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.entry}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? 'qbo-sync',
        POWERTOOLS_LOG_LEVEL: props.logLevel,
      },
      bundling: houseBundling({ metafile: props.metafile ?? false }),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
    });

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: the bundles target node22 and the code is tested on Node 20/22. ' +
        'Moving to a newer runtime is a deliberate change with a test run, not an automatic one.',
    });
  }

  /** Sets `name` to the table's name and grants read (Get/Query/Scan) or read-write item access. */
  bindTable(name: TableEnvName, table: ITable, access: 'read' | 'readWrite'): this {
    this.function.addEnvironment(name, table.tableName);
    if (access === 'read') table.grantReadData(this.role);
    else table.grantReadWriteData(this.role);
    // CDK's table grants cover `<table>/index/*` when the table has secondary indexes (bind after adding them).
    const cfnTable = table.node.defaultChild;
    const stack = Stack.of(this);
    if (cfnTable instanceof CfnTable && stack.resolve(cfnTable.globalSecondaryIndexes) !== undefined) {
      const logicalId = stack.resolve(cfnTable.logicalId) as string;
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
        reason: `Queries on the ${name} table's secondary indexes: the grant covers that table's indexes only.`,
      });
    }
    return this;
  }

  /**
   * Sets `name` to the table's name and grants item access limited to the partition keys the function owns
   * (`dynamodb:LeadingKeys`, e.g. `ACCOUNT#*`): `read` (GetItem, BatchGetItem, Query, ConditionCheckItem) on the
   * `read` prefixes, and `write` (PutItem, UpdateItem, DeleteItem, ConditionCheckItem) on the `write` prefixes. A
   * Scan has no partition key to check, so `scan: true` grants it separately and unconditioned (for listing).
   */
  bindTableItems(
    name: TableEnvName,
    table: ITable,
    access: { read?: readonly string[]; write?: readonly string[]; scan?: boolean },
  ): this {
    this.function.addEnvironment(name, table.tableName);
    const leading = (prefixes: readonly string[]) => ({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((p) => `${p}*`) },
    });
    const grant = (actions: string[], prefixes: readonly string[] | undefined) => {
      if (prefixes === undefined || prefixes.length === 0) return;
      this.role.addToPrincipalPolicy(
        new PolicyStatement({ actions, resources: [table.tableArn], conditions: leading(prefixes) }),
      );
    };
    grant(
      ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
      access.read,
    );
    grant(
      ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
      access.write,
    );
    if (access.scan) {
      this.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['dynamodb:Scan'], resources: [table.tableArn] }),
      );
    }
    table.encryptionKey?.grantDecrypt(this.role);
    return this;
  }

  /** Sets `name` to the secret's ARN and grants reading its value. */
  bindSecret(name: SecretEnvName, secret: ISecret): this {
    this.function.addEnvironment(name, secret.secretArn);
    secret.grantRead(this.role);
    return this;
  }

  /**
   * Sets `name` to a secret-name prefix and grants access to every secret under it (secrets created at run
   * time, one per QuickBooks company). `readWrite`: read and store new versions; `create`: also create them.
   */
  bindSecretPrefix(
    name: SecretPrefixEnvName,
    secrets: { prefix: string; arnPattern: string },
    access: 'readWrite' | 'create',
  ): this {
    this.function.addEnvironment(name, secrets.prefix);
    const actions = [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      ...(access === 'create' ? ['secretsmanager:CreateSecret'] : []),
    ];
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [secrets.arnPattern] }));
    Validations.of(this.role).acknowledge({
      // cdk-nag names the finding after the ARN as CloudFormation renders it (pseudo parameters in <>).
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${secrets.prefix}*]`,
      reason:
        `Per-realm QuickBooks token secrets are created at run time under "${secrets.prefix}", so their ` +
        'names are known only as a prefix; the grant is limited to that prefix.',
    });
    return this;
  }

  /** Sets `name` to the queue's URL and grants sending to it. */
  bindQueue(name: QueueEnvName, queue: IQueue): this {
    this.function.addEnvironment(name, queue.queueUrl);
    queue.grantSendMessages(this.role);
    return this;
  }

  /** Sets a plain setting (e.g. QBO_API_BASE for a sandbox company); grants nothing. */
  setSetting(name: SettingEnvName, value: string): this {
    this.function.addEnvironment(name, value);
    return this;
  }
}
