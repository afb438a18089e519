import OAuthClient from 'intuit-oauth';
import {
  demoCompanySeed,
  type QuickBooksStandIn,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';
import { basic, DEMO_REALM, makeApi, tokenRequest } from './quickbooks-helpers.js';

const HOUR = 3600 * 1000;

describe('QuickBooks stand-in: OAuth token endpoint', () => {
  let clock = Date.parse('2025-03-01T12:00:00Z');
  const now = () => clock;
  let lenient: QuickBooksStandIn;
  let strict: QuickBooksStandIn;

  beforeAll(async () => {
    lenient = await startQuickBooksStandIn({ now, accessTokenTtlSeconds: 60 });
    strict = await startQuickBooksStandIn({ now, rotation: 'strict', clientId: 'abc', clientSecret: 'shh' });
  });
  afterAll(async () => {
    await lenient.close();
    await strict.close();
  });

  it('rotates both tokens on every refresh and answers in the Intuit shape', async () => {
    // Prepare
    const first = lenient.issueRefreshToken(DEMO_REALM);

    // Act
    const res = await tokenRequest(lenient, { grant_type: 'refresh_token', refresh_token: first });

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('intuit_tid')).toMatch(/\S+/);
    expect(res.json).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 60,
      x_refresh_token_expires_in: expect.any(Number),
    });
    expect(res.json.refresh_token).not.toBe(first);
    expect(res.json.x_refresh_token_expires_in).toBeGreaterThan(99 * 24 * 3600);
  });

  it('lenient rotation: the previous refresh token still works for 24 hours, then invalid_grant', async () => {
    // Prepare
    const first = lenient.issueRefreshToken(DEMO_REALM);
    const rotated = await tokenRequest(lenient, { grant_type: 'refresh_token', refresh_token: first });

    // Act
    clock += 23 * HOUR;
    const withinGrace = await tokenRequest(lenient, { grant_type: 'refresh_token', refresh_token: first });
    clock += 2 * HOUR;
    const afterGrace = await tokenRequest(lenient, { grant_type: 'refresh_token', refresh_token: first });
    const latest = await tokenRequest(lenient, {
      grant_type: 'refresh_token',
      refresh_token: rotated.json.refresh_token,
    });

    // Assess
    expect(withinGrace.status).toBe(200);
    expect(afterGrace.status).toBe(400);
    expect(afterGrace.json.error).toBe('invalid_grant');
    expect(afterGrace.json.error_description).toEqual(expect.any(String));
    expect(latest.status).toBe(200);
  });

  it('strict rotation: the previous refresh token is invalid at once', async () => {
    // Prepare
    const first = strict.issueRefreshToken(DEMO_REALM);
    const rotated = await tokenRequest(strict, { grant_type: 'refresh_token', refresh_token: first });

    // Act
    const again = await tokenRequest(strict, { grant_type: 'refresh_token', refresh_token: first });
    const next = await tokenRequest(strict, {
      grant_type: 'refresh_token',
      refresh_token: rotated.json.refresh_token,
    });

    // Assess
    expect(rotated.status).toBe(200);
    expect(again.status).toBe(400);
    expect(again.json.error).toBe('invalid_grant');
    expect(next.status).toBe(200);
  });

  it('refuses a wrong or missing client with 401 invalid_client', async () => {
    const token = strict.issueRefreshToken(DEMO_REALM);
    const wrong = await tokenRequest(
      strict,
      { grant_type: 'refresh_token', refresh_token: token },
      basic('abc', 'nope'),
    );
    const missing = await tokenRequest(strict, { grant_type: 'refresh_token', refresh_token: token }, '');

    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toBe('invalid_client');
    expect(missing.status).toBe(401);
    // The token was not consumed by the refused calls.
    expect((await tokenRequest(strict, { grant_type: 'refresh_token', refresh_token: token })).status).toBe(
      200,
    );
  });

  it('refuses a JSON body, an unknown token, an unknown grant type and revoked tokens', async () => {
    const token = lenient.issueRefreshToken(DEMO_REALM);
    const json = await fetch(lenient.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: basic(lenient.clientId, lenient.clientSecret),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: token }),
    });
    const unknown = await tokenRequest(lenient, { grant_type: 'refresh_token', refresh_token: 'AB11nope' });
    const grant = await tokenRequest(lenient, { grant_type: 'client_credentials' });
    lenient.revokeAll(DEMO_REALM);
    const revoked = await tokenRequest(lenient, { grant_type: 'refresh_token', refresh_token: token });

    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe('invalid_request');
    expect(unknown.json.error).toBe('invalid_grant');
    expect(grant.json.error).toBe('unsupported_grant_type');
    expect(revoked.status).toBe(400);
    expect(revoked.json.error).toBe('invalid_grant');
  });

  it('gives x_refresh_token_hard_expires_in only when asked for it', async () => {
    const res = await fetch(lenient.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: basic(lenient.clientId, lenient.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
        'x-include-refresh-token-hard-expires-in': 'true',
      },
      body: `grant_type=refresh_token&refresh_token=${lenient.issueRefreshToken(DEMO_REALM)}`,
    });
    const body = (await res.json()) as Record<string, number>;
    expect(body.x_refresh_token_hard_expires_in).toBeGreaterThan(4 * 365 * 24 * 3600);
  });

  it('revokes a connection through the revoke endpoint (JSON {token})', async () => {
    const token = lenient.issueRefreshToken(DEMO_REALM);
    const res = await fetch(lenient.revokeUrl, {
      method: 'POST',
      headers: {
        authorization: basic(lenient.clientId, lenient.clientSecret),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ token }),
    });
    expect(res.status).toBe(200);
    expect(
      (await tokenRequest(lenient, { grant_type: 'refresh_token', refresh_token: token })).json.error,
    ).toBe('invalid_grant');
  });
});

describe('QuickBooks stand-in: authorization-code flow', () => {
  let qbo: QuickBooksStandIn;
  beforeAll(async () => {
    qbo = await startQuickBooksStandIn();
  });
  afterAll(() => qbo.close());

  async function authorize(redirectUri: string): Promise<URL> {
    const u = new URL(qbo.authorizeUrl);
    u.searchParams.set('client_id', qbo.clientId);
    u.searchParams.set('redirect_uri', redirectUri);
    u.searchParams.set('response_type', 'code');
    u.searchParams.set('scope', 'com.intuit.quickbooks.accounting');
    u.searchParams.set('state', 's-123');
    const res = await fetch(u, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location') ?? '');
  }

  it('redirects with code, state and realmId; the code works once, with the same redirect_uri', async () => {
    // Prepare
    const redirect = 'http://127.0.0.1:3000/qbo/callback';
    const back = await authorize(redirect);
    const code = back.searchParams.get('code') ?? '';

    // Act
    const ok = await tokenRequest(qbo, { grant_type: 'authorization_code', code, redirect_uri: redirect });
    const reused = await tokenRequest(qbo, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirect,
    });
    const other = (await authorize(redirect)).searchParams.get('code') ?? '';
    const mismatch = await tokenRequest(qbo, {
      grant_type: 'authorization_code',
      code: other,
      redirect_uri: 'http://127.0.0.1:3000/elsewhere',
    });

    // Assess
    expect(`${back.origin}${back.pathname}`).toBe(redirect);
    expect(back.searchParams.get('state')).toBe('s-123');
    expect(back.searchParams.get('realmId')).toBe(DEMO_REALM);
    expect(ok.status).toBe(200);
    const api = makeApi(qbo, DEMO_REALM, ok.json.access_token);
    expect((await api.get('/preferences')).status).toBe(200);
    expect(reused.json.error).toBe('invalid_grant');
    expect(mismatch.json.error).toBe('invalid_grant');
  });

  it('refuses an unknown client_id', async () => {
    const res = await fetch(
      `${qbo.authorizeUrl}?client_id=other&redirect_uri=http://x/cb&response_type=code`,
      {
        redirect: 'manual',
      },
    );
    expect(res.status).toBe(400);
  });
});

describe('QuickBooks stand-in: bearer authentication on the Accounting API', () => {
  let clock = Date.parse('2025-03-01T12:00:00Z');
  let qbo: QuickBooksStandIn;
  beforeAll(async () => {
    qbo = await startQuickBooksStandIn({
      now: () => clock,
      accessTokenTtlSeconds: 3600,
      companies: [demoCompanySeed(), demoCompanySeed('4620816365')],
    });
  });
  afterAll(() => qbo.close());

  async function accessToken(realmId: string): Promise<string> {
    const res = await tokenRequest(qbo, {
      grant_type: 'refresh_token',
      refresh_token: qbo.issueRefreshToken(realmId),
    });
    return res.json.access_token;
  }

  // Real 401s and 403s use the lower-case envelope with null fields (python-quickbooks#250 and #118 for 3200,
  // node-quickbooks#154 and oauth-jsclient#2 for 3100): the stand-in's default `real` envelope answers so.
  function expect3200(res: {
    status: number;
    json: { fault: { type: string; error: Array<{ code: string }> } };
  }) {
    expect(res.status).toBe(401);
    expect(res.json.fault.type).toBe('AUTHENTICATION');
    expect(res.json.fault.error[0]).toEqual(
      expect.objectContaining({
        code: '3200',
        message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401',
        element: null,
      }),
    );
  }

  it('accepts a fresh token and carries intuit_tid on every response', async () => {
    const res = await makeApi(qbo, DEMO_REALM, await accessToken(DEMO_REALM)).get('/preferences');
    expect(res.status).toBe(200);
    expect(res.headers.get('intuit_tid')).toMatch(/\S+/);
  });

  it('answers 3200 for a missing, unknown, expired or other-realm token', async () => {
    // Prepare
    const token = await accessToken(DEMO_REALM);
    const otherRealm = await accessToken('4620816365');

    // Act
    const missing = await makeApi(qbo, DEMO_REALM, undefined).get('/preferences');
    const unknown = await makeApi(qbo, DEMO_REALM, 'not-a-token').get('/preferences');
    const crossed = await makeApi(qbo, DEMO_REALM, otherRealm).get('/preferences');
    const beforeExpiry = await makeApi(qbo, DEMO_REALM, token).get('/preferences');
    clock += 3601 * 1000;
    const expired = await makeApi(qbo, DEMO_REALM, token).get('/preferences');

    // Assess
    expect3200(missing);
    expect3200(unknown);
    expect3200(crossed);
    expect(beforeExpiry.status).toBe(200);
    expect3200(expired);
    expect(expired.headers.get('intuit_tid')).toMatch(/\S+/);
  });

  it('answers 403 for a realm that does not exist', async () => {
    const res = await makeApi(qbo, '123', await accessToken(DEMO_REALM)).get('/preferences');
    expect(res.status).toBe(403);
    expect(res.json.fault.error[0]).toEqual(
      expect.objectContaining({
        code: '3100',
        message: 'message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403',
        element: null,
      }),
    );
  });

  it('makes every token of a realm invalid with revokeAll', async () => {
    const token = await accessToken('4620816365');
    qbo.revokeAll('4620816365');
    expect3200(await makeApi(qbo, '4620816365', token).get('/preferences'));
  });
});

describe('QuickBooks stand-in: intuit-oauth 4.2.5 against the token endpoint', () => {
  const saved = {
    tokenEndpoint: OAuthClient.tokenEndpoint,
    revokeEndpoint: OAuthClient.revokeEndpoint,
    retry: { ...OAuthClient.retryConfig },
  };
  let qbo: QuickBooksStandIn;
  beforeAll(async () => {
    qbo = await startQuickBooksStandIn({ rotation: 'strict' });
    OAuthClient.tokenEndpoint = qbo.tokenUrl;
    OAuthClient.revokeEndpoint = qbo.revokeUrl;
    OAuthClient.retryConfig = { ...OAuthClient.retryConfig, maxRetries: 0, retryDelay: 1 };
  });
  afterAll(async () => {
    OAuthClient.tokenEndpoint = saved.tokenEndpoint;
    OAuthClient.revokeEndpoint = saved.revokeEndpoint;
    OAuthClient.retryConfig = saved.retry;
    await qbo.close();
  });

  it('refreshes with refreshUsingToken and surfaces invalid_grant for a spent token', async () => {
    const client = new OAuthClient({
      clientId: qbo.clientId,
      clientSecret: qbo.clientSecret,
      environment: 'sandbox',
      redirectUri: 'http://127.0.0.1/cb',
    });
    const first = qbo.issueRefreshToken(DEMO_REALM);

    const response = await client.refreshUsingToken(first);
    const rotated = client.getToken().refresh_token;
    const failure = await client.refreshUsingToken(first).then(
      () => undefined,
      (e: { error?: string }) => e,
    );

    expect(response.getJson()).toEqual(expect.objectContaining({ token_type: 'bearer', expires_in: 3600 }));
    expect(rotated).not.toBe(first);
    expect(failure?.error).toBe('invalid_grant');
  });
});
