/**
 * A Cognito user pool stand-in for the support console's tests: its hosted UI's sign-in, its OAuth endpoints and
 * its JWKS on a loopback port, issuing RS256-signed ID tokens with the claims Cognito puts in them.
 *
 * What each part claims about the real service, and where that comes from (Amazon Cognito Developer Guide):
 * - "Authorize endpoint": `GET /oauth2/authorize?response_type=code&client_id&redirect_uri&state&scope
 *   &code_challenge&code_challenge_method=S256`; the redirect URI must be one of the app client's callback URLs;
 *   the user signs in on the hosted UI and is redirected to `redirect_uri?code=…&state=…`.
 * - "Token endpoint": `POST /oauth2/token`, `application/x-www-form-urlencoded`, `grant_type=authorization_code`,
 *   `client_id`, `code`, `redirect_uri` (the same as in the authorize request), `code_verifier` (PKCE); answers
 *   200 `{"access_token","id_token","refresh_token","token_type":"Bearer","expires_in":3600}`, or 400
 *   `{"error":"invalid_grant"}` for a used, expired or mismatched code (codes are single-use).
 * - "Logout endpoint": `GET /logout?client_id&logout_uri`, logout_uri one of the client's sign-out URLs → 302.
 * - "Understanding the identity (ID) token": claims `sub`, `cognito:groups`, `email_verified`, `iss`
 *   (`https://cognito-idp.<region>.amazonaws.com/<userPoolId>`), `cognito:username`, `aud` (the app client id),
 *   `token_use: "id"`, `auth_time`, `exp`, `iat`, `jti`, `origin_jti`, `email`; header `kid` and `alg: RS256`.
 * - "Verifying a JSON Web Token": the pool's keys at `<iss>/.well-known/jwks.json` (served here at
 *   `/<userPoolId>/.well-known/jwks.json`; the console reads it through `CONSOLE_JWKS_URL`).
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CognitoUser {
  username: string;
  password: string;
  email: string;
  groups: string[];
}

export interface CognitoStandInOptions {
  region?: string;
  /** Default `us-east-1_StandIn01`. */
  userPoolId?: string;
  /** Default a random 26-character id. */
  clientId?: string;
  users: CognitoUser[];
  /** The app client's callback URLs; more can be added once the console's port is known. */
  callbackUrls?: string[];
  logoutUrls?: string[];
  /** ID token lifetime; default 3600 s (Cognito's default). */
  tokenSeconds?: number;
}

export interface CognitoStandIn {
  readonly url: string;
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly callbackUrls: string[];
  readonly logoutUrls: string[];
  /** An ID token for a user of the pool, as the token endpoint would issue it; `claims` override any claim. */
  idToken(username: string, claims?: Record<string, unknown>): string;
  /** Signs any payload with the pool's key (or a key the pool does not publish, with `foreignKey`). */
  sign(payload: Record<string, unknown>, opts?: { foreignKey?: boolean }): string;
  /** Codes issued and not yet exchanged. */
  pendingCodes(): number;
  close(): Promise<void>;
}

interface PendingCode {
  username: string;
  redirectUri: string;
  challenge: string;
  expiresAt: number;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const head = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${head}.${b64url(sign('RSA-SHA256', Buffer.from(head), key))}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

export async function startCognitoStandIn(opts: CognitoStandInOptions): Promise<CognitoStandIn> {
  const region = opts.region ?? 'us-east-1';
  const userPoolId = opts.userPoolId ?? `${region}_StandIn01`;
  const clientId = opts.clientId ?? randomBytes(13).toString('hex');
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  const tokenSeconds = opts.tokenSeconds ?? 3600;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(16).toString('base64');
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const callbackUrls = [...(opts.callbackUrls ?? [])];
  const logoutUrls = [...(opts.logoutUrls ?? [])];
  const codes = new Map<string, PendingCode>();
  const users = new Map(opts.users.map((u) => [u.username, u]));

  const claimsOf = (user: CognitoUser): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000);
    return {
      sub: randomUUID(),
      ...(user.groups.length > 0 ? { 'cognito:groups': user.groups } : {}),
      email_verified: true,
      iss: issuer,
      'cognito:username': user.username,
      origin_jti: randomUUID(),
      aud: clientId,
      event_id: randomUUID(),
      token_use: 'id',
      auth_time: now,
      exp: now + tokenSeconds,
      iat: now,
      jti: randomUUID(),
      email: user.email,
    };
  };
  const signPayload = (payload: Record<string, unknown>, foreignKey = false) =>
    signJwt({ kid, alg: 'RS256' }, payload, foreignKey ? foreign.privateKey : privateKey);
  const idToken = (username: string, claims: Record<string, unknown> = {}) => {
    const user = users.get(username);
    if (!user) throw new Error(`no user ${username} in the stand-in pool`);
    return signPayload({ ...claimsOf(user), ...claims });
  };

  const send = (res: ServerResponse, status: number, body: string, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const loginPage = (params: URLSearchParams, error?: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in (user pool stand-in)</h1>${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login">
${[...params].map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('\n')}
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form></body></html>`;

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method === 'GET' && url.pathname === '/oauth2/authorize') {
        const p = url.searchParams;
        if (p.get('client_id') !== clientId) return send(res, 400, '{"error":"invalid_client"}');
        if (!callbackUrls.includes(p.get('redirect_uri') ?? '')) {
          return send(res, 400, '{"error":"redirect_mismatch"}');
        }
        if (p.get('response_type') !== 'code') return send(res, 400, '{"error":"unsupported_response_type"}');
        if (p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge')) {
          return send(res, 400, '{"error":"invalid_request","error_description":"PKCE S256 expected"}');
        }
        return send(res, 200, loginPage(p), 'text/html; charset=utf-8');
      }
      if (req.method === 'POST' && url.pathname === '/login') {
        const form = await readForm(req);
        const user = users.get(form.get('username') ?? '');
        const params = new URLSearchParams([...form].filter(([k]) => k !== 'username' && k !== 'password'));
        if (!user || user.password !== form.get('password')) {
          return send(
            res,
            200,
            loginPage(params, 'Incorrect username or password.'),
            'text/html; charset=utf-8',
          );
        }
        const code = randomUUID();
        const redirectUri = params.get('redirect_uri') ?? '';
        codes.set(code, {
          username: user.username,
          redirectUri,
          challenge: params.get('code_challenge') ?? '',
          expiresAt: Date.now() + 5 * 60_000,
        });
        const target = new URL(redirectUri);
        target.searchParams.set('code', code);
        if (params.get('state')) target.searchParams.set('state', params.get('state') ?? '');
        res.writeHead(302, { location: target.toString() });
        return res.end();
      }
      if (req.method === 'POST' && url.pathname === '/oauth2/token') {
        const form = await readForm(req);
        if (form.get('grant_type') !== 'authorization_code') {
          return send(res, 400, '{"error":"unsupported_grant_type"}');
        }
        if (form.get('client_id') !== clientId) return send(res, 400, '{"error":"invalid_client"}');
        const code = form.get('code') ?? '';
        const pending = codes.get(code);
        codes.delete(code); // single use
        const verifier = form.get('code_verifier') ?? '';
        if (
          !pending ||
          pending.expiresAt < Date.now() ||
          pending.redirectUri !== form.get('redirect_uri') ||
          b64url(createHash('sha256').update(verifier).digest()) !== pending.challenge
        ) {
          return send(res, 400, '{"error":"invalid_grant"}');
        }
        const user = users.get(pending.username) as CognitoUser;
        return send(
          res,
          200,
          JSON.stringify({
            id_token: idToken(user.username),
            access_token: signPayload({
              ...claimsOf(user),
              token_use: 'access',
              client_id: clientId,
              aud: undefined,
            }),
            refresh_token: randomBytes(32).toString('base64url'),
            token_type: 'Bearer',
            expires_in: tokenSeconds,
          }),
        );
      }
      if (req.method === 'GET' && url.pathname === '/logout') {
        const to = url.searchParams.get('logout_uri') ?? '';
        if (url.searchParams.get('client_id') !== clientId || !logoutUrls.includes(to)) {
          return send(res, 400, '{"error":"invalid_request"}');
        }
        res.writeHead(302, { location: to });
        return res.end();
      }
      if (req.method === 'GET' && url.pathname === `/${userPoolId}/.well-known/jwks.json`) {
        return send(res, 200, JSON.stringify({ keys: [jwk] }));
      }
      send(res, 404, '{"error":"not_found"}');
    })().catch(() => send(res, 500, '{"error":"internal"}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    region,
    userPoolId,
    clientId,
    issuer,
    jwksUrl: `${url}/${userPoolId}/.well-known/jwks.json`,
    callbackUrls,
    logoutUrls,
    idToken,
    sign: (payload, o = {}) => signPayload(payload, o.foreignKey),
    pendingCodes: () => codes.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
