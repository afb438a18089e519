/**
 * `payouts audit` and `payouts accept` as a person uses them (spawned CLI processes against a local mode on the
 * test's own stand-ins), and `config validate --local` showing each tenant's closing date.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import { generatePayout, type StripeStandIn, startStripeStandIn } from '../../standins/stripe/index.js';
import { type CliResult, type LocalMode, startLocalMode } from './cli-helpers.js';

const REALM = '9341453187';
const STUDIO = 'drift-studio';
const ACCOUNT = 'acct_1DriftStudio';

function configYaml(refreshToken: string, closedPeriod = 'hold'): string {
  return `tenants:
  - id: ${STUDIO}
    stripeAccount: ${ACCOUNT}
    quickbooks:
      realmId: "${REALM}"
      depositAccount: Checking
      processingFeesAccount: Stripe Fees
      adjustmentsAccount: Stripe Adjustments
      walkInCustomer: Walk-in
      closedPeriod: ${closedPeriod}
      refreshToken: ${refreshToken}
    revenue:
      - category: Class Packs
        account: Class Pack Revenue
      - category: Classes
        account: In-person Class Revenue
      - category: Memberships
        account: Membership Revenue
`;
}

const payout = generatePayout({ seed: 41, transactions: 6, account: ACCOUNT });

let qbo: QuickBooksStandIn;
let stripe: StripeStandIn;
let local: LocalMode;

const cli = (...args: string[]) => local.cli(args);

function expectExit(result: CliResult, code: number): void {
  if (result.code !== code) {
    throw new Error(
      `expected exit ${code}, got ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
}

const depositsOf = (payoutId: string) =>
  qbo
    .entities(REALM, 'Deposit')
    .filter((d) => String(d.PrivateNote ?? '').startsWith(`Stripe payout ${payoutId}`));

interface Finding {
  payout: string;
  tenant: string;
  quickbooks: { type: string; id: string };
  finding: string;
  detail: string;
  hint: string;
}

beforeAll(async () => {
  qbo = await startQuickBooksStandIn({ companies: [demoCompanySeed(REALM)], limits: false });
  stripe = await startStripeStandIn({ secretKey: 'sk_test_cli_drift' });
  stripe.addPayout({ account: ACCOUNT, ...payout });
  local = await startLocalMode({ qbo, stripe, configYaml: configYaml(qbo.issueRefreshToken(REALM)) });
}, 60_000);

afterAll(async () => {
  await local?.stop();
  await qbo?.close();
  await stripe?.close();
});

test('audit reports a deletion with its fix; resync restores one live entry; accept silences an edit', async () => {
  // Prepare: the payout posted, then deleted in QuickBooks by a person.
  expectExit(await cli('payouts', 'sync', payout.payout.id, '--tenant', STUDIO, '--wait', '60'), 0);
  const [posted] = depositsOf(payout.payout.id);
  qbo.deleteAsPerson(REALM, 'Deposit', String(posted?.Id));

  // Act + Assess: the audit names it, with both fixes.
  const audit = await cli('payouts', 'audit', '--json');
  expectExit(audit, 0);
  expect(audit.json<Finding[]>()).toEqual([
    {
      payout: payout.payout.id,
      tenant: STUDIO,
      quickbooks: { type: 'Deposit', id: String(posted?.Id) },
      finding: 'deleted',
      detail: `Deposit ${posted?.Id} was deleted in QuickBooks`,
      hint: `\`npx qbo-sync payouts resync ${payout.payout.id}\` posts the computed entry again; \`npx qbo-sync payouts accept ${payout.payout.id}\` records that the deletion was intended`,
    },
  ]);
  const human = await cli('payouts', 'audit', '--tenant', STUDIO);
  expectExit(human, 0);
  expect(human.stdout).toMatch(/PAYOUT\s+TENANT\s+QUICKBOOKS\s+FINDING\s+DETAIL\s+FIX/);
  expect(human.stdout).toContain(`payouts resync ${payout.payout.id} | payouts accept ${payout.payout.id}`);

  // The resync posts the computed entry again: exactly one live entry, and nothing drifted.
  expectExit(await cli('payouts', 'resync', payout.payout.id, '--wait', '60'), 0);
  const live = depositsOf(payout.payout.id);
  expect(live).toHaveLength(1);
  const clean = await cli('payouts', 'audit', '--json');
  expectExit(clean, 0);
  expect(clean.json()).toEqual([]);

  // A person moves its date; the audit reports it; accept records it as intended; the audit is quiet again.
  qbo.editAsPerson(REALM, 'Deposit', String(live[0]?.Id), { TxnDate: '2026-12-31' });
  const redated = await cli('payouts', 'audit', '--json');
  expect(redated.json<Finding[]>().map((f) => [f.finding, f.detail])).toEqual([
    ['redated', `date ${live[0]?.TxnDate} → 2026-12-31`],
  ]);
  const accepted = await cli('payouts', 'accept', payout.payout.id);
  expectExit(accepted, 0);
  expect(accepted.stdout).toContain(`Accepted: Deposit ${live[0]?.Id} of ${payout.payout.id}`);
  const after = await cli('payouts', 'audit', '--json');
  expect(after.json()).toEqual([]);
  const again = await cli('payouts', 'accept', payout.payout.id, '--json');
  expectExit(again, 1);
  expect(again.json()).toEqual({
    error: `payout ${payout.payout.id} has no drift finding to accept`,
    hint: expect.any(String),
  });
});

test('a reversal a resync posted in closed books, deleted by a person: reported with its fix by hand, then accepted', async () => {
  // Prepare: a second payout posted, the books closed after its date, a resync (closedPeriod hold: the corrected
  // entry waits, HELD; the old deposit is reversed), then a person deletes the reversing JournalEntry.
  const second = generatePayout({ seed: 42, transactions: 6, account: ACCOUNT });
  stripe.addPayout({ account: ACCOUNT, ...second });
  const po = second.payout.id;
  expectExit(await cli('payouts', 'sync', po, '--tenant', STUDIO, '--wait', '60'), 0);
  const [old] = depositsOf(po);
  const closedBefore = new Date(Date.parse(String(old?.TxnDate)) + 86_400_000).toISOString().slice(0, 10);
  qbo.setCompany(REALM, { closedBefore });
  try {
    // Exit 1: the worker left it HELD (the corrected entry waits for the books to open).
    const resynced = await cli('payouts', 'resync', po, '--wait', '60');
    expect(resynced.stdout).toMatch(/Status:\s+HELD/);
    const reversal = qbo
      .entities(REALM, 'JournalEntry')
      .find((j) => String(j.PrivateNote ?? '').startsWith(`Reversal of Stripe payout ${po}`));
    qbo.deleteAsPerson(REALM, 'JournalEntry', String(reversal?.Id));

    // Act
    const human = await cli('payouts', 'audit', '--tenant', STUDIO);
    const status = await cli('payouts', 'status', po);
    const accepted = await cli('payouts', 'accept', po);
    const after = await cli('payouts', 'audit', '--json');

    // Assess
    expectExit(human, 0);
    expect(human.stdout).toContain(`by hand, then payouts accept ${po}`);
    expect(human.stdout).toContain(
      `${po} (JournalEntry ${reversal?.Id}, replaced by a resync): in QuickBooks, delete Deposit ${old?.Id} where its period is open`,
    );
    expect(status.stdout).toMatch(
      new RegExp(`Drift fix:\\s+in QuickBooks, delete Deposit ${old?.Id} where its period is open`),
    );
    expectExit(accepted, 0);
    expect(accepted.stdout).toContain(`Accepted: JournalEntry ${reversal?.Id} of ${po} was deleted`);
    expect(accepted.stdout).toContain(
      'The audit no longer watches it (the reversal of an entry a resync replaced).',
    );
    expect(after.json()).toEqual([]);
  } finally {
    qbo.setCompany(REALM, { closedBefore: undefined });
  }
});

test('config validate against QuickBooks shows each tenant’s closing date and policy', async () => {
  qbo.setCompany(REALM, { closedBefore: '2026-07-01' });
  writeFileSync(path.join(local.cwd, 'next.yaml'), configYaml('rt-unused', 'nextOpenDate'));
  try {
    const json = await cli('config', 'validate', 'next.yaml', '--local', '--json');
    expectExit(json, 0);
    expect(json.json()).toMatchObject({
      valid: true,
      closingDates: [{ tenant: STUDIO, closedThrough: '2026-06-30', closedPeriod: 'nextOpenDate' }],
    });
    const human = await cli('config', 'validate', 'next.yaml', '--local');
    expect(human.stdout).toContain(
      `${STUDIO}: the books are closed through 2026-06-30; a payout dated then is posted on the first open day (closedPeriod: nextOpenDate)`,
    );
  } finally {
    qbo.setCompany(REALM, { closedBefore: undefined });
  }
});
