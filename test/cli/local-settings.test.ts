/**
 * The CLI works wherever local mode works (issue 15, item 2): local mode started on a real Stripe and a real Intuit
 * app (here the test's stand-ins, named by STRIPE_API_BASE / QBO_API_BASE) keeps their credentials out of
 * local.json, so a second terminal must export them; the CLI names each variable in a `fix:` line and in `--json`'s
 * `hint`, and works once they are exported.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import { type StripeStandIn, startStripeStandIn } from '../../standins/stripe/index.js';
import { cleanEnv, type LocalMode, runCli, startLocalMode } from './cli-helpers.js';

const REALM = '9341453187';

let qbo: QuickBooksStandIn;
let stripe: StripeStandIn;
let local: LocalMode;

beforeAll(async () => {
  qbo = await startQuickBooksStandIn({ companies: [demoCompanySeed(REALM)], limits: false });
  stripe = await startStripeStandIn({ secretKey: 'sk_test_settings' });
  local = await startLocalMode({
    qbo,
    stripe,
    configYaml: `tenants:
  - id: settings-studio
    stripeAccount: acct_1SettingsStudio
    quickbooks:
      realmId: "${REALM}"
      depositAccount: Checking
      processingFeesAccount: Stripe Fees
      adjustmentsAccount: Stripe Adjustments
      refreshToken: ${qbo.issueRefreshToken(REALM)}
    revenue:
      - category: Class Packs
        account: Class Pack Revenue
`,
  });
}, 60_000);

afterAll(async () => {
  await local?.stop();
  await qbo?.close();
  await stripe?.close();
});

describe('a CLI command on a local mode that runs on real credentials', () => {
  test('local.json holds none of them', () => {
    // Act
    const text = readFileSync(path.join(local.cwd, '.qbo-sync', 'local.json'), 'utf8');

    // Assess
    expect(text).not.toContain(stripe.secretKey);
    expect(text).not.toContain(qbo.clientSecret);
  });

  test('without them: exit 1, every variable to export named in the fix line and in the JSON hint', async () => {
    // Act
    const text = await runCli(['payouts', 'list', '--local'], { cwd: local.cwd, env: cleanEnv() });
    const json = await runCli(['payouts', 'list', '--local', '--json'], { cwd: local.cwd, env: cleanEnv() });

    // Assess
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(
      /^error: missing settings: STRIPE_SECRET_KEY, QBO_CLIENT_ID, QBO_CLIENT_SECRET\./m,
    );
    expect(text.stderr).toMatch(
      /^ {2}fix: export STRIPE_SECRET_KEY=<the sk_test_… key local mode was started with> QBO_CLIENT_ID=.* QBO_CLIENT_SECRET=.*, then run the command again$/m,
    );
    expect(json.code).toBe(1);
    expect(json.json()).toMatchObject({
      error: expect.stringContaining('missing settings: STRIPE_SECRET_KEY'),
      hint: expect.stringContaining('export STRIPE_SECRET_KEY='),
      missing: ['STRIPE_SECRET_KEY', 'QBO_CLIENT_ID', 'QBO_CLIENT_SECRET'],
    });
  });

  test('only the one missing is named', async () => {
    // Act
    const r = await runCli(['payouts', 'list', '--local', '--json'], {
      cwd: local.cwd,
      env: cleanEnv({ QBO_CLIENT_ID: qbo.clientId, QBO_CLIENT_SECRET: qbo.clientSecret }),
    });

    // Assess
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({
      hint: 'export STRIPE_SECRET_KEY=<the sk_test_… key local mode was started with>, then run the command again',
      missing: ['STRIPE_SECRET_KEY'],
    });
  });

  test('with them exported the command works', async () => {
    // Act
    const r = await local.cli(['payouts', 'list', '--local', '--json']);

    // Assess
    expect(r.code).toBe(0);
    expect(r.json()).toEqual([]);
  });
});
