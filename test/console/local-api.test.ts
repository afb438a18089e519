/**
 * The support console in local mode, through real HTTP: `qbo-sync local` serves it at `/` on loopback without
 * sign-in. The payouts page counts and charts what the worker did, the held payout's page and the tenant's
 * mappings say why it is held, and the actions (preview, sync after a mapping fix, DLQ replay) go through the CLI's
 * use cases and are recorded on the ledger row with the operating-system user. Forms need the page's CSRF token
 * and the console's own origin; a request naming another host (DNS rebinding) is refused.
 */
import { request } from 'node:http';
import { userInfo } from 'node:os';
import { Client } from './helpers.js';
import { type ConsoleLocal, STUDIO, startConsoleLocal } from './local-fixture.js';

let f: ConsoleLocal;
let web: Client;

beforeAll(async () => {
  f = await startConsoleLocal();
  web = new Client(f.local.target.url);
}, 120_000);

afterAll(async () => {
  await f?.close();
});

const page = async (path: string, expected = 200) => {
  const res = await web.request(path);
  const text = await res.text();
  if (res.status !== expected) throw new Error(`GET ${path}: ${res.status}\n${text.slice(0, 600)}`);
  return text;
};
/** fetch() never sends a Host of its own choosing: node:http does (a DNS-rebinding page's request looks so). */
function statusWithHost(host: string): Promise<number | undefined> {
  const url = new URL(f.local.target.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/', headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}

const count = (html: string, status: string) =>
  Number(new RegExp(`data-status="${status}">(\\d+)<`).exec(html)?.[1]);

it('serves the payouts page with counts per status and the chart, and says where it is in the banner', async () => {
  const html = await page('/');
  expect([count(html, 'POSTED'), count(html, 'HELD'), count(html, 'FAILED')]).toEqual([1, 1, 1]);
  expect(html).toContain('aria-label="Payouts per day by status"');
  expect(html).toContain(f.held.payout.id);
  const heldOnly = await page(`/?status=HELD&tenant=${STUDIO}`);
  expect(heldOnly).toContain(f.held.payout.id);
  expect(heldOnly).not.toContain(`/payouts/${f.posted.payout.id}"`);
  expect(f.local.logs()).toMatch(new RegExp(`Support console +${f.local.target.url}/ `));
  await page('/?status=NOPE', 400);
  await page('/payouts/po_1NoSuchPayout', 404);
});

it('shows why a payout is held and which categories have no mapping', async () => {
  const held = await page('/held');
  expect(held).toContain(f.held.payout.id);
  expect(held).toMatch(/Workshops/);
  const payout = await page(`/payouts/${f.held.payout.id}`);
  expect(payout).toContain('s-HELD');
  expect(payout).toMatch(/Fix:|class="fix"/);
  const tenant = await page(`/tenants/${STUDIO}`);
  const unmapped = tenant.slice(tenant.indexOf('without a mapping'));
  expect(unmapped).toContain('Workshops');
  expect(unmapped).toContain('HOLDS the payout');
  expect(unmapped).not.toContain('<td>Class Packs</td>');
});

it('previews, then syncs after the mapping is fixed through the CLI; the ledger says who did it', async () => {
  // Preview: a dry run that says it would still be held, recorded on the row.
  const confirm = await page(`/payouts/${f.held.payout.id}/preview`);
  const csrf = Client.csrfOf(confirm);
  const preview = await web.request(`/payouts/${f.held.payout.id}/preview`, { form: { csrf } });
  expect(preview.status).toBe(200);
  expect(await preview.text()).toMatch(/it would be <span class="status s-HELD">HELD/);

  // Fix the mapping as support would (the CLI), preview again: now it would post, line by line.
  await f.fixMapping();
  const lines = await (await web.request(`/payouts/${f.held.payout.id}/preview`, { form: { csrf } })).text();
  expect(lines).toContain('Workshop Revenue');
  expect(lines).toContain('Dry run: nothing was posted');

  // Sync: confirmed, queued, and the worker posts it.
  const synced = await web.request(`/payouts/${f.held.payout.id}/sync`, { form: { csrf } });
  expect(synced.status).toBe(303);
  const row = await f.settled(f.held.payout.id, 'POSTED');
  const after = await page(`/payouts/${f.held.payout.id}`);
  expect(after).toContain('s-POSTED');
  expect(after).toContain(`Deposit ${row.quickbooks?.id}`);
  const me = userInfo().username;
  expect(row.actions?.map((a) => [a.action, a.by, a.via])).toEqual([
    ['preview', me, 'console'],
    ['preview', me, 'console'],
    ['sync', me, 'console'],
  ]);
});

it('replays a dead-lettered payout once the cause is gone', async () => {
  const dlq = await page('/dlq');
  expect(dlq).toContain(f.deadLettered.payout.id);
  expect(dlq).toMatch(/503|Stripe/);
  f.outage.on = false;
  const confirm = await page(`/dlq/replay?payout=${f.deadLettered.payout.id}`);
  const res = await web.request('/dlq/replay', {
    form: { payout: f.deadLettered.payout.id, csrf: Client.csrfOf(confirm) },
  });
  expect(res.status).toBe(303);
  expect(decodeURIComponent(res.headers.get('location') ?? '')).toContain('Replayed 1 payout');
  const row = await f.settled(f.deadLettered.payout.id, 'POSTED');
  expect(row.actions?.map((a) => a.action)).toEqual(['replay']);
  expect(await page('/dlq')).toContain('The dead-letter queue is empty.');
});

it('refuses forms without the token or from another origin, and requests naming another host', async () => {
  const id = f.posted.payout.id;
  const csrf = Client.csrfOf(await page(`/payouts/${id}/sync`));
  expect((await web.request(`/payouts/${id}/sync`, { form: {} })).status).toBe(403);
  const crossSite = await web.request(`/payouts/${id}/sync`, {
    form: { csrf },
    headers: { origin: 'http://evil.example' },
  });
  expect(crossSite.status).toBe(403);
  expect(await statusWithHost('evil.example')).toBe(403);
  expect(await statusWithHost(new URL(f.local.target.url).host)).toBe(200);
  expect((await f.ledger.get(id))?.actions).toBeUndefined();
  // Every answer carries the strict CSP.
  const res = await web.request('/');
  expect(res.headers.get('content-security-policy')).toContain("script-src 'none'");
});
