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
import { describeError } from '../app/log.js';
import { builtOnFirstUse } from '../runtime-base.js';
import { registerActions } from './actions.js';
import {
  type ConsoleAuth,
  completeSignIn,
  csrfToken,
  SessionVerifier,
  sessionCookie,
  signOut,
  startSignIn,
} from './auth.js';
import { type Env, makeRouteKit } from './kit.js';
import { registerPages } from './pages.js';
import type { ConsoleServices } from './services.js';
import { CONSOLE_CSS } from './style.js';
import { type Html, messagePage, type PageContext } from './views/layout.js';

export interface ConsoleOptions {
  /** The adapters, built on first use (a Lambda's cold start, or once local mode is ready). */
  services: () => Promise<ConsoleServices>;
  auth: ConsoleAuth;
  /** Rows read for the payouts page (newest first). Default 2000. */
  maxRows?: number;
  now?: () => Date;
}

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
  const kit = makeRouteKit({ base, now, maxRows, services: servicesOnce });
  registerPages(app, kit);
  registerActions(app, kit);

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

  return app;
}

function signInLink(base: string, next?: string): Html {
  const href = `${base}/login${next ? `?next=${encodeURIComponent(next)}` : ''}`;
  return html`<p><a class="button" href="${href}">Sign in</a></p>`;
}
