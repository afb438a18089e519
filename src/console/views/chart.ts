/** The payouts page's chart: payouts per day, stacked by status, as inline SVG (no script, no library). */
import { html } from 'hono/html';
import { LEDGER_STATUSES } from '../../domain/types.js';
import type { DayCounts } from '../summary.js';
import type { Html } from './layout.js';

/** One colour per status, the same as the badges' (console.css). */
export const STATUS_COLOURS: Record<(typeof LEDGER_STATUSES)[number], string> = {
  RECEIVED: '#6b8fd6',
  WAITING_FOR_RECONCILIATION: '#9aa7c7',
  POSTING: '#3f6fd1',
  POSTED: '#2e8b57',
  HELD: '#e08a00',
  FAILED: '#c62828',
  SKIPPED: '#9e9e9e',
  REVERSED: '#6d6d6d',
};

export function dayChart(days: readonly DayCounts[]): Html {
  const width = 720;
  const height = 160;
  const top = 10;
  const bottom = 24;
  const left = 28;
  const plotHeight = height - top - bottom;
  const max = Math.max(1, ...days.map((d) => d.total));
  const slot = (width - left) / Math.max(1, days.length);
  const barWidth = Math.max(2, Math.min(28, slot * 0.7));
  const labelEvery = Math.max(1, Math.ceil(days.length / 10));
  const bars = days.map((d, i) => {
    const x = left + i * slot + (slot - barWidth) / 2;
    let y = top + plotHeight;
    const segments = LEDGER_STATUSES.filter((s) => d.counts[s] > 0).map((s) => {
      const h = (d.counts[s] / max) * plotHeight;
      y -= h;
      return html`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="${STATUS_COLOURS[s]}"><title>${d.day}: ${d.counts[s]} ${s}</title></rect>`;
    });
    const label =
      i % labelEvery === 0
        ? html`<text x="${(x + barWidth / 2).toFixed(1)}" y="${height - 8}" text-anchor="middle">${d.day.slice(5)}</text>`
        : '';
    return html`${segments}${label}`;
  });
  const legend = LEDGER_STATUSES.filter((s) => days.some((d) => d.counts[s] > 0));
  return html`<figure class="chart">
<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="Payouts per day by status">
<line x1="${left}" y1="${top + plotHeight}" x2="${width}" y2="${top + plotHeight}" stroke="#bbb"/>
<text x="${left - 6}" y="${top + 8}" text-anchor="end">${max}</text>
<text x="${left - 6}" y="${top + plotHeight}" text-anchor="end">0</text>
${bars}
</svg>
<figcaption>Payouts per day (the day each reached the ledger), by status${
    legend.length > 0
      ? html`: ${legend.map((s) => html` <span class="status s-${s}">${s}</span>`)}`
      : html` (none in this range)`
  }</figcaption>
</figure>`;
}
