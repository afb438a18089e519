// loadSettings: environment first, else the Secrets Manager secrets (through Powertools), validated, cached.
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { loadSettings, loadStripeSettings, resetSettingsCache } from '../../src/adapters/aws/settings.js';
import { uniquePrefix } from './aws-test-helpers.js';

const { secrets } = awsClients();
const prefix = uniquePrefix('settings');

async function secret(name: string, value: unknown): Promise<string> {
  const out = await secrets.send(
    new CreateSecretCommand({
      Name: `${prefix}/${name}`,
      SecretString: typeof value === 'string' ? value : JSON.stringify(value),
    }),
  );
  return out.ARN ?? '';
}

beforeEach(() => resetSettingsCache());

it('reads everything from the environment when set, touching no secret', async () => {
  const settings = await loadSettings({
    env: {
      STRIPE_SECRET_KEY: 'sk_test_123',
      STRIPE_WEBHOOK_SECRET: 'whsec_abc',
      QBO_CLIENT_ID: 'client',
      QBO_CLIENT_SECRET: 'shh',
      STRIPE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:does-not-exist-abcdef',
    },
  });
  expect(settings).toEqual({
    stripeSecretKey: 'sk_test_123',
    stripeWebhookSecret: 'whsec_abc',
    qboClientId: 'client',
    qboClientSecret: 'shh',
  });
});

it('reads the secrets named by STRIPE_SECRET_ARN and QBO_APP_SECRET_ARN; an env var wins over its field', async () => {
  // Prepare
  const stripeArn = await secret('stripe', { secretKey: 'sk_live_456', webhookSecret: 'whsec_from_secret' });
  const qboArn = await secret('qbo', {
    clientId: 'cid',
    clientSecret: 'csecret',
    redirectUri: 'https://example.com/qbo/callback',
  });

  // Act
  const settings = await loadSettings({
    env: { STRIPE_SECRET_ARN: stripeArn, QBO_APP_SECRET_ARN: qboArn, STRIPE_WEBHOOK_SECRET: 'whsec_env' },
  });

  // Assess
  expect(settings).toEqual({
    stripeSecretKey: 'sk_live_456',
    stripeWebhookSecret: 'whsec_env',
    qboClientId: 'cid',
    qboClientSecret: 'csecret',
    qboRedirectUri: 'https://example.com/qbo/callback',
  });
});

it('is cached per cold start; forceFetch reads the secret again', async () => {
  const arn = await secret('cached', { secretKey: 'sk_test_first', webhookSecret: 'w' });
  const env = { STRIPE_SECRET_ARN: arn };
  expect((await loadStripeSettings({ env })).stripeSecretKey).toBe('sk_test_first');

  await secrets.send(
    new PutSecretValueCommand({
      SecretId: arn,
      SecretString: JSON.stringify({ secretKey: 'sk_test_second', webhookSecret: 'w' }),
    }),
  );

  expect((await loadStripeSettings({ env })).stripeSecretKey).toBe('sk_test_first');
  expect((await loadStripeSettings({ env, forceFetch: true })).stripeSecretKey).toBe('sk_test_second');
});

it('names every missing setting and where it could come from', async () => {
  await expect(loadSettings({ env: { QBO_CLIENT_ID: 'x', QBO_CLIENT_SECRET: 'y' } })).rejects.toThrow(
    'missing setting: STRIPE_SECRET_KEY (or field "secretKey" of the secret named by STRIPE_SECRET_ARN); STRIPE_SECRET_ARN is not set either',
  );
  resetSettingsCache();
  const arn = await secret('partial', { clientId: 'only-id' });
  await expect(
    loadSettings({
      env: { STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_WEBHOOK_SECRET: 'w', QBO_APP_SECRET_ARN: arn },
    }),
  ).rejects.toThrow(
    'missing setting: QBO_CLIENT_SECRET (or field "clientSecret" of the secret named by QBO_APP_SECRET_ARN)',
  );
});

it('rejects a value of the wrong shape without repeating it', async () => {
  const err = await loadStripeSettings({
    env: { STRIPE_SECRET_KEY: 'pk_test_oops', STRIPE_WEBHOOK_SECRET: 'w' },
  }).then(
    () => new Error('expected a rejection'),
    (e: unknown) => e as Error,
  );
  expect(err.message).toBe(
    'invalid setting: STRIPE_SECRET_KEY / STRIPE_SECRET_ARN.secretKey is not a Stripe secret key (sk_test_… or sk_live_…)',
  );
  expect(err.message).not.toContain('pk_test_oops');
});

it('reports a secret that is not JSON, or missing, without quoting it', async () => {
  const arn = await secret('garbage', 'sk_live_leaked not json');
  const err = await loadStripeSettings({ env: { STRIPE_SECRET_ARN: arn } }).then(
    () => new Error('expected a rejection'),
    (e: unknown) => e as Error,
  );
  expect(err.message).toMatch(/named by STRIPE_SECRET_ARN: it does not hold JSON/);
  expect(err.message).not.toContain('leaked');
  resetSettingsCache();
  await expect(loadStripeSettings({ env: { STRIPE_SECRET_ARN: `${prefix}/absent` } })).rejects.toThrow(
    /could not read the secret .*absent named by STRIPE_SECRET_ARN/,
  );
});
