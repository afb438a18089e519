/**
 * The QuickBooks OAuth callback on the real local parts: a pending state in the tenants table (as `qbo-sync
 * connect` writes it), the QuickBooks stand-in's authorize page and token endpoint, tokens in Secrets Manager.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { makeQboCallbackHandler } from '../../lambdas/qbo-callback.js';
import { connectStateKey } from '../../src/adapters/aws/connect-state-store.js';
import { DynamoTenantStore } from '../../src/adapters/aws/tenant-store.js';
import { type Harness, OTHER_REALM, REALM, startHarness, tenantConfig } from './harness.js';

let h: Harness;
const REDIRECT = 'http://127.0.0.1:9/quickbooks/callback';

beforeAll(async () => {
  h = await startHarness('callback', { companies: [REALM, OTHER_REALM] });
  await h.addTenant(tenantConfig());
});

afterAll(async () => {
  await h?.close();
});

async function pending(state: string, expiresAt = Date.now() + 600_000) {
  await h.runtime.clients.doc.send(
    new PutCommand({
      TableName: h.runtime.resources.tenantsTable,
      Item: { pk: connectStateKey(state), tenantId: 'downtown-yoga', expiresAt, redirectUri: REDIRECT },
    }),
  );
}

/** Goes through the stand-in's consent page and returns the callback's query. */
async function consent(state: string, realmId = REALM): Promise<Record<string, string>> {
  const url = new URL(h.qbo.authorizeUrl);
  url.search = new URLSearchParams({
    client_id: h.qbo.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'com.intuit.quickbooks.accounting',
    state,
    realmId,
  }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (location === null) throw new Error(`no redirect from the consent page (${res.status})`);
  return Object.fromEntries(new URL(location).searchParams);
}

const handler = () => makeQboCallbackHandler(h.runtime.connectDeps());

it('exchanges the code, stores the tokens, completes the pending state, and refuses a second use', async () => {
  // Prepare
  await pending('state-ok-1');
  const before = await h.runtime.tokens.get(REALM);
  const query = await consent('state-ok-1');

  // Act
  const page = await handler()({ queryStringParameters: query });
  const replay = await handler()({ queryStringParameters: query });

  // Assess
  expect(page.statusCode).toBe(200);
  expect(page.headers?.['content-type']).toMatch(/text\/html/);
  expect(page.body).toMatch(/Company 9341453187 \(Demo Yoga Studio\) is connected to tenant downtown-yoga/);
  const after = await h.runtime.tokens.get(REALM);
  expect(after?.refreshToken).toBeDefined();
  expect(after?.refreshToken).not.toBe(before?.refreshToken);
  expect(await h.runtime.connectStates.get('state-ok-1')).toMatchObject({
    realmId: REALM,
    tenantId: 'downtown-yoga',
  });
  expect(replay.statusCode).toBe(400);
  expect(replay.body).toMatch(/already used/);
});

it('refuses an unknown or expired state, a missing parameter, and a company other than the tenant’s', async () => {
  // Prepare
  await pending('state-expired', Date.now() - 1000);
  await pending('state-other-company');
  const expired = await consent('state-expired');
  const other = await consent('state-other-company', OTHER_REALM);

  // Act
  const pages = await Promise.all([
    handler()({ queryStringParameters: { ...expired, state: 'never-issued' } }),
    handler()({ queryStringParameters: expired }),
    handler()({ queryStringParameters: { state: 'state-other-company' } }),
    handler()({ queryStringParameters: other }),
    handler()({ queryStringParameters: { error: 'access_denied' } }),
  ]);

  // Assess
  expect(pages.map((p) => p.statusCode)).toEqual([400, 400, 400, 400, 400]);
  expect(pages[0]?.body).toMatch(/unknown or was already used/);
  expect(pages[1]?.body).toMatch(/expired/);
  expect(pages[2]?.body).toMatch(/needs code, state and realmId/);
  expect(pages[3]?.body).toMatch(/configured for QuickBooks company 9341453187/);
  expect(pages[4]?.body).toMatch(/access_denied/);
});

it('escapes what it echoes into the page', async () => {
  const page = await handler()({ queryStringParameters: { error: '<script>alert(1)</script>' } });
  expect(page.body).not.toContain('<script>');
  expect(page.body).toContain('&#60;script&#62;');
});

/** A pending state for a tenant that is not imported yet (no configured company to compare with). */
async function pendingFor(state: string, tenantId: string) {
  await h.runtime.clients.doc.send(
    new PutCommand({
      TableName: h.runtime.resources.tenantsTable,
      Item: { pk: connectStateKey(state), tenantId, expiresAt: Date.now() + 600_000, redirectUri: REDIRECT },
    }),
  );
}

it('refuses a tampered realmId: QuickBooks does not confirm that company for the new token; nothing stored', async () => {
  // Prepare: the person approves company REALM; the link is edited to claim OTHER_REALM.
  await pendingFor('state-tampered', 'new-studio');
  const query = await consent('state-tampered', REALM);
  const before = await h.runtime.tokens.get(OTHER_REALM);

  // Act
  const page = await handler()({ queryStringParameters: { ...query, realmId: OTHER_REALM } });

  // Assess
  expect(page.statusCode).toBe(400);
  expect(page.body).toMatch(/QuickBooks did not confirm company 4620816365/);
  expect(await h.runtime.tokens.get(OTHER_REALM)).toEqual(before);
  expect(await h.runtime.tenants.realmOwner(OTHER_REALM)).toBeUndefined();
  // The state was used before the exchange: the same link cannot be tried again.
  expect((await h.runtime.connectStates.get('state-tampered'))?.usedAt).toEqual(expect.any(String));
  expect((await handler()({ queryStringParameters: query })).body).toMatch(/already used/);
});

it('refuses a company already bound to another tenant, before exchanging the code', async () => {
  // Prepare: downtown-yoga connected REALM (bound); a new tenant tries the same company.
  await pending('state-bind-first');
  expect((await handler()({ queryStringParameters: await consent('state-bind-first') })).statusCode).toBe(
    200,
  );
  await pendingFor('state-rival', 'rival-studio');
  const query = await consent('state-rival', REALM);
  const tokensBefore = await h.runtime.tokens.get(REALM);

  // Act
  const page = await handler()({ queryStringParameters: query });

  // Assess
  expect(page.statusCode).toBe(400);
  expect(page.body).toMatch(/company 9341453187 is already connected to tenant downtown-yoga/);
  expect(await h.runtime.tenants.realmOwner(REALM)).toBe('downtown-yoga');
  expect(await h.runtime.tokens.get(REALM)).toEqual(tokensBefore);
  // And the binding itself is conditional (two callbacks racing for one company).
  expect(await h.runtime.tenants.bindRealm(REALM, 'rival-studio')).toBe('downtown-yoga');
  expect(await h.runtime.tenants.bindRealm(REALM, 'downtown-yoga')).toBeUndefined();
});

it('fails closed when the tenant cannot be read: nothing exchanged, the link still usable', async () => {
  // Prepare: the tenants store points at a table that does not exist (as when DynamoDB refuses the read).
  await pending('state-unreadable');
  const query = await consent('state-unreadable');
  const deps = h.runtime.connectDeps();
  const unreadable = new DynamoTenantStore({ doc: h.runtime.clients.doc, tableName: `${h.prefix}-missing` });

  // Act
  const page = await makeQboCallbackHandler({ ...deps, tenants: unreadable })({
    queryStringParameters: query,
  });

  // Assess
  expect(page.statusCode).toBe(500);
  expect(page.body).toMatch(/could not be read, so nothing was connected/);
  expect((await h.runtime.connectStates.get('state-unreadable'))?.usedAt).toBeUndefined();
});

it('answers with CSP, nosniff and frame-deny headers', async () => {
  const page = await handler()({ queryStringParameters: { error: 'access_denied' } });
  expect(page.headers).toMatchObject({
    'content-security-policy': expect.stringContaining("default-src 'none'"),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  });
  expect(String(page.headers?.['content-security-policy'])).toContain("frame-ancestors 'none'");
});
