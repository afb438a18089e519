/**
 * Local mode keeps secrets to itself (CONTRACT §1, §7): started with a webhook secret, a Stripe key and QuickBooks
 * app keys in its environment, its whole output (stdout and stderr, the demo payout included) contains none of them,
 * nor does its data folder, which only its user may enter (0700). The CLI's `--local` trusts only a `local.json` of
 * its own user that names loopback endpoints.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  isLoopbackUrl,
  LOCAL_JSON,
  type LocalTarget,
  readLocalTarget,
  UntrustedLocalTargetError,
} from '../../src/local/target.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'qbo-sync.cjs');

const GIVEN = {
  STRIPE_WEBHOOK_SECRET: 'whsec_GivenWebhookSecretNeverPrinted42',
  STRIPE_SECRET_KEY: 'sk_test_GivenStripeKeyNeverPrinted42',
  QBO_CLIENT_ID: 'GivenIntuitClientIdNeverPrinted42',
  QBO_CLIENT_SECRET: 'GivenIntuitClientSecretNeverPrinted42',
};

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'qbo-sync-secrets-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(AWS_ENDPOINT_URL|QBO_|STRIPE_|PORT$|POWERTOOLS_)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, POWERTOOLS_LOG_LEVEL: 'DEBUG', ...extra };
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: work, env });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** Every file under a folder, as text. */
function filesUnder(dir: string): string {
  let text = '';
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    text += entry.isDirectory() ? filesUnder(full) : readFileSync(full).toString('latin1');
  }
  return text;
}

it('started with STRIPE_WEBHOOK_SECRET and keys set, its whole output and data folder contain none of them', async () => {
  // Prepare
  const dataDir = path.join(work, 'given');

  // Act: the demo payout goes through the webhook (signed with the given secret), queue and worker.
  const { code, output } = await run(
    ['local', '--once', '--fresh', '--data-dir', dataDir, '--port', '0'],
    childEnv(GIVEN),
  );

  // Assess
  expect({ code, tail: output.slice(-400) }).toMatchObject({ code: 0 });
  expect(output).toMatch(/Webhook secret\s+\(given in STRIPE_WEBHOOK_SECRET: not shown\)/);
  expect(output).toMatch(/POSTED|posted/);
  const onDisk = filesUnder(dataDir);
  for (const [name, value] of Object.entries(GIVEN)) {
    expect({ name, inOutput: output.includes(value) }).toEqual({ name, inOutput: false });
    expect({ name, onDisk: onDisk.includes(value) }).toEqual({ name, onDisk: false });
  }
  expect(statSync(dataDir).mode & 0o777).toBe(0o700);
}, 90_000);

it('a secret it generated itself may be shown', async () => {
  const dataDir = path.join(work, 'generated');
  const { code, output } = await run(
    ['local', '--once', '--fresh', '--data-dir', dataDir, '--port', '0'],
    childEnv({}),
  );
  expect(code).toBe(0);
  const generated = JSON.parse(readFileSync(path.join(dataDir, 'settings.json'), 'utf8'))
    .webhookSecret as string;
  expect(output).toContain(generated);
  expect(statSync(dataDir).mode & 0o777).toBe(0o700);
}, 90_000);

describe("the CLI's --local", () => {
  const target = (overrides: Partial<LocalTarget> = {}): LocalTarget => ({
    pid: process.pid,
    port: 3000,
    url: 'http://127.0.0.1:3000',
    startedAt: new Date().toISOString(),
    dataDir: path.join(work, 'cli'),
    region: 'us-east-1',
    endpoints: {
      dynamodb: 'http://127.0.0.1:4000',
      sqs: 'http://127.0.0.1:4001',
      secretsManager: 'http://127.0.0.1:4002',
      quickbooks: 'http://127.0.0.1:4003',
      tokenUrl: 'http://127.0.0.1:4003/oauth2/v1/tokens/bearer',
      stripe: 'http://localhost:4004',
      authorizeUrl: null,
    },
    tables: { tenants: 't', customers: 'c', ledger: 'l', idempotency: 'i' },
    queueUrl: 'http://127.0.0.1:4001/000000000000/q.fifo',
    dlqUrl: 'http://127.0.0.1:4001/000000000000/dlq.fifo',
    maxReceiveCount: 5,
    webhookSecret: null,
    redirectUri: 'http://localhost:3000/quickbooks/callback',
    tokenSecretPrefix: 'local/qbo-tokens/',
    credentials: { stripeSecretKey: null, qboClientId: null, qboClientSecret: null },
    embedded: { aws: true, quickbooks: true, stripe: true },
    tenants: [],
    ...overrides,
  });
  const write = (t: LocalTarget) => {
    const dir = path.join(work, 'cli');
    rmSync(dir, { recursive: true, force: true });
    require('node:fs').mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, LOCAL_JSON), JSON.stringify(t), { mode: 0o600 });
    return dir;
  };

  it('accepts its own user’s local.json naming loopback endpoints only', () => {
    const dir = write(target());
    expect(readLocalTarget(work, dir).url).toBe('http://127.0.0.1:3000');
    expect(
      [
        'http://[::1]:1',
        'http://localhost:2',
        'http://127.8.9.10:3',
        'http://sqs.us-east-1.localhost:4',
      ].every(isLoopbackUrl),
    ).toBe(true);
    expect(
      ['http://10.0.0.5:1', 'https://sqs.us-east-1.amazonaws.com', 'http://127.0.0.1.evil.io'].some(
        isLoopbackUrl,
      ),
    ).toBe(false);
  });

  it('refuses a local.json naming a non-loopback endpoint, saying which', async () => {
    const dir = write(
      target({ endpoints: { ...target().endpoints, sqs: 'https://sqs.us-east-1.amazonaws.com' } }),
    );
    expect(() => readLocalTarget(work, dir)).toThrow(UntrustedLocalTargetError);
    expect(() => readLocalTarget(work, dir)).toThrow(
      /endpoints\.sqs https:\/\/sqs\.us-east-1\.amazonaws\.com.*not on this machine/,
    );
    // The real CLI: exit 1, the reason, no stack trace.
    const { code, output } = await run(['payouts', 'list', '--local', '--data-dir', dir], childEnv({}));
    expect(code).toBe(1);
    expect(output).toMatch(/not on this machine \(loopback\)/);
    expect(output).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('refuses a local.json its user does not own', () => {
    const dir = write(target());
    const owner = statSync(path.join(dir, LOCAL_JSON)).uid;
    expect(() => readLocalTarget(work, dir, { uid: owner + 1 })).toThrow(/belongs to another user/);
  });
});
