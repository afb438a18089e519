/**
 * Local mode's own parts, without starting the whole thing: the API Gateway event built from an HTTP request,
 * the retry schedule of the queue poller, local.json and `readLocalTarget`, arguments, the config reader and the
 * deposit table.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, SQSRecord } from 'aws-lambda';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { provisionLocalResources } from '../../src/adapters/aws/provision.js';
import { parseConfigText } from '../../src/adapters/config-file.js';
import { parseLocalArgs, UsageError } from '../../src/local/args.js';
import { LOCAL_MAX_RECEIVE_COUNT, RETRY_SCALE_ENV } from '../../src/local/constants.js';
import { entryRows, renderDepositTable } from '../../src/local/deposit-table.js';
import { startLocalHttpServer } from '../../src/local/http.js';
import { compactLogLine } from '../../src/local/log.js';
import { parseRetryScale, QueuePoller, retryDelaySeconds } from '../../src/local/poller.js';
import { runLocal, servingHelp } from '../../src/local/run.js';
import {
  LocalModeNotRunningError,
  type LocalTarget,
  localTargetEnv,
  readLocalTarget,
  removeLocalTarget,
  writeLocalTarget,
} from '../../src/local/target.js';

function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the local API Gateway', () => {
  it('hands the handler a REST proxy event with the exact body bytes and the sender’s header names', async () => {
    // Prepare
    const seen: APIGatewayProxyEvent[] = [];
    const server = await startLocalHttpServer({
      port: 0,
      routes: [
        {
          method: 'POST',
          path: '/webhooks/stripe',
          handler: async (event) => {
            seen.push(event);
            return { statusCode: 202, headers: { 'x-answer': 'yes' }, body: '{"queued":true}' };
          },
        },
        { method: 'GET', path: '/healthz', respond: () => ({ statusCode: 200, body: { status: 'ok' } }) },
      ],
    });
    try {
      const text = Buffer.from('{"id":"evt_1","note":"café ☕"}', 'utf8');
      const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41]);

      // Act
      const answer = await post(`${server.url}/webhooks/stripe?x=1&x=2`, text, {
        'Stripe-Signature': 't=1,v1=abc',
        'content-type': 'application/json',
      });
      await post(`${server.url}/webhooks/stripe`, binary, { 'content-type': 'application/octet-stream' });
      const missing = await post(`${server.url}/nope`, Buffer.alloc(0), {});
      const wrongMethod = await post(`${server.url}/healthz`, Buffer.alloc(0), {});

      // Assess
      expect(answer).toEqual({ status: 202, body: '{"queued":true}' });
      const [first, second] = seen;
      expect(first?.httpMethod).toBe('POST');
      expect(first?.resource).toBe('/webhooks/stripe');
      expect(first?.path).toBe('/webhooks/stripe');
      expect(first?.headers['Stripe-Signature']).toBe('t=1,v1=abc');
      expect(first?.isBase64Encoded).toBe(false);
      expect(Buffer.from(first?.body ?? '', 'utf8').equals(text)).toBe(true);
      expect(first?.multiValueQueryStringParameters).toEqual({ x: ['1', '2'] });
      expect(first?.queryStringParameters).toEqual({ x: '2' });
      expect(first?.requestContext.stage).toBe('local');
      expect(second?.isBase64Encoded).toBe(true);
      expect(Buffer.from(second?.body ?? '', 'base64').equals(binary)).toBe(true);
      expect(missing.status).toBe(404);
      expect(wrongMethod.status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('answers 502 like API Gateway when the handler throws', async () => {
    const errors: unknown[] = [];
    const server = await startLocalHttpServer({
      port: 0,
      routes: [
        {
          method: 'POST',
          path: '/webhooks/stripe',
          handler: async () => {
            throw new Error('boom');
          },
        },
      ],
      onError: (error) => errors.push(error),
    });
    try {
      const answer = await post(`${server.url}/webhooks/stripe`, Buffer.from('{}'), {});
      expect(answer.status).toBe(502);
      expect(errors).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('the queue poller’s retry schedule', () => {
  it('spends every receive of a payout that always fails well within 3 minutes (CONTRACT §9)', () => {
    for (const random of [() => 0, () => 0.5, () => 0.999]) {
      // The ledger says FAILED on the last receive: the waits before it count.
      const waits = Array.from({ length: LOCAL_MAX_RECEIVE_COUNT - 1 }, (_, i) =>
        retryDelaySeconds(i + 1, random),
      );
      const total = waits.reduce((a, b) => a + b, 0);
      // Each attempt may also spend up to ~16 s in the QuickBooks adapter's own retries (0.5+1+2+4+8 s).
      expect(total + LOCAL_MAX_RECEIVE_COUNT * 16).toBeLessThan(180);
      expect(waits.every((w) => w >= 4)).toBe(true);
      expect(waits[1]).toBeGreaterThan(waits[0] ?? 0);
    }
  });

  it(`is scaled by ${RETRY_SCALE_ENV}, never below 1 s`, () => {
    const schedule = (scale: number, random: () => number) =>
      [1, 2, 3, 4, 5].map((n) => retryDelaySeconds(n, random, scale));
    const middle = () => 0.5; // no jitter
    expect(schedule(1, middle)).toEqual([5, 10, 15, 20, 20]);
    expect(schedule(0.5, middle)).toEqual([3, 5, 8, 10, 10]);
    expect(schedule(0.2, middle)).toEqual([1, 2, 3, 4, 4]);
    for (const random of [() => 0, middle, () => 0.999]) {
      expect(schedule(0.05, random)).toEqual([1, 1, 1, 1, 1]);
      expect(schedule(0.001, random)).toEqual([1, 1, 1, 1, 1]);
    }
  });

  it.each([
    ['1', 1],
    ['0.05', 0.05],
    [' .5 ', 0.5],
    ['1.0', 1],
  ])('reads the scale %j', (text, value) => {
    expect(parseRetryScale(text, RETRY_SCALE_ENV)).toBe(value);
  });

  it.each(['0', '-0.5', '1.5', '20', 'abc', '', '1e-2', 'NaN', 'Infinity', '0x1'])(
    'refuses the scale %j, saying which values work',
    (text) => {
      expect(() => parseRetryScale(text, RETRY_SCALE_ENV)).toThrow(
        `${RETRY_SCALE_ENV} must be a number above 0 and at most 1`,
      );
    },
  );

  it('stops local mode at start on a bad scale, before anything starts', async () => {
    // Prepare
    const cwd = mkdtempSync(path.join(tmpdir(), 'qbo-local-scale-'));
    let out = '';
    let err = '';
    try {
      // Act
      const code = await runLocal({
        cwd,
        env: { [RETRY_SCALE_ENV]: '5' },
        out: (t) => {
          out += t;
        },
        err: (t) => {
          err += t;
        },
        handleSignals: false,
      });

      // Assess
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toMatch(
        new RegExp(`^qbo-sync local: ${RETRY_SCALE_ENV} must be a number above 0 and at most 1 .*got "5"\n$`),
      );
      expect(readdirSync(cwd)).toEqual([]); // no data folder was created
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('the queue poller (the local event source mapping)', () => {
  it('feeds SQS events to the handler, deletes what succeeded and retries what failed until the DLQ', async () => {
    // Prepare: the jest run's shared fauxqs, a queue of our own with maxReceiveCount 2
    const clients = awsClients();
    const prefix = `t-local-poller-${Date.now().toString(36)}`;
    const res = await provisionLocalResources(clients, {
      prefix,
      maxReceiveCount: 2,
      visibilityTimeoutSeconds: 30,
    });
    const seen: SQSRecord[] = [];
    const remaining: number[] = [];
    const poller = new QueuePoller({
      sqs: clients.sqs,
      queueUrl: res.queueUrl,
      region: 'us-east-1',
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      waitTimeSeconds: 1,
      retryDelay: () => 1,
      handler: async (event, context) => {
        remaining.push(context.getRemainingTimeInMillis());
        seen.push(...event.Records);
        return {
          batchItemFailures: event.Records.filter((r) => r.body === 'bad').map((r) => ({
            itemIdentifier: r.messageId,
          })),
        };
      },
    });
    for (const [body, group] of [
      ['good', 'tenant-a'],
      ['bad', 'tenant-b'],
    ] as const) {
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: res.queueUrl,
          MessageBody: body,
          MessageGroupId: group,
          MessageDeduplicationId: body,
        }),
      );
    }

    // Act
    await poller.start();
    const deadline = Date.now() + 15_000;
    let dlq: string[] = [];
    while (Date.now() < deadline && dlq.length === 0) {
      await new Promise((r) => setTimeout(r, 300));
      if (seen.filter((r) => r.body === 'bad').length >= 2) {
        // The third receive attempt moves the message to the DLQ.
        const got = await clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: res.dlqUrl, WaitTimeSeconds: 1 }),
        );
        dlq = (got.Messages ?? []).map((m) => m.Body ?? '');
      }
    }
    await poller.stop();

    // Assess
    expect(dlq).toEqual(['bad']);
    const good = seen.filter((r) => r.body === 'good');
    const bad = seen.filter((r) => r.body === 'bad');
    expect(good).toHaveLength(1);
    expect(bad.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(bad[0]?.attributes.MessageGroupId).toBe('tenant-b');
    expect(bad[0]?.eventSource).toBe('aws:sqs');
    expect(bad[0]?.eventSourceARN).toMatch(/^arn:aws:sqs:.*:t-local-poller-.*-payouts\.fifo$/);
    expect(Math.min(...remaining)).toBeGreaterThan(170_000);
  });
});

describe('local.json', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'qbo-local-target-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const target = (pid: number): LocalTarget => ({
    pid,
    port: 3999,
    url: 'http://127.0.0.1:3999',
    startedAt: new Date().toISOString(),
    dataDir: path.join(dir, '.qbo-sync'),
    region: 'us-east-1',
    endpoints: {
      dynamodb: 'http://127.0.0.1:1',
      sqs: 'http://127.0.0.1:2',
      secretsManager: 'http://127.0.0.1:3',
      quickbooks: 'http://127.0.0.1:4',
      tokenUrl: 'http://127.0.0.1:4/oauth2/v1/tokens/bearer',
      stripe: 'http://127.0.0.1:5',
      authorizeUrl: null,
    },
    tables: { tenants: 't', customers: 'c', ledger: 'l', idempotency: 'i' },
    queueUrl: 'http://127.0.0.1:2/000000000000/q.fifo',
    dlqUrl: 'http://127.0.0.1:2/000000000000/d.fifo',
    maxReceiveCount: 5,
    webhookSecret: 'whsec_test',
    redirectUri: 'http://localhost:3999/quickbooks/callback',
    tokenSecretPrefix: 'p/',
    credentials: { stripeSecretKey: 'sk_test_local', qboClientId: null, qboClientSecret: null },
    embedded: { aws: true, quickbooks: true, stripe: true },
    tenants: ['demo-studio'],
  });

  it('says how to start local mode when none runs in the folder', () => {
    expect(() => readLocalTarget(dir)).toThrow(LocalModeNotRunningError);
    expect(() => readLocalTarget(dir)).toThrow(/npm start/);
  });

  it('returns the target of a live process and gives the handlers’ environment', () => {
    writeLocalTarget(path.join(dir, '.qbo-sync'), target(process.pid));
    const read = readLocalTarget(dir);
    expect(read.url).toBe('http://127.0.0.1:3999');
    const env = localTargetEnv(read);
    expect(env.LEDGER_TABLE).toBe('l');
    expect(env.QUEUE_URL).toBe(read.queueUrl);
    expect(env.STRIPE_SECRET_KEY).toBe('sk_test_local');
    expect(env.QBO_CLIENT_ID).toBeUndefined();
  });

  it('refuses a target whose process has exited', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid ?? 0;
    await new Promise((r) => child.on('exit', r));
    writeLocalTarget(path.join(dir, '.qbo-sync'), target(pid));
    expect(() => readLocalTarget(dir)).toThrow(new RegExp(`process ${pid}, which has exited`));
  });

  it('is removed only by the process that wrote it', () => {
    const dataDir = path.join(dir, '.qbo-sync');
    writeLocalTarget(dataDir, target(process.pid));
    removeLocalTarget(dataDir, process.pid + 1);
    expect(readLocalTarget(dir).pid).toBe(process.pid);
    removeLocalTarget(dataDir, process.pid);
    expect(() => readLocalTarget(dir)).toThrow(LocalModeNotRunningError);
  });

  it("the serving help's CLI commands name the data folder only when it is not this folder's default", () => {
    // Prepare
    const elsewhere = target(process.pid);
    const here = { ...target(process.pid), dataDir: path.join(process.cwd(), '.qbo-sync') };

    // Act
    const helpElsewhere = servingHelp(elsewhere, ['po_1SampleLocalPayout001']);
    const helpHere = servingHelp(here, ['po_1SampleLocalPayout001']);

    // Assess
    expect(helpElsewhere).toContain(
      `npx qbo-sync payouts sync po_1SampleLocalPayout001 --tenant demo-studio --local --data-dir ${JSON.stringify(elsewhere.dataDir)}`,
    );
    expect(helpElsewhere).toContain(
      `npx qbo-sync payouts list --local --data-dir ${JSON.stringify(elsewhere.dataDir)}`,
    );
    expect(helpHere).toContain('npx qbo-sync payouts list --local\n');
    expect(helpHere).not.toContain('--data-dir');
  });

  it('names the file and the fix when it is not JSON', () => {
    const dataDir = path.join(dir, '.qbo-sync');
    writeLocalTarget(dataDir, target(process.pid));
    writeFileSync(path.join(dataDir, 'local.json'), '{not json');
    expect(() => readLocalTarget(dir)).toThrow(/not valid JSON.*delete it/);
  });
});

describe('qbo-sync local arguments', () => {
  it('reads every option', () => {
    expect(
      parseLocalArgs(['--config', 'f.yaml', '--port', '0', '--once', '--fresh', '--data-dir', 'd']),
    ).toEqual({
      config: 'f.yaml',
      port: 0,
      once: true,
      fresh: true,
      dataDir: 'd',
      help: false,
    });
  });

  it.each([[['--port', 'abc']], [['--port', '70000']], [['--nope']], [['extra']], [['--config']]])(
    'rejects %j as bad usage',
    (args) => {
      expect(() => parseLocalArgs(args)).toThrow(UsageError);
    },
  );
});

describe('the config reader', () => {
  it('names the line of a syntax error', () => {
    const result = parseConfigText('tenants:\n  - id: a\n    stripeAccount: [unclosed\n', 'f.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]?.message).toMatch(/f\.yaml line \d+/);
  });

  it('names the tenant and the entry of a shape problem', () => {
    const yaml = [
      'tenants:',
      '  - id: downtown-yoga',
      '    stripeAccount: platform',
      '    quickbooks:',
      '      realmId: "123"',
      '      depositAccount: Checking',
      '      adjustmentsAccount: Adj',
      '    revenue: []',
    ].join('\n');
    const result = parseConfigText(yaml, 'f.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems).toEqual([
        expect.objectContaining({ tenant: 'downtown-yoga', entry: 'quickbooks.processingFeesAccount' }),
      ]);
    }
  });

  it('accepts JSON too', () => {
    const json = JSON.stringify({
      tenants: [
        {
          id: 'aa',
          stripeAccount: 'platform',
          quickbooks: {
            realmId: 1,
            depositAccount: 'C',
            processingFeesAccount: 'F',
            adjustmentsAccount: 'A',
          },
        },
      ],
    });
    const result = parseConfigText(json, 'f.json');
    expect(result.ok && result.config.tenants[0]?.quickbooks.realmId).toBe('1');
  });
});

describe('the deposit table', () => {
  const names = {
    accounts: new Map([
      ['1', 'Checking'],
      ['2', 'Class Pack Revenue'],
      ['3', 'Stripe Fees'],
    ]),
    classes: new Map([['7', 'Online']]),
    customers: new Map([['9', 'Jane Doe']]),
  };

  it('prints every line and a total equal to the sum of the lines', () => {
    const body = {
      DepositToAccountRef: { value: '1' },
      Line: [
        {
          Amount: 120,
          Description: 'Class Packs: 1 charge',
          DetailType: 'DepositLineDetail',
          DepositLineDetail: {
            AccountRef: { value: '2' },
            Entity: { value: '9', type: 'Customer' },
            ClassRef: { value: '7' },
          },
        },
        { Amount: -3.78, DetailType: 'DepositLineDetail', DepositLineDetail: { AccountRef: { value: '3' } } },
      ],
    };
    const rows = entryRows('Deposit', body, 'USD', names);
    expect(rows.map((r) => r.amount)).toEqual([12000, -378]);
    const table = renderDepositTable(rows, 'USD', { title: 'T', facts: [['Ledger status', 'POSTED']] });
    expect(table).toMatch(/Class Pack Revenue\s+Jane Doe\s+Online\s+Class Packs: 1 charge\s+120\.00/);
    expect(table).toMatch(/Total\s+2 lines\s+116\.22/);
    expect(table).toContain('Ledger status: POSTED');
  });

  it('reads a journal entry like a deposit: credits positive, the deposit account’s own line left out', () => {
    const body = {
      Line: [
        { Amount: 10, JournalEntryLineDetail: { PostingType: 'Credit', AccountRef: { value: '1' } } },
        { Amount: 5, JournalEntryLineDetail: { PostingType: 'Credit', AccountRef: { value: '2' } } },
        { Amount: 15, JournalEntryLineDetail: { PostingType: 'Debit', AccountRef: { value: '3' } } },
      ],
    };
    const rows = entryRows('JournalEntry', body, 'USD', names, '1');
    expect(rows.map((r) => [r.account, r.amount])).toEqual([
      ['Class Pack Revenue', 500],
      ['Stripe Fees', -1500],
    ]);
  });
});

describe('terminal logs', () => {
  it('shows a Powertools JSON line as one short line, keeping every logged field', () => {
    const line = JSON.stringify({
      level: 'INFO',
      message: 'payout posted to QuickBooks',
      timestamp: '2026-11-27T10:52:41.000Z',
      service: 'qbo-sync-deposit-builder',
      sampling_rate: 0,
      payoutId: 'po_1',
      lines: 7,
    });
    const compact = compactLogLine(`${line}\n`);
    expect(compact).toMatch(
      /^\d\d:\d\d:\d\d INFO {2}deposit-builder +payout posted to QuickBooks · payoutId=po_1 lines=7\n$/,
    );
    expect(compactLogLine('Total: 449.28 USD\n')).toBeUndefined();
    expect(compactLogLine('{"level": not json')).toBeUndefined();
  });
});
