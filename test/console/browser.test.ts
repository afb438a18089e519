/**
 * The support console in a real Chromium (Debian's `chromium`, driven by playwright-core; .ci/run installs it):
 * a support person signs in through the hosted sign-in of a Cognito user pool stand-in (the console as the stack
 * serves it, over the same local mode), opens the payouts list, opens the held payout, the mapping is fixed through
 * the CLI, they press Sync and see it POSTED; then they replay a dead-lettered payout from the DLQ page. Local
 * mode's own console (loopback, no sign-in) shows the tenant's unmapped categories. One browser for the file.
 *
 * With CONSOLE_SCREENSHOTS=<folder> the pages are saved there as PNGs (docs/console/ holds the committed ones).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { resetAwsClients } from '../../src/adapters/aws/clients.js';
import { silentLog } from '../../src/app/log.js';
import { consoleServicesFrom } from '../../src/console/services.js';
import { localTargetEnv } from '../../src/local/target.js';
import { buildRuntime } from '../../src/runtime.js';
import { type AwsConsole, startAwsConsole } from './helpers.js';
import { type ConsoleLocal, STUDIO, startConsoleLocal } from './local-fixture.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SCREENSHOTS;

let f: ConsoleLocal;
let aws: AwsConsole;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does)`,
    );
  }
  [f, browser] = await Promise.all([
    startConsoleLocal(),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    }),
  ]);
  // The console as the stack serves it, over local mode's tables and queues (as `--local` commands reach them).
  Object.assign(process.env, localTargetEnv(f.local.target), {
    STRIPE_SECRET_KEY: f.stripe.secretKey,
    QBO_CLIENT_ID: f.qbo.clientId,
    QBO_CLIENT_SECRET: f.qbo.clientSecret,
  });
  resetAwsClients();
  const runtime = await buildRuntime(process.env, { log: silentLog, serviceName: 'qbo-sync-console-test' });
  aws = await startAwsConsole(async () => consoleServicesFrom(runtime, { dlqWaitSeconds: 0, local: true }));
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await aws?.close();
  await f?.close();
  resetAwsClients();
});

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1180, height: 760 } });
  return context.newPage();
}

it('local mode: the console opens without sign-in and shows the tenant’s unmapped category', async () => {
  const page = await newPage();
  await page.goto(`${f.local.target.url}/`);
  await page.getByText('(local mode) · support').waitFor();
  await page.getByRole('link', { name: 'Tenants & mappings' }).click();
  await page.getByRole('link', { name: STUDIO }).click();
  const unmapped = page.locator('table').last();
  await unmapped.getByText('Workshops').waitFor();
  await unmapped.getByText('HOLDS the payout').waitFor();
  await shot(page, 'console-tenant-mappings');
  await page.context().close();
});

it('AWS: signs in, opens the held payout, gets it POSTED after the mapping fix', async () => {
  const page = await newPage();
  await page.goto(`${aws.url}/`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill('sam');
  await page.getByLabel('Password').fill('Support-pass-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('sam@support.example · support').waitFor();
  await page.getByRole('heading', { name: 'Payouts', level: 1 }).waitFor();
  await shot(page, 'console-payouts');

  await page.getByRole('link', { name: f.held.payout.id }).click();
  await page.locator('h1 .s-HELD').waitFor();
  await page.getByText('Workshops').first().waitFor();
  await shot(page, 'console-held-payout');

  // The fix: the mapping, through the CLI (`config import`), as support does it today.
  await f.fixMapping();

  await page.getByRole('link', { name: 'Sync…' }).click();
  await page.getByRole('heading', { name: `Sync payout ${f.held.payout.id}?` }).waitFor();
  await shot(page, 'console-confirm-sync');
  await page.getByRole('button', { name: 'Yes, sync it' }).click();
  await page.getByText('Sync queued by sam@support.example').waitFor();
  // The page refreshes itself while the worker runs.
  await page.locator('h1 .s-POSTED').waitFor({ timeout: 30_000 });
  await page.getByText('open in QuickBooks').or(page.getByText('has no web app')).first().waitFor();
  await shot(page, 'console-posted');
  const row = await f.ledger.get(f.held.payout.id);
  expect(row?.status).toBe('POSTED');
  expect(row?.actions?.at(-1)).toMatchObject({ action: 'sync', by: 'sam@support.example', via: 'console' });
  await page.context().close();
}, 60_000);

it('AWS: replays a dead-lettered payout from the DLQ page', async () => {
  const page = await newPage();
  await page.goto(`${aws.url}/dlq`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill('sam');
  await page.getByLabel('Password').fill('Support-pass-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Back on the page asked for.
  await page.getByRole('heading', { name: 'Dead-letter queue' }).waitFor();
  const row = page.locator('tr', { hasText: f.deadLettered.payout.id });
  await row.waitFor();
  await shot(page, 'console-dlq');

  f.outage.on = false; // the cause is gone: Stripe answers again
  await row.getByRole('link', { name: 'Replay…' }).click();
  await page.getByRole('button', { name: 'Yes, replay it' }).click();
  await page.getByText(`Replayed 1 payout (${f.deadLettered.payout.id})`).waitFor();
  await page.locator('h1 .s-POSTED').waitFor({ timeout: 30_000 });
  expect((await f.ledger.get(f.deadLettered.payout.id))?.actions?.map((a) => a.action)).toEqual(['replay']);
  await page.goto(`${aws.url}/dlq`);
  await page.getByText('The dead-letter queue is empty.').waitFor();
  await page.context().close();
}, 60_000);
