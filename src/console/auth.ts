/**
 * Who is using the console. Locally: the person at this machine (loopback only, no sign-in, CONTRACT §9). In AWS:
 * a Cognito user pool's hosted sign-in (authorization code grant with PKCE, a public app client: no client secret
 * to keep), the ID token kept in an HttpOnly, Secure, SameSite=Lax `__Host-` cookie and verified on every request
 * with aws-jwt-verify (signature against the pool's JWKS, issuer, audience = the app client, `token_use: id`,
 * expiry). The pool's groups give the role: `support` may act, `viewer` may only look.
 *
 * Cognito's endpoints as documented in the Amazon Cognito Developer Guide: "Authorize endpoint"
 * (`/oauth2/authorize`, `response_type=code`, `code_challenge_method=S256`), "Token endpoint" (`/oauth2/token`,
 * form-encoded `grant_type=authorization_code`, `code`, `redirect_uri`, `client_id`, `code_verifier`; answers
 * `{id_token, access_token, refresh_token, expires_in, token_type}`), "Logout endpoint" (`/logout?client_id&logout_uri`),
 * and "Understanding the identity (ID) token" (`cognito:groups`, `cognito:username`, `email`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';

export type Role = 'support' | 'viewer';

export interface LocalAuth {
  kind: 'local';
  /** Recorded on the ledger as the person behind the console's requests (the operating-system user). */
  user: string;
}

export interface CognitoAuth {
  kind: 'cognito';
  userPoolId: string;
  clientId: string;
  /** The hosted UI's origin: `https://<prefix>.auth.<region>.amazoncognito.com`. */
  authDomain: string;
  /** The console's public URL, origin and base path (`https://<api>.execute-api.<region>.amazonaws.com/v1`). */
  consoleUrl: string;
  /**
   * Where the pool's JWKS is read; default the pool's own (`https://cognito-idp.<region>.amazonaws.com/<pool>/
   * .well-known/jwks.json`). Set only for a stand-in pool.
   */
  jwksUrl?: string;
}

export type ConsoleAuth = LocalAuth | CognitoAuth;

export interface Session {
  user: string;
  role: Role | undefined;
  /** The cookie's value (the ID token): the CSRF token is derived from it. */
  token: string;
}

export const SESSION_COOKIE = '__Host-qbo-console';
const LOGIN_COOKIE = '__Host-qbo-console-login';
const cookieBase = { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' } as const;

/** The console's settings for AWS from the Lambda's environment; undefined when they are absent. */
export function cognitoAuthFromEnv(env: NodeJS.ProcessEnv): CognitoAuth {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set: the stack sets it on the console function`);
    return value;
  };
  return {
    kind: 'cognito',
    userPoolId: need('CONSOLE_USER_POOL_ID'),
    clientId: need('CONSOLE_CLIENT_ID'),
    authDomain: need('CONSOLE_AUTH_DOMAIN').replace(/\/+$/, ''),
    consoleUrl: need('CONSOLE_URL').replace(/\/+$/, ''),
    ...(env.CONSOLE_JWKS_URL ? { jwksUrl: env.CONSOLE_JWKS_URL } : {}),
  };
}

const IdClaimsSchema = z.object({
  'cognito:username': z.string().optional(),
  'cognito:groups': z.array(z.string()).optional(),
  email: z.string().optional(),
  exp: z.number(),
});

/** Verifies ID tokens of the pool's app client (JWKS fetched once and cached by aws-jwt-verify). */
export class SessionVerifier {
  private readonly verifier;

  constructor(private readonly auth: CognitoAuth) {
    const { jwksUrl } = auth;
    this.verifier = CognitoJwtVerifier.create(
      { userPoolId: auth.userPoolId, clientId: auth.clientId, tokenUse: 'id' },
      // A stand-in pool serves its JWKS elsewhere (plain HTTP on loopback); the issuer, audience and signature
      // checks stay the same.
      jwksUrl === undefined
        ? undefined
        : {
            jwksCache: new SimpleJwksCache({
              fetcher: {
                fetch: async () => {
                  const res = await fetch(jwksUrl);
                  if (!res.ok) throw new Error(`the JWKS at ${jwksUrl} answered ${res.status}`);
                  return res.arrayBuffer();
                },
              },
            }),
          },
    );
  }

  /** The session of a token, or undefined when it is missing, expired, forged or for another pool or client. */
  async verify(token: string | undefined): Promise<(Session & { expiresAt: number }) | undefined> {
    if (!token) return undefined;
    try {
      const claims = IdClaimsSchema.parse(await this.verifier.verify(token));
      const groups = claims['cognito:groups'] ?? [];
      const role: Role | undefined = groups.includes('support')
        ? 'support'
        : groups.includes('viewer')
          ? 'viewer'
          : undefined;
      return {
        user: claims.email ?? claims['cognito:username'] ?? 'unknown',
        role,
        token,
        expiresAt: claims.exp,
      };
    } catch {
      return undefined;
    }
  }

  get settings(): CognitoAuth {
    return this.auth;
  }
}

const b64url = (buf: Buffer) => buf.toString('base64url');

function safeNext(next: string | undefined): string {
  return next && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) ? next : '/';
}

/** Starts the hosted sign-in: state and PKCE verifier in a short-lived cookie, then off to Cognito. */
export function startSignIn(c: Context, auth: CognitoAuth, next: string | undefined): Response {
  const state = b64url(randomBytes(24));
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  setCookie(c, LOGIN_COOKIE, `${state}.${verifier}.${Buffer.from(safeNext(next)).toString('base64url')}`, {
    ...cookieBase,
    maxAge: 600,
  });
  const url = new URL(`${auth.authDomain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: `${auth.consoleUrl}/auth/callback`,
    scope: 'openid email profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  return c.redirect(url.toString(), 302);
}

const TokenAnswerSchema = z.object({ id_token: z.string().min(1), expires_in: z.number().optional() });

export type SignInOutcome =
  | { ok: true; next: string }
  | { ok: false; status: 400 | 401 | 502; message: string };

/** The hosted sign-in's redirect back: checks the state, swaps the code for tokens, verifies, sets the session. */
export async function completeSignIn(c: Context, verifier: SessionVerifier): Promise<SignInOutcome> {
  const auth = verifier.settings;
  const error = c.req.query('error');
  if (error) {
    return {
      ok: false,
      status: 401,
      message: `Cognito refused the sign-in: ${c.req.query('error_description') ?? error}`,
    };
  }
  const code = c.req.query('code');
  const state = c.req.query('state');
  const [expected, codeVerifier, nextEncoded] = (getCookie(c, LOGIN_COOKIE) ?? '').split('.');
  deleteCookie(c, LOGIN_COOKIE, cookieBase);
  if (!code || !state || !expected || !codeVerifier || state !== expected) {
    return {
      ok: false,
      status: 400,
      message:
        'This sign-in link is stale or was not started here (the state does not match): sign in again.',
    };
  }
  let answer: Response;
  try {
    answer = await fetch(`${auth.authDomain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: auth.clientId,
        code,
        redirect_uri: `${auth.consoleUrl}/auth/callback`,
        code_verifier: codeVerifier,
      }).toString(),
    });
  } catch {
    return {
      ok: false,
      status: 502,
      message: 'Cognito could not be reached to finish the sign-in: try again.',
    };
  }
  const parsed = TokenAnswerSchema.safeParse(
    answer.ok ? await answer.json().catch(() => undefined) : undefined,
  );
  if (!parsed.success) {
    return {
      ok: false,
      status: 401,
      message: `Cognito did not accept the sign-in (HTTP ${answer.status}): sign in again.`,
    };
  }
  const session = await verifier.verify(parsed.data.id_token);
  if (session === undefined) {
    return {
      ok: false,
      status: 401,
      message: 'The token Cognito returned could not be verified: sign in again.',
    };
  }
  setCookie(c, SESSION_COOKIE, session.token, {
    ...cookieBase,
    maxAge: Math.max(60, session.expiresAt - Math.floor(Date.now() / 1000)),
  });
  const next = nextEncoded ? Buffer.from(nextEncoded, 'base64url').toString('utf8') : '/';
  return { ok: true, next: safeNext(next) };
}

/** Ends the session here and at Cognito's hosted UI (which then returns to the console's start page). */
export function signOut(c: Context, auth: CognitoAuth): Response {
  deleteCookie(c, SESSION_COOKIE, cookieBase);
  const url = new URL(`${auth.authDomain}/logout`);
  url.search = new URLSearchParams({
    client_id: auth.clientId,
    logout_uri: `${auth.consoleUrl}/`,
  }).toString();
  return c.redirect(url.toString(), 302);
}

export function sessionCookie(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** The CSRF token of a session: a hash of its HttpOnly cookie, which a page of another site cannot read. */
export function csrfToken(secret: string): string {
  return createHash('sha256').update(`qbo-sync-console-csrf\u0000${secret}`).digest('base64url');
}
