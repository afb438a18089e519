/**
 * The console as the stack serves it: authorisation on every route through real HTTP, with a Cognito user pool
 * stand-in whose tokens are signed by a JWKS it serves on loopback. No token → 401; a forged, expired or foreign
 * token → 401; `viewer` → pages yes, actions 403; a user in no group → 403; `support` may act, with a CSRF token
 * bound to the session from the console's own origin; the hosted sign-in flow sets an HttpOnly, Secure, SameSite
 * session cookie; every answer carries the strict CSP.
 */
import { type Harness, startHarness, tenantConfig } from '../app/harness.js';
import { type AwsConsole, Client, startAwsConsole } from './helpers.js';

let h: Harness;
let web: AwsConsole;

const HELD = 'po_1ConsoleAuthHeld';
const PAGES = ['/', '/held', `/payouts/${HELD}`, '/dlq', '/tenants', '/tenants/downtown-yoga'];
const ACTION_PAGES = [
  `/payouts/${HELD}/sync`,
  `/payouts/${HELD}/resync`,
  `/payouts/${HELD}/preview`,
  '/dlq/replay?all=1',
  `/sync?payout=${HELD}&tenant=downtown-yoga`,
];
const ACTION_POSTS: Array<[string, Record<string, string>]> = [
  [`/payouts/${HELD}/sync`, {}],
  [`/payouts/${HELD}/resync`, {}],
  [`/payouts/${HELD}/preview`, {}],
  ['/dlq/replay', { all: '1' }],
];

beforeAll(async () => {
  h = await startHarness('console-auth');
  await h.addTenant(tenantConfig());
  const row = await h.runtime.ledger.ensure(HELD, 'downtown-yoga');
  await h.runtime.ledger.update(HELD, row.version, {
    status: 'HELD',
    reason: 'no revenue mapping for: Retail',
    hint: 'map the category Retail in the sync config',
  });
  web = await startAwsConsole(h);
});

afterAll(async () => {
  await web?.close();
  await h?.close();
});

function signedIn(username: string, claims: Record<string, unknown> = {}): Client {
  const client = new Client(web.url);
  client.cookies.set('__Host-qbo-console', web.pool.idToken(username, claims));
  return client;
}

async function csrfFor(client: Client): Promise<string> {
  return Client.csrfOf(await (await client.request('/')).text());
}

describe('without a session', () => {
  it('answers 401 with a sign-in link on every page and action, and serves only the stylesheet', async () => {
    const anonymous = new Client(web.url);
    for (const path of [...PAGES, ...ACTION_PAGES]) {
      const res = await anonymous.request(path);
      expect([path, res.status]).toEqual([path, 401]);
      expect(await res.text()).toContain('/login?next=');
    }
    for (const [path, form] of ACTION_POSTS) {
      const res = await anonymous.request(path, { form: { ...form, csrf: 'x' } });
      expect([path, res.status]).toEqual([path, 401]);
    }
    expect((await anonymous.request('/assets/console.css')).status).toBe(200);
    expect((await h.runtime.ledger.get(HELD))?.actions).toBeUndefined();
  });

  it.each([
    ['signed by a key the pool does not publish', () => web.pool.sign({ ...claims() }, { foreignKey: true })],
    ['expired', () => web.pool.idToken('sam', { exp: Math.floor(Date.now() / 1000) - 600 })],
    ['for another app client', () => web.pool.idToken('sam', { aud: 'another-client' })],
    ['an access token, not an ID token', () => web.pool.idToken('sam', { token_use: 'access' })],
    [
      'from another pool',
      () => web.pool.idToken('sam', { iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other' }),
    ],
    ['not a JWT', () => 'not-a-token'],
  ])('answers 401 to a token %s', async (_what, token) => {
    const client = new Client(web.url);
    client.cookies.set('__Host-qbo-console', token());
    expect((await client.request('/')).status).toBe(401);
  });
});

function claims() {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: web.pool.issuer,
    aud: web.pool.clientId,
    token_use: 'id',
    'cognito:username': 'sam',
    'cognito:groups': ['support'],
    email: 'sam@support.example',
    iat: now,
    exp: now + 600,
  };
}

describe('a viewer', () => {
  it('sees every page but gets 403 on every action, which changes nothing', async () => {
    const vic = signedIn('vic');
    for (const path of PAGES) {
      const res = await vic.request(path);
      expect([path, res.status]).toEqual([path, 200]);
    }
    const page = await (await vic.request(`/payouts/${HELD}`)).text();
    expect(page).toContain('vic@bookkeeper.example · viewer');
    expect(page).not.toContain(`/payouts/${HELD}/sync"`);
    for (const path of ACTION_PAGES) {
      expect([path, (await vic.request(path)).status]).toEqual([path, 403]);
    }
    const csrf = await csrfFor(vic);
    for (const [path, form] of ACTION_POSTS) {
      expect([path, (await vic.request(path, { form: { ...form, csrf } })).status]).toEqual([path, 403]);
    }
    expect((await h.runtime.ledger.get(HELD))?.actions).toBeUndefined();
    expect(await h.takeQueue()).toEqual([]);
  });
});

describe('a user in neither group', () => {
  it('gets 403 everywhere', async () => {
    const nora = signedIn('nora');
    for (const path of [...PAGES, ...ACTION_PAGES]) {
      expect([path, (await nora.request(path)).status]).toEqual([path, 403]);
    }
  });
});

describe('support', () => {
  it('confirms, then acts; the ledger row records who and when, the queue gets the request', async () => {
    const sam = signedIn('sam');
    for (const path of [...PAGES, ...ACTION_PAGES]) {
      expect([path, (await sam.request(path)).status]).toEqual([path, 200]);
    }
    const confirm = await (await sam.request(`/payouts/${HELD}/sync`)).text();
    expect(confirm).toContain('Yes, sync it');
    const res = await sam.request(`/payouts/${HELD}/sync`, { form: { csrf: Client.csrfOf(confirm) } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(new RegExp(`^/payouts/${HELD}\\?notice=`));
    const row = await h.runtime.ledger.get(HELD);
    expect(row?.actions).toEqual([
      { action: 'sync', by: 'sam@support.example', via: 'console', at: expect.any(String) },
    ]);
    expect(Date.now() - Date.parse(row?.actions?.[0]?.at ?? '')).toBeLessThan(60_000);
    expect((await h.takeQueue()).map((m) => [m.eventType, m.payoutId])).toEqual([['sync', HELD]]);
  });

  it('is refused an action without the session’s CSRF token or from another origin', async () => {
    const sam = signedIn('sam');
    const csrf = await csrfFor(sam);
    const stale = signedIn('sam', { jti: 'another-session' });
    expect(Client.csrfOf(await (await stale.request('/')).text())).not.toBe(csrf);
    for (const [path, form] of ACTION_POSTS) {
      expect([path, (await sam.request(path, { form })).status]).toEqual([path, 403]);
      expect([path, (await sam.request(path, { form: { ...form, csrf: `${csrf}x` } })).status]).toEqual([
        path,
        403,
      ]);
      const crossSite = await sam.request(path, {
        form: { ...form, csrf },
        headers: { origin: 'https://evil.example' },
      });
      expect([path, crossSite.status]).toEqual([path, 403]);
    }
    expect(await h.takeQueue()).toEqual([]);
  });
});

describe('the hosted sign-in', () => {
  it('signs in with PKCE and state, sets a HttpOnly, Secure, SameSite session cookie, and signs out', async () => {
    const browser = new Client(web.url);
    const start = await browser.request(`/login?next=${encodeURIComponent('/held')}`);
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location') ?? '');
    expect(authorize.origin).toBe(web.pool.url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${web.url}/auth/callback`);
    expect((await fetch(authorize)).status).toBe(200);

    const login = await fetch(`${web.pool.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...Object.fromEntries(authorize.searchParams),
        username: 'vic',
        password: 'Viewer-pass-1',
      }),
      redirect: 'manual',
    });
    const callback = login.headers.get('location') ?? '';
    expect(callback).toMatch(new RegExp(`^${web.url}/auth/callback\\?code=`));

    // The code is single-use and bound to this browser's state cookie: another browser gets 400.
    const stranger = new Client(web.url);
    expect((await stranger.request(callback)).status).toBe(400);

    const back = await browser.request(callback);
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe('/held');
    const cookie = back.headers.getSetCookie().find((c) => c.startsWith('__Host-qbo-console='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect((await browser.request('/held')).status).toBe(200);

    const csrf = await csrfFor(browser);
    const out = await browser.request('/logout', { form: { csrf } });
    expect(out.status).toBe(302);
    expect(out.headers.get('location')).toContain(`${web.pool.url}/logout?client_id=${web.pool.clientId}`);
    expect(browser.cookies.has('__Host-qbo-console')).toBe(false);
    expect((await browser.request('/')).status).toBe(401);
  });

  it('refuses a callback whose state does not match the one it started', async () => {
    const browser = new Client(web.url);
    await browser.request('/login');
    expect((await browser.request('/auth/callback?code=abc&state=forged')).status).toBe(400);
  });
});

describe('every answer', () => {
  it('carries a strict CSP, no-store and anti-framing headers', async () => {
    for (const client of [new Client(web.url), signedIn('sam')]) {
      const res = await client.request('/');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain(`form-action 'self' ${web.pool.url}`);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
  });
});
