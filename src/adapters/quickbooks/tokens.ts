/**
 * QuickBooks OAuth tokens: a valid access token for each realm, refreshed through intuit-oauth when it expires.
 *
 * Refresh tokens rotate: the token endpoint may answer with a new refresh token, and the previous one stops
 * working (after 24 h at Intuit, at once in the stand-in's strict mode). So a refresh
 *   1. runs under the realm's cross-process lock (`TokenStore.withRefreshLock`),
 *   2. re-reads the store inside the lock (another worker may have refreshed already: then its tokens are used),
 *   3. calls the token endpoint with the stored refresh token, and
 *   4. stores the rotated tokens BEFORE the new access token is used for anything.
 * Within one process, concurrent refreshes for a realm share one call.
 */
import OAuthClient from 'intuit-oauth';
import { z } from 'zod';
import { PermanentError } from '../../app/errors.js';
import type { QboTokens, TokenStore } from '../../app/ports.js';
import { QboReconnectRequiredError, QboTransientError } from './faults.js';

export const QBO_ACCOUNTING_SCOPE = 'com.intuit.quickbooks.accounting';
export const DEFAULT_TOKEN_URL = 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer';
export const DEFAULT_AUTHORIZE_URL = 'https://appcenter.intuit.com/connect/oauth2';

/** The narrow logger the QuickBooks adapter writes to (Powertools' Logger fits). Never given secrets. */
export interface QboLogger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface QboTokenManagerOptions {
  store: TokenStore;
  clientId: string;
  clientSecret: string;
  /** Token endpoint; default `QBO_OAUTH_TOKEN_URL`, else Intuit's. An origin alone gets `/oauth2/v1/tokens/bearer`. */
  tokenUrl?: string;
  /** Authorize endpoint; default `QBO_AUTHORIZE_URL`, else Intuit's. */
  authorizeUrl?: string;
  /** Refresh when less than this is left on the access token (default 60 s). */
  refreshMarginMs?: number;
  /** Attempts at the token endpoint on transient failures (network, 429, 5xx), default 3. */
  maxAttempts?: number;
  /** Base of the exponential backoff between those attempts, default 500 ms. */
  baseDelayMs?: number;
  now?: () => number;
  logger?: QboLogger;
}

const TokenResponseSchema = z
  .object({
    access_token: z.string().min(1),
    refresh_token: z.string().min(1),
    expires_in: z.coerce.number().positive().default(3600),
    x_refresh_token_expires_in: z.coerce.number().positive().optional(),
    x_refresh_token_hard_expires_in: z.coerce.number().positive().optional(),
  })
  .loose();

/** What intuit-oauth throws (`createError`): fields read defensively. */
const OAuthFailureSchema = z
  .object({
    error: z.string().optional(),
    error_description: z.string().optional(),
    intuit_tid: z.string().optional(),
    code: z.string().optional(),
    originalMessage: z.string().optional(),
    message: z.string().optional(),
    authResponse: z
      .object({ response: z.object({ status: z.number().optional() }).loose().optional() })
      .loose()
      .optional()
      .catch(undefined),
    response: z.object({ status: z.number().optional() }).loose().optional().catch(undefined),
  })
  .loose();

function normaliseTokenUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.pathname === '/' || u.pathname === '') return `${u.origin}/oauth2/v1/tokens/bearer`;
    return url;
  } catch {
    throw new PermanentError(
      `QBO_OAUTH_TOKEN_URL "${url}" is not a URL`,
      'set QBO_OAUTH_TOKEN_URL to the token endpoint, e.g. https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer, or unset it',
    );
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** intuit-oauth's statics are process-wide: the adapter retries itself, so the library must not. */
function disableLibraryRetries(): void {
  if (OAuthClient.retryConfig.maxRetries !== 0) {
    OAuthClient.retryConfig = { ...OAuthClient.retryConfig, maxRetries: 0 };
  }
}

export class QboTokenManager {
  readonly tokenUrl: string;
  readonly authorizeEndpoint: string;
  private readonly store: TokenStore;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly marginMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly now: () => number;
  private readonly logger: QboLogger | undefined;
  private readonly cache = new Map<string, QboTokens>();
  private readonly inflight = new Map<string, Promise<QboTokens>>();
  /** Rotated tokens the store refused to take: saved before anything else on the next attempt. */
  private readonly unsaved = new Map<string, QboTokens>();
  private readonly refreshCounts = new Map<string, number>();

  constructor(opts: QboTokenManagerOptions) {
    this.store = opts.store;
    this.clientId = opts.clientId;
    this.clientSecret = opts.clientSecret;
    this.tokenUrl = normaliseTokenUrl(opts.tokenUrl ?? process.env.QBO_OAUTH_TOKEN_URL ?? DEFAULT_TOKEN_URL);
    this.authorizeEndpoint = opts.authorizeUrl ?? process.env.QBO_AUTHORIZE_URL ?? DEFAULT_AUTHORIZE_URL;
    this.marginMs = opts.refreshMarginMs ?? 60_000;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger;
  }

  /** Token-endpoint refresh calls made for the realm by this manager. */
  refreshes(realmId: string): number {
    return this.refreshCounts.get(realmId) ?? 0;
  }

  /** A usable access token for the realm, refreshed first when expired or about to expire. */
  async accessToken(realmId: string, ctx: { tenantId?: string } = {}): Promise<string> {
    const cached = this.cache.get(realmId);
    if (cached && this.isFresh(cached)) return cached.accessToken;
    const stored = await this.store.get(realmId);
    if (stored && this.isFresh(stored)) {
      this.cache.set(realmId, stored);
      return stored.accessToken;
    }
    const tokens = await this.refresh(realmId, undefined, ctx);
    return tokens.accessToken;
  }

  /**
   * QuickBooks answered 401 to `rejectedAccessToken`: refresh (unless another worker already replaced that token)
   * and return the token to retry with.
   */
  async accessTokenAfterUnauthorized(
    realmId: string,
    rejectedAccessToken: string,
    ctx: { tenantId?: string } = {},
  ): Promise<string> {
    this.cache.delete(realmId);
    const tokens = await this.refresh(realmId, rejectedAccessToken, ctx);
    return tokens.accessToken;
  }

  /**
   * Keep-alive (the daily catch-up): refreshes the realm's tokens when they were last refreshed more than
   * `olderThanMs` ago, so the rolling ~100-day refresh token never expires for a quiet company. Under the realm's
   * refresh lock, re-checked inside it (a worker may have refreshed meanwhile). `missing`: no tokens stored.
   */
  async keepAlive(
    realmId: string,
    olderThanMs: number,
    ctx: { tenantId?: string } = {},
  ): Promise<'refreshed' | 'fresh' | 'missing'> {
    const isStale = (t: QboTokens) => !(this.now() - Date.parse(t.updatedAt) <= olderThanMs);
    const stored = await this.store.get(realmId);
    if (stored === undefined) return 'missing';
    if (!isStale(stored)) return 'fresh';
    return this.store.withRefreshLock(realmId, async () => {
      await this.saveUnsaved(realmId);
      const current = await this.store.get(realmId);
      if (current === undefined) return 'missing';
      if (!isStale(current)) return 'fresh';
      await this.refreshWith(realmId, current, ctx, 'keep the QuickBooks connection alive');
      return 'refreshed';
    });
  }

  /** The URL to send a person to, to connect a company (`connect --tenant`). */
  authorizeUrl(state: string, redirectUri: string): string {
    const params = new URLSearchParams({
      client_id: this.clientId,
      response_type: 'code',
      scope: QBO_ACCOUNTING_SCOPE,
      redirect_uri: redirectUri,
      state,
    });
    return `${this.authorizeEndpoint}?${params.toString()}`;
  }

  /** Exchanges the code of the OAuth callback for tokens and stores them. */
  async exchangeAuthorizationCode(
    code: string,
    redirectUri: string,
    realmId: string,
    ctx: { tenantId?: string } = {},
  ): Promise<QboTokens> {
    const tokens = await this.exchangeCode(code, redirectUri, realmId, ctx);
    await this.storeConnected(tokens);
    return tokens;
  }

  /**
   * Exchanges the code of the OAuth callback for tokens WITHOUT storing them: the callback first asks QuickBooks
   * which company they belong to (`storeConnected` then).
   */
  async exchangeCode(
    code: string,
    redirectUri: string,
    realmId: string,
    ctx: { tenantId?: string } = {},
  ): Promise<QboTokens> {
    const client = this.oauthClient(redirectUri);
    const query = `?${new URLSearchParams({ code, realmId }).toString()}`;
    const json = await this.callTokenEndpoint(realmId, ctx, 'exchange the authorization code', () =>
      client.createToken(query),
    );
    return this.toTokens(realmId, json);
  }

  /** Stores the tokens of a newly connected company, under its refresh lock. */
  async storeConnected(tokens: QboTokens): Promise<void> {
    const realmId = tokens.realmId;
    await this.store.withRefreshLock(realmId, () => this.persist(tokens));
    this.unsaved.delete(realmId);
    this.cache.set(realmId, tokens);
  }

  private isFresh(t: QboTokens): boolean {
    return t.accessTokenExpiresAt - this.marginMs > this.now();
  }

  private refresh(
    realmId: string,
    rejected: string | undefined,
    ctx: { tenantId?: string },
  ): Promise<QboTokens> {
    const running = this.inflight.get(realmId);
    if (running) return running;
    const p = this.store
      .withRefreshLock(realmId, () => this.refreshLocked(realmId, rejected, ctx))
      .finally(() => this.inflight.delete(realmId));
    this.inflight.set(realmId, p);
    return p;
  }

  private async refreshLocked(
    realmId: string,
    rejected: string | undefined,
    ctx: { tenantId?: string },
  ): Promise<QboTokens> {
    await this.saveUnsaved(realmId);
    const current = await this.store.get(realmId);
    if (!current) {
      throw new QboReconnectRequiredError(
        realmId,
        'no_tokens',
        'no QuickBooks tokens are stored for this company',
        {
          tenantId: ctx.tenantId,
        },
      );
    }
    // Another worker may have refreshed while we waited for the lock.
    if (this.isFresh(current) && current.accessToken !== rejected) {
      this.cache.set(realmId, current);
      return current;
    }
    return this.refreshWith(realmId, current, ctx, 'refresh the access token');
  }

  /** Rotated tokens the store refused earlier are saved first (inside the lock). */
  private async saveUnsaved(realmId: string): Promise<void> {
    const pending = this.unsaved.get(realmId);
    if (pending) {
      await this.persist(pending);
      this.unsaved.delete(realmId);
    }
  }

  /** Calls the token endpoint with the stored refresh token and stores the rotated tokens (inside the lock). */
  private async refreshWith(
    realmId: string,
    current: QboTokens,
    ctx: { tenantId?: string },
    what: string,
  ): Promise<QboTokens> {
    const client = this.oauthClient('');
    const json = await this.callTokenEndpoint(realmId, ctx, what, () =>
      client.refreshUsingToken(current.refreshToken),
    );
    this.refreshCounts.set(realmId, this.refreshes(realmId) + 1);
    const fresh = this.toTokens(realmId, json, current);
    try {
      await this.persist(fresh);
    } catch (e) {
      this.unsaved.set(realmId, fresh);
      throw new QboTransientError(
        'QuickBooks tokens were refreshed but could not be stored; they will be stored on the next attempt',
        { cause: e },
      );
    }
    this.cache.set(realmId, fresh);
    this.logger?.info('QuickBooks access token refreshed', {
      realmId,
      rotated: fresh.refreshToken !== current.refreshToken,
    });
    return fresh;
  }

  /** Stores tokens, retrying a failed write a few times (losing a rotated refresh token strands the realm). */
  private async persist(tokens: QboTokens): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.store.put(tokens);
        return;
      } catch (e) {
        lastError = e;
        await sleep(50 * 2 ** attempt);
      }
    }
    throw lastError;
  }

  private toTokens(realmId: string, raw: unknown, previous?: QboTokens): QboTokens {
    const parsed = TokenResponseSchema.safeParse(raw);
    if (!parsed.success) {
      throw new QboTransientError(
        `the QuickBooks token endpoint answered without the expected fields (${parsed.error.issues
          .map((i) => i.path.join('.'))
          .join(', ')})`,
      );
    }
    const now = this.now();
    const t = parsed.data;
    const refreshTokenExpiresAt =
      t.x_refresh_token_expires_in !== undefined
        ? now + t.x_refresh_token_expires_in * 1000
        : previous?.refreshTokenExpiresAt;
    return {
      realmId,
      accessToken: t.access_token,
      refreshToken: t.refresh_token,
      accessTokenExpiresAt: now + t.expires_in * 1000,
      ...(refreshTokenExpiresAt !== undefined ? { refreshTokenExpiresAt } : {}),
      updatedAt: new Date(now).toISOString(),
    };
  }

  private oauthClient(redirectUri: string): OAuthClient {
    return new OAuthClient({
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      environment: 'production',
      redirectUri,
    });
  }

  /**
   * Calls the token endpoint through intuit-oauth with our endpoint (the library reads the process-wide static
   * synchronously when it builds the request, so it is set just around that call), retrying transient failures.
   */
  private async callTokenEndpoint(
    realmId: string,
    ctx: { tenantId?: string },
    what: string,
    call: () => Promise<{ json: unknown }>,
  ): Promise<unknown> {
    disableLibraryRetries();
    for (let attempt = 1; ; attempt++) {
      const previous = OAuthClient.tokenEndpoint;
      let pending: Promise<{ json: unknown }>;
      OAuthClient.tokenEndpoint = this.tokenUrl;
      try {
        pending = call();
      } finally {
        OAuthClient.tokenEndpoint = previous;
      }
      try {
        const response = await pending;
        return response.json;
      } catch (e) {
        const failure = this.classify(realmId, ctx, what, e);
        if (!(failure instanceof QboTransientError) || attempt >= this.maxAttempts) throw failure;
        const delay = Math.random() * this.baseDelayMs * 2 ** (attempt - 1);
        this.logger?.warn('QuickBooks token endpoint failed; retrying', { realmId, attempt, delayMs: delay });
        await sleep(delay);
      }
    }
  }

  private classify(realmId: string, ctx: { tenantId?: string }, what: string, e: unknown): Error {
    const parsed = OAuthFailureSchema.safeParse(e);
    const f = parsed.success ? parsed.data : {};
    const status = f.authResponse?.response?.status ?? f.response?.status;
    const intuitTid = f.intuit_tid || undefined;
    const code = f.error ?? '';
    if (code === 'invalid_grant' || code === 'invalid_client') {
      const detail =
        code === 'invalid_grant'
          ? `the refresh token was refused${f.error_description ? ` (${f.error_description})` : ''}: it expired, was revoked or was replaced`
          : `the app's client id or secret was refused${f.error_description ? ` (${f.error_description})` : ''}`;
      return new QboReconnectRequiredError(realmId, code, detail, {
        intuitTid,
        tenantId: ctx.tenantId,
        cause: e,
      });
    }
    if (status === undefined || status === 408 || status === 429 || status >= 500) {
      const reason =
        status === undefined ? f.originalMessage || f.message || 'network error' : `HTTP ${status}`;
      return new QboTransientError(`could not ${what} at the QuickBooks token endpoint: ${reason}`, {
        status,
        intuitTid,
        cause: e,
      });
    }
    if (status === 401) {
      return new QboReconnectRequiredError(
        realmId,
        'unauthorized',
        `the token endpoint answered 401 (${code})`,
        {
          intuitTid,
          tenantId: ctx.tenantId,
          cause: e,
        },
      );
    }
    return new PermanentError(
      `could not ${what}: the QuickBooks token endpoint answered HTTP ${status} ${code}${f.error_description ? ` (${f.error_description})` : ''}${intuitTid ? ` [intuit_tid ${intuitTid}]` : ''}`,
      `check the app credentials (QBO_CLIENT_ID / QBO_CLIENT_SECRET or the app secret), then reconnect QuickBooks: npx qbo-sync connect --tenant ${ctx.tenantId ?? '<id>'}`,
      { cause: e },
    );
  }
}
