/**
 * The support console's part of the stack (lib/constructs/support-console.ts), on one synthesis: the Cognito user
 * pool (no self sign-up, strong passwords, MFA, Plus plan with threat protection, retained), its groups support and
 * viewer, the hosted UI domain, a public app client with only the code grant and the console's callback; the
 * function's environment and least-privilege grants; its routes on the existing API; cdk-nag clean.
 */

import { AwsSolutionsChecks } from 'cdk-nag';
import {
  actionsOf,
  buildTestApp,
  logicalIdOf,
  Match,
  resourcesOf,
  type Statement,
  statementsOfRole,
  Template,
  type TestApp,
} from './cdk-app.js';

let built: TestApp;
let template: Template;
const ids = {} as Record<
  | 'fn'
  | 'role'
  | 'pool'
  | 'client'
  | 'ledger'
  | 'tenants'
  | 'customers'
  | 'idempotency'
  | 'queue'
  | 'dlq'
  | 'api',
  string
>;

beforeAll(() => {
  built = buildTestApp({ 'aws:cdk:bundling-stacks': [] });
  const { stack } = built;
  template = Template.fromStack(stack);
  const c = stack.supportConsole;
  Object.assign(ids, {
    fn: logicalIdOf(stack, c.fn.function),
    role: logicalIdOf(stack, c.fn.role),
    pool: logicalIdOf(stack, c.userPool),
    client: logicalIdOf(stack, c.client),
    ledger: logicalIdOf(stack, stack.tables.ledger),
    tenants: logicalIdOf(stack, stack.tables.tenants),
    customers: logicalIdOf(stack, stack.tables.customers),
    idempotency: logicalIdOf(stack, stack.tables.idempotency),
    queue: logicalIdOf(stack, stack.payoutQueue.queue),
    dlq: logicalIdOf(stack, stack.payoutQueue.deadLetterQueue),
    api: logicalIdOf(stack, stack.api.api),
  });
});

afterAll(() => built.dispose());

const props = (id: string) => resourcesOf(template)[id]?.Properties ?? {};
const json = (value: unknown) => JSON.stringify(value);

describe('the user pool', () => {
  it('lets only invited people in, with strong passwords, TOTP MFA and threat protection, and is retained', () => {
    template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        MfaConfiguration: 'ON',
        EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
        UserPoolTier: 'PLUS',
        UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
        DeletionProtection: 'ACTIVE',
        UsernameAttributes: ['email'],
        Policies: {
          PasswordPolicy: Match.objectLike({
            MinimumLength: 12,
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
          }),
        },
      }),
    });
  });

  it('has exactly the groups support and viewer, and a hosted sign-in domain', () => {
    const groups = Object.values(resourcesOf(template))
      .filter((r) => r.Type === 'AWS::Cognito::UserPoolGroup')
      .map((r) => [r.Properties?.GroupName, json(r.Properties?.UserPoolId)]);
    expect(groups.map(([name]) => name).sort()).toEqual(['support', 'viewer']);
    for (const [, pool] of groups) expect(pool).toBe(json({ Ref: ids.pool }));
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      UserPoolId: { Ref: ids.pool },
      Domain: { 'Fn::Join': ['', ['qbo-sync-dev-', { Ref: 'AWS::AccountId' }]] },
    });
  });

  it('has one public app client: the code grant only, back to the console’s own callback', () => {
    const client = props(ids.client);
    expect(client.GenerateSecret).toBe(false);
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
    expect(client.PreventUserExistenceErrors).toBe('ENABLED');
    const callback = json(client.CallbackURLs);
    expect(callback).toContain(json({ Ref: ids.api }).slice(1, -1));
    expect(callback).toContain('/v1/auth/callback');
    expect(json(client.LogoutURLs)).toContain('/v1/');
  });
});

describe('the console function', () => {
  it('is served at ANY / and ANY /{proxy+} of the API, whose stage its URL names', () => {
    const methods = Object.values(resourcesOf(template)).filter(
      (r) => r.Type === 'AWS::ApiGateway::Method' && json(r.Properties?.Integration).includes(`"${ids.fn}"`),
    );
    expect(methods.map((m) => [m.Properties?.HttpMethod, m.Properties?.AuthorizationType])).toEqual([
      ['ANY', 'NONE'],
      ['ANY', 'NONE'],
    ]);
    const stage = Object.values(resourcesOf(template)).find((r) => r.Type === 'AWS::ApiGateway::Stage');
    const env = (props(ids.fn).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(json(env.CONSOLE_URL)).toContain(`/${stage?.Properties?.StageName as string}"`);
  });

  it('gets the resource names it needs and the Cognito settings, nothing else', () => {
    const env = (props(ids.fn).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual(
      [
        'CONSOLE_AUTH_DOMAIN',
        'CONSOLE_CLIENT_ID',
        'CONSOLE_URL',
        'CONSOLE_USER_POOL_ID',
        'CUSTOMERS_TABLE',
        'DLQ_URL',
        'IDEMPOTENCY_TABLE',
        'LEDGER_TABLE',
        'MAX_RECEIVE_COUNT',
        'NODE_OPTIONS',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_SERVICE_NAME',
        'QBO_APP_SECRET_ARN',
        'QBO_TOKEN_SECRET_PREFIX',
        'QUEUE_URL',
        'STRIPE_SECRET_ARN',
        'TENANTS_TABLE',
      ].sort(),
    );
    expect(env.CONSOLE_USER_POOL_ID).toEqual({ Ref: ids.pool });
    expect(env.CONSOLE_CLIENT_ID).toEqual({ Ref: ids.client });
    expect(env.POWERTOOLS_SERVICE_NAME).toBe('qbo-sync-console');
  });

  it('may read and record on the ledger but never delete; writes tenants only for the token refresh lock', () => {
    const statements = statementsOfRole(template, ids.role);
    const on = (id: string) => statements.filter((s) => json(s.Resource).includes(`"${id}"`));
    const ledger = on(ids.ledger);
    expect(actionsOf(ledger)).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:Scan',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    const tenantWrites = on(ids.tenants).filter((s) =>
      actionsOf([s]).some((a) => /Put|Update|Delete/.test(a)),
    );
    expect(tenantWrites).toHaveLength(1);
    expect((tenantWrites[0] as Statement & { Condition?: unknown }).Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['LOCK#qbo-refresh#*'] },
    });
    expect(actionsOf(on(ids.customers)).filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
    expect(on(ids.idempotency)).toEqual([]);
    expect(actionsOf(on(ids.queue))).toEqual([
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    expect(actionsOf(on(ids.dlq))).toEqual(
      expect.arrayContaining([
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:SendMessage',
      ]),
    );
    for (const s of statements) {
      for (const action of actionsOf([s])) expect(action).not.toMatch(/\*$/);
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing in the console’s resources; the API routes’ acknowledgements give their reasons', () => {
    const report = new AwsSolutionsChecks(built.app).validateScope(built.stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    const reasons: string[] = [];
    for (const construct of built.stack.node.findAll()) {
      if (!construct.node.path.includes('{proxy+}') && !/\/Api\/Default\/ANY/.test(construct.node.path))
        continue;
      for (const entry of construct.node.metadata) {
        if (entry.type === 'aws:cdk:acknowledged-rules') reasons.push(...Object.keys(entry.data as object));
      }
    }
    expect([...new Set(reasons.map((r) => r.replace(/^annotation::/i, '')))].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-COG4',
    ]);
    // The Plus plan and MFA are on: nothing about the user pool is acknowledged away.
    const poolPath = built.stack.supportConsole.userPool.node.path;
    for (const construct of built.stack.node.findAll()) {
      if (!construct.node.path.startsWith(poolPath)) continue;
      expect(construct.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')).toEqual([]);
    }
  });
});
