/** The dead-letter queue, tenants and their mappings, and the confirmation page every action goes through. */
import { html } from 'hono/html';
import type { DeadLetterView } from '../../app/dead-letters.js';
import type { StoredTenant } from '../../app/ports.js';
import type { SuggestConfigResult } from '../../app/suggest-config.js';
import { formatMinor } from '../../domain/money.js';
import { type Html, type PageContext, statusBadge, when } from './layout.js';

export function dlqPage(ctx: PageContext, letters: readonly DeadLetterView[], canAct: boolean): Html {
  if (letters.length === 0) {
    return html`<h1>Dead-letter queue</h1><p class="empty ok">The dead-letter queue is empty.</p>`;
  }
  const replayable = letters.some((l) => l.payout !== null);
  return html`<h1>Dead-letter queue</h1>
<p class="lead">These payouts ran out of retries. Read each reason; once the cause is fixed (QuickBooks or Stripe
reachable again, a reconnection), replay them: they go back to the queue and the worker tries again.</p>
${canAct && replayable ? html`<p><a class="button" href="${ctx.base}/dlq/replay?all=1">Replay all…</a></p>` : ''}
<table class="rows"><thead><tr><th>Payout</th><th>Tenant</th><th>In the DLQ since</th><th>Attempts</th><th>Reason and fix</th><th></th></tr></thead>
<tbody>${letters.map(
    (l) => html`<tr>
<td>${l.payout ? html`<a href="${ctx.base}/payouts/${l.payout}">${l.payout}</a>` : html`<span class="muted">message ${l.messageId}</span>`}</td>
<td>${l.tenant ?? ''}</td>
<td>${when(l.sentAt)}</td>
<td>${String(l.attempts ?? l.receiveCount)}</td>
<td>${l.reason ?? ''}${l.hint ? html`<div class="fix">Fix: ${l.hint}</div>` : ''}${l.status ? html` ${statusBadge(l.status)}` : ''}</td>
<td>${
      canAct && l.payout
        ? html`<a class="button small" href="${ctx.base}/dlq/replay?payout=${l.payout}">Replay…</a>`
        : l.payout
          ? ''
          : html`<span class="muted">not a payout message: it cannot be replayed</span>`
    }</td>
</tr>`,
  )}</tbody></table>`;
}

export function tenantsPage(ctx: PageContext, tenants: readonly StoredTenant[]): Html {
  return html`<h1>Tenants</h1>
<table class="rows"><thead><tr><th>Tenant</th><th>Stripe account</th><th>QuickBooks company</th><th>Mappings</th><th>Unmapped categories</th><th>Imported</th></tr></thead>
<tbody>${tenants.map(
    (t) => html`<tr><td><a href="${ctx.base}/tenants/${t.books.tenantId}">${t.books.tenantId}</a></td>
<td>${t.books.stripeAccount}</td><td>${t.books.realmId}</td><td>${String(t.books.revenue.length)}</td>
<td>${t.books.uncategorizedAccount ? `booked to ${t.books.uncategorizedAccount.name ?? t.books.uncategorizedAccount.value}` : 'HOLD the payout'}</td>
<td>${when(t.updatedAt)}</td></tr>`,
  )}</tbody></table>`;
}

export function tenantPage(
  _ctx: PageContext,
  tenant: StoredTenant,
  seen: SuggestConfigResult | undefined,
  seenError: string | undefined,
): Html {
  const b = tenant.books;
  const ref = (r: { value: string; name?: string } | undefined) => (r ? (r.name ?? `#${r.value}`) : '');
  const unmapped = seen?.categories.filter((c) => c.mapped === undefined) ?? [];
  const label = (k: { category: string; subcategory?: string }) =>
    k.subcategory === undefined ? k.category : `${k.category} / ${k.subcategory}`;
  return html`<h1>Tenant <code>${b.tenantId}</code></h1>
<dl class="facts">
<dt>Stripe account</dt><dd>${b.stripeAccount}</dd>
<dt>QuickBooks company</dt><dd>${b.realmId}</dd>
<dt>Deposit account</dt><dd>${ref(b.depositAccount)}</dd>
<dt>Processing fees</dt><dd>${ref(b.processingFeesAccount)}</dd>
<dt>Platform fees</dt><dd>${ref(b.platformFeesAccount)}</dd>
<dt>Disputes</dt><dd>${b.disputesAccount ? ref(b.disputesAccount) : "the sale's revenue account"}</dd>
<dt>Adjustments</dt><dd>${ref(b.adjustmentsAccount)}</dd>
<dt>Unmapped categories</dt><dd>${b.uncategorizedAccount ? `booked to ${ref(b.uncategorizedAccount)}` : 'HOLD the payout'}</dd>
<dt>Lines</dt><dd>${b.lineDetail}, at most ${String(b.maxDepositLines)}</dd>
</dl>
<h2>Revenue mappings</h2>
<table class="rows"><thead><tr><th>Category</th><th>Subcategory</th><th>Account</th><th>Class</th></tr></thead>
<tbody>${b.revenue.map(
    (m) =>
      html`<tr><td>${m.category}</td><td>${m.subcategory ?? ''}</td><td>${ref(m.account)}</td><td>${ref(m.class)}</td></tr>`,
  )}</tbody></table>
<h2>Categories on recent payouts without a mapping</h2>
${
  seenError
    ? html`<p class="error">Could not read the recent payouts from Stripe: ${seenError}</p>`
    : seen === undefined
      ? ''
      : html`<p class="muted">From the ${String(seen.payouts)} paid payout${seen.payouts === 1 ? '' : 's'} of the last ${String(seen.days)} days (the same reading as <code>npx qbo-sync config suggest --tenant ${b.tenantId}</code>).</p>
${
  unmapped.length === 0
    ? html`<p class="empty ok">Every category on those payouts has a mapping.</p>`
    : html`<table class="rows"><thead><tr><th>Category</th><th>Charges</th><th class="num">Total</th><th>Booked</th><th>Suggested account</th></tr></thead><tbody>${unmapped.map(
        (
          c,
        ) => html`<tr><td>${label(c.found)}</td><td>${String(c.found.charges)}</td><td class="num">${formatMinor(c.found.total, c.found.currency)}</td>
<td>${b.uncategorizedAccount ? `to ${ref(b.uncategorizedAccount)} (uncategorized)` : html`<span class="status s-HELD">HOLDS the payout</span>`}</td>
<td>${c.account ?? (c.candidates.length > 0 ? `one of: ${c.candidates.join(', ')}` : 'none clear')}</td></tr>`,
      )}</tbody></table>
<p>To map one: add it under <code>revenue:</code> in the sync config, then <code>npx qbo-sync config import FILE</code>,
and sync the held payouts again.</p>`
}`
}`;
}

export interface Confirmation {
  title: string;
  /** What will happen, for a person who has never used a terminal. */
  explain: string;
  /** Where the form posts. */
  action: string;
  fields: Record<string, string>;
  button: string;
  cancel: string;
}

export function confirmPage(ctx: PageContext, c: Confirmation): Html {
  return html`<h1>${c.title}</h1>
<p class="lead">${c.explain}</p>
<form method="post" action="${ctx.base}${c.action}" class="confirm">
<input type="hidden" name="csrf" value="${ctx.csrf}">
${Object.entries(c.fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<button>${c.button}</button>
<a href="${ctx.base}${c.cancel}">Cancel</a>
</form>`;
}
