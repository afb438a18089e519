/**
 * The stack's invariants, asserted on one synthesis (bundling the real entries takes a few seconds):
 * queue wiring, each function's grants, encryption/PITR/retention, the alarm, the outputs the CLI reads, and
 * cdk-nag's AwsSolutions pack. Deliberately not a whole-template snapshot.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OUTPUT_KEYS } from '../../lib/qbo-sync-stack.js';
import {
  actionsOf,
  buildTestApp,
  logicalIdOf,
  Match,
  resourcesOf,
  type Statement,
  statementsOfRole,
  statementsTouching,
  Template,
  type TestApp,
} from './cdk-app.js';

let built: TestApp;
let template: Template;
const ids: Record<string, string> = {};

const DYNAMODB_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

beforeAll(() => {
  // No bundling here (test/cdk/bundles.test.ts bundles the real entries): the template is the same otherwise.
  built = buildTestApp({ 'aws:cdk:bundling-stacks': [] });
  const { stack } = built;
  template = Template.fromStack(stack);
  const { functions, tables, secrets, payoutQueue } = stack;
  Object.assign(ids, {
    webhook: logicalIdOf(stack, functions.webhook.function),
    depositBuilder: logicalIdOf(stack, functions.depositBuilder.function),
    catchUp: logicalIdOf(stack, functions.catchUp.function),
    qboCallback: logicalIdOf(stack, functions.qboCallback.function),
    console: logicalIdOf(stack, stack.supportConsole.fn.function),
    webhookRole: logicalIdOf(stack, functions.webhook.role),
    depositBuilderRole: logicalIdOf(stack, functions.depositBuilder.role),
    catchUpRole: logicalIdOf(stack, functions.catchUp.role),
    qboCallbackRole: logicalIdOf(stack, functions.qboCallback.role),
    tenants: logicalIdOf(stack, tables.tenants),
    customers: logicalIdOf(stack, tables.customers),
    ledger: logicalIdOf(stack, tables.ledger),
    idempotency: logicalIdOf(stack, tables.idempotency),
    stripeSecret: logicalIdOf(stack, secrets.stripe),
    qboAppSecret: logicalIdOf(stack, secrets.qboApp),
    queue: logicalIdOf(stack, payoutQueue.queue),
    dlq: logicalIdOf(stack, payoutQueue.deadLetterQueue),
    topic: logicalIdOf(stack, stack.alarms.topic),
  });
});

afterAll(() => built.dispose());

const TOKEN_PREFIX = 'qbo-sync-dev/qbo-tokens/';

function props(logicalId: string): Record<string, unknown> {
  const resource = resourcesOf(template)[logicalId];
  if (resource === undefined) throw new Error(`no resource ${logicalId}`);
  return resource.Properties ?? {};
}

function environmentOf(fnId: string): Record<string, unknown> {
  return (props(fnId).Environment as { Variables: Record<string, unknown> }).Variables;
}

function statements(roleKey: string): Statement[] {
  return statementsOfRole(template, ids[roleKey] as string);
}

describe('queue', () => {
  it('is FIFO with a FIFO dead-letter queue after 5 receives, dedup by id, encrypted, TLS-only', () => {
    // Assess
    const queue = props(ids.queue as string);
    const dlq = props(ids.dlq as string);
    for (const q of [queue, dlq]) {
      expect(q).toMatchObject({
        FifoQueue: true,
        ContentBasedDeduplication: false,
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
    }
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(dlq.RedrivePolicy).toBeUndefined();
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      {
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        }),
      },
      2,
    );
  });

  it("has a visibility timeout of at least 6 × the deposit builder's timeout", () => {
    const timeout = props(ids.depositBuilder as string).Timeout as number;
    expect(timeout).toBe(180);
    expect(props(ids.queue as string).VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('feeds the deposit builder with partial batch responses, a small batch and bounded concurrency', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
      FunctionName: { Ref: ids.depositBuilder },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('alarms on any message in the DLQ, notifying the alarm topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: ids.topic }],
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0); // no alarmEmail in the default context
  });
});

describe('functions', () => {
  const FUNCTIONS = ['webhook', 'depositBuilder', 'catchUp', 'qboCallback'];

  it('are Node 22 on ARM64, ESM bundles with source maps and Powertools settings', () => {
    // Plus the support console's (test/cdk/console.test.ts).
    template.resourceCountIs('AWS::Lambda::Function', 5);
    for (const key of FUNCTIONS) {
      const fn = props(ids[key] as string);
      expect({ key, runtime: fn.Runtime, arch: fn.Architectures, handler: fn.Handler }).toEqual({
        key,
        runtime: 'nodejs22.x',
        arch: ['arm64'],
        handler: 'index.handler',
      });
      expect(environmentOf(ids[key] as string)).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'qbo-sync',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
    }
  });

  it('each log to their own log group with the stage retention', () => {
    for (const key of FUNCTIONS) {
      const logGroupRef = (props(ids[key] as string).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup;
      expect(props(logGroupRef.Ref)).toMatchObject({ RetentionInDays: 30 });
    }
  });

  it('get exactly the environment variables of docs/ARCHITECTURE.md they use', () => {
    const base = ['NODE_OPTIONS', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_SERVICE_NAME'];
    const names = (key: string) => Object.keys(environmentOf(ids[key] as string)).sort();
    expect(names('webhook')).toEqual(
      [...base, 'QUEUE_URL', 'STRIPE_MODE', 'STRIPE_WEBHOOK_SECRET_ARN', 'TENANTS_TABLE'].sort(),
    );
    expect(names('depositBuilder')).toEqual(
      [
        ...base,
        'CUSTOMERS_TABLE',
        'DLQ_URL',
        'IDEMPOTENCY_TABLE',
        'LEDGER_TABLE',
        'MAX_RECEIVE_COUNT',
        'POWERTOOLS_METRICS_NAMESPACE',
        'QBO_APP_SECRET_ARN',
        'QBO_TOKEN_SECRET_PREFIX',
        'QUEUE_URL',
        'STRIPE_SECRET_ARN',
        'TENANTS_TABLE',
      ].sort(),
    );
    expect(names('catchUp')).toEqual(
      [
        ...base,
        'LEDGER_TABLE',
        'POWERTOOLS_METRICS_NAMESPACE',
        'QBO_APP_SECRET_ARN',
        'QBO_TOKEN_SECRET_PREFIX',
        'QUEUE_URL',
        'STRIPE_MODE',
        'STRIPE_SECRET_ARN',
        'TENANTS_TABLE',
      ].sort(),
    );
    expect(names('qboCallback')).toEqual(
      [...base, 'QBO_APP_SECRET_ARN', 'QBO_TOKEN_SECRET_PREFIX', 'TENANTS_TABLE'].sort(),
    );
    expect(environmentOf(ids.depositBuilder as string)).toMatchObject({
      QBO_TOKEN_SECRET_PREFIX: TOKEN_PREFIX,
      MAX_RECEIVE_COUNT: '5',
      DLQ_URL: { Ref: ids.dlq },
    });
  });
});

describe('least privilege', () => {
  it('nobody is granted a wildcard action', () => {
    for (const resource of Object.values(resourcesOf(template))) {
      if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::Role') continue;
      const docs = [
        (resource.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
        ...((resource.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).map(
          (p) => p.PolicyDocument.Statement,
        ),
      ];
      for (const action of actionsOf(docs.flat())) expect(action).not.toContain('*');
    }
  });

  // The webhook's role: test/cdk/least-privilege.test.ts.

  it('the deposit builder consumes the queue, writes its tables and token secrets, reads both app secrets', () => {
    const granted = statements('depositBuilderRole');
    expect(actionsOf(statementsTouching(granted, ids.queue as string))).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:SendMessage']),
    );
    // The DLQ: send only (a malformed message is moved there at once), never consume.
    expect(actionsOf(statementsTouching(granted, ids.dlq as string))).toEqual([
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    for (const table of ['tenants', 'customers', 'ledger', 'idempotency']) {
      expect(actionsOf(statementsTouching(granted, ids[table] as string))).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
      );
    }
    expect(actionsOf(statementsTouching(granted, ids.stripeSecret as string))).toContain(
      'secretsmanager:GetSecretValue',
    );
    expect(actionsOf(statementsTouching(granted, ids.qboAppSecret as string))).toContain(
      'secretsmanager:GetSecretValue',
    );
    expect(actionsOf(statementsTouching(granted, TOKEN_PREFIX))).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
    ]);
    // Writing to the app secrets is nobody's business at run time.
    for (const secret of ['stripeSecret', 'qboAppSecret']) {
      expect(actionsOf(statementsTouching(granted, ids[secret] as string))).not.toContain(
        'secretsmanager:PutSecretValue',
      );
    }
  });

  it('the catch-up reads tenants, the ledger and Stripe, sends to the queue, and refreshes QuickBooks tokens', () => {
    const granted = statements('catchUpRole');
    expect(statementsTouching(granted, ids.tenants as string).length).toBeGreaterThan(0);
    expect(actionsOf(statementsTouching(granted, ids.ledger as string))).toContain('dynamodb:Query');
    // The drift audit notes its findings on ledger rows: UpdateItem, no other write.
    expect(
      actionsOf(statementsTouching(granted, ids.ledger as string)).filter((a) => DYNAMODB_WRITES.includes(a)),
    ).toEqual(['dynamodb:UpdateItem']);
    expect(actionsOf(statementsTouching(granted, ids.queue as string))).toContain('sqs:SendMessage');
    // The keep-alive: the QuickBooks app secret (read) and the token secrets (read, store rotated ones).
    expect(actionsOf(statementsTouching(granted, ids.qboAppSecret as string))).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(actionsOf(statementsTouching(granted, TOKEN_PREFIX))).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
    ]);
    for (const other of ['customers', 'idempotency', 'dlq']) {
      expect({ other, statements: statementsTouching(granted, ids[other] as string) }).toEqual({
        other,
        statements: [],
      });
    }
  });

  it('the OAuth callback reads the QuickBooks app secret, creates/writes token secrets, writes tenants only', () => {
    const granted = statements('qboCallbackRole');
    expect(actionsOf(statementsTouching(granted, ids.qboAppSecret as string))).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(actionsOf(statementsTouching(granted, TOKEN_PREFIX))).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
    ]);
    expect(actionsOf(statementsTouching(granted, ids.tenants as string))).toContain('dynamodb:PutItem');
    for (const other of ['stripeSecret', 'customers', 'ledger', 'idempotency', 'queue', 'dlq']) {
      expect({ other, statements: statementsTouching(granted, ids[other] as string) }).toEqual({
        other,
        statements: [],
      });
    }
  });

  it('token secrets are granted by ARN prefix, in this stack, region and account only', () => {
    const [statement] = statementsTouching(statements('qboCallbackRole'), TOKEN_PREFIX);
    expect(statement?.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:secret:${TOKEN_PREFIX}*`,
        ],
      ],
    });
  });
});

describe('state', () => {
  it('four on-demand tables with PITR, KMS encryption, retained on delete, keys as in ARCHITECTURE.md', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 4);
    template.allResources('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // SSEEnabled without a key: the AWS-managed KMS key (aws/dynamodb).
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      }),
    });
    expect(props(ids.tenants as string).KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(props(ids.customers as string).KeySchema).toEqual([
      { AttributeName: 'realmId', KeyType: 'HASH' },
      { AttributeName: 'email', KeyType: 'RANGE' },
    ]);
    expect(props(ids.ledger as string)).toMatchObject({
      KeySchema: [{ AttributeName: 'payoutId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byTenant',
          KeySchema: [
            { AttributeName: 'tenantId', KeyType: 'HASH' },
            { AttributeName: 'updatedAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    expect(props(ids.idempotency as string)).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  it('three app secrets, retained on delete, created with empty placeholders only', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    expect(
      JSON.parse(props(logicalIdOf(built.stack, built.stack.secrets.stripeWebhook)).SecretString as string),
    ).toEqual({
      webhookSecret: '',
    });
    template.allResources('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
    expect(JSON.parse(props(ids.stripeSecret as string).SecretString as string)).toEqual({
      secretKey: '',
      webhookSecret: '',
    });
    expect(JSON.parse(props(ids.qboAppSecret as string).SecretString as string)).toEqual({
      clientId: '',
      clientSecret: '',
      redirectUri: '',
    });
  });
});

describe('entry points', () => {
  it('routes POST /webhooks/stripe and GET /quickbooks/callback to their functions, throttled', () => {
    const methods = Object.values(resourcesOf(template)).filter((r) => r.Type === 'AWS::ApiGateway::Method');
    const routes = methods.map((m) => {
      const integration = m.Properties?.Integration as { Uri: unknown } | undefined;
      const uri = JSON.stringify(integration?.Uri);
      const target = ['webhook', 'qboCallback', 'console'].find((key) => uri.includes(`"${ids[key]}"`));
      return `${m.Properties?.HttpMethod as string} ${target}`;
    });
    // The support console takes every other path (`ANY /`, `ANY /{proxy+}`; test/cdk/console.test.ts).
    expect(routes.sort()).toEqual(['ANY console', 'ANY console', 'GET qboCallback', 'POST webhook']);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
        }),
      ]),
    });
  });

  it('runs the catch-up daily on an EventBridge schedule and alarms on its errors', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(15 6 * * ? *)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [ids.catchUp, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.catchUp } }],
      AlarmActions: [{ Ref: ids.topic }],
    });
  });

  it('outputs exactly the keys the CLI reads', () => {
    const outputs = (template.toJSON() as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    expect(Object.keys(outputs).sort()).toEqual([...OUTPUT_KEYS].sort());
    expect(outputs.QboTokenSecretPrefix?.Value).toBe(TOKEN_PREFIX);
    expect(outputs.StripeSecretArn?.Value).toEqual({ Ref: ids.stripeSecret });
    expect(outputs.LedgerTable?.Value).toEqual({ Ref: ids.ledger });
    expect(outputs.DlqUrl?.Value).toEqual({ Ref: ids.dlq });
    const stageRef = { Ref: logicalIdOf(built.stack, built.stack.api.api.deploymentStage) };
    for (const [key, path] of [
      ['WebhookUrl', '/webhooks/stripe'],
      ['CallbackUrl', '/quickbooks/callback'],
    ] as const) {
      const value = outputs[key]?.Value as { 'Fn::Join': [string, unknown[]] } | undefined;
      const parts = value?.['Fn::Join'][1] ?? [];
      expect(parts.slice(-3)).toEqual(['/', stageRef, path]);
    }
  });

  it('is environment-agnostic: no account, region or lookups baked in', () => {
    expect(built.stack.environment).toBe('aws://unknown-account/unknown-region');
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toMatch(/\b\d{12}\b/);
    expect(text).not.toMatch(
      /\b(us|eu|ap|ca|sa|me|af)-(east|west|north|south|central|northeast|southeast)-\d\b/,
    );
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports nothing unacknowledged', () => {
    const report = new AwsSolutionsChecks(built.app).validateScope(built.stack);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  it('acknowledges only the reviewed findings, each with its reason', () => {
    const acknowledged: { id: string; at: string; reason: string }[] = [];
    for (const construct of built.stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== 'aws:cdk:acknowledged-rules') continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          acknowledged.push({ id: id.replace(/^annotation::/i, ''), at: construct.node.path, reason });
        }
      }
    }
    for (const { id, reason } of acknowledged)
      expect({ id, long: reason.length >= 60 }).toEqual({ id, long: true });
    expect([...new Set(acknowledged.map((a) => a.id.replace(/\[.*$/, '')))].sort()).toEqual([
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG3',
      'AwsSolutions-APIG4',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-SMG4',
    ]);
    // IAM5 only for the ledger's index and the token-secret prefix, never a blanket acknowledgement.
    expect(
      [...new Set(acknowledged.filter((a) => a.id.startsWith('AwsSolutions-IAM5')).map((a) => a.id))].sort(),
    ).toEqual([
      `AwsSolutions-IAM5[Resource::<${ids.ledger}.Arn>/index/*]`,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${TOKEN_PREFIX}*]`,
    ]);
  });

  it('does flag a non-compliant resource (the check is live)', () => {
    // Prepare
    const app = new App();
    const stack = new Stack(app, 'Bad');
    new Queue(stack, 'PlainQueue');
    // Act
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    // Assess
    expect(report.violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
  });
});
