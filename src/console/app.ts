/**
 * The support console (issue 17): server-rendered pages over the same use cases as the CLI, one Hono app served
 * by local mode (loopback, no sign-in) and by the console Lambda behind the stack's API (Cognito sign-in).
 *
 *   GET  /                         payouts by tenant, status and date; counts per status; payouts per day
 *   GET  /held                     held payouts with their reason and fix
 *   GET  /payouts/:id              one payout: ledger row, reason, fix, attempts, QuickBooks entry, requests
 *   GET  /payouts/:id/{sync|resync|preview}   confirmation page       (support)
 *   POST /payouts/:id/{sync|resync|preview}   the action              (support, CSRF-checked)
 *   GET  /sync?payout&tenant       confirmation of a sync by id       (support)
 *   GET  /dlq                      the dead-letter queue with each message's reason
 *   GET  /dlq/replay?payout|all    confirmation; POST /dlq/replay     (support, CSRF-checked)
 *   GET  /tenants, /tenants/:id    mappings, and categories on recent payouts that have none
 *   GET  /login, /auth/callback; POST /logout   Cognito hosted sign-in (AWS only)
 *   GET  /assets/console.css
 *
 * Every route but the stylesheet and the sign-in ones checks the session: none → 401, a role that may not act →
 * 403. Actions are POSTs carrying a CSRF token bound to the session, from the console's own origin.
 */
import { randomBytes } from 'node:crypto';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import { html } from 'hono/html';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { listDeadLetters, replayDeadLetters } from '../app/dead-letters.js';
import { describeError } from '../app/log.js';
import type { LedgerRecord } from '../app/ports.js';
import { previewPayout } from '../app/preview-payout.js';
import type { Actor } from '../app/record-action.js';
import { requestResync, requestSync } from '../app/request-payouts.js';
import { suggestConfig } from '../app/suggest-config.js';
import { LEDGER_STATUSES, type LedgerStatus } from '../domain/types.js';
import { builtOnFirstUse } from '../runtime-base.js';
import {
  type ConsoleAuth,
  completeSignIn,
  csrfToken,
  type Role,
  SessionVerifier,
  sessionCookie,
  signOut,
  startSignIn,
} from './auth.js';
import type { ConsoleServices } from './services.js';
import { CONSOLE_CSS } from './style.js';
import { countByStatus, perDay } from './summary.js';
import { type Html, messagePage, type PageContext, page, type Section } from './views/layout.js';
import { confirmPage, dlqPage, tenantPage, tenantsPage } from './views/other.js';
import { heldPage, isInFlight, type PayoutFilter, payoutPage, payoutsPage } from './views/payouts.js';

export interface ConsoleOptions {
  /** The adapters, built on first use (a Lambda's cold start, or once local mode is ready). */
  services: () => Promise<ConsoleServices>;
  auth: ConsoleAuth;
  /** Rows read for the payouts page (newest first). Default 2000. */
  maxRows?: number;
  now?: () => Date;
}

type Env = {
  Variables: { ctx: PageContext; role: Role; actor: Actor; services: ConsoleServices };
};

const PAYOUT_ID = /^po_[A-Za-z0-9_]{1,200}$/;
const TENANT_ID = /^[a-z0-9-]{2,64}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** How long the payout page waits before refreshing itself while the worker is busy with the payout. */
const REFRESH_SECONDS = 2;

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

export function createConsoleApp(options: ConsoleOptions): Hono<Env> {
  const { auth } = options;
  const now = options.now ?? (() => new Date());
  const maxRows = options.maxRows ?? 2000;
  const base = auth.kind === 'cognito' ? new URL(auth.consoleUrl).pathname.replace(/\/+$/, '') : '';
  const verifier = auth.kind === 'cognito' ? new SessionVerifier(auth) : undefined;
  /** Locally there is no session: forms carry a token bound to this process. */
  const localSecret = randomBytes(32).toString('base64url');
  const servicesOnce = builtOnFirstUse(options.services);

  const app = new Hono<Env>();

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: auth.kind === 'cognito' ? ["'self'", auth.authDomain] : ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      xFrameOptions: 'DENY',
      crossOriginResourcePolicy: 'same-origin',
    }),
  );
  app.use('*', async (c, next) => {
    await next();
    if (!c.req.path.startsWith('/assets/')) c.header('cache-control', 'no-store');
  });

  // Local mode: loopback only. A request naming another host is a DNS-rebinding page, never the person here.
  if (auth.kind === 'local') {
    app.use('*', async (c, next) => {
      if (!LOOPBACK_HOST.test(c.req.header('host') ?? '')) {
        return c.text('The local console answers only on 127.0.0.1 or localhost.', 403);
      }
      await next();
    });
  }

  const expectedOrigin = (c: Context): string =>
    auth.kind === 'cognito' ? new URL(auth.consoleUrl).origin : `http://${c.req.header('host') ?? ''}`;
  app.use('*', csrf({ origin: (origin, c) => origin === expectedOrigin(c) }));

  const anonymous = (): PageContext => ({ base, viewer: undefined, csrf: '' });
  const render = (c: Context, status: 200 | 400 | 401 | 403 | 404 | 409 | 500 | 502, body: Html) =>
    c.html(body, status);

  app.get('/assets/console.css', (c) => {
    c.header('content-type', 'text/css; charset=utf-8');
    c.header('cache-control', 'public, max-age=3600');
    return c.body(CONSOLE_CSS);
  });

  if (auth.kind === 'cognito' && verifier) {
    app.get('/login', (c) => startSignIn(c, auth, c.req.query('next')));
    app.get('/auth/callback', async (c) => {
      const outcome = await completeSignIn(c, verifier);
      if (outcome.ok) return c.redirect(`${base}${outcome.next}`, 302);
      return render(
        c,
        outcome.status,
        messagePage(anonymous(), 'Not signed in', outcome.message, signInLink(base)),
      );
    });
  }

  // ------------------------------------------------------------------------------------- who is asking
  app.use('*', async (c, next) => {
    if (auth.kind === 'local') {
      const ctx: PageContext = {
        base,
        viewer: { name: `${auth.user} (local mode)`, role: 'support', canSignOut: false },
        csrf: csrfToken(localSecret),
      };
      c.set('ctx', ctx);
      c.set('role', 'support');
      c.set('actor', { by: auth.user, via: 'console' });
      return next();
    }
    const session = await verifier?.verify(sessionCookie(c));
    if (session === undefined) {
      const nextPath = c.req.method === 'GET' ? c.req.path + (new URL(c.req.url).search || '') : '/';
      return render(
        c,
        401,
        messagePage(
          anonymous(),
          'Sign in',
          'The support console needs you to sign in (or your session has ended).',
          signInLink(base, nextPath),
        ),
      );
    }
    const ctx: PageContext = {
      base,
      viewer: { name: session.user, role: session.role ?? 'viewer', canSignOut: true },
      csrf: csrfToken(session.token),
    };
    if (session.role === undefined) {
      return render(
        c,
        403,
        messagePage(
          { ...ctx, viewer: undefined },
          'No access',
          `${session.user} is in neither the support nor the viewer group of the console's user pool: ask an administrator to add you to one.`,
        ),
      );
    }
    c.set('ctx', ctx);
    c.set('role', session.role);
    c.set('actor', { by: session.user, via: 'console' });
    return next();
  });

  if (auth.kind === 'cognito') {
    app.post('/logout', async (c) => {
      const form = await c.req.parseBody();
      if (form.csrf !== c.get('ctx').csrf) return forbidden(c, 'This form is stale: reload the page.');
      return signOut(c, auth);
    });
  }

  // Actions: support only (viewer → 403), and a POST must carry the session's CSRF token.
  const supportOnly: MiddlewareHandler<Env> = async (c, next) => {
    if (c.get('role') !== 'support') {
      return forbidden(
        c,
        'Your role is viewer: you can see every payout but not sync, resync, replay or preview. Ask support.',
      );
    }
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody();
      if (form.csrf !== c.get('ctx').csrf)
        return forbidden(c, 'This form is stale or came from another page: reload it and try again.');
    }
    return next();
  };
  for (const path of [
    '/payouts/:id/sync',
    '/payouts/:id/resync',
    '/payouts/:id/preview',
    '/dlq/replay',
    '/sync',
  ]) {
    app.use(path, supportOnly);
  }

  const forbidden = (c: Context<Env>, message: string) =>
    render(c, 403, messagePage(c.get('ctx') ?? anonymous(), 'Not allowed', message));
  const notFound = (c: Context<Env>, message: string) =>
    render(c, 404, messagePage(c.get('ctx'), 'Not found', message));
  const failed = (c: Context<Env>, error: unknown) =>
    render(c, 502, messagePage(c.get('ctx'), 'That did not work', describeError(error)));
  const svc = async (c: Context<Env>) => {
    const s = await servicesOnce();
    c.set('services', s);
    return s;
  };
  const show = (
    c: Context<Env>,
    title: string,
    section: Section,
    body: Html,
    extra: { refresh?: boolean } = {},
  ) =>
    render(
      c,
      200,
      page(
        c.get('ctx'),
        {
          title,
          section,
          notice: c.req.query('notice'),
          ...(extra.refresh ? { refreshSeconds: REFRESH_SECONDS } : {}),
        },
        body,
      ),
    );

  // ------------------------------------------------------------------------------------- pages
  app.get('/', async (c) => {
    const s = await svc(c);
    const today = now().toISOString().slice(0, 10);
    const q = (k: string) => c.req.query(k) || undefined;
    const tenant = q('tenant');
    const status = q('status') as LedgerStatus | undefined;
    if (tenant !== undefined && !TENANT_ID.test(tenant))
      return badRequest(c, `"${tenant}" is not a tenant id.`);
    if (status !== undefined && !LEDGER_STATUSES.includes(status)) {
      return badRequest(c, `"${status}" is not a status: one of ${LEDGER_STATUSES.join(', ')}.`);
    }
    const to = q('to') ?? today;
    const from =
      q('from') ?? new Date(Date.parse(`${to}T00:00:00Z`) - 13 * 86_400_000).toISOString().slice(0, 10);
    if (
      !DAY.test(from) ||
      !DAY.test(to) ||
      Number.isNaN(Date.parse(from)) ||
      Number.isNaN(Date.parse(to)) ||
      from > to
    ) {
      return badRequest(c, 'The dates must be days such as 2026-01-15, "from" no later than "to".');
    }
    if ((Date.parse(to) - Date.parse(from)) / 86_400_000 > 366)
      return badRequest(c, 'Choose at most a year.');
    const rows = (await s.ledger.list({ ...(tenant ? { tenantId: tenant } : {}), limit: maxRows })).filter(
      (r) =>
        !r.payoutId.startsWith('message:') &&
        r.createdAt.slice(0, 10) >= from &&
        r.createdAt.slice(0, 10) <= to,
    );
    const tenants = (await s.tenants.list()).map((t) => t.books.tenantId).sort();
    const filter: PayoutFilter = { tenant, status, from, to };
    const shown = status ? rows.filter((r) => r.status === status) : rows;
    return show(
      c,
      'Payouts',
      'payouts',
      payoutsPage(c.get('ctx'), {
        filter,
        tenants,
        counts: countByStatus(rows),
        days: perDay(status ? shown : rows, from, to),
        rows: shown.slice(0, 500),
        truncated: shown.length > 500,
        canAct: c.get('role') === 'support',
      }),
    );
  });

  app.get('/held', async (c) => {
    const s = await svc(c);
    const rows = await s.ledger.list({ status: 'HELD', limit: 1000 });
    return show(c, 'Held payouts', 'held', heldPage(c.get('ctx'), rows));
  });

  const payoutRow = async (c: Context<Env>): Promise<LedgerRecord | Response> => {
    const id = c.req.param('id') ?? '';
    if (!PAYOUT_ID.test(id)) return badRequest(c, `"${id}" is not a Stripe payout id (po_…).`);
    const row = await (await svc(c)).ledger.get(id);
    if (row === undefined) {
      return notFound(
        c,
        `The ledger does not know payout ${id}. To sync it, use "Sync a payout by id" on the payouts page with its tenant.`,
      );
    }
    return row;
  };

  const renderPayout = async (
    c: Context<Env>,
    row: LedgerRecord,
    extra: { preview?: Awaited<ReturnType<typeof previewPayout>>; previewError?: string } = {},
  ) => {
    const s = c.get('services');
    const inDlq =
      row.status === 'FAILED' &&
      c.get('role') === 'support' &&
      (await s.dlq.list().catch(() => [])).some((l) => l.message?.payoutId === row.payoutId);
    return show(
      c,
      `Payout ${row.payoutId}`,
      'payouts',
      payoutPage(c.get('ctx'), {
        row,
        quickBooksAppOrigin: s.quickBooksAppOrigin,
        canAct: c.get('role') === 'support',
        inDlq,
        ...extra,
      }),
      { refresh: isInFlight(row) && extra.preview === undefined },
    );
  };

  app.get('/payouts/:id', async (c) => {
    const row = await payoutRow(c);
    if (row instanceof Response) return row;
    return renderPayout(c, row);
  });

  // ------------------------------------------------------------------------------------- actions
  const confirm = (c: Context<Env>, body: Parameters<typeof confirmPage>[1]) =>
    show(c, body.title, 'none', confirmPage(c.get('ctx'), body));
  const done = (c: Context<Env>, path: string, notice: string) =>
    c.redirect(`${base}${path}?notice=${encodeURIComponent(notice)}`, 303);

  app.get('/payouts/:id/sync', async (c) => {
    const row = await payoutRow(c);
    if (row instanceof Response) return row;
    return confirm(c, {
      title: `Sync payout ${row.payoutId}?`,
      explain: `The worker reads the payout from Stripe again and posts it to QuickBooks if it is not posted yet (it is ${row.status} now). Use it after fixing the reason a payout is held. Nothing is posted twice.`,
      action: `/payouts/${row.payoutId}/sync`,
      fields: {},
      button: 'Yes, sync it',
      cancel: `/payouts/${row.payoutId}`,
    });
  });
  app.get('/sync', async (c) => {
    const id = c.req.query('payout') ?? '';
    const tenant = c.req.query('tenant') ?? '';
    if (!PAYOUT_ID.test(id)) return badRequest(c, `"${id}" is not a Stripe payout id (po_…).`);
    if (!TENANT_ID.test(tenant)) return badRequest(c, 'Choose the tenant the payout belongs to.');
    return confirm(c, {
      title: `Sync payout ${id} of ${tenant}?`,
      explain:
        'The worker reads the payout from Stripe and posts it to QuickBooks if it is paid and not posted yet.',
      action: `/payouts/${id}/sync`,
      fields: { tenant },
      button: 'Yes, sync it',
      cancel: '/',
    });
  });
  app.post('/payouts/:id/sync', async (c) => {
    const id = c.req.param('id');
    if (!PAYOUT_ID.test(id)) return badRequest(c, `"${id}" is not a Stripe payout id (po_…).`);
    const s = await svc(c);
    const form = await c.req.parseBody();
    const tenant = typeof form.tenant === 'string' && form.tenant !== '' ? form.tenant : undefined;
    try {
      const r = await requestSync(
        { tenants: s.tenants, ledger: s.ledger, queue: s.queue, actions: s.ledger },
        { payoutId: id, ...(tenant ? { tenantId: tenant } : {}), actor: c.get('actor') },
      );
      return done(
        c,
        `/payouts/${id}`,
        `Sync queued by ${c.get('actor').by}; the worker is on it (it was ${r.status}).`,
      );
    } catch (error) {
      return failed(c, error);
    }
  });

  app.get('/payouts/:id/resync', async (c) => {
    const row = await payoutRow(c);
    if (row instanceof Response) return row;
    return confirm(c, {
      title: `Resync payout ${row.payoutId}?`,
      explain: `The worker removes the entry posted for this payout from QuickBooks (${row.quickbooks ? `${row.quickbooks.type} ${row.quickbooks.id}` : 'none is recorded'}) and posts a corrected one, after a mapping fix. There is still at most one entry for the payout.`,
      action: `/payouts/${row.payoutId}/resync`,
      fields: {},
      button: 'Yes, resync it',
      cancel: `/payouts/${row.payoutId}`,
    });
  });
  app.post('/payouts/:id/resync', async (c) => {
    const id = c.req.param('id');
    if (!PAYOUT_ID.test(id)) return badRequest(c, `"${id}" is not a Stripe payout id (po_…).`);
    const s = await svc(c);
    try {
      await requestResync(
        { tenants: s.tenants, ledger: s.ledger, queue: s.queue, actions: s.ledger },
        { payoutId: id, actor: c.get('actor') },
      );
      return done(c, `/payouts/${id}`, `Resync queued by ${c.get('actor').by}; the worker is on it.`);
    } catch (error) {
      return failed(c, error);
    }
  });

  app.get('/payouts/:id/preview', async (c) => {
    const row = await payoutRow(c);
    if (row instanceof Response) return row;
    return confirm(c, {
      title: `Preview payout ${row.payoutId}?`,
      explain:
        'The preview reads the payout from Stripe and the customers from QuickBooks and shows the entry the worker would post, line by line. Nothing is posted or created, but it counts against the company’s QuickBooks request limit, which the worker shares.',
      action: `/payouts/${row.payoutId}/preview`,
      fields: {},
      button: 'Yes, preview it',
      cancel: `/payouts/${row.payoutId}`,
    });
  });
  app.post('/payouts/:id/preview', async (c) => {
    const row = await payoutRow(c);
    if (row instanceof Response) return row;
    const s = c.get('services');
    try {
      const preview = await previewPayout(
        {
          tenants: s.tenants,
          payouts: s.payouts,
          customers: s.customers,
          quickbooks: s.quickbooks,
          actions: s.ledger,
        },
        { payoutId: row.payoutId, tenantId: row.tenantId, customerNames: true, actor: c.get('actor') },
      );
      return renderPayout(c, (await s.ledger.get(row.payoutId)) ?? row, { preview });
    } catch (error) {
      return renderPayout(c, row, { previewError: describeError(error) });
    }
  });

  app.get('/dlq', async (c) => {
    const s = await svc(c);
    const letters = await listDeadLetters({ dlq: s.dlq, ledger: s.ledger });
    return show(c, 'Dead-letter queue', 'dlq', dlqPage(c.get('ctx'), letters, c.get('role') === 'support'));
  });
  app.get('/dlq/replay', (c) => {
    const id = c.req.query('payout');
    const all = c.req.query('all') === '1';
    if (!all && (id === undefined || !PAYOUT_ID.test(id)))
      return badRequest(c, 'Say which payout to replay, or all.');
    return confirm(c, {
      title: all ? 'Replay every dead-lettered payout?' : `Replay payout ${id}?`,
      explain: `${all ? 'Every payout message in the dead-letter queue goes' : 'Its message goes'} back to the queue; the worker tries again and the ledger says RECEIVED until it has. Do it once the reason is fixed, or it comes back here.`,
      action: '/dlq/replay',
      fields: all ? { all: '1' } : { payout: id ?? '' },
      button: all ? 'Yes, replay them all' : 'Yes, replay it',
      cancel: '/dlq',
    });
  });
  app.post('/dlq/replay', async (c) => {
    const s = await svc(c);
    const form = await c.req.parseBody();
    const all = form.all === '1';
    const id = typeof form.payout === 'string' ? form.payout : undefined;
    if (!all && (id === undefined || !PAYOUT_ID.test(id)))
      return badRequest(c, 'Say which payout to replay, or all.');
    try {
      const r = await replayDeadLetters(
        {
          dlq: s.dlq,
          ledger: s.ledger,
          actions: s.ledger,
          ...(all ? {} : { inTransitSeconds: await s.inTransitSeconds() }),
        },
        { ...(all ? {} : { payoutId: id }), actor: c.get('actor') },
      );
      const n = r.replayed.length;
      const notice = `Replayed ${n} payout${n === 1 ? '' : 's'}${n > 0 ? ` (${r.replayed.join(', ')})` : ''}; ${r.remaining} message${r.remaining === 1 ? '' : 's'} left in the dead-letter queue.`;
      return done(c, !all && id ? `/payouts/${id}` : '/dlq', notice);
    } catch (error) {
      return failed(c, error);
    }
  });

  app.get('/tenants', async (c) => {
    const s = await svc(c);
    const tenants = (await s.tenants.list()).sort((a, b) => a.books.tenantId.localeCompare(b.books.tenantId));
    return show(c, 'Tenants', 'tenants', tenantsPage(c.get('ctx'), tenants));
  });
  app.get('/tenants/:id', async (c) => {
    const s = await svc(c);
    const id = c.req.param('id');
    const tenant = TENANT_ID.test(id) ? await s.tenants.get(id) : undefined;
    if (tenant === undefined) return notFound(c, `There is no tenant "${id}".`);
    // The categories on the last 30 days' payouts, with a suggested account for each unmapped one: the same
    // reading as `qbo-sync config suggest` (Stripe, and the company's chart from QuickBooks).
    let seen: Awaited<ReturnType<typeof suggestConfig>> | undefined;
    let seenError: string | undefined;
    try {
      seen = await suggestConfig(
        {
          tenants: s.tenants,
          payouts: s.payouts,
          books: (realmId, tenantId) => s.quickbooks(realmId, { tenantId }),
          now,
        },
        { tenantId: id, days: 30 },
      );
    } catch (error) {
      seenError = describeError(error);
    }
    return show(c, `Tenant ${id}`, 'tenants', tenantPage(c.get('ctx'), tenant, seen, seenError));
  });

  app.notFound((c) =>
    render(c, 404, messagePage(c.get('ctx') ?? anonymous(), 'Not found', `Nothing at ${c.req.path}.`)),
  );
  app.onError((error, c) => {
    // The CSRF middleware refuses a cross-site form with a 403 HTTPException.
    if (error instanceof HTTPException && error.status === 403) {
      return render(
        c,
        403,
        messagePage(
          c.get('ctx') ?? anonymous(),
          'Not allowed',
          'This form was not sent from the console itself: open the console and try again.',
        ),
      );
    }
    return render(
      c,
      500,
      messagePage(
        c.get('ctx') ?? anonymous(),
        'Something went wrong',
        `The console could not answer: ${describeError(error)}`,
      ),
    );
  });

  function badRequest(c: Context<Env>, message: string) {
    return render(c, 400, messagePage(c.get('ctx'), 'Not understood', message));
  }
  return app;
}

function signInLink(base: string, next?: string): Html {
  const href = `${base}/login${next ? `?next=${encodeURIComponent(next)}` : ''}`;
  return html`<p><a class="button" href="${href}">Sign in</a></p>`;
}
