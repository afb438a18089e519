/**
 * `qbo-sync local` end to end, as a person runs it: the real process (`node bin/qbo-sync.cjs local`), its output and
 * exit code, its HTTP endpoint, and its state across a restart. Every part is embedded (no AWS_ENDPOINT_URL_*,
 * QBO_API_BASE or STRIPE_API_BASE in the child's environment).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLedger } from '../../src/adapters/aws/ledger.js';
import type { LedgerRecord } from '../../src/app/ports.js';
import {
  DEMO_REALM_ID,
  SAMPLE_FAILED_PAYOUT_ID,
  SAMPLE_RETURNING_PAYOUT_ID,
  samplePayouts,
} from '../../src/local/demo.js';
import { type LocalTarget, readLocalTarget } from '../../src/local/target.js';
import { demoPayout, makePayoutEvent, signWebhook } from '../../standins/stripe/index.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'qbo-sync.cjs');
const DEMO_PAYOUT_ID = demoPayout().payout.id;
/** Each test starts a real process: generous under a loaded CI machine (a run takes 2–3 s here). */
const SPAWN_TIMEOUT_MS = 60_000;

/** The child's environment: nothing pointing elsewhere, so every part is embedded. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(AWS_ENDPOINT_URL|QBO_|STRIPE_|PORT$|POWERTOOLS_)/.test(key)) continue;
    env[key] = value;
  }
  env.POWERTOOLS_LOG_LEVEL = 'WARN';
  return env;
}

interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
  /** Resolves when stdout matches, rejects when the process exits first or the time is up. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Every process a test started, so none outlives the file even when a test fails midway. */
const started = new Set<ChildProcessWithoutNullStreams>();

function runLocal(cwd: string, args: string[]): Run {
  const child = spawn(process.execPath, [BIN, 'local', ...args], { cwd, env: childEnv() });
  started.add(child);
  child.on('exit', () => started.delete(child));
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const l of listeners) l();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exited = false;
  void exit.then(() => {
    exited = true;
    for (const l of listeners) l();
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor(pattern, timeoutMs = 45_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} in ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const check = () => {
          if (pattern.test(out)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve();
          } else if (exited) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`exited before ${pattern}\nstdout:\n${out}\nstderr:\n${err}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}

function ledgerOf(target: LocalTarget): { ledger: DynamoLedger; close: () => void } {
  const ddb = new DynamoDBClient({
    endpoint: target.endpoints.dynamodb,
    region: target.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    ledger: new DynamoLedger({ doc: DynamoDBDocumentClient.from(ddb), tableName: target.tables.ledger }),
    close: () => ddb.destroy(),
  };
}

async function storedRefreshToken(
  target: LocalTarget,
): Promise<{ refreshToken: string; accessToken: string }> {
  const sm = new SecretsManagerClient({
    endpoint: target.endpoints.secretsManager,
    region: target.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const secret = await sm.send(
      new GetSecretValueCommand({ SecretId: `${target.tokenSecretPrefix}${DEMO_REALM_ID}` }),
    );
    return JSON.parse(secret.SecretString ?? '{}') as { refreshToken: string; accessToken: string };
  } finally {
    sm.destroy();
  }
}

async function waitForStatus(
  ledger: DynamoLedger,
  payoutId: string,
  timeoutMs: number,
): Promise<LedgerRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await ledger.get(payoutId);
    if (row && ['POSTED', 'HELD', 'FAILED', 'SKIPPED'].includes(row.status)) return row;
    if (Date.now() > deadline) throw new Error(`payout ${payoutId} not settled: ${JSON.stringify(row)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('qbo-sync local (the real process)', () => {
  let work: string;
  let dataDir: string;
  let firstDepositId = '';
  let refreshTokenAtStop = '';
  const sample = samplePayouts()[0];

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'qbo-local-e2e-'));
    dataDir = path.join(work, 'data');
  });
  afterAll(async () => {
    for (const child of started) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(work, { recursive: true, force: true });
  });

  it(
    '--once: the demo payout goes through the endpoint, queue and worker; the deposit is printed; exit 0',
    async () => {
      // Act
      const run = runLocal(work, ['--once', '--fresh', '--data-dir', dataDir, '--port', '0']);
      const code = await run.exit;

      // Assess
      const out = run.stdout();
      expect({ code, stderr: run.stderr() }).toEqual({ code: 0, stderr: '' });
      expect(out).toContain(`Sending the demo payout ${DEMO_PAYOUT_ID}`);
      expect(out).toMatch(/^Class Pack Revenue\s+Jane Doe\s+Class Packs: ch_\w+\s+120\.00$/m);
      expect(out).toMatch(
        /^Virtual Class Revenue\s+Sam Rivera\s+Online\s+Classes \/ Virtual: ch_\w+\s+25\.00$/m,
      );
      expect(out).toMatch(/^Stripe Fees\s+Stripe processing fees: 5 transactions\s+-15\.72$/m);
      expect(out).toMatch(/^Total\s+7 lines\s+449\.28$/m);
      expect(out).toMatch(/^Total:\s+449\.28 USD = the payout amount$/m);
      expect(out).toMatch(/^Ledger status:\s+POSTED$/m);
      const id = /^QuickBooks Deposit:\s+id (\S+)$/m.exec(out)?.[1];
      expect(id).toBeDefined();
      firstDepositId = id ?? '';
      expect(existsSync(path.join(dataDir, 'local.json'))).toBe(false);
    },
    SPAWN_TIMEOUT_MS,
  );

  it(
    'serves: /healthz, a second payout through a signed webhook, no second demo deposit; Ctrl-C exits 0',
    async () => {
      // Prepare
      const run = runLocal(work, ['--data-dir', dataDir, '--port', '0']);
      try {
        await run.waitFor(/Stop with Ctrl-C/);
        const target = readLocalTarget(work, dataDir);
        expect(target.pid).toBe(run.child.pid);
        const { ledger, close } = ledgerOf(target);
        try {
          // Assess: ready, and the demo payout was not sent again
          const health = await fetch(`${target.url}/healthz`);
          expect({ status: health.status, body: await health.json() }).toEqual({
            status: 200,
            body: { status: 'ok' },
          });
          expect(run.stdout()).toContain(
            'was processed by an earlier run (ledger: POSTED); it is not sent again',
          );
          const demoRow = await ledger.get(DEMO_PAYOUT_ID);
          expect(demoRow?.quickbooks).toEqual({ type: 'Deposit', id: firstDepositId });

          // Act: a second payout, as Stripe would send it
          if (!sample) throw new Error('no sample payout');
          const payload = JSON.stringify(makePayoutEvent('payout.paid', sample.payout));
          const bad = await fetch(`${target.url}/webhooks/stripe`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'stripe-signature': signWebhook(payload, 'whsec_wrong'),
            },
            body: payload,
          });
          const good = await fetch(`${target.url}/webhooks/stripe`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'stripe-signature': signWebhook(payload, target.webhookSecret ?? ''),
            },
            body: payload,
          });

          // Assess
          expect(bad.status).toBe(400);
          expect(good.status).toBe(200);
          const row = await waitForStatus(ledger, sample.payout.id, 20_000);
          expect(row).toMatchObject({
            status: 'POSTED',
            tenantId: 'demo-studio',
            quickbooks: { type: 'Deposit' },
          });
          expect(row.quickbooks?.id).not.toBe(firstDepositId);
          refreshTokenAtStop = (await storedRefreshToken(target)).refreshToken;
          expect(refreshTokenAtStop).not.toBe('');
        } finally {
          close();
        }
      } finally {
        // Act: Ctrl-C
        run.child.kill('SIGINT');
      }
      expect(await run.exit).toBe(0);
      expect(existsSync(path.join(dataDir, 'local.json'))).toBe(false);
    },
    SPAWN_TIMEOUT_MS,
  );

  it(
    'restarts on the same data folder with its ledger and tokens',
    async () => {
      const run = runLocal(work, ['--data-dir', dataDir, '--port', '0']);
      try {
        await run.waitFor(/Stop with Ctrl-C/);
        const target = readLocalTarget(work, dataDir);
        const { ledger, close } = ledgerOf(target);
        try {
          expect((await ledger.get(DEMO_PAYOUT_ID))?.quickbooks).toEqual({
            type: 'Deposit',
            id: firstDepositId,
          });
          expect((await ledger.get(sample?.payout.id ?? ''))?.status).toBe('POSTED');
          // Not seeded again: the token the previous run ended with (a restart never rolls a rotated token back).
          const stored = await storedRefreshToken(target);
          expect(stored.refreshToken).toBe(refreshTokenAtStop);
          expect(stored.accessToken).not.toBe('expired-seed');
        } finally {
          close();
        }
      } finally {
        run.child.kill('SIGTERM');
      }
      expect(await run.exit).toBe(0);
    },
    SPAWN_TIMEOUT_MS,
  );

  it(
    '--config: every problem is printed, naming the tenant and the entry; exit 1',
    async () => {
      // Prepare
      const file = path.join(work, 'bad.yaml');
      writeFileSync(
        file,
        [
          'tenants:',
          '  - id: downtown-yoga',
          '    stripeAccount: acct_1PzXqR2eZvKYlo2C',
          '    quickbooks:',
          `      realmId: "${DEMO_REALM_ID}"`,
          '      depositAccount: Undeposited Funds',
          '      processingFeesAccount: Stripe Fees',
          '      adjustmentsAccount: Stripe Adjustments',
          '    revenue:',
          '      - category: Class Packs',
          '        account: No Such Revenue',
        ].join('\n'),
      );

      // Act
      const run = runLocal(work, [
        '--once',
        '--config',
        file,
        '--data-dir',
        path.join(work, 'cfg'),
        '--port',
        '0',
      ]);

      // Assess
      expect(await run.exit).toBe(1);
      expect(run.stderr()).toMatch(/tenant downtown-yoga, quickbooks\.depositAccount: .*Undeposited/);
      expect(run.stderr()).toMatch(/tenant downtown-yoga, revenue\[0\]: .*No Such Revenue/);
      expect(run.stderr()).not.toMatch(/\n\s+at /); // no stack trace
    },
    SPAWN_TIMEOUT_MS,
  );

  it(
    '--config: the tenants are imported at start; one without a QuickBooks connection is named and left out',
    async () => {
      // Prepare: the second tenant's company is unknown to the QuickBooks stand-in, so no token can exist for it
      const file = path.join(work, 'good.yaml');
      const tenant = (id: string, account: string, realmId: string) => [
        `  - id: ${id}`,
        `    stripeAccount: ${account}`,
        '    quickbooks:',
        `      realmId: "${realmId}"`,
        '      depositAccount: Checking',
        '      processingFeesAccount: Stripe Fees',
        '      adjustmentsAccount: Stripe Adjustments',
        '    revenue:',
        '      - category: Class Packs',
        '        account: Class Pack Revenue',
      ];
      writeFileSync(
        file,
        [
          'tenants:',
          ...tenant('downtown-yoga', 'acct_1PzXqR2eZvKYlo2C', DEMO_REALM_ID),
          ...tenant('uptown-pilates', 'acct_9UptownPilates', '5550001'),
        ].join('\n'),
      );

      // Act
      const run = runLocal(work, [
        '--once',
        '--config',
        file,
        '--data-dir',
        path.join(work, 'cfg'),
        '--port',
        '0',
      ]);

      // Assess
      expect(await run.exit).toBe(1);
      expect(run.stdout()).toMatch(
        /Tenants\s+downtown-yoga \(acct_1PzXqR2eZvKYlo2C → QuickBooks realm 9341453187\)\n/,
      );
      expect(run.stderr()).toMatch(
        /tenant uptown-pilates was not imported: no QuickBooks connection is stored for company 5550001\. Connect it with `npx qbo-sync connect --tenant uptown-pilates --local`/,
      );
    },
    SPAWN_TIMEOUT_MS,
  );

  it(
    'issue 12: a payout with metadata null, every rarer reporting category and a failed payout’s funds posts, each in its account',
    async () => {
      // Prepare
      const dir = path.join(work, 'reporting');
      const returning = samplePayouts().find((p) => p.payout.id === SAMPLE_RETURNING_PAYOUT_ID);
      if (!returning) throw new Error('no returning sample payout');
      const categories = new Set(returning.transactions.map((t) => t.reporting_category));
      for (const c of [
        'refund_failure',
        'partial_capture_reversal',
        'charge_failure',
        'fee',
        'payout_reversal',
      ]) {
        expect(categories).toContain(c);
      }
      const run = runLocal(work, ['--fresh', '--data-dir', dir, '--port', '0']);
      try {
        await run.waitFor(/Stop with Ctrl-C/);
        const target = readLocalTarget(work, dir);
        const { ledger, close } = ledgerOf(target);
        try {
          // Act: Stripe sends payout.paid for the payout the failed one's funds came back in
          const payload = JSON.stringify(makePayoutEvent('payout.paid', returning.payout));
          const answer = await fetch(`${target.url}/webhooks/stripe`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'stripe-signature': signWebhook(payload, target.webhookSecret ?? ''),
            },
            body: payload,
          });

          // Assess: posted, the failed payout itemised, nothing left in adjustments
          expect(answer.status).toBe(200);
          const row = await waitForStatus(ledger, SAMPLE_RETURNING_PAYOUT_ID, 30_000);
          expect({ status: row.status, reason: row.reason }).toEqual({ status: 'POSTED', reason: null });
          const { accessToken } = await storedRefreshToken(target);
          const read = await fetch(
            `${target.endpoints.quickbooks}/v3/company/${DEMO_REALM_ID}/deposit/${row.quickbooks?.id}`,
            { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } },
          );
          const deposit = ((await read.json()) as { Deposit: Record<string, unknown> }).Deposit;
          const lines = deposit.Line as Array<{ Amount: number; Description: string }>;
          const cents = lines.reduce((a, l) => a + Math.round(l.Amount * 100), 0);
          expect(cents).toBe(returning.payout.amount);
          expect(String(deposit.PrivateNote)).toMatch(
            new RegExp(`returns failed payout ${SAMPLE_FAILED_PAYOUT_ID} \\(\\d+ transactions itemised\\)`),
          );
          const described = lines.map((l) => [l.Description, l.Amount] as const);
          expect(described.filter(([d]) => d.startsWith('Stripe adjustments'))).toEqual([]);
          expect(described.some(([d, a]) => d.startsWith('Refunds reversed') && a > 0)).toBe(true);
          expect(described.some(([d, a]) => d.startsWith('Stripe processing fees') && a > 0)).toBe(true);
        } finally {
          close();
        }
      } finally {
        run.child.kill('SIGINT');
      }
      expect(await run.exit).toBe(0);
    },
    SPAWN_TIMEOUT_MS,
  );
});
