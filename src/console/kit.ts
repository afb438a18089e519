/**
 * What the console's route files share: the app's type, the id patterns, and the kit of page helpers (services on
 * first use, rendering, the error pages, reading a payout's ledger row and rendering the payout page).
 */
import type { Context } from 'hono';
import { describeError } from '../app/log.js';
import type { LedgerRecord } from '../app/ports.js';
import type { previewPayout } from '../app/preview-payout.js';
import type { Actor } from '../app/record-action.js';
import type { Role } from './auth.js';
import type { ConsoleServices } from './services.js';
import { type Html, messagePage, type PageContext, page, type Section } from './views/layout.js';
import { isInFlight, payoutPage } from './views/payouts.js';

export type Env = {
  Variables: { ctx: PageContext; role: Role; actor: Actor; services: ConsoleServices };
};

export const PAYOUT_ID = /^po_[A-Za-z0-9_]{1,200}$/;
export const TENANT_ID = /^[a-z0-9-]{2,64}$/;
export const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** How long the payout page waits before refreshing itself while the worker is busy with the payout. */
const REFRESH_SECONDS = 2;

export type Status = 200 | 400 | 401 | 403 | 404 | 409 | 500 | 502;
type Preview = Awaited<ReturnType<typeof previewPayout>>;

export interface RouteKit {
  base: string;
  now: () => Date;
  maxRows: number;
  anonymous(): PageContext;
  render(c: Context, status: Status, body: Html): Response | Promise<Response>;
  svc(c: Context<Env>): Promise<ConsoleServices>;
  show(
    c: Context<Env>,
    title: string,
    section: Section,
    body: Html,
    extra?: { refresh?: boolean },
  ): Response | Promise<Response>;
  forbidden(c: Context<Env>, message: string): Response | Promise<Response>;
  notFound(c: Context<Env>, message: string): Response | Promise<Response>;
  failed(c: Context<Env>, error: unknown): Response | Promise<Response>;
  badRequest(c: Context<Env>, message: string): Response | Promise<Response>;
  /** The ledger row of the route's `:id`, or the page saying why there is none. */
  payoutRow(c: Context<Env>): Promise<LedgerRecord | Response>;
  renderPayout(
    c: Context<Env>,
    row: LedgerRecord,
    extra?: { preview?: Preview; previewError?: string },
  ): Promise<Response>;
}

export function makeRouteKit(o: {
  base: string;
  now: () => Date;
  maxRows: number;
  services: () => Promise<ConsoleServices>;
}): RouteKit {
  const { base } = o;
  const anonymous = (): PageContext => ({ base, viewer: undefined, csrf: '' });
  const render = (c: Context, status: Status, body: Html) => c.html(body, status);
  const forbidden = (c: Context<Env>, message: string) =>
    render(c, 403, messagePage(c.get('ctx') ?? anonymous(), 'Not allowed', message));
  const notFound = (c: Context<Env>, message: string) =>
    render(c, 404, messagePage(c.get('ctx'), 'Not found', message));
  const failed = (c: Context<Env>, error: unknown) =>
    render(c, 502, messagePage(c.get('ctx'), 'That did not work', describeError(error)));
  const svc = async (c: Context<Env>) => {
    const s = await o.services();
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

  function badRequest(c: Context<Env>, message: string) {
    return render(c, 400, messagePage(c.get('ctx'), 'Not understood', message));
  }
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

  return {
    base,
    now: o.now,
    maxRows: o.maxRows,
    anonymous,
    render,
    svc,
    show,
    forbidden,
    notFound,
    failed,
    badRequest,
    payoutRow,
    renderPayout,
  };
}
