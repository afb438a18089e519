/**
 * Fuzzing the webhook endpoint (CONTRACT §1) with fast-check: random bodies (text, bytes, JSON, mutated Stripe
 * events), random headers (no signature, garbage, a valid signature of something else, a stale one, the right one)
 * and random encodings (base64 or not, valid or broken). Properties:
 * - the answer is 200, 400 or 413 — never 500 (nothing here is a failure of ours) and never anything else;
 * - nothing is queued unless the signature is valid for those exact bytes, with the endpoint's secret, and fresh;
 * - a body over 1 MiB is 413 whatever else is wrong with it.
 * Once through the Lambda handler (API Gateway events) and once over real HTTP (local mode's API Gateway).
 */
import { request } from 'node:http';
import fc from 'fast-check';
import { makeWebhookHandler } from '../../lambdas/webhook.js';
import { MAX_WEBHOOK_BODY_BYTES } from '../../src/app/ingest-webhook.js';
import type { PayoutMessage, PayoutQueue } from '../../src/app/ports.js';
import { startLocalHttpServer } from '../../src/local/http.js';
import { generatePayout, makePayoutEvent } from '../../standins/stripe/index.js';
import {
  type Harness,
  signBytes,
  startHarness,
  tenantConfig,
  WEBHOOK_SECRET,
  webhookEvent,
} from './helpers.js';

let h: Harness;
const CONNECTED = 'acct_1FuzzConnectedStudio';
const { payout } = generatePayout({ seed: 4242, transactions: 3 });
const queued: PayoutMessage[] = [];

beforeAll(async () => {
  h = await startHarness('fuzzhook');
  await h.addTenant(tenantConfig());
  await h.addTenant(tenantConfig({ id: 'connected-studio', stripeAccount: CONNECTED }));
});

afterAll(async () => {
  await h?.close();
});

/** The real SQS queue, recording what reached it. */
function recordingQueue(): PayoutQueue {
  return {
    enqueue: async (message) => {
      await h.runtime.queue.enqueue(message);
      queued.push(message);
    },
  };
}

const handler = () => makeWebhookHandler({ ...h.runtime.webhookDeps(), queue: recordingQueue() });

// ------------------------------------------------------------------------------------------ arbitraries

const eventTypes = fc.constantFrom(
  'payout.paid',
  'payout.reconciliation_completed',
  'payout.failed',
  'payout.canceled',
  'payout.created',
  'charge.succeeded',
  '',
);

/** Stripe-shaped events, some valid and some subtly (or grossly) wrong. */
const stripeEvent = fc
  .record({
    type: eventTypes,
    account: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: fc.constant(CONNECTED) },
      { weight: 1, arbitrary: fc.constant('acct_1Unknown') },
      { weight: 1, arbitrary: fc.string({ maxLength: 3000 }) },
    ),
    livemode: fc.constantFrom(false, false, false, true),
    mutate: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      {
        weight: 2,
        arbitrary: fc.tuple(
          fc.constantFrom(
            'id',
            'object',
            'type',
            'livemode',
            'created',
            'data',
            'account',
            'data.object',
            'data.object.id',
          ),
          fc.anything({ maxDepth: 2 }),
        ),
      },
    ),
  })
  .map(({ type, account, livemode, mutate }) => {
    const event = makePayoutEvent(type, payout, {
      livemode,
      ...(account !== undefined ? { account } : {}),
    }) as unknown as Record<string, unknown>;
    if (mutate !== undefined) {
      const [path, value] = mutate;
      const keys = path.split('.');
      let target = event;
      for (const key of keys.slice(0, -1)) {
        const next = target[key];
        if (typeof next !== 'object' || next === null) break;
        target = next as Record<string, unknown>;
      }
      target[keys[keys.length - 1] as string] = value;
    }
    return Buffer.from(JSON.stringify(event), 'utf8');
  });

const body = fc.oneof(
  { weight: 4, arbitrary: stripeEvent },
  { weight: 1, arbitrary: fc.string({ maxLength: 400 }).map((s) => Buffer.from(s, 'utf8')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((s) => Buffer.from(s, 'utf8')) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);

type SignatureKind =
  | 'none'
  | 'garbage'
  | 'valid'
  | 'other-body'
  | 'wrong-secret'
  | 'stale'
  | 'future'
  | 'extra-schemes';

const signatureKind = fc.constantFrom<SignatureKind>(
  'none',
  'garbage',
  'valid',
  'valid',
  'valid',
  'other-body',
  'wrong-secret',
  'stale',
  'future',
  'extra-schemes',
);

function signatureFor(kind: SignatureKind, bytes: Buffer, garbage: string): string | undefined {
  const now = Math.floor(Date.now() / 1000);
  switch (kind) {
    case 'none':
      return undefined;
    case 'garbage':
      return garbage;
    case 'valid':
      return signBytes(bytes, WEBHOOK_SECRET, now);
    case 'other-body':
      return signBytes(Buffer.concat([bytes, Buffer.from(' ')]), WEBHOOK_SECRET, now);
    case 'wrong-secret':
      return signBytes(bytes, 'whsec_not_the_endpoint_secret', now);
    case 'stale':
      return signBytes(bytes, WEBHOOK_SECRET, now - 301);
    case 'future':
      return signBytes(bytes, WEBHOOK_SECRET, now + 3600);
    case 'extra-schemes':
      return `${signBytes(bytes, WEBHOOK_SECRET, now)},v0=deadbeef,v1=${'0'.repeat(64)},x=${garbage.replace(/,/g, '')}`;
  }
}

/** Whether the signature would convince Stripe's verifier: valid bytes, our secret, within 300 s. */
const trusted = (kind: SignatureKind) => kind === 'valid' || kind === 'extra-schemes' || kind === 'future';

const headerName = fc.constantFrom(
  'Stripe-Signature',
  'stripe-signature',
  'STRIPE-SIGNATURE',
  'Stripe-Signature',
  'Stripe_Signature',
  'X-Stripe-Signature',
);
const otherHeaders = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !/signature/i.test(k)),
  fc.string({ maxLength: 100 }),
  { maxKeys: 4 },
);

const delivery = fc.record({
  body,
  kind: signatureKind,
  garbage: fc.string({ maxLength: 200 }),
  name: headerName,
  headers: otherHeaders,
  encoding: fc.constantFrom<'text' | 'base64' | 'broken-base64'>('text', 'base64', 'base64', 'broken-base64'),
});

// ------------------------------------------------------------------------------------------ properties

it('random deliveries at the Lambda handler: only 200, 400 or 413, and nothing queued without a valid signature', async () => {
  const statuses = new Map<number, number>();
  let queuedCount = 0;
  await fc.assert(
    fc.asyncProperty(delivery, async (d) => {
      // Prepare: what API Gateway would hand the Lambda
      let event: ReturnType<typeof webhookEvent>;
      let bytes: Buffer;
      if (d.encoding === 'text') {
        event = webhookEvent(d.body, {}); // the body as UTF-8 text (invalid bytes become U+FFFD)
        bytes = Buffer.from(event.body ?? '', 'utf8');
      } else {
        event = webhookEvent(d.body, {}, { base64: true });
        if (d.encoding === 'broken-base64') event.body = `${event.body ?? ''}!*~`;
        bytes = Buffer.from(event.body ?? '', 'base64');
      }
      const signature = signatureFor(d.kind, bytes, d.garbage);
      const headers: Record<string, string> = { ...d.headers };
      if (signature !== undefined) headers[d.name] = signature;
      event.headers = headers;
      event.multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
      const recognised = d.name.toLowerCase() === 'stripe-signature';
      const before = queued.length;

      // Act
      const response = await handler()(event);

      // Assess
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      expect([200, 400, 413]).toContain(response.statusCode);
      expect(() => JSON.parse(response.body)).not.toThrow();
      const added = queued.length - before;
      queuedCount += added;
      if (!(trusted(d.kind) && recognised) || bytes.length === 0) {
        expect(response.statusCode).not.toBe(200);
        expect(added).toBe(0);
      }
      if (added > 0) expect(JSON.parse(response.body)).toMatchObject({ queued: true });
    }),
    { numRuns: 400, seed: 1127 },
  );
  // The generators do reach every branch.
  expect(statuses.get(200) ?? 0).toBeGreaterThan(10);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(10);
  expect(queuedCount).toBeGreaterThan(5);
});

it('over 1 MiB is 413 whatever the signature, headers or encoding; exactly 1 MiB is not', async () => {
  // Prepare
  const event = makePayoutEvent('payout.paid', payout);
  const json = JSON.stringify(event);
  const pad = (n: number) => Buffer.from(`${json.slice(0, -1)},"pad":"${'x'.repeat(n)}"}`, 'utf8');
  const exact = pad(MAX_WEBHOOK_BODY_BYTES - json.length - 9);
  const over = pad(MAX_WEBHOOK_BODY_BYTES - json.length - 8);
  const before = queued.length;

  // Act
  const answers = await Promise.all([
    handler()(webhookEvent(over, {})),
    handler()(webhookEvent(over, { 'Stripe-Signature': signBytes(over, WEBHOOK_SECRET) })),
    handler()(webhookEvent(over, { 'Stripe-Signature': 'garbage' }, { base64: true })),
    handler()(webhookEvent(exact, { 'Stripe-Signature': signBytes(exact, WEBHOOK_SECRET) })),
  ]);

  // Assess
  expect(exact.length).toBe(MAX_WEBHOOK_BODY_BYTES);
  expect(over.length).toBe(MAX_WEBHOOK_BODY_BYTES + 1);
  expect(answers.map((a) => a.statusCode)).toEqual([413, 413, 413, 200]);
  expect(queued.length - before).toBe(1);
});

it('random raw HTTP requests at the local endpoint: only 200, 400 or 413, nothing queued unsigned', async () => {
  // Prepare: local mode's API Gateway in front of the same handler
  const server = await startLocalHttpServer({
    port: 0,
    routes: [{ method: 'POST', path: '/webhooks/stripe', handler: handler() }],
  });
  const post = (bytes: Buffer, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/webhooks/stripe`, { method: 'POST', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(bytes);
    });
  const safeHeaderValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
  try {
    await fc.assert(
      fc.asyncProperty(
        body,
        signatureKind,
        safeHeaderValue,
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/octet-stream',
          'application/json; charset=latin1',
        ),
        async (bytes, kind, garbage, contentType) => {
          // Prepare
          const signature = signatureFor(kind, bytes, garbage);
          const before = queued.length;

          // Act
          const status = await post(bytes, {
            'content-type': contentType,
            ...(signature !== undefined ? { 'Stripe-Signature': signature } : {}),
          });

          // Assess
          expect([200, 400, 413]).toContain(status);
          if (!trusted(kind) || bytes.length === 0) expect(queued.length).toBe(before);
        },
      ),
      { numRuns: 120, seed: 2711 },
    );
  } finally {
    await server.close();
  }
});

it.each([
  ['an account id of 3,000 characters', { account: `acct_${'x'.repeat(3000)}` }],
  ['an account that is not an acct_ id', { account: 'платформа 🙂' }],
  ['a payout id of 5,000 characters', { id: `po_${'A'.repeat(5000)}` }],
  ['an event id of 200 characters', { eventId: `evt_${'A'.repeat(196)}` }],
  ['an event id with spaces', { eventId: 'evt_ 1 2 3' }],
])('a validly signed payout event with %s: answered without a 500', async (_what, patch) => {
  // Prepare
  const event = makePayoutEvent('payout.paid', payout, {
    ...('account' in patch ? { account: patch.account } : {}),
    ...('eventId' in patch ? { id: patch.eventId } : {}),
  });
  if ('id' in patch) (event.data.object as { id: string }).id = patch.id;
  const bytes = Buffer.from(JSON.stringify(event), 'utf8');
  const before = queued.length;

  // Act
  const response = await handler()(
    webhookEvent(bytes, { 'Stripe-Signature': signBytes(bytes, WEBHOOK_SECRET) }),
  );

  // Assess
  expect([200, 400]).toContain(response.statusCode);
  expect(queued.length).toBe(before);
});
