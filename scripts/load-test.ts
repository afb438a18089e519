/**
 * The long load run (docs/reliability.md): 1,000 signed webhooks into local mode — 800 payouts over 8
 * tenants and 200 duplicate deliveries — then every payout checked in the ledger and in QuickBooks.
 *
 *   node bin/run-ts.cjs scripts/load-test.ts [--events N] [--tenants T] [--concurrency C] [--json]
 *
 * Exit 0 when every webhook was accepted and every payout posted exactly once; 1 otherwise.
 */
import { runLoad } from '../test/reliability/helpers-load.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} needs a whole number of at least 1\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<number> {
  const json = process.argv.includes('--json');
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const report = await runLoad({
    events: option('events', 1000),
    tenants: option('tenants', 8),
    concurrency: option('concurrency', 25),
    progress: json ? () => {} : (line) => process.stderr.write(`${line}\n`),
  });
  const ok = report.accepted === report.events && report.lost.length === 0 && report.doubled.length === 0;
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const lines = [
      '',
      `webhooks sent          ${report.events} (${report.payouts} payouts + ${report.duplicateEvents} duplicate deliveries)`,
      `accepted (200, queued) ${report.accepted}${Object.keys(report.rejected).length ? `; rejected ${JSON.stringify(report.rejected)}` : ''}`,
      `posted exactly once    ${report.posted} of ${report.payouts}`,
      `lost                   ${report.lost.length}${report.lost.length ? `: ${report.lost.slice(0, 10).join(', ')}` : ''}`,
      `doubled                ${report.doubled.length}${report.doubled.length ? `: ${report.doubled.slice(0, 10).join(', ')}` : ''}`,
      `ledger                 ${JSON.stringify(report.statuses)}`,
      `webhook latency        p50 ${report.webhookP50Ms} ms, p99 ${report.webhookP99Ms} ms`,
      `wall time              ${(report.wallMs / 1000).toFixed(1)} s (${report.perSecond} payouts/s)`,
      ok ? 'OK: none lost, none doubled' : 'FAILED',
      '',
    ];
    process.stdout.write(lines.join('\n'));
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`load test failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
