/**
 * The console's page frame and small shared pieces. Server-rendered with Hono's `html` tag, which escapes every
 * interpolated value (nested `html` fragments are kept as they are). No script runs in the page: the CSP says
 * `script-src 'none'`, confirmation is a page of its own, and a page waiting for the worker refreshes itself.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { LedgerStatus } from '../../domain/types.js';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** The signed-in person as the pages show them. */
export interface Viewer {
  /** Email or user name; `you (local mode)` locally. */
  name: string;
  role: 'support' | 'viewer';
  /** Whether a sign-out button applies (AWS). */
  canSignOut: boolean;
}

export interface PageContext {
  /** Prefix of every link: `''` locally, `/v1` behind the API's stage. */
  base: string;
  viewer: Viewer | undefined;
  /** The CSRF token every form posts back. */
  csrf: string;
}

export type Section = 'payouts' | 'held' | 'dlq' | 'tenants' | 'none';

const NAV: ReadonlyArray<[Section, string, string]> = [
  ['payouts', '/', 'Payouts'],
  ['held', '/held', 'Held'],
  ['dlq', '/dlq', 'Dead letters'],
  ['tenants', '/tenants', 'Tenants & mappings'],
];

export function page(
  ctx: PageContext,
  opts: { title: string; section: Section; notice?: string | undefined; refreshSeconds?: number },
  body: Html,
): Html {
  const v = ctx.viewer;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${opts.refreshSeconds ? html`<meta http-equiv="refresh" content="${opts.refreshSeconds}">` : ''}
<title>${opts.title} · qbo-sync support</title>
<link rel="stylesheet" href="${ctx.base}/assets/console.css">
</head>
<body>
<header class="top">
  <a class="brand" href="${ctx.base}/">qbo-sync <span>support</span></a>
  <nav>${NAV.map(
    ([key, href, label]) =>
      html`<a href="${ctx.base}${href}"${key === opts.section ? html` aria-current="page"` : ''}>${label}</a>`,
  )}</nav>
  ${
    v
      ? html`<div class="who"><span title="your role">${v.name} · ${v.role}</span>${
          v.canSignOut
            ? html`<form method="post" action="${ctx.base}/logout"><input type="hidden" name="csrf" value="${ctx.csrf}"><button class="link">Sign out</button></form>`
            : ''
        }</div>`
      : ''
  }
</header>
<main>
${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : ''}
${body}
</main>
</body>
</html>`;
}

export function statusBadge(status: LedgerStatus | string): Html {
  return html`<span class="status s-${status}">${status}</span>`;
}

/** "3 min ago", with the exact time as a tooltip. */
export function when(iso: string | null | undefined, now: number = Date.now()): Html {
  if (!iso) return html``;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return html`${iso}`;
  const s = Math.max(0, Math.round((now - t) / 1000));
  const text =
    s < 60
      ? `${s} s ago`
      : s < 3600
        ? `${Math.floor(s / 60)} min ago`
        : s < 86_400
          ? `${Math.floor(s / 3600)} h ago`
          : `${Math.floor(s / 86_400)} d ago`;
  return html`<time datetime="${iso}" title="${iso}">${text}</time>`;
}

export function clip(text: string | null | undefined, width: number): string {
  const one = (text ?? '').replace(/\s+/g, ' ').trim();
  return one.length <= width ? one : `${one.slice(0, width - 1)}…`;
}

/** A message page (401, 403, 404, 400, 500…). */
export function messagePage(ctx: PageContext, title: string, message: string, extra: Html = html``): Html {
  return page(ctx, { title, section: 'none' }, html`<h1>${title}</h1><p>${message}</p>${extra}`);
}
