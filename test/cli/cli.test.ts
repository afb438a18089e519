/**
 * The operator CLI as a person uses it: spawned `node bin/qbo-sync.cjs …` processes against one local mode (started
 * by the test in a temp working directory, found by `--local` through its data folder there), with QuickBooks and
 * Stripe stand-ins run by the test so it can read what reached QuickBooks.
 */

import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parse as parseYaml } from 'yaml';
import { DynamoLedger } from '../../src/adapters/aws/ledger.js';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import {
  generatePayout,
  makePayoutEvent,
  type StripeStandIn,
  signWebhook,
  startStripeStandIn,
} from '../../standins/stripe/index.js';
import {
  type CliResult,
  cleanEnv,
  eventually,
  type LocalMode,
  runCli,
  startCli,
  startLocalMode,
} from './cli-helpers.js';

const REALM = '9341453187';
const STUDIO = 'cli-studio';
const STUDIO_ACCOUNT = 'acct_1CliStudio';
const SECOND = 'second-studio';
const SECOND_ACCOUNT = 'acct_1CliSecond';
/** A tenant not in the config yet, connecting a company of its own. */
const THIRD = 'third-studio';
const THIRD_REALM = '4620816365';
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 1000;

function configYaml(refreshToken: string, membershipAccount = 'Membership Revenue'): string {
  const quickbooks = (extra: string) => `    quickbooks:
      realmId: "${REALM}"
      depositAccount: Checking
      processingFeesAccount: Stripe Fees
      platformFeesAccount: Platform Fees
      disputesAccount: Chargebacks
      adjustmentsAccount: Stripe Adjustments
      walkInCustomer: Walk-in
${extra}      refreshToken: ${refreshToken}
`;
  const revenue = `    revenue:
      - category: Class Packs
        account: Class Pack Revenue
      - category: Classes
        subcategory: Virtual
        account: Virtual Class Revenue
        class: Online
      - category: Classes
        account: In-person Class Revenue
        class: Studio
      - category: Memberships
        account: ${membershipAccount}
`;
  return `tenants:
  - id: ${STUDIO}
    stripeAccount: ${STUDIO_ACCOUNT}
${quickbooks('')}${revenue}  - id: ${SECOND}
    stripeAccount: ${SECOND_ACCOUNT}
${quickbooks('      lineDetail: category\n')}${revenue}`;
}

const jane = { email: 'jane@example.com', name: 'Jane Doe' };
const members = { existing: [jane], newCount: 3 };
const previewed = generatePayout({
  seed: 11,
  transactions: 14,
  account: STUDIO_ACCOUNT,
  members,
  arrivalDate: day('2026-03-02'),
});
const resynced = generatePayout({
  seed: 12,
  transactions: 9,
  account: STUDIO_ACCOUNT,
  members,
  arrivalDate: day('2026-03-03'),
});
const backfilled = generatePayout({
  seed: 13,
  transactions: 6,
  account: STUDIO_ACCOUNT,
  members,
  arrivalDate: day('2026-03-04'),
});
const manual = generatePayout({
  seed: 14,
  transactions: 4,
  account: STUDIO_ACCOUNT,
  arrivalDate: day('2026-03-05'),
});
manual.payout = { ...manual.payout, automatic: false };
const older = generatePayout({
  seed: 15,
  transactions: 4,
  account: STUDIO_ACCOUNT,
  arrivalDate: day('2025-12-01'),
});
const deadLettered = generatePayout({
  seed: 21,
  transactions: 5,
  account: SECOND_ACCOUNT,
  arrivalDate: day('2026-03-06'),
});

/**
 * A Stripe outage for one payout: the stand-in answers 503 to every read of it while `on`. The stand-in tests a
 * fault's path pattern on each request, so switching the pattern off ends the outage.
 */
class PayoutOutage extends RegExp {
  on = true;
  constructor(payoutId: string) {
    super(`^/v1/payouts/${payoutId}$`);
  }
  override test(path: string): boolean {
    return this.on && super.test(path);
  }
}
const stripeOutage = new PayoutOutage(deadLettered.payout.id);
/** Local mode's waits between receives of a failing payout: 1 s instead of 5, 10, 15 and 20 s. */
const RETRY_SCALE = '0.05';

interface StatusJson {
  payout: string;
  tenant: string;
  status: string;
  reason: string | null;
  hint: string | null;
  quickbooks: { type: string; id: string } | null;
  actions: Array<{ action: string; by: string; via: string; at: string }>;
}

type Json = Record<string, unknown>;

let qbo: QuickBooksStandIn;
let stripe: StripeStandIn;
let local: LocalMode;
let refreshToken: string;
let deadLetterWebhook: { status: number; body: string };

const cli = (...args: string[]) => local.cli(args);

function expectExit(result: CliResult, code: number): void {
  if (result.code !== code) {
    throw new Error(
      `expected exit ${code}, got ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
}

async function statusOf(payoutId: string): Promise<StatusJson> {
  const r = await cli('payouts', 'status', payoutId, '--json');
  expectExit(r, 0);
  return r.json<StatusJson>();
}

/** The ledger, read directly (polling with a process per look would be slow). */
function ledger(): DynamoLedger {
  const t = local.target;
  const client = new DynamoDBClient({
    region: t.region,
    endpoint: t.endpoints.dynamodb,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return new DynamoLedger({ doc: DynamoDBDocumentClient.from(client), tableName: t.tables.ledger });
}

async function settled(payoutId: string, status = 'POSTED', timeoutMs = 20_000) {
  const l = ledger();
  return eventually(
    async () => {
      const row = await l.get(payoutId);
      return row?.status === status ? row : undefined;
    },
    timeoutMs,
    `${payoutId} to be ${status}`,
  );
}

const live = (type: 'Deposit' | 'JournalEntry' | 'Customer') => qbo.entities(REALM, type);
const depositsOf = (payoutId: string) =>
  live('Deposit').filter((d) => String(d.PrivateNote ?? '').startsWith(`Stripe payout ${payoutId}`));
const idOf = (type: 'Account' | 'Class' | 'Customer', field: string, value: string) =>
  String(qbo.entities(REALM, type).find((e) => e[field] === value)?.Id);

beforeAll(async () => {
  qbo = await startQuickBooksStandIn({
    companies: [demoCompanySeed(REALM), demoCompanySeed(THIRD_REALM)],
    limits: false,
  });
  stripe = await startStripeStandIn({ secretKey: 'sk_test_cli' });
  for (const p of [previewed, resynced, backfilled, manual, older])
    stripe.addPayout({ account: STUDIO_ACCOUNT, ...p });
  stripe.addPayout({ account: SECOND_ACCOUNT, ...deadLettered });
  refreshToken = qbo.issueRefreshToken(REALM);
  local = await startLocalMode({
    qbo,
    stripe,
    configYaml: configYaml(refreshToken),
    localEnv: { QBO_SYNC_LOCAL_RETRY_SCALE: RETRY_SCALE },
  });
  // The dead-lettered payout (its test is below) arrives during a Stripe outage now, so that its retries run out
  // while the other tests run.
  stripe.injectFault({ status: 503, count: Number.POSITIVE_INFINITY, path: stripeOutage });
  const event = makePayoutEvent('payout.paid', deadLettered.payout, {
    account: SECOND_ACCOUNT,
    id: 'evt_1CliDeadLetter',
  });
  const payload = JSON.stringify(event);
  const response = await fetch(`${local.target.url}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signWebhook(payload, local.target.webhookSecret ?? ''),
    },
    body: payload,
  });
  deadLetterWebhook = { status: response.status, body: await response.text() };
}, 60_000);

afterAll(async () => {
  await local?.stop();
  await qbo?.close();
  await stripe?.close();
});

describe('qbo-sync against a local mode', () => {
  test('customers sync stores email → Id, the oldest customer winning a shared email', async () => {
    // Act
    const r = await cli('customers', 'sync', '--tenant', STUDIO, '--json');

    // Assess: the demo company has 5 active customers (Walk-in without an email; two "Sam Lee" share one).
    expectExit(r, 0);
    expect(r.json()).toMatchObject({
      tenant: STUDIO,
      customers: 5,
      mapped: 3,
      withoutEmail: 1,
      sharedEmails: [
        {
          email: 'sam@example.com',
          ids: [idOf('Customer', 'DisplayName', 'Sam Lee (old)'), idOf('Customer', 'DisplayName', 'Sam Lee')],
        },
      ],
    });
    const human = await cli('customers', 'sync', '--tenant', STUDIO);
    expectExit(human, 0);
    expect(human.stdout).toContain('5 active customers read, 3 emails mapped, 1 without an email');
    expect(human.stdout).toMatch(/sam@example\.com/);
  });

  test('config validate: shape alone, then against QuickBooks; every kind of problem named by tenant and entry', async () => {
    const write = (name: string, text: string) => {
      writeFileSync(path.join(local.cwd, name), text);
      return name;
    };
    // Prepare
    const good = write('good.yaml', configYaml('rt-not-used'));
    const wrongAccounts = write(
      'wrong-accounts.yaml',
      configYaml('x')
        .replaceAll('depositAccount: Checking', 'depositAccount: Undeposited Funds')
        .replaceAll('processingFeesAccount: Stripe Fees', 'processingFeesAccount: Stripe Feez')
        .replaceAll('adjustmentsAccount: Stripe Adjustments', 'adjustmentsAccount: Accounts Payable')
        .replaceAll('account: Class Pack Revenue', 'account: Old Revenue')
        .replaceAll('class: Online', 'class: Nowhere'),
    );
    const badShape = write(
      'bad-shape.yaml',
      `tenants:\n  - id: Bad_Id\n    stripeAccount: acct_1X\n    quickbooks:\n      realmId: abc\n      depositAccount: Checking\n      processingFeesAccount: Stripe Fees\n      colour: blue\n    revenue:\n      - category: ""\n        account: Sales\n`,
    );
    const yamlSyntax = write('syntax.yaml', 'tenants:\n  - id: studio\n    stripeAccount: [platform\n');
    const jsonSyntax = write('syntax.json', '{\n  "tenants": [\n    { "id": "studio", }\n  ]\n}\n');

    // Act
    const [shapeOnly, againstQbo, wrong, shape, yamlErr, jsonErr] = await Promise.all([
      cli('config', 'validate', good, '--json'),
      cli('config', 'validate', good, '--local', '--json'),
      cli('config', 'validate', wrongAccounts, '--local', '--json'),
      cli('config', 'validate', badShape, '--json'),
      cli('config', 'validate', yamlSyntax, '--json'),
      cli('config', 'validate', jsonSyntax),
    ]);

    // Assess
    expectExit(shapeOnly, 0);
    expect(shapeOnly.json()).toEqual({
      valid: true,
      problems: [],
      tenants: [STUDIO, SECOND],
      checkedAgainstQuickBooks: false,
    });
    expectExit(againstQbo, 0);
    expect(againstQbo.json()).toMatchObject({ valid: true, checkedAgainstQuickBooks: true });

    expectExit(wrong, 1);
    const problems = wrong.json<{
      valid: boolean;
      problems: { tenant: string; entry: string; message: string }[];
    }>();
    expect(problems.valid).toBe(false);
    const forStudio = problems.problems.filter((p) => p.tenant === STUDIO);
    expect(forStudio.map((p) => p.entry)).toEqual([
      'quickbooks.depositAccount',
      'quickbooks.processingFeesAccount',
      'quickbooks.adjustmentsAccount',
      'revenue[0]',
      'revenue[1].class',
    ]);
    const message = (entry: string) => forStudio.find((p) => p.entry === entry)?.message ?? '';
    expect(message('quickbooks.depositAccount')).toMatch(/Undeposited ?Funds/);
    expect(message('quickbooks.processingFeesAccount')).toMatch(/not an account.*did you mean "Stripe Fees"/);
    expect(message('quickbooks.adjustmentsAccount')).toMatch(/liability/);
    expect(message('revenue[0]')).toMatch(/inactive/);
    expect(message('revenue[1].class')).toMatch(/"Nowhere" is not a class/);
    // The same problems for the second tenant, which uses the same mappings.
    expect(problems.problems.filter((p) => p.tenant === SECOND)).toHaveLength(5);

    expectExit(shape, 1);
    expect(shape.json()).toEqual({
      valid: false,
      checkedAgainstQuickBooks: false,
      tenants: [],
      problems: [
        { tenant: 'tenants[0]', entry: 'id', message: expect.stringMatching(/2–64 characters/) },
        { tenant: 'tenants[0]', entry: 'quickbooks.realmId', message: expect.stringMatching(/digits only/) },
        {
          tenant: 'tenants[0]',
          entry: 'quickbooks.adjustmentsAccount',
          message: 'adjustmentsAccount is missing: it is required',
        },
        {
          tenant: 'tenants[0]',
          entry: 'quickbooks.colour',
          message: expect.stringMatching(/^unknown key "colour"/),
        },
        { tenant: 'tenants[0]', entry: 'revenue[0].category', message: 'category must not be empty' },
      ],
    });

    expectExit(yamlErr, 1);
    expect(yamlErr.json()).toEqual({
      valid: false,
      checkedAgainstQuickBooks: false,
      tenants: [],
      problems: [
        { tenant: null, entry: 'file', message: expect.stringMatching(/^syntax\.yaml line 4, column \d+: /) },
      ],
    });
    expectExit(jsonErr, 1);
    expect(jsonErr.stdout).toContain(
      'syntax.json line 3, column 23: unexpected "}": expected a key in double quotes',
    );
  });

  test('config export prints the stored tenants without refresh tokens; import of the export round-trips', async () => {
    // Act
    const exported = await cli('config', 'export');
    expectExit(exported, 0);
    writeFileSync(path.join(local.cwd, 'exported.yaml'), exported.stdout);
    const reimported = await cli('config', 'import', 'exported.yaml', '--json');
    const again = await cli('config', 'export', '--json');

    // Assess
    const original = parseYaml(configYaml(refreshToken)) as { tenants: Json[] };
    const withoutTokens = original.tenants.map((t) => {
      const { refreshToken: _drop, ...quickbooks } = t.quickbooks as Json;
      return { ...t, quickbooks };
    });
    expect(exported.stdout).not.toContain(refreshToken);
    expect(parseYaml(exported.stdout)).toEqual({
      tenants: withoutTokens.map((t) => ({
        ...t,
        quickbooks: {
          lineDetail: 'customer',
          maxDepositLines: 1000,
          closedPeriod: 'hold',
          ...(t.quickbooks as Json),
        },
      })),
    });
    expectExit(reimported, 0);
    expect(reimported.json()).toEqual({ valid: true, problems: [], imported: [STUDIO, SECOND], seeded: [] });
    expectExit(again, 0);
    expect(again.json()).toEqual(parseYaml(exported.stdout));
  });

  test('payouts preview prints the exact body the worker then posts, and creates nothing', async () => {
    // Prepare
    const before = { customers: live('Customer').length, deposits: live('Deposit').length };
    qbo.clearRequests();

    // Act
    const r = await cli('payouts', 'preview', previewed.payout.id, '--tenant', STUDIO, '--json');

    // Assess: nothing reached QuickBooks but reads.
    expectExit(r, 0);
    expect(live('Customer')).toHaveLength(before.customers);
    expect(live('Deposit')).toHaveLength(before.deposits);
    expect(qbo.requests.filter((q) => /\/(deposit|customer|journalentry)$/.test(q.path))).toEqual([]);
    const preview = r.json<{
      payout: string;
      tenant: string;
      outcome: string;
      reason: null;
      entry: {
        type: string;
        body: { Line: Json[]; TxnDate: string; PrivateNote: string; DepositToAccountRef: Json };
      };
    }>();
    expect(preview).toMatchObject({
      payout: previewed.payout.id,
      tenant: STUDIO,
      outcome: 'POST',
      reason: null,
    });
    expect(preview.entry.type).toBe('Deposit');
    expect(preview.entry.body.TxnDate).toBe('2026-03-02');
    expect(preview.entry.body.DepositToAccountRef).toMatchObject({
      value: idOf('Account', 'Name', 'Checking'),
    });
    const cents = preview.entry.body.Line.reduce((sum, l) => sum + Math.round(Number(l.Amount) * 100), 0);
    expect(cents).toBe(previewed.payout.amount);
    // New members appear as customers to create: value null and the DisplayName they would get.
    const entities = preview.entry.body.Line.map(
      (l) => (l.DepositLineDetail as Json).Entity as Json | undefined,
    );
    const toCreate = entities.filter((e) => e !== undefined && e.value === null);
    expect(toCreate.length).toBeGreaterThan(0);
    for (const e of toCreate) expect(typeof e?.name).toBe('string');

    // Act: the worker posts it.
    const synced = await cli('payouts', 'sync', previewed.payout.id, '--tenant', STUDIO, '--json');
    expectExit(synced, 0);
    expect(synced.json()).toMatchObject({
      payout: previewed.payout.id,
      tenant: STUDIO,
      eventType: 'sync',
      enqueued: true,
    });
    const row = await settled(previewed.payout.id);

    // Assess: the posted deposit has the previewed lines; the would-be customers now exist under those names.
    const [posted] = depositsOf(previewed.payout.id);
    expect(posted?.Id).toBe(row.quickbooks?.id);
    const customers = new Map(live('Customer').map((c) => [String(c.Id), String(c.DisplayName)]));
    const shape = (lines: Json[], named: (entity: Json | undefined) => string | undefined) =>
      lines.map((l) => {
        const d = l.DepositLineDetail as Json;
        return {
          Amount: l.Amount,
          Description: l.Description,
          account: (d.AccountRef as Json).value,
          class: (d.ClassRef as Json | undefined)?.value,
          customer: named(d.Entity as Json | undefined),
        };
      });
    const previewShape = shape(preview.entry.body.Line, (e) =>
      e === undefined ? undefined : e.value === null ? String(e.name) : customers.get(String(e.value)),
    );
    const postedShape = shape(posted?.Line as Json[], (e) =>
      e === undefined ? undefined : customers.get(String(e.value)),
    );
    expect(postedShape).toEqual(previewShape);
    expect(posted?.TxnDate).toBe(preview.entry.body.TxnDate);
    expect(posted?.PrivateNote).toBe(preview.entry.body.PrivateNote);
  });

  test('payouts status and list: the contract JSON, newest first, filters, unknown payout', async () => {
    // Act
    const [status, list, filtered, limited, unknown, unknownHuman, noTenant] = await Promise.all([
      cli('payouts', 'status', previewed.payout.id, '--json'),
      cli('payouts', 'list', '--json'),
      cli('payouts', 'list', '--status', 'HELD', '--tenant', STUDIO, '--json'),
      cli('payouts', 'list', '--limit', '1', '--since', '2026-01-01', '--json'),
      cli('payouts', 'status', 'po_1NoSuchPayout', '--json'),
      cli('payouts', 'status', 'po_1NoSuchPayout'),
      cli('payouts', 'sync', 'po_1NoSuchPayout', '--json'),
    ]);

    // Assess
    expectExit(status, 0);
    const row = await ledger().get(previewed.payout.id);
    expect(status.json()).toMatchObject({
      payout: previewed.payout.id,
      tenant: STUDIO,
      status: 'POSTED',
      reason: null,
      hint: null,
      quickbooks: { type: 'Deposit', id: row?.quickbooks?.id },
    });
    expectExit(list, 0);
    const rows = list.json<StatusJson[]>();
    expect(rows.map((s) => s.payout)).toContain(previewed.payout.id);
    for (const s of rows)
      expect(Object.keys(s)).toEqual(
        expect.arrayContaining(['payout', 'tenant', 'status', 'reason', 'hint', 'quickbooks']),
      );
    const times = rows.map((s) => (s as unknown as { updatedAt: string }).updatedAt);
    expect([...times].sort().reverse()).toEqual(times);
    expectExit(filtered, 0);
    expect(filtered.json()).toEqual([]);
    expectExit(limited, 0);
    expect(limited.json()).toHaveLength(1);
    expectExit(unknown, 1);
    expect(unknown.json()).toEqual({
      error: 'the ledger does not know payout po_1NoSuchPayout',
      hint: expect.any(String),
    });
    expect(unknownHuman.stderr).toContain('error: the ledger does not know payout po_1NoSuchPayout');
    expect(unknownHuman.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expectExit(noTenant, 2);
    expect(noTenant.json()).toEqual({
      error: expect.stringContaining('add --tenant T'),
      hint: 'see the usage with `npx qbo-sync payouts sync --help`',
    });
  });

  test('payouts backfill queues every paid automatic payout since DATE, skips settled and manual ones, and resumes', async () => {
    // Act
    const first = await cli('payouts', 'backfill', '--tenant', STUDIO, '--since', '2026-03-01', '--json');

    // Assess
    expectExit(first, 0);
    expect(first.json()).toEqual({
      tenant: STUDIO,
      since: '2026-03-01T00:00:00.000Z',
      found: 4,
      enqueued: [resynced.payout.id, backfilled.payout.id],
      skipped: [
        { payout: previewed.payout.id, status: 'POSTED' },
        { payout: manual.payout.id, status: 'MANUAL' },
      ],
    });
    await settled(resynced.payout.id);
    await settled(backfilled.payout.id);
    const rerun = await cli('payouts', 'backfill', '--tenant', STUDIO, '--since', '2026-03-01', '--json');
    expectExit(rerun, 0);
    expect(rerun.json()).toMatchObject({ found: 4, enqueued: [] });
    expect(await ledger().get(older.payout.id)).toBeUndefined();
  });

  test('payouts resync after a mapping fix leaves exactly one live deposit, with the fixed account', async () => {
    // Prepare: the posted deposit books Memberships to Membership Revenue; the fix moves them to Workshop Revenue.
    const posted = await statusOf(resynced.payout.id);
    expect(posted.status).toBe('POSTED');
    const membership = idOf('Account', 'Name', 'Membership Revenue');
    const workshop = idOf('Account', 'Name', 'Workshop Revenue');
    const accountsOf = (d: Json | undefined) =>
      ((d?.Line as Json[]) ?? []).map((l) =>
        String(((l.DepositLineDetail as Json).AccountRef as Json).value),
      );
    expect(accountsOf(depositsOf(resynced.payout.id)[0])).toContain(membership);
    writeFileSync(path.join(local.cwd, 'fixed.yaml'), configYaml(refreshToken, 'Workshop Revenue'));
    expectExit(await cli('config', 'import', 'fixed.yaml'), 0);

    // Act: asked twice (an interrupted first attempt) before the worker acts: one message. Stripe answers slowly
    // meanwhile, so the worker cannot have moved the ledger row before the second request reads it.
    stripe.setLatency(2000);
    let one: CliResult;
    let two: CliResult;
    try {
      [one, two] = await Promise.all([
        cli('payouts', 'resync', resynced.payout.id, '--json'),
        cli('payouts', 'resync', resynced.payout.id, '--json'),
      ]);
    } finally {
      stripe.setLatency(0);
    }
    expectExit(one, 0);
    expectExit(two, 0);
    expect(one.json<Json>().eventId).toBe(two.json<Json>().eventId);
    const done = await eventually(async () => {
      const row = await ledger().get(resynced.payout.id);
      return row?.status === 'POSTED' && row.quickbooks?.id !== posted.quickbooks?.id ? row : undefined;
    });

    // Assess
    const deposits = depositsOf(resynced.payout.id);
    expect(deposits.map((d) => d.Id)).toEqual([done.quickbooks?.id]);
    expect(accountsOf(deposits[0])).toContain(workshop);
    expect(accountsOf(deposits[0])).not.toContain(membership);
    expect(done.generation).toBe(1);
    const status = await statusOf(resynced.payout.id);
    expect(status.quickbooks).toEqual({ type: 'Deposit', id: done.quickbooks?.id });
  });

  test('a payout failing every time reaches the DLQ for real; dlq list shows why; after the fix, replay posts it once', async () => {
    // Prepare: beforeAll sent the payout.paid webhook during a Stripe outage for this payout, with local mode's
    // retry waits scaled down (QBO_SYNC_LOCAL_RETRY_SCALE). Every receive failed (503, after stripe-node's own
    // retries); on the 5th the worker marked the ledger FAILED, and the queue's redrive policy then moved the
    // message to the DLQ.
    const id = deadLettered.payout.id;
    expect(deadLetterWebhook).toEqual({ status: 200, body: expect.stringContaining('evt_1CliDeadLetter') });
    await settled(id, 'FAILED', 60_000);
    const failed = await statusOf(id);
    const reason = `attempt 5 failed: Stripe failed (HTTP 503) while reading payout ${id}`;
    const hint = `retries exhausted: the message is in the dead-letter queue. Fix the cause, then \`npx qbo-sync dlq replay --payout ${id}\``;
    expect(failed).toMatchObject({ payout: id, tenant: SECOND, status: 'FAILED', hint, quickbooks: null });
    expect(failed.reason).toContain(reason);
    expect((failed as unknown as { attempts: number }).attempts).toBe(5);
    const reads = stripe.requests.filter((r) => r.path === `/v1/payouts/${id}`);
    expect(reads.length).toBeGreaterThanOrEqual(5);
    expect(reads.every((r) => r.status === 503)).toBe(true);
    expect(depositsOf(id)).toEqual([]);

    // Act + Assess: list (the message reaches the DLQ on the receive after the last attempt)
    const listed = await eventually(
      async () => {
        const r = await cli('dlq', 'list', '--json');
        expectExit(r, 0);
        const entries = r.json<Json[]>();
        return entries.length > 0 ? entries : undefined;
      },
      20_000,
      `${id} in the dead-letter queue`,
    );
    expect(listed).toEqual([
      expect.objectContaining({
        payout: id,
        tenant: SECOND,
        messageId: expect.any(String),
        receiveCount: expect.any(Number),
        reason: failed.reason,
        hint,
        status: 'FAILED',
        attempts: 5,
      }),
    ]);
    // SQS's count includes the receives in the main queue.
    expect(listed[0]?.receiveCount).toBeGreaterThanOrEqual(5);
    const human = await cli('dlq', 'list');
    expect(human.stdout).toMatch(
      new RegExp(
        `${id}\\s+${SECOND}\\s+\\d+ (?:s|min) ago\\s+5\\s+attempt 5 failed: Stripe failed \\(HTTP 503\\)`,
      ),
    );

    // Usage: neither or both flags.
    const [neither, both, dry] = await Promise.all([
      cli('dlq', 'replay', '--json'),
      cli('dlq', 'replay', '--all', '--payout', id),
      cli('dlq', 'replay', '--all', '--dry-run', '--json'),
    ]);
    expectExit(neither, 2);
    expect(neither.json()).toEqual({
      error: expect.stringContaining('--payout'),
      hint: 'see the usage with `npx qbo-sync dlq replay --help`',
    });
    expectExit(both, 2);
    expectExit(dry, 0);
    // A dry run says what would happen: this payout replayed, nothing left behind; nothing moved yet.
    expect(dry.json()).toEqual({ replayed: [id], remaining: 0, dryRun: true });
    expect((await cli('dlq', 'list', '--json')).json()).toHaveLength(1);
    expect((await statusOf(id)).status).toBe('FAILED');

    // Act: the fix (Stripe answers again), then the replay
    stripeOutage.on = false;
    const replayed = await cli('dlq', 'replay', '--payout', id, '--json');

    // Assess
    expectExit(replayed, 0);
    expect(replayed.json()).toEqual({ replayed: [id], remaining: 0 });
    const posted = await settled(id);
    expect(posted.quickbooks?.type).toBe('Deposit');
    expect(depositsOf(id).map((d) => String(d.Id))).toEqual([posted.quickbooks?.id]);
    const status = await statusOf(id);
    expect(status).toMatchObject({
      status: 'POSTED',
      quickbooks: { type: 'Deposit', id: posted.quickbooks?.id },
    });
    // The replay is recorded on the ledger row with the user who ran the CLI.
    expect(status.actions).toEqual([
      { action: 'replay', by: userInfo().username, via: 'cli', at: expect.any(String) },
    ]);
    const empty = await cli('dlq', 'list', '--json');
    expect(empty.json()).toEqual([]);
  }, 90_000);

  test('connect: the stand-in consents at once; a forged state is refused; the tokens are stored', async () => {
    // Act
    const run = startCli(['connect', '--tenant', STUDIO, '--json'], { cwd: local.cwd, env: local.env });
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/connect\/oauth2\?\S+/, 'stderr');
    const redirect = new URL(new URL(url).searchParams.get('redirect_uri') ?? '');
    const forged = await fetch(
      `${redirect.origin}${redirect.pathname}?code=stolen&state=forged&realmId=${REALM}`,
    );
    const consent = await fetch(url);
    const code = await run.exit;

    // Assess
    expect(forged.status).toBe(400);
    expect(consent.status).toBe(200);
    expect(await consent.text()).toContain('QuickBooks connected');
    const { stdout, stderr } = run.output();
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      tenant: STUDIO,
      realmId: REALM,
      connected: true,
      authorizeUrl: url,
    });
    expect(stderr).toContain('refused (CSRF check)');
    expect(qbo.requests.some((q) => q.path === '/oauth2/v1/tokens/bearer' && q.status === 200)).toBe(true);
    // The new connection works: a command that reads QuickBooks succeeds with it.
    expectExit(await cli('config', 'validate', 'sync.yaml', '--local'), 0);
  });

  test("connect through local mode's own callback route (the stack's flow): the CLI waits for the state", async () => {
    // Act: a new tenant connects its own company (the person picks it on the consent page).
    const redirectUri = local.target.redirectUri;
    const run = startCli(['connect', '--tenant', THIRD, '--redirect-uri', redirectUri, '--json'], {
      cwd: local.cwd,
      env: local.env,
    });
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/connect\/oauth2\?\S+/, 'stderr');
    await run.waitFor(/Waiting for local mode's callback route/, 'stderr');
    const consent = await fetch(`${url}&realmId=${THIRD_REALM}`);
    const code = await run.exit;

    // Assess
    expect(new URL(url).searchParams.get('redirect_uri')).toBe(redirectUri);
    expect(consent.status).toBe(200);
    expect(code).toBe(0);
    expect(JSON.parse(run.output().stdout)).toEqual({
      tenant: THIRD,
      realmId: THIRD_REALM,
      connected: true,
      authorizeUrl: url,
    });
  });

  test('connect refuses a company already connected to another tenant (its tokens already serve it)', async () => {
    // Act: second-studio's config names the company studio connected in the test above.
    const redirectUri = local.target.redirectUri;
    const run = startCli(
      ['connect', '--tenant', SECOND, '--redirect-uri', redirectUri, '--json', '--timeout', '5'],
      {
        cwd: local.cwd,
        env: local.env,
      },
    );
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/connect\/oauth2\?\S+/, 'stderr');
    const consent = await fetch(url);

    // Assess
    expect(consent.status).toBe(400);
    expect(await consent.text()).toContain(`company ${REALM} is already connected to tenant ${STUDIO}`);
    run.child.kill('SIGINT');
    await run.exit;
  });

  test('--stack reads the target from CloudFormation outputs (here: the local mode’s resources)', async () => {
    // Prepare: a CloudFormation endpoint answering DescribeStacks with the stack's outputs.
    const t = local.target;
    const outputs: Record<string, string> = {
      WebhookUrl: `${t.url}/webhooks/stripe`,
      CallbackUrl: `${t.url}/quickbooks/callback`,
      QueueUrl: t.queueUrl,
      DlqUrl: t.dlqUrl,
      TenantsTable: t.tables.tenants,
      CustomersTable: t.tables.customers,
      LedgerTable: t.tables.ledger,
      IdempotencyTable: t.tables.idempotency,
      StripeSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:unused',
      QboAppSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:unused',
      QboTokenSecretPrefix: t.tokenSecretPrefix,
    };
    const server = await fakeCloudFormation('qbo-sync-test', outputs);
    const env = {
      AWS_ENDPOINT_URL_CLOUDFORMATION: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      AWS_ENDPOINT_URL_DYNAMODB: t.endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: t.endpoints.sqs,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: t.endpoints.secretsManager,
      AWS_REGION: t.region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      STRIPE_WEBHOOK_SECRET: t.webhookSecret ?? '',
    };
    try {
      // Act: from a folder without a local mode.
      const elsewhere = path.dirname(local.cwd);
      const [viaStack, viaLocal, missing] = await Promise.all([
        runCli(['payouts', 'list', '--stack', 'qbo-sync-test', '--json'], {
          cwd: elsewhere,
          env: { ...local.env, ...env },
        }),
        cli('payouts', 'list', '--json'),
        runCli(['payouts', 'list', '--stack', 'no-such-stack', '--json'], {
          cwd: elsewhere,
          env: { ...local.env, ...env },
        }),
      ]);

      // Assess
      expectExit(viaStack, 0);
      expect(viaStack.json()).toEqual(viaLocal.json());
      expectExit(missing, 1);
      expect(missing.json<Json>().error).toMatch(/stack no-such-stack does not exist/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('without a running local mode, a command says how to start one (exit 1)', async () => {
    const r = await runCli(['payouts', 'list', '--json'], { cwd: path.dirname(local.cwd), env: cleanEnv() });
    expectExit(r, 1);
    expect(r.json<Json>().error).toMatch(/local mode is not running here.*npm start/);
  });
});

/** A CloudFormation query-protocol endpoint knowing one stack. */
async function fakeCloudFormation(stackName: string, outputs: Record<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      res.setHeader('content-type', 'text/xml');
      if (form.get('Action') !== 'DescribeStacks' || form.get('StackName') !== stackName) {
        res.statusCode = 400;
        res.end(
          `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${form.get('StackName')} does not exist</Message></Error><RequestId>r1</RequestId></ErrorResponse>`,
        );
        return;
      }
      const members = Object.entries(outputs)
        .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
        .join('');
      res.end(
        `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${stackName}</StackName><StackId>arn:aws:cloudformation:us-east-1:000000000000:stack/${stackName}/1</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeStacksResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
