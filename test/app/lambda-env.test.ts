/**
 * Each Lambda entry point, built lazily from exactly the environment the CDK stack gives that function (the
 * credentials in Secrets Manager on the emulator, not in plain variables), handles a real request.
 */
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { makeCatchUpHandler } from '../../lambdas/catch-up.js';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { makeQboCallbackHandler } from '../../lambdas/qbo-callback.js';
import { handler as webhookHandler } from '../../lambdas/webhook.js';
import { silentLog } from '../../src/app/log.js';
import { buildCatchUpDeps, buildConnectDeps, buildRuntime } from '../../src/runtime.js';
import { generatePayout, makePayoutEvent, signWebhook } from '../../standins/stripe/index.js';
import {
  drainQueue,
  type Harness,
  STRIPE_KEY,
  startHarness,
  tenantConfig,
  WEBHOOK_SECRET,
} from './harness.js';

let h: Harness;
const vars: Record<string, string> = {};
let saved: NodeJS.ProcessEnv;

/** The AWS SDK's own settings (region, dummy credentials, emulator endpoints) and logging: the Lambda runtime's. */
function runtimeEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k.startsWith('AWS_') || k.startsWith('POWERTOOLS_')),
  );
}

function only(names: string[]): NodeJS.ProcessEnv {
  const env = runtimeEnv();
  for (const name of names) {
    const value = vars[name];
    if (value === undefined) throw new Error(`test set-up: no value for ${name}`);
    env[name] = value;
  }
  return env;
}

beforeAll(async () => {
  saved = { ...process.env };
  h = await startHarness('lambda-env');
  await h.addTenant(tenantConfig());
  const secrets = h.runtime.clients.secrets;
  const stripe = await secrets.send(
    new CreateSecretCommand({
      Name: `${h.prefix}/stripe`,
      SecretString: JSON.stringify({ secretKey: STRIPE_KEY, webhookSecret: WEBHOOK_SECRET }),
    }),
  );
  // The webhook's own secret: only the signing secrets, each marked with its endpoint.
  const webhook = await secrets.send(
    new CreateSecretCommand({
      Name: `${h.prefix}/stripe-webhook`,
      SecretString: JSON.stringify({ webhookSecret: `platform:${WEBHOOK_SECRET}` }),
    }),
  );
  const qbo = await secrets.send(
    new CreateSecretCommand({
      Name: `${h.prefix}/qbo-app`,
      SecretString: JSON.stringify({
        clientId: h.qbo.clientId,
        clientSecret: h.qbo.clientSecret,
        redirectUri: 'http://127.0.0.1:9/quickbooks/callback',
      }),
    }),
  );
  for (const name of [
    'TENANTS_TABLE',
    'CUSTOMERS_TABLE',
    'LEDGER_TABLE',
    'IDEMPOTENCY_TABLE',
    'QUEUE_URL',
    'DLQ_URL',
    'QBO_TOKEN_SECRET_PREFIX',
    'STRIPE_API_BASE',
    'QBO_API_BASE',
    'QBO_OAUTH_TOKEN_URL',
    'MAX_RECEIVE_COUNT',
  ]) {
    vars[name] = String(h.env[name]);
  }
  vars.STRIPE_SECRET_ARN = String(stripe.ARN);
  vars.STRIPE_WEBHOOK_SECRET_ARN = String(webhook.ARN);
  vars.STRIPE_MODE = 'test';
  vars.QBO_APP_SECRET_ARN = String(qbo.ARN);
});

afterAll(async () => {
  process.env = saved;
  await h?.close();
});

it('webhook → deposit builder → catch-up → callback, each from its own environment', async () => {
  // Prepare
  const { payout, transactions } = generatePayout({
    seed: 601,
    transactions: 6,
    arrivalDate: Math.floor(Date.now() / 1000) - 86_400,
  });
  h.addPayout(payout, transactions);
  const body = JSON.stringify(makePayoutEvent('payout.paid', payout));
  // The exported webhook handler reads process.env on its first call: give it the webhook function's variables.
  process.env = only(['TENANTS_TABLE', 'QUEUE_URL', 'STRIPE_WEBHOOK_SECRET_ARN', 'STRIPE_MODE']);
  const builder = makeDepositBuilderHandler(async () =>
    depositBuilderDepsFromRuntime(
      await buildRuntime(
        only([
          'TENANTS_TABLE',
          'CUSTOMERS_TABLE',
          'LEDGER_TABLE',
          'IDEMPOTENCY_TABLE',
          'STRIPE_SECRET_ARN',
          'QBO_APP_SECRET_ARN',
          'QBO_TOKEN_SECRET_PREFIX',
          'QUEUE_URL',
          'DLQ_URL',
          'MAX_RECEIVE_COUNT',
          'STRIPE_API_BASE',
          'QBO_API_BASE',
          'QBO_OAUTH_TOKEN_URL',
        ]),
        { log: silentLog },
      ),
    ),
  );
  const catchUp = makeCatchUpHandler(() =>
    buildCatchUpDeps(
      only([
        'TENANTS_TABLE',
        'LEDGER_TABLE',
        'STRIPE_SECRET_ARN',
        'QUEUE_URL',
        'STRIPE_API_BASE',
        'STRIPE_MODE',
        'QBO_APP_SECRET_ARN',
        'QBO_TOKEN_SECRET_PREFIX',
        'QBO_OAUTH_TOKEN_URL',
        // The drift audit reads QuickBooks (the stack sets it with the deposit builder's, when configured).
        'QBO_API_BASE',
      ]),
      {
        log: silentLog,
      },
    ),
  );
  const callback = makeQboCallbackHandler(() =>
    buildConnectDeps(
      only(['TENANTS_TABLE', 'QBO_APP_SECRET_ARN', 'QBO_TOKEN_SECRET_PREFIX', 'QBO_OAUTH_TOKEN_URL']),
      {
        log: silentLog,
      },
    ),
  );

  // Act
  const answer = await webhookHandler({
    body,
    isBase64Encoded: false,
    headers: { 'Stripe-Signature': signWebhook(body, WEBHOOK_SECRET) },
    multiValueHeaders: {},
  } as unknown as APIGatewayProxyEvent);
  process.env = saved;
  const drained = await drainQueue(h, builder);
  const caughtUp = await catchUp();
  const page = await callback({ queryStringParameters: { state: 'unknown', code: 'x', realmId: '1' } });

  // Assess
  expect(answer.statusCode).toBe(200);
  expect(drained).toMatchObject({ processed: 1, failures: 0 });
  expect(await h.runtime.ledger.get(payout.id)).toMatchObject({ status: 'POSTED' });
  expect(caughtUp.enqueued).toEqual([]);
  expect(caughtUp.seen).toBeGreaterThanOrEqual(1);
  // Its dependencies were built (a 500 would say otherwise): the state is unknown.
  expect(page.statusCode).toBe(400);
  expect(page.body).toMatch(/unknown or was already used/);
});
