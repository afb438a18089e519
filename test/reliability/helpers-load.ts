/**
 * The load run: N signed webhooks POSTed over HTTP into local mode (the real endpoint, FIFO queue, poller and
 * deposit-builder handler, on embedded DynamoDB/SQS/Secrets Manager), with the Stripe and QuickBooks stand-ins
 * started here so the result can be read back from them. Some deliveries are duplicates on purpose: Stripe
 * re-sending an event (same id), and a second event for a payout already sent (`payout.reconciliation_completed`).
 *
 * Used by test/reliability/load.test.ts (a small run in `npm test`) and scripts/load-test.ts (1,000 events).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { percentile } from '../../bench/bounds.js';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { DynamoLedger } from '../../src/adapters/aws/ledger.js';
import type { LedgerRecord } from '../../src/app/ports.js';
import { startLocal } from '../../src/local/run.js';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import { type GeneratedMember, prng } from '../../standins/stripe/generate.js';
import {
  generatePayout,
  makePayoutEvent,
  type StripeStandIn,
  signWebhook,
  startStripeStandIn,
} from '../../standins/stripe/index.js';
import { liveEntries } from './helpers.js';

export interface LoadOptions {
  /** Webhooks to send (default 1000). */
  events?: number;
  /** Tenants (each its own Stripe account and QuickBooks company; default 8). */
  tenants?: number;
  /** Share of the events that are duplicates of an earlier one (default 0.2). */
  duplicateShare?: number;
  /** Webhooks in flight at once (default 25). */
  concurrency?: number;
  /** Give up waiting for the worker after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

export interface LoadReport {
  events: number;
  /** Answered 200 with `queued: true`. */
  accepted: number;
  /** Answers other than that, by status. */
  rejected: Record<string, number>;
  /** Distinct payouts the events were for. */
  payouts: number;
  duplicateEvents: number;
  /** Payouts whose ledger row is POSTED with exactly one live QuickBooks entry. */
  posted: number;
  /** Payouts with no live entry (or a ledger row that is not POSTED) at the end. */
  lost: string[];
  /** Payouts with more than one live entry. */
  doubled: string[];
  /** Ledger statuses at the end. */
  statuses: Record<string, number>;
  webhookP50Ms: number;
  webhookP99Ms: number;
  /** From the first webhook to the last payout posted. */
  wallMs: number;
  /** Deposits posted per second over `wallMs`. */
  perSecond: number;
}

const REALM_BASE = 7_100_000_000;
const WEBHOOK_SECRET = 'whsec_load_test_local_secret';

/** The child-free environment local mode reads: nothing pointing at the jest emulators, our stand-ins instead. */
function localEnv(stripe: StripeStandIn, qbo: QuickBooksStandIn): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(AWS_ENDPOINT_URL|QBO_|STRIPE_|PORT$|MAX_RECEIVE_COUNT$)/.test(key)) continue;
    env[key] = value;
  }
  return {
    ...env,
    STRIPE_API_BASE: stripe.url,
    STRIPE_SECRET_KEY: stripe.secretKey,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    QBO_API_BASE: qbo.url,
    QBO_OAUTH_TOKEN_URL: qbo.tokenUrl,
    QBO_CLIENT_ID: qbo.clientId,
    QBO_CLIENT_SECRET: qbo.clientSecret,
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL === 'SILENT' ? 'SILENT' : 'ERROR',
  };
}

export async function runLoad(opts: LoadOptions = {}): Promise<LoadReport> {
  const events = opts.events ?? 1000;
  const tenantCount = Math.max(1, opts.tenants ?? 8);
  const duplicateEvents = Math.floor(events * (opts.duplicateShare ?? 0.2));
  const payoutCount = events - duplicateEvents;
  const concurrency = opts.concurrency ?? 25;
  const say = opts.progress ?? (() => {});
  const dir = mkdtempSync(path.join(tmpdir(), 'qbo-load-'));
  const realms = Array.from({ length: tenantCount }, (_, i) => String(REALM_BASE + i));
  const accounts = realms.map((_, i) =>
    i === 0 ? 'platform' : `acct_1LoadStudio${String(i).padStart(4, '0')}`,
  );

  const stripe = await startStripeStandIn({}, { host: '127.0.0.1', port: 0 });
  const qbo = await startQuickBooksStandIn(
    { companies: realms.map((r) => demoCompanySeed(r)) },
    { host: '127.0.0.1', port: 0 },
  );
  const savedEnv = { ...process.env };
  let local: Awaited<ReturnType<typeof startLocal>> | undefined;
  try {
    // The tenants, each with a few regular members (so most payouts need no new customer).
    const config = {
      tenants: realms.map((realmId, i) => ({
        id: `load-studio-${i}`,
        stripeAccount: accounts[i],
        quickbooks: {
          realmId,
          depositAccount: 'Checking',
          processingFeesAccount: 'Stripe Fees',
          platformFeesAccount: 'Platform Fees',
          disputesAccount: 'Chargebacks',
          adjustmentsAccount: 'Stripe Adjustments',
          walkInCustomer: 'Walk-in',
          refreshToken: qbo.issueRefreshToken(realmId),
        },
        revenue: [
          { category: 'Class Packs', account: 'Class Pack Revenue' },
          { category: 'Memberships', account: 'Membership Revenue' },
          { category: 'Classes', subcategory: 'Virtual', account: 'Virtual Class Revenue', class: 'Online' },
          { category: 'Classes', account: 'In-person Class Revenue', class: 'Studio' },
        ],
      })),
    };
    const configFile = path.join(dir, 'sync.yaml');
    writeFileSync(configFile, stringify(config));

    // The payouts, spread over the tenants.
    const payouts = Array.from({ length: payoutCount }, (_, n) => {
      const t = n % tenantCount;
      const account = accounts[t] as string;
      const regulars: GeneratedMember[] = [0, 1, 2].map((m) => ({
        email: `member${m}.studio${t}@example.org`,
        name: `Member ${m} of studio ${t}`,
      }));
      const g = generatePayout({
        seed: 100_000 + n,
        transactions: 5,
        account,
        members: { existing: regulars, newCount: n % 10 === 0 ? 1 : 0 },
      });
      stripe.addPayout({ account, payout: g.payout, transactions: g.transactions });
      return { payout: g.payout, account, realmId: realms[t] as string };
    });

    // The deliveries: one event per payout, then the duplicates, in a shuffled order.
    const random = prng(20261127);
    const firsts = payouts.map((p) =>
      makePayoutEvent('payout.paid', p.payout, p.account === 'platform' ? {} : { account: p.account }),
    );
    const deliveries = firsts.map((e) => JSON.stringify(e));
    for (let i = 0; i < duplicateEvents; i++) {
      const original = firsts[Math.floor(random() * firsts.length)];
      if (original === undefined) continue;
      if (i % 2 === 0) {
        deliveries.push(JSON.stringify(original)); // Stripe re-sends the same event
      } else {
        const p = payouts.find((x) => x.payout.id === (original.data.object as { id: string }).id);
        if (p)
          deliveries.push(
            JSON.stringify(
              makePayoutEvent(
                'payout.reconciliation_completed',
                p.payout,
                p.account === 'platform' ? {} : { account: p.account },
              ),
            ),
          );
      }
    }
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j] as string, deliveries[i] as string];
    }

    say(`starting local mode with ${tenantCount} tenants and ${payoutCount} payouts (${events} webhooks)…`);
    local = await startLocal({
      cwd: dir,
      config: configFile,
      port: 0,
      fresh: true,
      env: localEnv(stripe, qbo),
      out: () => {},
      err: (text) => say(text.trim()),
      handleSignals: false,
    });
    const url = `${local.url}/webhooks/stripe`;

    // Send.
    const started = Date.now();
    const latencies: number[] = [];
    const rejected: Record<string, number> = {};
    let accepted = 0;
    let next = 0;
    const sender = async () => {
      for (;;) {
        const i = next++;
        const body = deliveries[i];
        if (body === undefined) return;
        const t0 = performance.now();
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'stripe-signature': signWebhook(body, WEBHOOK_SECRET),
          },
          body,
        });
        const answer = (await response.json().catch(() => ({}))) as { queued?: boolean };
        latencies.push(performance.now() - t0);
        if (response.status === 200 && answer.queued === true) accepted += 1;
        else rejected[String(response.status)] = (rejected[String(response.status)] ?? 0) + 1;
        if ((i + 1) % 250 === 0) say(`  ${i + 1} webhooks sent`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, sender));
    say(
      `${accepted} of ${deliveries.length} webhooks accepted in ${Date.now() - started} ms; waiting for the worker…`,
    );

    // Wait until every payout has its entry (or the time is up), then let the worker settle a moment.
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    let done = 0;
    let lastSaid = 0;
    for (;;) {
      done = payouts.filter((p) => liveEntries(qbo, p.realmId, p.payout.id).length > 0).length;
      if (done === payouts.length || Date.now() > deadline) break;
      if (Date.now() - lastSaid > 5000) {
        say(`  ${done} of ${payouts.length} payouts posted`);
        lastSaid = Date.now();
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const wallMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 500)); // duplicates still in the queue are processed too

    // Read the outcome back: the ledger (local mode's embedded DynamoDB) and QuickBooks.
    const ledger = new DynamoLedger({ doc: awsClients().doc, tableName: local.target.tables.ledger });
    const rows = new Map<string, LedgerRecord>(
      (await ledger.list({ limit: 1_000_000 })).map((r) => [r.payoutId, r] as const),
    );
    const statuses: Record<string, number> = {};
    for (const r of rows.values()) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const lost: string[] = [];
    const doubled: string[] = [];
    let posted = 0;
    for (const p of payouts) {
      const live = liveEntries(qbo, p.realmId, p.payout.id).length;
      const row = rows.get(p.payout.id);
      if (live > 1) doubled.push(p.payout.id);
      if (live === 0 || row?.status !== 'POSTED' || row.quickbooks === null) lost.push(p.payout.id);
      else if (live === 1) posted += 1;
    }
    return {
      events: deliveries.length,
      accepted,
      rejected,
      payouts: payouts.length,
      duplicateEvents: deliveries.length - payouts.length,
      posted,
      lost,
      doubled,
      statuses,
      webhookP50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
      webhookP99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
      wallMs,
      perSecond: Math.round((posted / (wallMs / 1000)) * 10) / 10,
    };
  } finally {
    await local?.stop();
    await Promise.all([stripe.close(), qbo.close()]);
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
    rmSync(dir, { recursive: true, force: true });
  }
}
