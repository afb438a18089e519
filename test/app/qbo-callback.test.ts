/**
 * The QuickBooks OAuth callback on the real local parts: a pending state in the tenants table (as `qbo-sync
 * connect` writes it), the QuickBooks stand-in's authorize page and token endpoint, tokens in Secrets Manager.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { makeQboCallbackHandler } from '../../lambdas/qbo-callback.js';
import { connectStateKey } from '../../src/adapters/aws/connect-state-store.js';
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
  expect(page.body).toMatch(/Company 9341453187 is connected to tenant downtown-yoga/);
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
