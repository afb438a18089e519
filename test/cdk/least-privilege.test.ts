/**
 * Least privilege (CONTRACT §7), on one synthesis: the public webhook function can read its signing secrets and the
 * tenants' account index and enqueue, nothing else (no Stripe API key, no QuickBooks, no other items or tables);
 * every function's access to the tenants table is limited to the items it owns (`dynamodb:LeadingKeys`).
 */
import { TENANTS_ITEMS } from '../../lib/constructs/sync-tables.js';
import { connectStateKey } from '../../src/adapters/aws/connect-state-store.js';
import { accountKey, realmKey, tenantKey } from '../../src/adapters/aws/tenant-store.js';
import { refreshLockKey } from '../../src/adapters/aws/token-store.js';
import {
  actionsOf,
  buildTestApp,
  logicalIdOf,
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

beforeAll(() => {
  built = buildTestApp({ 'aws:cdk:bundling-stacks': [] });
  const { stack } = built;
  template = Template.fromStack(stack);
  const { functions, tables, secrets, payoutQueue } = stack;
  Object.assign(ids, {
    webhook: logicalIdOf(stack, functions.webhook.function),
    webhookRole: logicalIdOf(stack, functions.webhook.role),
    depositBuilderRole: logicalIdOf(stack, functions.depositBuilder.role),
    catchUpRole: logicalIdOf(stack, functions.catchUp.role),
    qboCallbackRole: logicalIdOf(stack, functions.qboCallback.role),
    tenants: logicalIdOf(stack, tables.tenants),
    customers: logicalIdOf(stack, tables.customers),
    ledger: logicalIdOf(stack, tables.ledger),
    idempotency: logicalIdOf(stack, tables.idempotency),
    stripeSecret: logicalIdOf(stack, secrets.stripe),
    stripeWebhookSecret: logicalIdOf(stack, secrets.stripeWebhook),
    qboAppSecret: logicalIdOf(stack, secrets.qboApp),
    queue: logicalIdOf(stack, payoutQueue.queue),
    dlq: logicalIdOf(stack, payoutQueue.deadLetterQueue),
  });
});

afterAll(() => built.dispose());

const granted = (role: string) => statementsOfRole(template, ids[role] as string);
const tenantsStatements = (role: string) => statementsTouching(granted(role), ids.tenants as string);

/** The LeadingKeys prefixes a statement is limited to (undefined: not limited). */
function leadingKeys(statement: Statement): string[] | undefined {
  const condition = (statement as { Condition?: Record<string, Record<string, string[]>> }).Condition;
  return condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
}

/** Each keyed action on the tenants table → the prefixes it is limited to. */
function tenantsAccess(role: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const statement of tenantsStatements(role)) {
    for (const action of actionsOf([statement])) {
      if (action === 'dynamodb:Scan' || action === 'dynamodb:DescribeTable') continue;
      const keys = leadingKeys(statement);
      expect({ role, action, limited: keys !== undefined }).toEqual({ role, action, limited: true });
      out[action] = [...(out[action] ?? []), ...(keys ?? [])].sort();
    }
  }
  return out;
}

it('the tenants table expires connect states and refresh locks (TTL attribute ttl)', () => {
  expect(resourcesOf(template)[ids.tenants as string]?.Properties?.TimeToLiveSpecification).toEqual({
    AttributeName: 'ttl',
    Enabled: true,
  });
});

it('the key prefixes the roles are limited to are the ones the stores write', () => {
  expect(tenantKey('t')).toBe(`${TENANTS_ITEMS.tenant}t`);
  expect(accountKey('acct_1')).toBe(`${TENANTS_ITEMS.account}acct_1`);
  expect(connectStateKey('s')).toBe(`${TENANTS_ITEMS.state}s`);
  expect(realmKey('123')).toBe(`${TENANTS_ITEMS.realm}123`);
  expect(refreshLockKey('123')).toBe(`${TENANTS_ITEMS.refreshLock}123`);
});

describe('the webhook role', () => {
  it('reads only the account index of the tenants table, and writes nothing there', () => {
    expect(tenantsAccess('webhookRole')).toEqual({
      'dynamodb:BatchGetItem': ['ACCOUNT#*'],
      'dynamodb:ConditionCheckItem': ['ACCOUNT#*'],
      'dynamodb:GetItem': ['ACCOUNT#*'],
      'dynamodb:Query': ['ACCOUNT#*'],
    });
    expect(actionsOf(tenantsStatements('webhookRole'))).not.toContain('dynamodb:Scan');
  });

  it('has no access to the Stripe API key, QuickBooks, or any other table', () => {
    const all = granted('webhookRole');
    for (const other of ['stripeSecret', 'qboAppSecret', 'customers', 'ledger', 'idempotency', 'dlq']) {
      expect({ other, statements: statementsTouching(all, ids[other] as string) }).toEqual({
        other,
        statements: [],
      });
    }
    expect(statementsTouching(all, 'qbo-tokens')).toEqual([]);
    expect(
      actionsOf(all).filter(
        (a) => a.startsWith('dynamodb:') && !a.match(/Get|Query|ConditionCheck|Describe/),
      ),
    ).toEqual([]);
  });

  it('reads its own signing secrets and enqueues', () => {
    const all = granted('webhookRole');
    expect(actionsOf(statementsTouching(all, ids.stripeWebhookSecret as string))).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(actionsOf(statementsTouching(all, ids.queue as string))).toContain('sqs:SendMessage');
    const env = (
      resourcesOf(template)[ids.webhook as string]?.Properties?.Environment as
        | { Variables: Record<string, unknown> }
        | undefined
    )?.Variables;
    expect(env).toMatchObject({
      STRIPE_MODE: 'test',
      STRIPE_WEBHOOK_SECRET_ARN: { Ref: ids.stripeWebhookSecret },
    });
    expect(env?.STRIPE_SECRET_ARN).toBeUndefined();
  });
});

it('the deposit builder reads tenants and writes only the refresh locks', () => {
  expect(tenantsAccess('depositBuilderRole')).toEqual({
    'dynamodb:BatchGetItem': ['TENANT#*'],
    'dynamodb:ConditionCheckItem': ['LOCK#qbo-refresh#*', 'TENANT#*'],
    'dynamodb:DeleteItem': ['LOCK#qbo-refresh#*'],
    'dynamodb:GetItem': ['TENANT#*'],
    'dynamodb:PutItem': ['LOCK#qbo-refresh#*'],
    'dynamodb:Query': ['TENANT#*'],
    'dynamodb:UpdateItem': ['LOCK#qbo-refresh#*'],
  });
});

it('the catch-up lists the tenants (Scan) and writes only the refresh locks (keep-alive)', () => {
  expect(actionsOf(tenantsStatements('catchUpRole'))).toContain('dynamodb:Scan');
  expect(tenantsAccess('catchUpRole')).toEqual({
    'dynamodb:ConditionCheckItem': ['LOCK#qbo-refresh#*'],
    'dynamodb:DeleteItem': ['LOCK#qbo-refresh#*'],
    'dynamodb:PutItem': ['LOCK#qbo-refresh#*'],
    'dynamodb:UpdateItem': ['LOCK#qbo-refresh#*'],
  });
});

it('the OAuth callback reads states, tenants and realm bindings; writes states, realm bindings and locks', () => {
  const access = tenantsAccess('qboCallbackRole');
  expect(access['dynamodb:GetItem']).toEqual(['REALM#*', 'STATE#*', 'TENANT#*']);
  expect(access['dynamodb:PutItem']).toEqual(['LOCK#qbo-refresh#*', 'REALM#*', 'STATE#*']);
  expect(access['dynamodb:UpdateItem']).toEqual(['LOCK#qbo-refresh#*', 'REALM#*', 'STATE#*']);
  expect(actionsOf(tenantsStatements('qboCallbackRole'))).not.toContain('dynamodb:Scan');
});
