/**
 * Help, usage errors and exit codes (CONTRACT §8: `--help` exits 0; bad usage exits 2; with `--json` a failure
 * prints `{"error": …}` on stdout; never a stack trace). A few as spawned processes, the exhaustive lists through
 * `runCli` in this process (the same code path after `process.argv`), which is much faster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runCli as runInProcess } from '../../src/cli/main.js';
import { cleanEnv, runCli } from './cli-helpers.js';

let empty: string;

beforeAll(() => {
  empty = mkdtempSync(path.join(tmpdir(), 'qbo-sync-usage-'));
});
afterAll(() => rmSync(empty, { recursive: true, force: true }));

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

async function inProcess(args: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runInProcess(args, {
    cwd: empty,
    env: cleanEnv(),
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const COMMANDS = [
  [],
  ['config'],
  ['config', 'validate'],
  ['config', 'import'],
  ['config', 'export'],
  ['customers'],
  ['customers', 'sync'],
  ['payouts'],
  ['payouts', 'preview'],
  ['payouts', 'status'],
  ['payouts', 'list'],
  ['payouts', 'sync'],
  ['payouts', 'backfill'],
  ['payouts', 'resync'],
  ['dlq'],
  ['dlq', 'list'],
  ['dlq', 'replay'],
  ['connect'],
];

describe('qbo-sync usage', () => {
  test('--help exits 0 for the program and every command, and names --json on every leaf command', async () => {
    for (const command of COMMANDS) {
      const r = await inProcess([...command, '--help']);
      expect({ command, code: r.code }).toEqual({ command, code: 0 });
      expect(r.stdout).toMatch(/^Usage: qbo-sync/);
      const isLeaf = command.length === 2 || command[0] === 'connect';
      if (isLeaf) expect(r.stdout).toContain('--json');
    }
    const local = await inProcess(['local', '--help']);
    expect(local.code).toBe(0);
    expect(local.stdout).toMatch(/^Usage: qbo-sync local/);
  });

  test.each([
    [['nonsense'], /unknown command 'nonsense'/],
    [['payouts'], /Usage: qbo-sync payouts/],
    [['payouts', 'list', '--colour'], /unknown option '--colour'/],
    [['payouts', 'list', '--status', 'DONE'], /--status.*must be one of RECEIVED/],
    [['payouts', 'list', '--limit', '0'], /--limit must be a whole number from 1/],
    [['payouts', 'backfill', '--tenant', 'studio'], /required option '--since <date>'/],
    [
      ['payouts', 'backfill', '--tenant', 'studio', '--since', 'yesterday'],
      /must be a date such as 2026-01-15/,
    ],
    [['payouts', 'status'], /missing required argument 'payout'/],
    [['payouts', 'status', 'tr_123'], /must be a Stripe payout id/],
    [['payouts', 'status', 'po_1', 'po_2'], /too many arguments/],
    [['customers', 'sync'], /required option '--tenant <id>'/],
    [['customers', 'sync', '--tenant', 'Not Valid'], /must be a tenant id/],
    [['config', 'validate'], /missing required argument 'file'/],
    [['dlq', 'replay'], /--payout po_… or --all/],
    [['dlq', 'replay', '--all', '--payout', 'po_1'], /exclude each other/],
    [['payouts', 'list', '--local', '--stack', 'prod'], /--local and --stack/],
    [['payouts', 'list', '--stack', 'not a stack!'], /is not a CloudFormation stack name/],
    [['local', '--bogus'], /--bogus/],
  ])('bad usage %j exits 2 with the reason', async (args, reason) => {
    const r = await inProcess(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/);
  });

  test.each([
    [['payouts', 'status'], /^error: missing required argument 'payout'$/m, 'payouts status'],
    [['customers', 'sync'], /^error: required option '--tenant <id>' not specified$/m, 'customers sync'],
    [['dlq', 'replay'], /^error: say which payouts to replay/m, 'dlq replay'],
    [['payouts', 'frob'], /^error: unknown command 'frob'$/m, 'payouts'],
  ])('bad usage %j points to the help of its command', async (args, reason, command) => {
    const r = await inProcess(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr).toContain(`  fix: see the usage with \`npx qbo-sync ${command} --help\`\n`);
  });

  test('with --json a usage error and a failure both print {"error": …} on stdout', async () => {
    const usage = await inProcess(['payouts', 'list', '--status', 'DONE', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({
      error: expect.stringMatching(/must be one of RECEIVED/),
      hint: 'see the usage with `npx qbo-sync payouts list --help`',
    });
    const failure = await inProcess(['payouts', 'list', '--json']);
    expect(failure.code).toBe(1);
    expect(JSON.parse(failure.stdout)).toEqual({
      error: expect.stringMatching(/local mode is not running here/),
    });
  });

  test('as a spawned process: help exits 0, bad usage 2, no target 1, config validate needs no target', async () => {
    const env = cleanEnv();
    const [help, bad, noTarget, validate] = await Promise.all([
      runCli(['--help'], { cwd: empty, env }),
      runCli(['payouts', 'list', '--limit', 'many', '--json'], { cwd: empty, env }),
      runCli(['dlq', 'list'], { cwd: empty, env }),
      runCli(['config', 'validate', path.join(__dirname, 'missing.yaml'), '--json'], { cwd: empty, env }),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Commands:');
    expect(bad.code).toBe(2);
    expect(bad.json()).toEqual({
      error: expect.stringContaining('--limit'),
      hint: 'see the usage with `npx qbo-sync payouts list --help`',
    });
    expect(noTarget.code).toBe(1);
    expect(noTarget.stderr).toMatch(/^error: local mode is not running here .*npm start/);
    expect(validate.code).toBe(1);
    expect(validate.json()).toEqual({
      valid: false,
      problems: [
        { tenant: null, entry: 'file', message: expect.stringMatching(/missing\.yaml: it does not exist/) },
      ],
      tenants: [],
      checkedAgainstQuickBooks: false,
    });
  });
});
