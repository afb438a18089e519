/** The payouts page (by tenant, status and date, with counts and the chart), the held list, one payout's page. */
import { html } from 'hono/html';
import type { LedgerRecord } from '../../app/ports.js';
import type { PreviewPayoutResult } from '../../app/preview-payout.js';
import { formatMinor } from '../../domain/money.js';
import { LEDGER_STATUSES, type LedgerStatus } from '../../domain/types.js';
import { previewRows } from '../../local/deposit-table.js';
import type { DayCounts } from '../summary.js';
import { dayChart } from './chart.js';
import { clip, type Html, type PageContext, statusBadge, when } from './layout.js';

export interface PayoutFilter {
  tenant?: string | undefined;
  status?: LedgerStatus | undefined;
  /** `YYYY-MM-DD`, inclusive, on the day the payout reached the ledger. */
  from: string;
  to: string;
}

function query(base: PageContext['base'], f: PayoutFilter, status?: LedgerStatus): string {
  const p = new URLSearchParams();
  if (f.tenant) p.set('tenant', f.tenant);
  if (status) p.set('status', status);
  p.set('from', f.from);
  p.set('to', f.to);
  return `${base}/?${p.toString()}`;
}

export function payoutTable(
  ctx: PageContext,
  rows: readonly LedgerRecord[],
  opts: { fix?: boolean } = {},
): Html {
  if (rows.length === 0) return html`<p class="empty">No payouts match.</p>`;
  return html`<table class="rows">
<thead><tr><th>Payout</th><th>Tenant</th><th>Status</th><th>QuickBooks</th><th>Received</th><th>Updated</th><th>${opts.fix ? 'Reason and fix' : 'Reason'}</th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr>
<td><a href="${ctx.base}/payouts/${r.payoutId}">${r.payoutId}</a></td>
<td>${r.tenantId}</td>
<td>${statusBadge(r.status)}</td>
<td>${r.quickbooks ? `${r.quickbooks.type} ${r.quickbooks.id}` : ''}</td>
<td>${when(r.createdAt)}</td>
<td>${when(r.updatedAt)}</td>
<td>${opts.fix ? html`${r.reason ?? ''}${r.hint ? html`<div class="fix">Fix: ${r.hint}</div>` : ''}` : clip(r.reason, 90)}</td>
</tr>`,
  )}</tbody></table>`;
}

export function payoutsPage(
  ctx: PageContext,
  data: {
    filter: PayoutFilter;
    tenants: readonly string[];
    counts: Record<LedgerStatus, number>;
    days: readonly DayCounts[];
    rows: readonly LedgerRecord[];
    truncated: boolean;
    canAct: boolean;
  },
): Html {
  const f = data.filter;
  const total = LEDGER_STATUSES.reduce((n, s) => n + data.counts[s], 0);
  return html`<h1>Payouts</h1>
<form class="filters" method="get" action="${ctx.base}/">
<label>Tenant <select name="tenant"><option value="">every tenant</option>${data.tenants.map(
    (t) => html`<option value="${t}"${t === f.tenant ? html` selected` : ''}>${t}</option>`,
  )}</select></label>
<label>Status <select name="status"><option value="">every status</option>${LEDGER_STATUSES.map(
    (s) => html`<option value="${s}"${s === f.status ? html` selected` : ''}>${s}</option>`,
  )}</select></label>
<label>From <input type="date" name="from" value="${f.from}"></label>
<label>To <input type="date" name="to" value="${f.to}"></label>
<button>Show</button>
</form>
<ul class="counts" aria-label="Payouts per status">
<li><a href="${query(ctx.base, { ...f, status: undefined })}"${f.status === undefined ? html` aria-current="true"` : ''}>All <b>${total}</b></a></li>
${LEDGER_STATUSES.map(
  (s) =>
    html`<li><a href="${query(ctx.base, f, s)}"${s === f.status ? html` aria-current="true"` : ''}>${statusBadge(s)} <b data-status="${s}">${data.counts[s]}</b></a></li>`,
)}
</ul>
${dayChart(data.days)}
${
  data.canAct
    ? html`<form class="inline" method="get" action="${ctx.base}/sync">
<label>Sync a payout by id <input name="payout" placeholder="po_…" pattern="po_[A-Za-z0-9_]+" required></label>
<label>tenant <select name="tenant">${data.tenants.map((t) => html`<option value="${t}"${t === f.tenant ? html` selected` : ''}>${t}</option>`)}</select></label>
<button>Sync…</button></form>`
    : ''
}
<h2>${data.rows.length} payout${data.rows.length === 1 ? '' : 's'}${f.status ? html` ${statusBadge(f.status)}` : ''}${data.truncated ? ' (the newest; narrow the filter to see older ones)' : ''}</h2>
${payoutTable(ctx, data.rows)}`;
}

export function heldPage(ctx: PageContext, rows: readonly LedgerRecord[]): Html {
  return html`<h1>Held payouts</h1>
<p class="lead">A HELD payout needs a person: read its reason, apply the fix (usually a mapping in the sync config,
imported with <code>npx qbo-sync config import</code>), then press <b>Sync</b> on its page.</p>
${payoutTable(ctx, rows, { fix: true })}`;
}

/** The QuickBooks web app's page of a posted entry. */
export function quickBooksLink(
  origin: string | undefined,
  ref: NonNullable<LedgerRecord['quickbooks']>,
): Html {
  const label = `${ref.type} ${ref.id}`;
  if (origin === undefined) {
    return html`${label} <span class="muted">(on the QuickBooks stand-in, which has no web app to open)</span>`;
  }
  const path = ref.type === 'Deposit' ? 'deposit' : 'journal';
  return html`<a href="${origin}/app/${path}?txnId=${ref.id}" target="_blank" rel="noopener noreferrer">${label} — open in QuickBooks</a>`;
}

const IN_FLIGHT: ReadonlySet<LedgerStatus> = new Set(['RECEIVED', 'POSTING']);
/** How long after a person's request the payout page keeps waiting for the worker to pick it up. */
const REQUEST_PATIENCE_MS = 10 * 60_000;

/**
 * Whether the worker has the payout in hand, or has not yet acted on a sync, resync or replay someone asked for
 * (recording a request leaves `updatedAt` alone; the worker's next change moves it past the request).
 */
export function isInFlight(row: LedgerRecord, now: number = Date.now()): boolean {
  if (IN_FLIGHT.has(row.status)) return true;
  const last = [...(row.actions ?? [])].reverse().find((a) => a.action !== 'preview');
  return last !== undefined && last.at > row.updatedAt && now - Date.parse(last.at) < REQUEST_PATIENCE_MS;
}

export function payoutPage(
  ctx: PageContext,
  data: {
    row: LedgerRecord;
    quickBooksAppOrigin: string | undefined;
    canAct: boolean;
    inDlq: boolean;
    preview?: PreviewPayoutResult | undefined;
    previewError?: string | undefined;
  },
): Html {
  const r = data.row;
  const facts: Array<[string, Html | string]> = [
    ['Tenant', r.tenantId],
    ['Status', statusBadge(r.status)],
    ...(r.reason ? ([['Reason', r.reason]] as Array<[string, string]>) : []),
    ...(r.hint ? ([['Fix', html`<span class="fix">${r.hint}</span>`]] as Array<[string, Html]>) : []),
    ['QuickBooks', r.quickbooks ? quickBooksLink(data.quickBooksAppOrigin, r.quickbooks) : 'nothing posted'],
    ...(r.folded
      ? ([
          ['Lines', `folded to ${r.lineDetailUsed ?? 'category'} lines (more than maxDepositLines)`],
        ] as Array<[string, string]>)
      : []),
    ['Attempts', String(r.attempts)],
    ['Received', when(r.createdAt)],
    ['Updated', when(r.updatedAt)],
    ...(r.lastEventId ? ([['Last event', r.lastEventId]] as Array<[string, string]>) : []),
  ];
  const actions = data.canAct
    ? html`<div class="actions">
<a class="button" href="${ctx.base}/payouts/${r.payoutId}/sync">Sync…</a>
${r.quickbooks && (r.status !== 'REVERSED' || r.drift) ? html`<a class="button" href="${ctx.base}/payouts/${r.payoutId}/resync">Resync…</a>` : ''}
<a class="button secondary" href="${ctx.base}/payouts/${r.payoutId}/preview">Preview the entry…</a>
${data.inDlq ? html`<a class="button" href="${ctx.base}/dlq/replay?payout=${r.payoutId}">Replay from the DLQ…</a>` : ''}
</div>`
    : html`<p class="muted">Read-only: your role (viewer) cannot sync, resync, replay or preview.</p>`;
  const history = r.actions ?? [];
  return html`<h1>Payout <code>${r.payoutId}</code> ${statusBadge(r.status)}</h1>
${isInFlight(r) ? html`<p class="muted">The worker has not finished with this payout: this page refreshes every few seconds.</p>` : ''}
<dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
${actions}
${data.previewError ? html`<p class="error">The preview failed: ${data.previewError}</p>` : ''}
${data.preview ? previewSection(data.preview) : ''}
<h2>Requests</h2>
${
  history.length === 0
    ? html`<p class="empty">Nobody has synced, resynced, replayed or previewed this payout by hand.</p>`
    : html`<table class="rows"><thead><tr><th>When</th><th>What</th><th>Who</th><th>From</th></tr></thead><tbody>${[
        ...history,
      ]
        .reverse()
        .map(
          (a) =>
            html`<tr><td>${when(a.at)}</td><td>${a.action}</td><td>${a.by}</td><td>${a.via === 'cli' ? 'the CLI' : 'the console'}</td></tr>`,
        )}</tbody></table>`
}`;
}

function previewSection(p: PreviewPayoutResult): Html {
  const amount = formatMinor(p.amount, p.currency);
  if (p.entry === null) {
    return html`<section class="preview"><h2>Preview: it would be ${statusBadge(p.outcome)}</h2>
<p>${amount}. ${p.reason ?? ''}</p>${p.hint ? html`<p class="fix">Fix: ${p.hint}</p>` : ''}</section>`;
  }
  const rows = previewRows(p.entry, p.currency, p.customerLabels);
  const total = rows.reduce((n, r) => n + r.amount, 0);
  return html`<section class="preview"><h2>Preview: the ${p.entry.type} the worker would post</h2>
<p>Dry run: nothing was posted or created. ${amount}, ${p.transactions} balance transaction${p.transactions === 1 ? '' : 's'}${
    typeof p.entry.body.TxnDate === 'string' ? `, dated ${p.entry.body.TxnDate}` : ''
  }${p.folded ? '; more lines than maxDepositLines, so category lines' : ''}.</p>
${p.note ? html`<p class="muted">Not yet: ${p.note}</p>` : ''}
${p.newCustomers.length > 0 ? html`<p>${p.newCustomers.length} customer${p.newCustomers.length === 1 ? '' : 's'} would be created: ${clip(p.newCustomers.join(', '), 300)}</p>` : ''}
<table class="rows lines"><thead><tr><th>Account</th><th>Customer</th><th>Class</th><th>Description</th><th class="num">Amount</th></tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr><td>${r.account}</td><td>${r.customer}</td><td>${r.class}</td><td>${clip(r.description, 80)}</td><td class="num">${formatMinor(r.amount, p.currency)}</td></tr>`,
  )}</tbody>
<tfoot><tr><th colspan="4">Total</th><th class="num">${formatMinor(total, p.currency)}</th></tr></tfoot></table></section>`;
}
