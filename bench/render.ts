/** The benchmark report as readable text (Markdown tables), for `npm run bench` without `--json`. */
import { type BenchReport, fmt, type ServiceCalls } from './report.js';

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAlign: readonly boolean[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (rightAlign[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function callCell(s: ServiceCalls & { idempotencyLayer?: number }): string {
  const idempotency = s.idempotencyLayer ? `, ${s.idempotencyLayer} idem.` : '';
  const over = `${s.overBound >= 0 ? '+' : ''}${s.overBound}${idempotency}`;
  const naive = s.naive === null ? '–' : `${fmt(s.naive)} (${s.naiveRatio}×)`;
  return `${fmt(s.made)} / ${fmt(s.lowerBound)} (${over}) / ${naive}`;
}

/** `2,130 ms (1,990–2,410)`: the median and the range of the runs, when there are several. */
function spread(median: number, all: readonly number[]): string {
  if (all.length < 2) return `${fmt(median)} ms`;
  return `${fmt(median)} ms (${fmt(Math.min(...all))}–${fmt(Math.max(...all))})`;
}

const seconds = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${fmt(ms)} ms`);
const orDash = (v: number | null, f: (n: number) => string = String): string => (v === null ? '–' : f(v));

export function renderTable(report: BenchReport): string {
  const out: string[] = [];
  out.push('momence-qbo-sync benchmark (npm run bench)');
  out.push(`machine: ${report.machine}`);
  out.push(
    `stand-ins and AWS emulators: ${report.standIns === 'child-process' ? 'in a child process (CPU and memory below are the deposit builder process alone)' : 'in this process (CPU and memory include them)'}`,
  );
  out.push('');
  const repeats = Math.max(...report.sizes.map((s) => s.runs.length), 1);
  out.push(
    `Deposit builder: the deposit-builder Lambda handler over the real adapters, on the payout's message and on what it queued (customers created after POSTED)${repeats > 1 ? `; median of ${repeats} runs per size (CPU range in brackets)` : ''}`,
  );
  out.push('');
  out.push(
    table(
      [
        'transactions',
        'emails E',
        'missing M',
        'created C',
        'company K',
        'wall',
        'CPU',
        'cpuVsNaive',
        'cpuVsFloor',
        'peak RSS',
        'ledger',
      ],
      report.sizes.map((s) => [
        fmt(s.transactions),
        fmt(s.workload.distinctEmails),
        fmt(s.workload.missingFromMap),
        fmt(s.workload.toCreate),
        fmt(s.workload.companyCustomers),
        seconds(s.wallMs),
        spread(
          s.cpuMs,
          s.runs.map((r) => r.cpuMs),
        ),
        orDash(s.cpuVsNaive),
        s.cpuVsFloor === null
          ? '–'
          : `${s.cpuVsFloor} (floor ${s.cpu.floor?.cpuMs} ms; posting ${fmt(s.cpu.postingMs)} ms ÷ ${s.cpu.postingFloor?.cpuMs} ms = ${s.cpu.postingVsFloor})`,
        `${s.peakRssMb} MB`,
        `${s.outcome.status}${s.outcome.withoutCustomers ? ' (category lines)' : ''}`,
      ]),
      [true, true, true, true, true, true, true, true, true, true, false],
    ),
  );
  out.push('');
  out.push(
    'Calls: made / lower bound (over; "idem." = of them, by the Powertools idempotency layer) / naive baseline (naive ÷ made)',
  );
  out.push('');
  out.push(
    table(
      ['transactions', 'Stripe', 'DynamoDB', 'QuickBooks', 'QBO units', 'QBO floor', 'naive run'],
      report.sizes.map((s) => [
        fmt(s.transactions),
        callCell(s.calls.stripe),
        callCell(s.calls.dynamodb),
        callCell(s.calls.quickbooks),
        fmt(s.quickbooksUnits),
        seconds(s.quickbooksFloorMs),
        s.naive === null
          ? '–'
          : `${seconds(s.naive.wallMs)}, CPU ${fmt(s.naive.cpuMs)} ms${s.naive.complete ? '' : ` (cut short at ${fmt(s.naive.emailsProcessed)}/${fmt(s.naive.emailsTotal)} emails)`}`,
      ]),
      [true, true, true, true, true, true, false],
    ),
  );
  out.push('');
  out.push(
    'Lower bounds: N transactions, E distinct emails, M missing from the mapping table, C to create, K company customers',
  );
  out.push(`  Stripe      ${report.formulas.stripe}`);
  out.push(`  DynamoDB    ${report.formulas.dynamodb}`);
  out.push(`  QuickBooks  ${report.formulas.quickbooks}`);
  out.push(`  QBO floor   ${report.formulas.quickbooksFloorMs}`);
  const paced = report.sizes.filter((s) => s.timeToBooks !== null);
  const first = paced[0]?.timeToBooks;
  if (first) {
    out.push('');
    out.push(
      `Time to the books: webhook 200 → ledger POSTED through local mode's endpoint, queue and poller; QuickBooks ${first.pace.quickbooksMs} ms a request with its metering on, Stripe ${first.pace.stripeMs} ms a page`,
    );
    out.push('');
    out.push(
      table(
        ['transactions', 'timeToPostedMs', 'postedFloorMs', 'ratio', 'entry', 'customers after POSTED'],
        paced.map((s) => {
          const t = s.timeToBooks;
          if (t === null) return [];
          const after = t.customersAfterPosted;
          return [
            fmt(s.transactions),
            fmt(t.timeToPostedMs),
            fmt(t.postedFloorMs),
            `${t.ratio}×`,
            t.entryReferencesCustomers ? 'customer lines: customers first' : 'no customer: posted first',
            after === null
              ? '–'
              : `${fmt(after.toCreate)} created, ${fmt(after.lookedUp)} looked up: ≥ ${seconds(after.floorMs)}`,
          ];
        }),
        [true, true, true, true, false, false],
      ),
    );
    out.push(`  postedFloorMs  ${report.formulas.postedFloorMs}`);
  }
  if (report.webhook) {
    const w = report.webhook;
    out.push('');
    out.push(
      `Webhook: ${fmt(w.events)} signed payout.paid events through local mode's HTTP endpoint, ${w.concurrency} in flight: ${fmt(w.accepted)} accepted (200), ${fmt(w.queued)} queued, ${w.lost} lost; latency p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, max ${w.maxMs} ms; ${seconds(w.wallMs)} in all`,
    );
  }
  out.push('');
  out.push('Targets:');
  for (const t of report.targets) out.push(`  ${t.met ? 'met   ' : 'MISSED'}  ${t.target}: ${t.detail}`);
  out.push('');
  out.push(`The whole benchmark took ${seconds(report.totalWallMs)}.`);
  return out.join('\n');
}
