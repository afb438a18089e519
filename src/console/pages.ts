/** The console's pages (read only, for support and viewer alike): payouts, held, one payout, the DLQ, tenants. */
import type { Hono } from 'hono';
import { listDeadLetters } from '../app/dead-letters.js';
import { describeError } from '../app/log.js';
import { suggestConfig } from '../app/suggest-config.js';
import { LEDGER_STATUSES, type LedgerStatus } from '../domain/types.js';
import { DAY, type Env, type RouteKit, TENANT_ID } from './kit.js';
import { countByStatus, perDay } from './summary.js';
import { dlqPage, tenantPage, tenantsPage } from './views/other.js';
import { heldPage, type PayoutFilter, payoutsPage } from './views/payouts.js';

export function registerPages(app: Hono<Env>, kit: RouteKit): void {
  const { svc, show, badRequest, notFound, payoutRow, renderPayout, now, maxRows } = kit;
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

  app.get('/payouts/:id', async (c) => {
    const row = await payoutRow(c);
    if (row instanceof Response) return row;
    return renderPayout(c, row);
  });

  app.get('/dlq', async (c) => {
    const s = await svc(c);
    const letters = await listDeadLetters({ dlq: s.dlq, ledger: s.ledger });
    return show(c, 'Dead-letter queue', 'dlq', dlqPage(c.get('ctx'), letters, c.get('role') === 'support'));
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
}
