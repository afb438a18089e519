/**
 * The webhook (use case + Lambda handler) on the real local parts: a DynamoDB tenant store and the SQS FIFO queue
 * on the emulators, signatures made the way Stripe makes them. What reaches the queue is read back from it.
 */
import { makeWebhookHandler } from '../../lambdas/webhook.js';
import { SqsPayoutQueue } from '../../src/adapters/aws/queue.js';
import { ingestWebhook, MAX_WEBHOOK_BODY_BYTES, stripeKeyMode } from '../../src/app/ingest-webhook.js';
import { silentLog } from '../../src/app/log.js';
import { buildWebhookDeps, webhookDepsOf } from '../../src/runtime-base.js';
import { generatePayout, makePayoutEvent, signWebhook } from '../../standins/stripe/index.js';
import { type Harness, startHarness, tenantConfig, WEBHOOK_SECRET, webhookEvent } from './harness.js';

let h: Harness;
const { payout } = generatePayout({ seed: 301, transactions: 4 });
const CONNECTED = 'acct_1ConnectedStudio01';

beforeAll(async () => {
  h = await startHarness('webhook');
  await h.addTenant(tenantConfig());
  await h.addTenant(tenantConfig({ id: 'connected-studio', stripeAccount: CONNECTED }));
});

afterAll(async () => {
  await h?.close();
});

beforeEach(async () => {
  // Start every test with an empty queue.
  const { sqs } = h.runtime.clients;
  const { PurgeQueueCommand } = await import('@aws-sdk/client-sqs');
  await sqs.send(new PurgeQueueCommand({ QueueUrl: h.runtime.resources.queueUrl }));
});

function signed(payload: string, secret = WEBHOOK_SECRET, timestamp?: number) {
  return { 'Stripe-Signature': signWebhook(payload, secret, timestamp), 'Content-Type': 'application/json' };
}

const handler = () => makeWebhookHandler(h.runtime.webhookDeps());

it('queues a signed payout.paid for its tenant: group = tenant, dedup = event id', async () => {
  // Prepare
  const event = makePayoutEvent('payout.paid', payout);
  const body = JSON.stringify(event);

  // Act
  const response = await handler()(webhookEvent(body, signed(body)));

  // Assess
  expect(response.statusCode).toBe(200);
  expect(JSON.parse(response.body)).toMatchObject({ queued: true, eventId: event.id, payoutId: payout.id });
  const queued = await h.takeQueue();
  expect(queued).toEqual([
    expect.objectContaining({
      eventId: event.id,
      eventType: 'payout.paid',
      tenantId: 'downtown-yoga',
      stripeAccount: 'platform',
      payoutId: payout.id,
    }),
  ]);
});

it('finds a connected account tenant, reads a base64 body and a header in any case', async () => {
  // Prepare
  const event = makePayoutEvent('payout.reconciliation_completed', payout, { account: CONNECTED });
  const body = JSON.stringify(event);
  const headers = { 'STRIPE-SIGNATURE': signWebhook(body, WEBHOOK_SECRET) };

  // Act
  const response = await handler()(webhookEvent(body, headers, { base64: true }));

  // Assess
  expect(response.statusCode).toBe(200);
  expect(await h.takeQueue()).toEqual([
    expect.objectContaining({ tenantId: 'connected-studio', stripeAccount: CONNECTED }),
  ]);
});

it('answers 400 and queues nothing for a bad, missing or re-serialised signature', async () => {
  // Prepare
  const body = JSON.stringify(makePayoutEvent('payout.paid', payout), null, 2);
  const reserialised = JSON.stringify(JSON.parse(body));

  // Act
  const wrongSecret = await handler()(webhookEvent(body, signed(body, 'whsec_someone_else')));
  const missing = await handler()(webhookEvent(body, {}));
  const tampered = await handler()(webhookEvent(reserialised, signed(body)));

  // Assess
  for (const r of [wrongSecret, missing, tampered]) expect(r.statusCode).toBe(400);
  expect(JSON.parse(missing.body).error).toMatch(/Stripe-Signature/);
  expect(await h.takeQueue()).toEqual([]);
});

it('answers 400 for a timestamp older than 300 s', async () => {
  // Prepare
  const body = JSON.stringify(makePayoutEvent('payout.paid', payout));
  const old = Math.floor(Date.now() / 1000) - 301;

  // Act
  const response = await handler()(webhookEvent(body, signed(body, WEBHOOK_SECRET, old)));
  const fresh = await handler()(webhookEvent(body, signed(body, WEBHOOK_SECRET, old + 60)));

  // Assess
  expect(response.statusCode).toBe(400);
  expect(JSON.parse(response.body).error).toMatch(/older than 300 s/);
  expect(fresh.statusCode).toBe(200);
  expect(await h.takeQueue()).toHaveLength(1);
});

it('answers 413 for a body over 1 MiB before looking at the signature', async () => {
  // Prepare
  const event = makePayoutEvent('payout.paid', payout);
  const big = JSON.stringify({ ...event, padding: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES) });
  const justUnder = JSON.stringify({ ...event, padding: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES - 2000) });

  // Act
  const unsigned = await handler()(webhookEvent(big, {}));
  const badlySigned = await handler()(webhookEvent(big, signed('other')));
  const under = await handler()(webhookEvent(justUnder, signed(justUnder)));

  // Assess
  expect(unsigned.statusCode).toBe(413);
  expect(badlySigned.statusCode).toBe(413);
  expect(under.statusCode).toBe(200);
});

it('answers 200 without queuing for other event types, unknown accounts and the wrong livemode', async () => {
  // Prepare
  const created = JSON.stringify(makePayoutEvent('payout.created', payout));
  const charge = JSON.stringify({
    ...makePayoutEvent('charge.succeeded', payout),
    data: { object: { id: 'ch_1' } },
  });
  const stranger = JSON.stringify(makePayoutEvent('payout.paid', payout, { account: 'acct_1NobodyKnowsMe' }));
  const live = JSON.stringify(makePayoutEvent('payout.paid', payout, { livemode: true }));

  // Act
  const responses = await Promise.all(
    [created, charge, stranger, live].map((body) => handler()(webhookEvent(body, signed(body)))),
  );

  // Assess
  for (const r of responses) expect(r.statusCode).toBe(200);
  const bodies = responses.map((r) => JSON.parse(r.body) as { queued: boolean; ignored: string });
  expect(bodies.map((b) => b.queued)).toEqual([false, false, false, false]);
  expect(bodies[0]?.ignored).toMatch(/payout.created/);
  expect(bodies[2]?.ignored).toMatch(/acct_1NobodyKnowsMe/);
  expect(bodies[3]?.ignored).toMatch(/live-mode event.*serves Stripe test mode/);
  expect(await h.takeQueue()).toEqual([]);
});

it('answers 400 for a signed body that is not a Stripe event', async () => {
  // Prepare
  const notEvent = JSON.stringify({ hello: 'world' });
  const noPayout = JSON.stringify({
    ...makePayoutEvent('payout.paid', payout),
    data: { object: { id: 'x' } },
  });

  // Act
  const a = await handler()(webhookEvent(notEvent, signed(notEvent)));
  const b = await handler()(webhookEvent(noPayout, signed(noPayout)));

  // Assess
  expect(a.statusCode).toBe(400);
  expect(JSON.parse(a.body).error).toMatch(/not a Stripe event/);
  expect(b.statusCode).toBe(400);
  expect(JSON.parse(b.body).error).toMatch(/payout/);
  expect(await h.takeQueue()).toEqual([]);
});

it('answers 500 when the event cannot be queued, so Stripe retries', async () => {
  // Prepare: a queue that does not exist
  const deps = {
    ...h.runtime.webhookDeps(),
    queue: new SqsPayoutQueue({
      sqs: h.runtime.clients.sqs,
      queueUrl: `${h.runtime.resources.queueUrl.replace(/[^/]+$/, '')}missing-${Date.now()}.fifo`,
    }),
  };
  const body = JSON.stringify(makePayoutEvent('payout.paid', payout));

  // Act
  const response = await makeWebhookHandler(deps)(webhookEvent(body, signed(body)));

  // Assess
  expect(response.statusCode).toBe(500);
  expect(JSON.parse(response.body).error).toMatch(/Stripe will retry/);
});

it('answers 500 (never an unverified fallback) when no signing secret is configured', async () => {
  // Prepare
  const body = JSON.stringify(makePayoutEvent('payout.paid', payout));

  // Act
  const response = await ingestWebhook(
    { ...h.runtime.webhookDeps(), webhookSecret: '' },
    { rawBody: Buffer.from(body), signature: signWebhook(body, WEBHOOK_SECRET) },
  );

  // Assess
  expect(response.status).toBe(500);
  expect(await h.takeQueue()).toEqual([]);
});

it('accepts a delivery signed with any of several comma-separated secrets (platform + Connect endpoints), and no other', async () => {
  // Prepare
  const connectSecret = 'whsec_connect_endpoint_secret';
  const deps = { ...h.runtime.webhookDeps(), webhookSecret: `${WEBHOOK_SECRET}, ${connectSecret}` };
  const platformBody = JSON.stringify(makePayoutEvent('payout.paid', payout));
  const connectBody = JSON.stringify(makePayoutEvent('payout.paid', payout, { account: CONNECTED }));

  // Act
  const platform = await ingestWebhook(deps, {
    rawBody: Buffer.from(platformBody),
    signature: signWebhook(platformBody, WEBHOOK_SECRET),
  });
  const connect = await ingestWebhook(deps, {
    rawBody: Buffer.from(connectBody),
    signature: signWebhook(connectBody, connectSecret),
  });
  const stranger = await ingestWebhook(deps, {
    rawBody: Buffer.from(connectBody),
    signature: signWebhook(connectBody, 'whsec_someone_else'),
  });

  // Assess
  expect([platform.status, connect.status, stranger.status]).toEqual([200, 200, 400]);
  const queued = await h.takeQueue();
  expect(queued.map((m) => m.tenantId).sort()).toEqual(['connected-studio', 'downtown-yoga']);
});

it('builds its dependencies lazily from the environment, and answers 500 while they cannot be built', async () => {
  // Prepare
  const body = JSON.stringify(makePayoutEvent('payout.paid', payout));
  const fromEnv = makeWebhookHandler(() => buildWebhookDeps(h.env, { log: silentLog }));
  const { TENANTS_TABLE: _omitted, ...incomplete } = h.env;
  const broken = makeWebhookHandler(() => buildWebhookDeps(incomplete, { log: silentLog }));

  // Act
  const ok = await fromEnv(webhookEvent(body, signed(body)));
  const notConfigured = await broken(webhookEvent(body, signed(body)));

  // Assess
  expect(ok.statusCode).toBe(200);
  expect(notConfigured.statusCode).toBe(500);
});

it('tells the key mode from the secret key', () => {
  expect(stripeKeyMode('sk_live_abc')).toBe('live');
  expect(stripeKeyMode('rk_live_abc')).toBe('live');
  expect(stripeKeyMode('sk_test_abc')).toBe('test');
});

describe('signing secrets marked platform or Connect', () => {
  const PLATFORM = 'whsec_platform_endpoint_secret';
  const CONNECT = 'whsec_connect_endpoint_secret';
  const marked = () => ({
    ...h.runtime.webhookDeps(),
    webhookSecret: `platform:${PLATFORM}, connect:${CONNECT}`,
  });
  const deliver = (deps: ReturnType<typeof marked>, body: string, secret: string) =>
    ingestWebhook(deps, { rawBody: Buffer.from(body), signature: signWebhook(body, secret) });

  it('accepts each kind signed by its own endpoint’s secret and refuses one signed by the other kind', async () => {
    // Prepare
    const platformBody = JSON.stringify(makePayoutEvent('payout.paid', payout));
    const connectBody = JSON.stringify(makePayoutEvent('payout.paid', payout, { account: CONNECTED }));

    // Act
    const results = await Promise.all([
      deliver(marked(), platformBody, PLATFORM),
      deliver(marked(), connectBody, CONNECT),
      deliver(marked(), connectBody, PLATFORM),
      deliver(marked(), platformBody, CONNECT),
    ]);

    // Assess
    expect(results.map((r) => r.status)).toEqual([200, 200, 400, 400]);
    expect(JSON.stringify(results[2]?.body)).toMatch(
      /a Connect event signed with the platform endpoint's secret/,
    );
    expect(JSON.stringify(results[3]?.body)).toMatch(
      /a platform event signed with the Connect endpoint's secret/,
    );
    const queued = await h.takeQueue();
    expect(queued.map((m) => m.tenantId).sort()).toEqual(['connected-studio', 'downtown-yoga']);
  });

  it('the deployed webhook reads only its own secret, refuses unmarked entries, and re-reads a rolled secret once', async () => {
    // Prepare: the webhook's own secret in the Secrets Manager emulator; no Stripe API key anywhere.
    const { CreateSecretCommand, PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const { secrets } = h.runtime.clients;
    const name = `${h.prefix}/stripe-webhook`;
    const created = await secrets.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: JSON.stringify({ webhookSecret: `platform:${PLATFORM}` }),
      }),
    );
    const {
      STRIPE_SECRET_KEY: _key,
      STRIPE_WEBHOOK_SECRET: _secret,
      STRIPE_SECRET_ARN: _arn,
      ...rest
    } = h.env;
    const env = { ...rest, STRIPE_WEBHOOK_SECRET_ARN: String(created.ARN), STRIPE_MODE: 'test' };
    const deps = await buildWebhookDeps(env, { log: silentLog });
    const body = () => JSON.stringify(makePayoutEvent('payout.paid', payout));

    // Act: Stripe rolls the platform secret; the new one is put in the secret, the container is warm.
    const b0 = body();
    const before = await ingestWebhook(deps, {
      rawBody: Buffer.from(b0),
      signature: signWebhook(b0, PLATFORM),
    });
    const ROLLED = 'whsec_rolled_platform_secret';
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: JSON.stringify({ webhookSecret: `platform:${ROLLED}` }),
      }),
    );
    const b1 = body();
    const afterRoll = await ingestWebhook(deps, {
      rawBody: Buffer.from(b1),
      signature: signWebhook(b1, ROLLED),
    });
    const b2 = body();
    const stranger = await ingestWebhook(deps, {
      rawBody: Buffer.from(b2),
      signature: signWebhook(b2, 'whsec_x'),
    });
    const b3 = body();
    const stillRolled = await ingestWebhook(deps, {
      rawBody: Buffer.from(b3),
      signature: signWebhook(b3, ROLLED),
    });

    // Assess
    expect([before.status, afterRoll.status, stranger.status, stillRolled.status]).toEqual([
      200, 200, 400, 200,
    ]);
    await h.takeQueue();
    // Unmarked entries in the deployed secret are refused at cold start, naming how to mark them.
    const unmarked = await secrets.send(
      new CreateSecretCommand({
        Name: `${name}-unmarked`,
        SecretString: JSON.stringify({ webhookSecret: PLATFORM }),
      }),
    );
    await expect(
      buildWebhookDeps({ ...env, STRIPE_WEBHOOK_SECRET_ARN: String(unmarked.ARN) }, { log: silentLog }),
    ).rejects.toThrow(/not marked: write each as "platform:whsec_…"/);
    // And without STRIPE_MODE it does not guess from a key it cannot read.
    const { STRIPE_MODE: _mode, ...noMode } = env;
    await expect(buildWebhookDeps(noMode, { log: silentLog })).rejects.toThrow(
      /missing setting: STRIPE_MODE/,
    );
  });

  it('re-reads at most once a minute: a flood of bad signatures does not hammer the secret store', async () => {
    let reads = 0;
    let clock = 0;
    const deps = webhookDepsOf({
      tenants: h.runtime.tenants,
      queue: h.runtime.queue,
      webhookSecret: `platform:${PLATFORM}`,
      stripeMode: 'test',
      reread: async () => {
        reads += 1;
        return `platform:${PLATFORM}`;
      },
      log: silentLog,
      now: () => clock,
    });
    const b = JSON.stringify(makePayoutEvent('payout.paid', payout));
    for (let i = 0; i < 5; i++)
      await ingestWebhook(deps, { rawBody: Buffer.from(b), signature: signWebhook(b, 'whsec_bad') });
    clock += 61_000;
    await ingestWebhook(deps, { rawBody: Buffer.from(b), signature: signWebhook(b, 'whsec_bad') });
    expect(reads).toBe(2);
  });
});
