/**
 * `qbo-sync connect --tenant T`: QuickBooks OAuth (authorization-code flow) with a random `state`, stored with an
 * expiry, that the callback checks (CSRF).
 *
 * - With a local mode: the CLI listens on a loopback callback (`http://127.0.0.1:<port>/quickbooks/callback`),
 *   prints the authorize URL (it opens nothing), and on the callback exchanges the code through the token manager,
 *   stores the tokens in the target's token store and links the realm to the tenant. The local QuickBooks stand-in's
 *   authorize URL consents at once, so following it (a browser, or `fetch`) completes the flow.
 * - With a stack: the stack's CallbackUrl route (the callback Lambda) does the exchange; the CLI stores the pending
 *   state, prints the URL and waits for the state to be completed (unless --no-wait).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import {
  type CallbackOutcome,
  type CallbackQuery,
  completeQuickBooksConnection,
} from '../../app/connect-quickbooks.js';
import { silentLog } from '../../app/log.js';
import {
  CONNECT_STATE_TTL_MS,
  startQuickBooksConnection,
  waitForConnection,
} from '../../app/start-connection.js';
import { connectDepsOf } from '../../runtime.js';
import {
  action,
  type CliIo,
  type CommandContext,
  parseSeconds,
  targetOptions,
  tenantOption,
} from '../context.js';
import { CliError, CliUsageError } from '../errors.js';
import type { Services } from '../services.js';

export const CALLBACK_PATH = '/quickbooks/callback';

function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new InvalidArgumentError('must be a port number from 0 to 65535 (0 picks a free one).');
  }
  return Number(value);
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function page(res: ServerResponse, status: number, title: string, message: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>\n`,
  );
}

function queryOf(req: IncomingMessage): { path: string; query: CallbackQuery } {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const get = (k: string) => url.searchParams.get(k) ?? undefined;
  const query: CallbackQuery = {};
  for (const key of ['code', 'state', 'realmId', 'error', 'error_description'] as const) {
    const v = get(key);
    if (v !== undefined) query[key] = v;
  }
  return { path: url.pathname, query };
}

interface LoopbackCallback {
  server: Server;
  redirectUri: string;
  /** Resolves with the outcome of the callback carrying our state. */
  outcome: Promise<CallbackOutcome>;
}

/** The loopback server that receives QuickBooks' redirect, checks the state and completes the connection. */
async function startLoopback(
  ctx: CommandContext,
  services: Services,
  listen: { host: string; port: number; path: string },
  expectedState: () => string | undefined,
): Promise<LoopbackCallback> {
  const factory = services.quickbooks;
  let settle: (o: CallbackOutcome) => void = () => {};
  const outcome = new Promise<CallbackOutcome>((resolve) => {
    settle = resolve;
  });
  let redirectUri = '';
  const server = createServer((req, res) => {
    const { path, query } = queryOf(req);
    if (req.method !== 'GET' || path !== listen.path) {
      page(res, 404, 'Not found', `This server only answers QuickBooks' redirect to ${listen.path}.`);
      return;
    }
    const state = expectedState();
    if (state === undefined || query.state !== state) {
      // Not the connection this command started (a stale or forged link): refused, and the command keeps waiting.
      ctx.out.note('A callback arrived with an unknown state and was refused (CSRF check); still waiting.');
      page(
        res,
        400,
        'Not connected',
        'This link does not belong to the connection being made. Open the link the command printed.',
      );
      return;
    }
    void completeQuickBooksConnection(
      connectDepsOf({
        states: services.states,
        tenants: services.tenants,
        tokenManager: factory.tokenManager,
        apiBase: factory.apiBase,
        redirectUri,
        log: silentLog,
      }),
      query,
    )
      .catch(
        (error: unknown): CallbackOutcome => ({
          status: 500,
          title: 'Not connected',
          message: error instanceof Error ? error.message : String(error),
        }),
      )
      .then((o) => {
        page(res, o.status, o.title, o.message);
        settle(o);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new CliError(
              `port ${listen.port} is in use`,
              'choose another with --callback-port P (0 picks a free one), or stop what uses it',
            )
          : error,
      );
    });
    server.listen(listen.port, listen.host, () => resolve());
  });
  redirectUri = `http://${listen.host}:${(server.address() as AddressInfo).port}${listen.path}`;
  return { server, redirectUri, outcome };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Waits for `promise`, the deadline, or Ctrl-C. */
async function raceDeadline<T>(io: CliIo, promise: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const stop = new Promise<undefined>((resolve) => {
    timer = setInterval(() => {
      if (Date.now() >= deadline || io.interrupted()) resolve(undefined);
    }, 200);
  });
  try {
    return await Promise.race([promise, stop]);
  } finally {
    clearInterval(timer);
  }
}

/** How the callback reaches this command: our own loopback server, or a callback route elsewhere (polled). */
type CallbackPlan =
  | { kind: 'loopback'; host: string; port: number; path: string }
  | { kind: 'remote'; redirectUri: string; by: string };

function planCallback(services: Services, f: { callbackPort?: number; redirectUri?: string }): CallbackPlan {
  if (f.redirectUri !== undefined) {
    let url: URL;
    try {
      url = new URL(f.redirectUri);
    } catch {
      throw new CliUsageError(`--redirect-uri "${f.redirectUri}" is not a URL`);
    }
    const local = services.target.local;
    const ownRoute = local !== undefined && f.redirectUri === local.redirectUri;
    const loopbackHost =
      url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost');
    if (loopbackHost && !ownRoute) {
      return { kind: 'loopback', host: url.hostname, port: Number(url.port || 80), path: url.pathname };
    }
    return {
      kind: 'remote',
      redirectUri: f.redirectUri,
      by: ownRoute ? "local mode's callback route" : 'that callback',
    };
  }
  if (services.target.kind === 'local') {
    return { kind: 'loopback', host: '127.0.0.1', port: f.callbackPort ?? 0, path: CALLBACK_PATH };
  }
  const redirectUri = services.runtime.settings.qboRedirectUri;
  if (redirectUri === undefined) {
    throw new CliError(
      'the QuickBooks app has no redirect URI',
      'set "redirectUri" in the secret named by the stack output QboAppSecretArn to the CallbackUrl output, or pass --redirect-uri',
    );
  }
  return { kind: 'remote', redirectUri, by: "the stack's callback" };
}

export function registerConnect(program: Command, io: CliIo): void {
  targetOptions(
    program
      .command('connect')
      .description(
        "connect a tenant's QuickBooks company (OAuth): prints the authorize URL, receives the callback, stores the tokens",
      )
      .addOption(tenantOption('the tenant to connect', true))
      .option(
        '--callback-port <port>',
        'local mode: port of the loopback callback http://127.0.0.1:<port>/quickbooks/callback (default: a free one)',
        parsePort,
      )
      .option(
        '--redirect-uri <uri>',
        "the redirect URI registered with the Intuit app: a http://localhost or 127.0.0.1 URI is served by this command; any other (the stack's CallbackUrl, local mode's /quickbooks/callback) completes the connection there while this command waits",
      )
      .option(
        '--timeout <seconds>',
        'how long to wait for QuickBooks (default 600: the link’s life)',
        parseSeconds,
      )
      .option(
        '--no-wait',
        'with a remote callback: print the URL and return; the callback completes the connection',
      ),
  ).action(
    action(io, async (ctx: CommandContext) => {
      const f = ctx.flags as {
        tenant: string;
        callbackPort?: number;
        redirectUri?: string;
        timeout?: number;
        wait: boolean;
      };
      if (f.callbackPort !== undefined && f.redirectUri !== undefined) {
        throw new CliUsageError('--callback-port and --redirect-uri both set the callback: give one of them');
      }
      const services = await ctx.services();
      const plan = planCallback(services, f);
      const timeoutMs = (f.timeout ?? CONNECT_STATE_TTL_MS / 1000) * 1000;
      const ttlMs = Math.max(CONNECT_STATE_TTL_MS, timeoutMs);
      const deadline = Date.now() + timeoutMs;
      if ((await services.tenants.get(f.tenant)) === undefined) {
        ctx.out.note(
          `Note: tenant ${f.tenant} is not imported yet; the connection is stored for the company chosen, and \`config import\` links it.`,
        );
      }
      const tokenManager = services.quickbooks.tokenManager;
      const start = (redirectUri: string) =>
        startQuickBooksConnection(
          { states: services.states, authorizeUrl: (s, uri) => tokenManager.authorizeUrl(s, uri) },
          { tenantId: f.tenant, redirectUri, ttlMs },
        );
      const link = (url: string) =>
        `Open this link in a browser to connect QuickBooks for tenant ${f.tenant} (it expires in ${Math.round(ttlMs / 60000)} min):\n\n  ${url}\n`;
      const notAnswered = () =>
        new CliError(
          ctx.io.interrupted()
            ? 'interrupted before QuickBooks answered'
            : `the connection was not completed within ${Math.round(timeoutMs / 1000)} s`,
          `run \`npx qbo-sync connect --tenant ${f.tenant}\` again and open the new link; the page QuickBooks redirected to says what went wrong`,
        );

      if (plan.kind === 'loopback') {
        let state: string | undefined;
        const loopback = await startLoopback(ctx, services, plan, () => state);
        ctx.io.cleanups.push(() => closeServer(loopback.server));
        const started = await start(loopback.redirectUri);
        state = started.state;
        ctx.out.say(
          `${link(started.authorizeUrl)}\nWaiting for QuickBooks to redirect to ${loopback.redirectUri} … (Ctrl-C to stop)`,
        );
        const outcome = await raceDeadline(ctx.io, loopback.outcome, deadline);
        if (outcome === undefined) throw notAnswered();
        if (outcome.status !== 200 || outcome.realmId === undefined) {
          throw new CliError(`QuickBooks was not connected: ${outcome.message}`);
        }
        ctx.out.result(
          { tenant: f.tenant, realmId: outcome.realmId, connected: true, authorizeUrl: started.authorizeUrl },
          (r) =>
            `${ctx.out.green('✓')} QuickBooks company ${r.realmId} is connected to tenant ${r.tenant}; its tokens are stored.`,
        );
        return 0;
      }

      // A callback route elsewhere (the stack's callback Lambda, local mode's route) completes the connection; the
      // pending state says when.
      const started = await start(plan.redirectUri);
      ctx.out.say(link(started.authorizeUrl));
      if (!f.wait) {
        ctx.out.result(
          {
            tenant: f.tenant,
            realmId: null,
            connected: false,
            authorizeUrl: started.authorizeUrl,
            expiresAt: new Date(started.expiresAt).toISOString(),
          },
          () => `QuickBooks redirects to ${plan.redirectUri} (${plan.by}), which stores the tokens.`,
        );
        return 0;
      }
      ctx.out.say(`Waiting for ${plan.by} (${plan.redirectUri}) … (Ctrl-C to stop)`);
      const done = await waitForConnection(services.states, started.state, {
        deadline,
        pollMs: 500,
        isCancelled: ctx.io.interrupted,
      });
      if (done?.realmId === undefined) throw notAnswered();
      ctx.out.result(
        { tenant: f.tenant, realmId: done.realmId, connected: true, authorizeUrl: started.authorizeUrl },
        (r) =>
          `${ctx.out.green('✓')} QuickBooks company ${r.realmId} is connected to tenant ${r.tenant}; its tokens are stored.`,
      );
      return 0;
    }),
  );
}
