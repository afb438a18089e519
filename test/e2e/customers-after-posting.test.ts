/**
 * Post first, customers after (CONTRACT §5), through local mode's own parts: signed events POSTed to its HTTP
 * endpoint in front of the webhook Lambda's handler, the FIFO queue, its queue poller (the event source mapping,
 * two loops) running the deposit-builder Lambda's handler, the Stripe and QuickBooks stand-ins and the AWS emulators.
 *
 * A small `maxDepositLines` makes a payout of a few dozen transactions fold to category lines: its deposit is posted
 * before any of its members' customers is created; their creation runs in the tenant's customers message group, so
 * the tenant's next payout posts while it goes on; and a crash in the middle of it loses nothing.
 */
import { request } from 'node:http';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  type DepositBuilderDeps,
  depositBuilderDepsFromRuntime,
  makeDepositBuilderHandler,
} from '../../lambdas/deposit-builder.js';
import { makeWebhookHandler } from '../../lambdas/webhook.js';
import { silentLog } from '../../src/app/log.js';
import type { QuickBooksBooks } from '../../src/app/ports.js';
import { startLocalHttpServer } from '../../src/local/http.js';
import { QueuePoller } from '../../src/local/poller.js';
import type { Runtime } from '../../src/runtime.js';
import { generatePayout, makePayoutEvent, signWebhook } from '../../standins/stripe/index.js';
import {
  CrashSwitch,
  crashingSyncDeps,
  duplicateCustomers,
  type Harness,
  liveEntries,
  OTHER_REALM,
  REALM,
  startHarness,
  tenantConfig,
  WEBHOOK_SECRET,
  waitFor,
} from '../reliability/helpers.js';

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** A gate in front of QuickBooks customer creation: `createCustomers` waits until it is opened. */
class Gate {
  private opened = false;
  private waiters: (() => void)[] = [];
  waiting = 0;
  open(): void {
    this.opened = true;
    for (const w of this.waiters.splice(0)) w();
  }
  async pass(): Promise<void> {
    if (this.opened) return;
    this.waiting += 1;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

function gatedDeps(runtime: Runtime, gate: Gate): DepositBuilderDeps {
  const deps = depositBuilderDepsFromRuntime(runtime, { throwOnFullBatchFailure: false });
  const quickbooks = (realmId: string, ctx: { tenantId: string }): QuickBooksBooks => {
    const books = deps.sync.quickbooks(realmId, ctx);
    return new Proxy(books, {
      get: (target, prop, receiver) => {
        if (prop !== 'createCustomers') return Reflect.get(target, prop, receiver);
        return async (members: Parameters<QuickBooksBooks['createCustomers']>[0]) => {
          await gate.pass();
          return target.createCustomers(members);
        };
      },
    });
  };
  return { ...deps, sync: { ...deps.sync, quickbooks } };
}

function postWebhook(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Stripe-Signature': signWebhook(body, WEBHOOK_SECRET),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('post first, customers after (through local mode)', () => {
  let h: Harness;
  let current: Handler;
  let poller: QueuePoller;
  let server: Awaited<ReturnType<typeof startLocalHttpServer>>;
  let seed = 41_000;

  /** A payout of `transactions` with one new member per charge, on the Stripe stand-in; its id and emails. */
  /** The crash test's studio: a company of its own, so QuickBooks' units a minute are not shared with the others. */
  const CRASH_ACCOUNT = 'acct_1CrashStudioAcct01';
  const payouts = new Map<string, { payout: ReturnType<typeof generatePayout>['payout']; account: string }>();
  function addFoldingPayout(
    transactions: number,
    account = 'platform',
  ): { payoutId: string; emails: string[]; realm: string } {
    seed += 1;
    const generated = generatePayout({
      seed,
      id: `po_PostFirst${seed}`,
      transactions,
      account,
      members: { existing: [], newCount: transactions },
    });
    h.addPayout(generated.payout, generated.transactions, account);
    payouts.set(generated.payout.id, { payout: generated.payout, account });
    const emails = new Set<string>();
    for (const t of generated.transactions) {
      const source = t.source as { object?: string; metadata?: Record<string, string> } | null;
      const email = source?.object === 'charge' ? source.metadata?.member_email : undefined;
      if (email) emails.add(email.trim().toLowerCase());
    }
    return {
      payoutId: generated.payout.id,
      emails: [...emails],
      realm: account === CRASH_ACCOUNT ? OTHER_REALM : REALM,
    };
  }

  async function send(payoutId: string): Promise<void> {
    const found = payouts.get(payoutId);
    if (!found) throw new Error(`no payout ${payoutId}`);
    const { payout, account } = found;
    const status = await postWebhook(
      `${server.url}/webhooks/stripe`,
      JSON.stringify(makePayoutEvent('payout.paid', payout, account === 'platform' ? {} : { account })),
    );
    expect(status).toBe(200);
  }

  const ledgerRow = (payoutId: string) => h.runtime.ledger.get(payoutId);
  const posted = (payoutId: string) =>
    waitFor(async () => {
      const row = await ledgerRow(payoutId);
      return row?.status === 'POSTED' ? row : undefined;
    }, 30_000);
  const companyEmails = (realm = REALM) =>
    new Set(
      h.qbo
        .entities(realm, 'Customer')
        .map((c) =>
          String((c.PrimaryEmailAddr as { Address?: string } | undefined)?.Address ?? '').toLowerCase(),
        ),
    );
  async function mappedEmails(realm = REALM): Promise<Set<string>> {
    const out = new Set<string>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await h.runtime.clients.doc.send(
        new QueryCommand({
          TableName: h.runtime.resources.customersTable,
          KeyConditionExpression: 'realmId = :r',
          ExpressionAttributeValues: { ':r': realm },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.add(String(item.email));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  beforeAll(async () => {
    h = await startHarness('post-first', { companies: [REALM, OTHER_REALM] });
    await h.addTenant(tenantConfig({ quickbooks: { maxDepositLines: 16 } }));
    await h.addTenant(
      tenantConfig({
        id: 'crash-studio',
        stripeAccount: CRASH_ACCOUNT,
        quickbooks: { realmId: OTHER_REALM, maxDepositLines: 16 },
      }),
    );
    const webhook = makeWebhookHandler(h.runtime.webhookDeps());
    server = await startLocalHttpServer({
      port: 0,
      routes: [{ method: 'POST', path: '/webhooks/stripe', functionName: 'webhook', handler: webhook }],
    });
    current = makeDepositBuilderHandler(
      depositBuilderDepsFromRuntime(h.runtime, { throwOnFullBatchFailure: false }),
    );
    poller = new QueuePoller({
      sqs: h.runtime.clients.sqs,
      queueUrl: h.runtime.resources.queueUrl,
      handler: (event, context) => current(event, context),
      region: 'us-east-1',
      logger: silentLog,
      waitTimeSeconds: 1,
      concurrency: 2,
      retryDelay: () => 1,
      budgetMs: 120_000,
    });
    await poller.start();
  }, 60_000);

  afterAll(async () => {
    await poller?.stop();
    await server?.close();
    await h?.close();
  });

  it('posts a folded payout before its customers are created, and the next payout while they are', async () => {
    // Prepare: customer creation held at its gate, so "while they are created" lasts as long as the test needs.
    const gate = new Gate();
    current = makeDepositBuilderHandler(gatedDeps(h.runtime, gate));
    const first = addFoldingPayout(40);
    const second = addFoldingPayout(30);

    // Act: the first payout.
    await send(first.payoutId);
    const row = await posted(first.payoutId);

    // Assess: posted with category lines, no customer of its members in QuickBooks yet; the creation has started.
    expect(row.folded).toBe(true);
    expect(row.customersAfterPosting).toBe(first.emails.length);
    expect(first.emails.length).toBeGreaterThan(16);
    const [deposit] = liveEntries(h.qbo, REALM, first.payoutId);
    const lines = (deposit?.Line ?? []) as { DepositLineDetail?: { Entity?: unknown } }[];
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.DepositLineDetail?.Entity !== undefined)).toEqual([]);
    await waitFor(() => (gate.waiting > 0 ? true : undefined), 15_000);
    expect(first.emails.filter((e) => companyEmails().has(e))).toEqual([]);

    // Act: the tenant's next payout, while the first one's customers wait at the gate.
    await send(second.payoutId);
    const next = await posted(second.payoutId);

    // Assess: posted without waiting; still none of the first payout's customers created.
    expect(next.quickbooks?.type).toBe('Deposit');
    expect(first.emails.filter((e) => companyEmails().has(e))).toEqual([]);

    // Act: let the creations go.
    gate.open();

    // Assess: every member of both payouts has exactly one customer, mapped.
    const all = [...first.emails, ...second.emails];
    await waitFor(async () => {
      const mapped = await mappedEmails();
      return all.every((e) => mapped.has(e)) ? true : undefined;
    }, 30_000);
    const inCompany = companyEmails();
    expect(all.filter((e) => !inCompany.has(e))).toEqual([]);
    expect([...duplicateCustomers(h.qbo, REALM).keys()].filter((e) => all.includes(e))).toEqual([]);
    expect(liveEntries(h.qbo, REALM, first.payoutId)).toHaveLength(1);
  }, 90_000);

  it('loses nothing when the worker crashes in the middle of the creations', async () => {
    // Prepare: the "process" dies right after its second customer create batch went through (of 10; at most 6 in flight).
    let creates = 0;
    const sw = new CrashSwitch((call) => call.name === 'books.createCustomers' && ++creates === 2);
    const deps = depositBuilderDepsFromRuntime(h.runtime, { throwOnFullBatchFailure: false });
    const crashing = makeDepositBuilderHandler({ ...deps, sync: crashingSyncDeps(deps.sync, sw) });
    const fresh = makeDepositBuilderHandler(
      depositBuilderDepsFromRuntime(h.runtime, { throwOnFullBatchFailure: false }),
    );
    current = async (event, context) => (sw.crashed ? fresh(event, context) : crashing(event, context));
    const payout = addFoldingPayout(320, CRASH_ACCOUNT);

    // Act
    await send(payout.payoutId);
    await posted(payout.payoutId);
    await waitFor(() => (sw.crashed ? true : undefined), 30_000);
    const createdBeforeCrash = payout.emails.filter((e) => companyEmails(OTHER_REALM).has(e)).length;

    // Assess: the crash came in the middle (some created, not all), and the redelivered work finished the rest:
    // each member has exactly one customer, and every one is mapped.
    expect(createdBeforeCrash).toBeGreaterThan(0);
    expect(createdBeforeCrash).toBeLessThan(payout.emails.length);
    await waitFor(async () => {
      const mapped = await mappedEmails(OTHER_REALM);
      return payout.emails.every((e) => mapped.has(e)) ? true : undefined;
    }, 45_000);
    const inCompany = companyEmails(OTHER_REALM);
    expect(payout.emails.filter((e) => !inCompany.has(e))).toEqual([]);
    expect(
      [...duplicateCustomers(h.qbo, OTHER_REALM).keys()].filter((e) => payout.emails.includes(e)),
    ).toEqual([]);
    expect(liveEntries(h.qbo, OTHER_REALM, payout.payoutId)).toHaveLength(1);
  }, 90_000);
  it('queues the customers again when the worker crashed between POSTED and queueing them', async () => {
    // Prepare: the "process" dies right after the ledger said POSTED, before the customers were queued.
    const sw = new CrashSwitch(
      (call) => call.name === 'ledger.update' && (call.args[2] as { status?: string }).status === 'POSTED',
    );
    const deps = depositBuilderDepsFromRuntime(h.runtime, { throwOnFullBatchFailure: false });
    const crashing = makeDepositBuilderHandler({ ...deps, sync: crashingSyncDeps(deps.sync, sw) });
    const fresh = makeDepositBuilderHandler(
      depositBuilderDepsFromRuntime(h.runtime, { throwOnFullBatchFailure: false }),
    );
    current = async (event, context) => (sw.crashed ? fresh(event, context) : crashing(event, context));
    const payout = addFoldingPayout(35);

    // Act
    await send(payout.payoutId);
    await posted(payout.payoutId);
    await waitFor(() => (sw.crashed ? true : undefined), 30_000);

    // Assess: the redelivered message found its own POSTED row and queued the customers; all created once, mapped.
    await waitFor(async () => {
      const mapped = await mappedEmails();
      return payout.emails.every((e) => mapped.has(e)) ? true : undefined;
    }, 45_000);
    expect(payout.emails.filter((e) => !companyEmails().has(e))).toEqual([]);
    expect([...duplicateCustomers(h.qbo, REALM).keys()].filter((e) => payout.emails.includes(e))).toEqual([]);
    expect(liveEntries(h.qbo, REALM, payout.payoutId)).toHaveLength(1);
  }, 90_000);
});
