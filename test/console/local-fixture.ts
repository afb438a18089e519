/**
 * Local mode for the console's tests, as a person runs it (`qbo-sync local`, spawned) on the test's own Stripe and
 * QuickBooks stand-ins, with a studio whose sync config maps every category but Workshops. Three recent payouts:
 * one that posts, one with Workshops sales (HELD until the mapping is added with `config import`), and one that
 * reaches the dead-letter queue during a Stripe outage (`outage.on = false` ends it).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLedger } from '../../src/adapters/aws/ledger.js';
import type { LedgerRecord } from '../../src/app/ports.js';
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

export const REALM = '9341453187';
export const STUDIO = 'river-yoga';
export const ACCOUNT = 'acct_1RiverYogaStudio';

export function configYaml(refreshToken: string, withWorkshops: boolean): string {
  return `tenants:
  - id: ${STUDIO}
    stripeAccount: ${ACCOUNT}
    quickbooks:
      realmId: "${REALM}"
      depositAccount: Checking
      processingFeesAccount: Stripe Fees
      platformFeesAccount: Platform Fees
      disputesAccount: Chargebacks
      adjustmentsAccount: Stripe Adjustments
      walkInCustomer: Walk-in
      refreshToken: ${refreshToken}
    revenue:
      - category: Class Packs
        account: Class Pack Revenue
      - category: Classes
        account: In-person Class Revenue
      - category: Memberships
        account: Membership Revenue
${withWorkshops ? '      - category: Workshops\n        account: Workshop Revenue\n' : ''}`;
}

/** A Stripe outage for one payout while `on` (the stand-in tests each request's path against it). */
export class PayoutOutage extends RegExp {
  on = true;
  constructor(payoutId: string) {
    super(`^/v1/payouts/${payoutId}$`);
  }
  override test(p: string): boolean {
    return this.on && super.test(p);
  }
}

export interface ConsoleLocal {
  local: LocalMode;
  qbo: QuickBooksStandIn;
  stripe: StripeStandIn;
  posted: GeneratedPayout;
  held: GeneratedPayout;
  deadLettered: GeneratedPayout;
  outage: PayoutOutage;
  ledger: DynamoLedger;
  /** Waits for a payout's ledger row to reach a status. */
  settled(payoutId: string, status: string, timeoutMs?: number): Promise<LedgerRecord>;
  /** Writes the config with the Workshops mapping and imports it through the CLI. */
  fixMapping(): Promise<void>;
  /** Sends a signed payout.paid webhook to local mode. */
  webhook(payout: GeneratedPayout, eventId: string): Promise<number>;
  close(): Promise<void>;
}

const DAY = 86_400;

export async function startConsoleLocal(): Promise<ConsoleLocal> {
  const now = Math.floor(Date.now() / 1000 / DAY) * DAY;
  const members = { existing: [{ email: 'jane@example.com', name: 'Jane Doe' }], newCount: 2 };
  const posted = generatePayout({
    seed: 31,
    transactions: 8,
    account: ACCOUNT,
    members,
    arrivalDate: now - 2 * DAY,
  });
  const held = generatePayout({
    seed: 32,
    transactions: 8,
    account: ACCOUNT,
    members,
    arrivalDate: now - DAY,
    categories: [{ category: 'Workshops' }, { category: 'Class Packs' }],
  });
  const deadLettered = generatePayout({ seed: 33, transactions: 5, account: ACCOUNT, arrivalDate: now });
  const qbo = await startQuickBooksStandIn({ companies: [demoCompanySeed(REALM)], limits: false });
  const stripe = await startStripeStandIn({ secretKey: 'sk_test_console' });
  for (const p of [posted, held, deadLettered]) stripe.addPayout({ account: ACCOUNT, ...p });
  const local = await startLocalMode({
    qbo,
    stripe,
    configYaml: configYaml(qbo.issueRefreshToken(REALM), false),
    // Waits between receives of a failing payout: 0.25 s instead of 5-20 s, so the DLQ is reached in seconds.
    localEnv: { QBO_SYNC_LOCAL_RETRY_SCALE: '0.05' },
  });
  const t = local.target;
  const ledger = new DynamoLedger({
    doc: DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: t.region,
        endpoint: t.endpoints.dynamodb,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    ),
    tableName: t.tables.ledger,
  });
  const outage = new PayoutOutage(deadLettered.payout.id);
  stripe.injectFault({ status: 503, count: Number.POSITIVE_INFINITY, path: outage });

  const fixture: ConsoleLocal = {
    local,
    qbo,
    stripe,
    posted,
    held,
    deadLettered,
    outage,
    ledger,
    settled: (payoutId, status, timeoutMs = 30_000) =>
      eventually(
        async () => {
          const row = await ledger.get(payoutId);
          return row?.status === status ? row : undefined;
        },
        timeoutMs,
        `${payoutId} to be ${status}`,
      ),
    async fixMapping() {
      writeFileSync(path.join(local.cwd, 'fixed.yaml'), configYaml(qbo.issueRefreshToken(REALM), true));
      const r = await local.cli(['config', 'import', 'fixed.yaml', '--local']);
      if (r.code !== 0) throw new Error(`config import failed:\n${r.stdout}\n${r.stderr}`);
    },
    async webhook(payout, eventId) {
      const payload = JSON.stringify(
        makePayoutEvent('payout.paid', payout.payout, { account: ACCOUNT, id: eventId }),
      );
      const res = await fetch(`${t.url}/webhooks/stripe`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': signWebhook(payload, t.webhookSecret ?? ''),
        },
        body: payload,
      });
      return res.status;
    },
    async close() {
      await local.stop();
      await qbo.close();
      await stripe.close();
    },
  };
  // The three payouts arrive as Stripe would send them; the worker posts one, holds one, dead-letters one.
  for (const [p, id] of [
    [posted, 'evt_1ConsolePosted'],
    [held, 'evt_1ConsoleHeld'],
    [deadLettered, 'evt_1ConsoleDeadLetter'],
  ] as const) {
    const status = await fixture.webhook(p, id);
    if (status !== 200) throw new Error(`the webhook answered ${status}`);
  }
  await fixture.settled(posted.payout.id, 'POSTED');
  await fixture.settled(held.payout.id, 'HELD');
  await fixture.settled(deadLettered.payout.id, 'FAILED', 60_000);
  return fixture;
}
