/**
 * The console's actions (support only; the app's middleware refuses viewers and checks each POST's CSRF token):
 * sync, resync, preview and replay, each a confirmation page (GET) and the action (POST), through the same use
 * cases as the CLI.
 */
import type { Context, Hono } from 'hono';
import { replayDeadLetters } from '../app/dead-letters.js';
import { describeError } from '../app/log.js';
import { previewPayout } from '../app/preview-payout.js';
import { requestResync, requestSync } from '../app/request-payouts.js';
import { type Env, PAYOUT_ID, type RouteKit, TENANT_ID } from './kit.js';
import { confirmPage } from './views/other.js';

export function registerActions(app: Hono<Env>, kit: RouteKit): void {
  const { svc, show, badRequest, failed, payoutRow, renderPayout, base } = kit;
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
}
