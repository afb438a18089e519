/**
 * Intuit OAuth 2.0 as intuit-oauth 4.2.5 uses it (external-apis.md §9): the token endpoint (refresh_token and
 * authorization_code grants, urlencoded body, Basic client auth), the revoke endpoint (JSON `{token}`) and an
 * auto-consenting authorize endpoint. Refresh tokens rotate on every refresh; the previous one stays valid
 * 24 h (`lenient`) or dies at once (`strict`).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Refresh tokens roll: each one lives ~101 days from its issue (Intuit's `x_refresh_token_expires_in`). */
export const REFRESH_TOKEN_TTL_S = 8_726_400;
/** Since 2025-11 every refresh chain has a hard limit of 5 years from the original connect. */
export const REFRESH_TOKEN_HARD_TTL_S = 5 * 365 * 24 * 3600;
/** Previous refresh tokens stay usable this long after a rotation in lenient mode. */
export const ROTATION_GRACE_MS = 24 * 3600 * 1000;
const AUTH_CODE_TTL_MS = 10 * 60 * 1000;

interface AccessRecord {
  realmId: string;
  expiresAt: number;
}
interface RefreshRecord {
  realmId: string;
  expiresAt: number;
  hardExpiresAt: number;
  /** Set once the token has been used: it stays valid until then (lenient rotation). */
  graceUntil?: number;
}
interface CodeRecord {
  realmId: string;
  redirectUri: string;
  expiresAt: number;
  hardExpiresAt?: number;
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
  x_refresh_token_expires_in: number;
  x_refresh_token_hard_expires_in?: number;
}

export interface OAuthReply {
  status: number;
  body: string;
  contentType: string;
  location?: string;
}

export interface TokenStoreOptions {
  clientId: string;
  clientSecret: string;
  accessTokenTtlSeconds: number;
  rotation: 'lenient' | 'strict';
  now: () => number;
}

const persistedSchema = z.object({
  access: z.array(z.tuple([z.string(), z.object({ realmId: z.string(), expiresAt: z.number() })])),
  refresh: z.array(
    z.tuple([
      z.string(),
      z.object({
        realmId: z.string(),
        expiresAt: z.number(),
        hardExpiresAt: z.number(),
        graceUntil: z.number().optional(),
      }),
    ]),
  ),
});
export type PersistedTokens = z.infer<typeof persistedSchema>;
export const persistedTokensSchema = persistedSchema;

export type AuthCheck = { ok: true; realmId: string } | { ok: false; reason: string };

function json(status: number, value: unknown): OAuthReply {
  return { status, body: JSON.stringify(value), contentType: 'application/json;charset=UTF-8' };
}
const oauthError = (status: number, error: string, description: string): OAuthReply =>
  json(status, { error, error_description: description });

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class TokenStore {
  private readonly access = new Map<string, AccessRecord>();
  private readonly refresh = new Map<string, RefreshRecord>();
  private readonly codes = new Map<string, CodeRecord>();

  constructor(private readonly opts: TokenStoreOptions) {}

  /** A new refresh token for the realm, as after the user connected the app. */
  issueRefreshToken(realmId: string, hardExpiresAt?: number): string {
    const now = this.opts.now();
    const token = `AB11${randomBytes(24).toString('hex')}`;
    this.refresh.set(token, {
      realmId,
      expiresAt: now + REFRESH_TOKEN_TTL_S * 1000,
      hardExpiresAt: hardExpiresAt ?? now + REFRESH_TOKEN_HARD_TTL_S * 1000,
    });
    return token;
  }

  private issueAccessToken(realmId: string): string {
    const token = `qbo-at.${randomBytes(24).toString('base64url')}`;
    this.access.set(token, { realmId, expiresAt: this.opts.now() + this.opts.accessTokenTtlSeconds * 1000 });
    return token;
  }

  revokeAll(realmId: string): void {
    for (const [k, v] of this.access) if (v.realmId === realmId) this.access.delete(k);
    for (const [k, v] of this.refresh) if (v.realmId === realmId) this.refresh.delete(k);
    for (const [k, v] of this.codes) if (v.realmId === realmId) this.codes.delete(k);
  }

  /** Checks a `Authorization: Bearer …` header value. */
  authenticate(header: string | undefined): AuthCheck {
    if (!header)
      return {
        ok: false,
        reason: 'Authorization header is missing: send "Authorization: Bearer <access token>".',
      };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m?.[1])
      return {
        ok: false,
        reason: 'Malformed bearer token: the Authorization header must be "Bearer <token>".',
      };
    const record = this.access.get(m[1]);
    if (!record) return { ok: false, reason: 'Invalid or revoked access token: refresh it or reconnect.' };
    if (this.opts.now() >= record.expiresAt) {
      return {
        ok: false,
        reason: 'Token expired: the access token has expired; refresh it with the refresh token.',
      };
    }
    return { ok: true, realmId: record.realmId };
  }

  private clientAuthenticated(authorization: string | undefined): boolean {
    const m = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m?.[1]) return false;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    return (
      sameSecret(decoded.slice(0, colon), this.opts.clientId) &&
      sameSecret(decoded.slice(colon + 1), this.opts.clientSecret)
    );
  }

  private grant(realmId: string, hardExpiresAt: number, includeHard: boolean): TokenResponse {
    const now = this.opts.now();
    const refreshToken = this.issueRefreshToken(realmId, hardExpiresAt);
    const record = this.refresh.get(refreshToken);
    const expiresIn = record ? Math.max(0, Math.floor((record.expiresAt - now) / 1000)) : REFRESH_TOKEN_TTL_S;
    return {
      access_token: this.issueAccessToken(realmId),
      refresh_token: refreshToken,
      token_type: 'bearer',
      expires_in: this.opts.accessTokenTtlSeconds,
      x_refresh_token_expires_in: Math.min(expiresIn, Math.max(0, Math.floor((hardExpiresAt - now) / 1000))),
      ...(includeHard
        ? { x_refresh_token_hard_expires_in: Math.max(0, Math.floor((hardExpiresAt - now) / 1000)) }
        : {}),
    };
  }

  /** POST /oauth2/v1/tokens/bearer */
  tokenEndpoint(headers: Record<string, string | undefined>, body: string): OAuthReply {
    if (!this.clientAuthenticated(headers.authorization)) {
      return oauthError(
        401,
        'invalid_client',
        'Client authentication failed: send "Authorization: Basic base64(client_id:client_secret)" with this app\'s credentials.',
      );
    }
    if (!(headers['content-type'] ?? '').toLowerCase().includes('application/x-www-form-urlencoded')) {
      return oauthError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
    }
    const form = new URLSearchParams(body);
    const grantType = form.get('grant_type');
    const includeHard = (headers['x-include-refresh-token-hard-expires-in'] ?? '').toLowerCase() === 'true';
    const now = this.opts.now();
    if (grantType === 'refresh_token') {
      const token = form.get('refresh_token');
      if (!token) return oauthError(400, 'invalid_request', 'refresh_token is missing.');
      const record = this.refresh.get(token);
      if (!record)
        return oauthError(400, 'invalid_grant', 'Incorrect or invalid refresh token (unknown or revoked).');
      if (now >= record.expiresAt || now >= record.hardExpiresAt) {
        return oauthError(400, 'invalid_grant', 'The refresh token has expired; the user must reconnect.');
      }
      if (record.graceUntil !== undefined && now >= record.graceUntil) {
        return oauthError(
          400,
          'invalid_grant',
          'The refresh token was superseded: always use the refresh_token of the most recent token response.',
        );
      }
      if (this.opts.rotation === 'strict') this.refresh.delete(token);
      else
        record.graceUntil = Math.min(record.graceUntil ?? Number.POSITIVE_INFINITY, now + ROTATION_GRACE_MS);
      return json(200, this.grant(record.realmId, record.hardExpiresAt, includeHard));
    }
    if (grantType === 'authorization_code') {
      const code = form.get('code');
      if (!code) return oauthError(400, 'invalid_request', 'code is missing.');
      const record = this.codes.get(code);
      this.codes.delete(code);
      if (!record || now >= record.expiresAt) {
        return oauthError(
          400,
          'invalid_grant',
          'The authorization code is invalid, expired or already used.',
        );
      }
      if (form.get('redirect_uri') !== record.redirectUri) {
        return oauthError(
          400,
          'invalid_grant',
          'redirect_uri does not match the one of the authorization request.',
        );
      }
      return json(
        200,
        this.grant(
          record.realmId,
          record.hardExpiresAt ?? now + REFRESH_TOKEN_HARD_TTL_S * 1000,
          includeHard,
        ),
      );
    }
    return oauthError(
      400,
      'unsupported_grant_type',
      `grant_type ${JSON.stringify(grantType)} is not supported: use refresh_token or authorization_code.`,
    );
  }

  /** POST /oauth2/v1/tokens/revoke with JSON {token}: the connection of that token's realm ends. */
  revokeEndpoint(headers: Record<string, string | undefined>, body: string): OAuthReply {
    if (!this.clientAuthenticated(headers.authorization)) {
      return oauthError(401, 'invalid_client', 'Client authentication failed.');
    }
    let token: string | undefined;
    try {
      const parsed = z.object({ token: z.string().min(1) }).safeParse(JSON.parse(body));
      token = parsed.success ? parsed.data.token : undefined;
    } catch {
      token = undefined;
    }
    if (!token)
      return oauthError(
        400,
        'invalid_request',
        'The body must be JSON {"token":"<refresh or access token>"}.',
      );
    const realmId = this.refresh.get(token)?.realmId ?? this.access.get(token)?.realmId;
    if (realmId !== undefined) this.revokeAll(realmId);
    return { status: 200, body: '', contentType: 'text/plain' };
  }

  /** GET /connect/oauth2: consents at once and redirects back with a code for `realmId`. */
  authorize(query: URLSearchParams, realmIds: readonly string[]): OAuthReply {
    const clientId = query.get('client_id');
    const redirectUri = query.get('redirect_uri');
    const responseType = query.get('response_type') ?? 'code';
    if (clientId !== this.opts.clientId) {
      return oauthError(400, 'invalid_client', `Unknown client_id ${JSON.stringify(clientId)}.`);
    }
    if (!redirectUri) return oauthError(400, 'invalid_request', 'redirect_uri is missing.');
    let target: URL;
    try {
      target = new URL(redirectUri);
    } catch {
      return oauthError(
        400,
        'invalid_request',
        `redirect_uri ${JSON.stringify(redirectUri)} is not an absolute URL.`,
      );
    }
    if (responseType !== 'code')
      return oauthError(400, 'unsupported_response_type', 'response_type must be code.');
    const wanted = query.get('realmId');
    const realmId = wanted && realmIds.includes(wanted) ? wanted : realmIds[0];
    if (realmId === undefined)
      return oauthError(400, 'invalid_request', 'The stand-in has no company to connect.');
    const code = `AB11${randomBytes(16).toString('hex')}`;
    this.codes.set(code, { realmId, redirectUri, expiresAt: this.opts.now() + AUTH_CODE_TTL_MS });
    target.searchParams.set('code', code);
    const state = query.get('state');
    if (state !== null) target.searchParams.set('state', state);
    target.searchParams.set('realmId', realmId);
    return { status: 302, body: '', contentType: 'text/plain', location: target.toString() };
  }

  toJSON(): PersistedTokens {
    return { access: [...this.access.entries()], refresh: [...this.refresh.entries()] };
  }

  load(data: PersistedTokens): void {
    for (const [k, v] of data.access) this.access.set(k, v);
    for (const [k, v] of data.refresh) this.refresh.set(k, v);
  }
}
