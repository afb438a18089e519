/**
 * CONTRACT §9, "a restart loses nothing": local mode stopped (SIGTERM, as Ctrl-C) with an event still on its queue,
 * and with a payout in its dead-letter queue, then started again on the same data folder. The embedded SQS keeps
 * messages in memory only; local mode saves them at stop and puts them back at start.
 *
 * The stand-ins run in the test (so they outlive the restarts); local mode is a spawned `qbo-sync local` process.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLedger } from '../../src/adapters/aws/ledger.js';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import {
  type GeneratedPayout,
  generatePayout,
  makePayoutEvent,
  type StripeStandIn,
  signWebhook,
  startStripeStandIn,
} from '../../standins/stripe/index.js';
import { eventually, type LocalMode, startLocalMode } from '../cli/cli-helpers.js';

const REALM = '9341453187';
const TENANT = 'restart-studio';
const ACCOUNT = 'acct_1RestartStudio';

function configYaml(refreshToken: string): string {
  return `tenants:
  - id: ${TENANT}
    stripeAccount: ${ACCOUNT}
    quickbooks:
      realmId: "${REALM}"
      depositAccount: Checking
      processingFeesAccount: Stripe Fees
      adjustmentsAccount: Stripe Adjustments
      uncategorizedAccount: Sales
      refreshToken: ${refreshToken}
    revenue:
      - category: Class Packs
        account: Class Pack Revenue
`;
}

/** A Stripe outage for one payout: 503 to every read of it while `on` (the stand-in tests the pattern per request). */
class PayoutOutage extends RegExp {
  on = true;
  constructor(payoutId: string) {
    super(`^/v1/payouts/${payoutId}$`);
  }
  override test(p: string): boolean {
    return this.on && super.test(p);
  }
}

const payout = (seed: number) => generatePayout({ seed, transactions: 4, account: ACCOUNT });

let qbo: QuickBooksStandIn;
let stripe: StripeStandIn;
let refreshToken: string;
const running: LocalMode[] = [];

async function start(localEnv: Record<string, string> = {}, restartIn?: string): Promise<LocalMode> {
  const local = await startLocalMode({
    qbo,
    stripe,
    configYaml: configYaml(refreshToken),
    localEnv,
    ...(restartIn ? { restartIn } : {}),
  });
  running.push(local);
  return local;
}

async function sendWebhook(local: LocalMode, p: GeneratedPayout): Promise<void> {
  const payload = JSON.stringify(makePayoutEvent('payout.paid', p.payout, { account: ACCOUNT }));
  const response = await fetch(`${local.target.url}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signWebhook(payload, local.target.webhookSecret ?? ''),
    },
    body: payload,
  });
  expect(response.status).toBe(200);
}

function ledgerOf(local: LocalMode): DynamoLedger {
  const t = local.target;
  const client = new DynamoDBClient({
    region: t.region,
    endpoint: t.endpoints.dynamodb,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return new DynamoLedger({ doc: DynamoDBDocumentClient.from(client), tableName: t.tables.ledger });
}

const depositsOf = (payoutId: string) =>
  qbo
    .entities(REALM, 'Deposit')
    .filter((d) => String(d.PrivateNote ?? '').startsWith(`Stripe payout ${payoutId}`));

const savedFile = (local: LocalMode) => path.join(local.cwd, '.qbo-sync', 'queues.json');

beforeAll(async () => {
  qbo = await startQuickBooksStandIn({ companies: [demoCompanySeed(REALM)], limits: false });
  stripe = await startStripeStandIn({ secretKey: 'sk_test_restart' });
  refreshToken = qbo.issueRefreshToken(REALM);
});

afterAll(async () => {
  for (const local of running) await local.stop();
  await qbo?.close();
  await stripe?.close();
});

describe('local mode restarted on the same data folder', () => {
  test('an event still on the queue at stop (behind a failing payout of its tenant) is processed after the restart', async () => {
    // Arrange: A fails (Stripe outage) and waits for its next delivery, holding its tenant's FIFO group; B, of the
    // same tenant, is accepted with a 200 and waits on the queue behind it, with no ledger row yet.
    const a = payout(41);
    const b = payout(42);
    stripe.addPayout({ account: ACCOUNT, ...a });
    stripe.addPayout({ account: ACCOUNT, ...b });
    const outage = new PayoutOutage(a.payout.id);
    stripe.injectFault({ status: 503, count: Number.POSITIVE_INFINITY, path: outage });
    const first = await start();
    await sendWebhook(first, a);
    await eventually(
      async () => ((await ledgerOf(first).get(a.payout.id))?.attempts ?? 0) >= 1 || undefined,
      30_000,
      `a first failed attempt of ${a.payout.id}`,
    );
    await sendWebhook(first, b);
    expect(await ledgerOf(first).get(b.payout.id)).toBeUndefined();

    // Act: stop with both messages on the queue, end the outage, start again
    await first.stop({ keep: true });
    const file = savedFile(first);
    const saved = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as { queue: { body: string }[] })
      : undefined;
    outage.on = false;
    const second = await start({}, first.cwd);

    // Assess: both posted once; the saved file was consumed
    const ledger = ledgerOf(second);
    for (const p of [a, b]) {
      await eventually(
        async () => ((await ledger.get(p.payout.id))?.status === 'POSTED' ? true : undefined),
        30_000,
        `${p.payout.id} to be POSTED`,
      );
      expect(depositsOf(p.payout.id)).toHaveLength(1);
    }
    expect(saved?.queue.map((m) => (JSON.parse(m.body) as { payoutId: string }).payoutId).sort()).toEqual(
      [a.payout.id, b.payout.id].sort(),
    );
    expect(existsSync(savedFile(second))).toBe(false);
    await second.stop();
  }, 120_000);

  test('a payout in the DLQ at stop is in the DLQ after the restart, as it was, and replays', async () => {
    // Arrange: C fails every time (retry waits scaled down) until its message reaches the DLQ
    const c = payout(43);
    stripe.addPayout({ account: ACCOUNT, ...c });
    const outage = new PayoutOutage(c.payout.id);
    stripe.injectFault({ status: 503, count: Number.POSITIVE_INFINITY, path: outage });
    const fast = { QBO_SYNC_LOCAL_RETRY_SCALE: '0.05' };
    const first = await start(fast);
    await sendWebhook(first, c);
    type Letter = { payout: string; messageId: string; receiveCount: number; reason: string; hint: string };
    const before = await eventually(
      async () => {
        const r = await first.cli(['dlq', 'list', '--json']);
        return r.json<Letter[]>().find((l) => l.payout === c.payout.id);
      },
      90_000,
      `${c.payout.id} in the DLQ`,
    );

    // Act: stop, start again
    await first.stop({ keep: true });
    const second = await start(fast, first.cwd);
    const listed = await second.cli(['dlq', 'list', '--json']);

    // Assess: the same message, receive count and reason
    expect(listed.code).toBe(0);
    const after = listed.json<Letter[]>().filter((l) => l.payout === c.payout.id);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({
      messageId: before.messageId,
      receiveCount: before.receiveCount,
      reason: before.reason,
    });

    // Act + Assess: the outage over, replay posts it once
    outage.on = false;
    const replay = await second.cli(['dlq', 'replay', '--payout', c.payout.id, '--json']);
    expect(replay.code).toBe(0);
    expect(replay.json<{ replayed: string[] }>().replayed).toEqual([c.payout.id]);
    const ledger = ledgerOf(second);
    await eventually(
      async () => ((await ledger.get(c.payout.id))?.status === 'POSTED' ? true : undefined),
      30_000,
      `${c.payout.id} to be POSTED`,
    );
    expect(depositsOf(c.payout.id)).toHaveLength(1);
    await second.stop();
  }, 180_000);
});
