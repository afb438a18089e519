import OAuthClient from 'intuit-oauth';
import { QuickBooksClientFactory } from '../../src/adapters/quickbooks/client.js';
import { QboTokenManager } from '../../src/adapters/quickbooks/tokens.js';
import { PermanentError, ReconnectRequiredError } from '../../src/app/errors.js';
import type { QboTokens, TokenStore } from '../../src/app/ports.js';
import { type QuickBooksStandIn, startQuickBooksStandIn } from '../../standins/quickbooks/index.js';
import {
  apiCalls,
  FAST_RETRY,
  REALM,
  seedTokens,
  tokenCalls,
  tokenStoreForTest,
} from './quickbooks-helpers.js';

let lenient: QuickBooksStandIn;
let strict: QuickBooksStandIn;
let store: TokenStore;
let makeStore: () => TokenStore;
const defaultTokenEndpoint = OAuthClient.tokenEndpoint;

beforeAll(async () => {
  [lenient, strict] = await Promise.all([
    startQuickBooksStandIn({ rotation: 'lenient' }),
    startQuickBooksStandIn({ rotation: 'strict' }),
  ]);
  ({ store, make: makeStore } = await tokenStoreForTest('tokens'));
});

afterAll(async () => {
  await Promise.all([lenient?.close(), strict?.close()]);
});

beforeEach(() => {
  lenient.clearRequests();
  strict.clearRequests();
});

const managerFor = (standIn: QuickBooksStandIn, tokens: TokenStore = store) =>
  new QboTokenManager({
    store: tokens,
    clientId: standIn.clientId,
    clientSecret: standIn.clientSecret,
    tokenUrl: standIn.tokenUrl,
    baseDelayMs: 5,
  });

const factoryFor = (standIn: QuickBooksStandIn, tokens: TokenStore = store) =>
  new QuickBooksClientFactory({
    tokens,
    clientId: standIn.clientId,
    clientSecret: standIn.clientSecret,
    apiBase: standIn.url,
    tokenUrl: standIn.tokenUrl,
    retry: FAST_RETRY,
    limits: { maxInFlight: 10, perMinute: 500 },
  });

/** A token store that records what was stored, and how many API calls the stand-in had seen at that moment. */
class RecordingStore implements TokenStore {
  readonly puts: Array<{ tokens: QboTokens; apiCallsBefore: number }> = [];
  constructor(
    private readonly inner: TokenStore,
    private readonly standIn: QuickBooksStandIn,
  ) {}
  get(realmId: string) {
    return this.inner.get(realmId);
  }
  async put(tokens: QboTokens) {
    this.puts.push({ tokens, apiCallsBefore: apiCalls(this.standIn).length });
    await this.inner.put(tokens);
  }
  withRefreshLock<T>(realmId: string, fn: () => Promise<T>) {
    return this.inner.withRefreshLock(realmId, fn);
  }
}

describe('QboTokenManager', () => {
  it('refreshes an expired access token (lenient rotation) and stores the rotated refresh token', async () => {
    // Prepare
    const seeded = await seedTokens(store, lenient);
    const manager = managerFor(lenient);

    // Act
    const access = await manager.accessToken(REALM);
    const again = await manager.accessToken(REALM);

    // Assess
    const stored = await store.get(REALM);
    expect(access).not.toBe(seeded.accessToken);
    expect(again).toBe(access);
    expect(stored?.accessToken).toBe(access);
    expect(stored?.refreshToken).not.toBe(seeded.refreshToken);
    expect(stored?.accessTokenExpiresAt).toBeGreaterThan(Date.now() + 3000_000);
    expect(tokenCalls(lenient)).toBe(1);
    expect(manager.refreshes(REALM)).toBe(1);
    // The process-wide statics of intuit-oauth are left as they were.
    expect(OAuthClient.tokenEndpoint).toBe(defaultTokenEndpoint);
  });

  it('stores the rotated refresh token before the new access token is used, so a crash right after loses nothing (strict rotation)', async () => {
    // Prepare
    const seeded = await seedTokens(store, strict);
    const recording = new RecordingStore(store, strict);
    const books = factoryFor(strict, recording).forRealm(REALM);
    strict.injectFault({ status: 400, path: '/query', count: 1 }); // the worker "crashes" on its first call

    // Act
    const crash = await books.findCustomerByName('Walk-in').catch((e: unknown) => e);

    // Assess: the call failed, but the rotated tokens were stored before any API call used them
    expect(crash).toBeInstanceOf(PermanentError);
    expect(recording.puts).toHaveLength(1);
    expect(recording.puts[0]?.apiCallsBefore).toBe(0);
    expect(apiCalls(strict)).toHaveLength(1);
    const stored = await store.get(REALM);
    expect(stored?.refreshToken).toBe(recording.puts[0]?.tokens.refreshToken);
    expect(stored?.refreshToken).not.toBe(seeded.refreshToken);

    // A new process whose access token has expired refreshes with the stored (rotated) token: it still works,
    // whereas the old refresh token is dead in strict mode.
    await store.put({ ...(stored as QboTokens), accessTokenExpiresAt: 0 });
    const restarted = factoryFor(strict).forRealm(REALM);
    await expect(restarted.findCustomerByName('Walk-in')).resolves.toMatchObject({ displayName: 'Walk-in' });
    await store.put({ ...seeded });
    await expect(managerFor(strict).accessToken(REALM)).rejects.toBeInstanceOf(ReconnectRequiredError);
  });

  it('lets two workers refreshing one realm at once both succeed with a single refresh (strict rotation)', async () => {
    // Prepare: two "processes", each with its own token store client and manager
    await seedTokens(store, strict);
    const workerA = managerFor(strict, makeStore());
    const workerB = managerFor(strict, makeStore());

    // Act
    const [a, b] = await Promise.all([workerA.accessToken(REALM), workerB.accessToken(REALM)]);

    // Assess
    expect(a).toBe(b);
    expect(tokenCalls(strict)).toBe(1);
    expect(workerA.refreshes(REALM) + workerB.refreshes(REALM)).toBe(1);
    expect((await store.get(REALM))?.accessToken).toBe(a);
  });

  it('shares one refresh between concurrent callers in one process', async () => {
    await seedTokens(store, strict);
    const manager = managerFor(strict);
    const tokens = await Promise.all(Array.from({ length: 5 }, () => manager.accessToken(REALM)));
    expect(new Set(tokens).size).toBe(1);
    expect(tokenCalls(strict)).toBe(1);
  });

  it('turns invalid_grant into ReconnectRequiredError naming the connect command', async () => {
    // Prepare
    await seedTokens(store, lenient);
    lenient.revokeAll(REALM);
    const books = factoryFor(lenient).forRealm(REALM, { tenantId: 'downtown-yoga' });

    // Act
    const error = await books.getChart().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ReconnectRequiredError);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as ReconnectRequiredError).message).toMatch(/invalid_grant/);
    expect((error as ReconnectRequiredError).hint).toBe(
      'reconnect QuickBooks: npx qbo-sync connect --tenant downtown-yoga',
    );
    expect((error as Error).message).not.toContain((await store.get(REALM))?.refreshToken ?? 'never');
  });

  it('turns a refused client secret into ReconnectRequiredError', async () => {
    await seedTokens(store, lenient);
    const manager = new QboTokenManager({
      store,
      clientId: lenient.clientId,
      clientSecret: 'wrong-secret',
      tokenUrl: lenient.tokenUrl,
    });
    await expect(manager.accessToken(REALM)).rejects.toMatchObject({
      name: 'ReconnectRequiredError',
      reason: 'invalid_client',
    });
  });

  it('says to connect when no tokens are stored for the realm', async () => {
    const error = await managerFor(lenient)
      .accessToken('1234567', { tenantId: 'new-studio' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconnectRequiredError);
    expect((error as ReconnectRequiredError).hint).toContain('npx qbo-sync connect --tenant new-studio');
  });

  it('on a 401 from the API, refreshes once and retries', async () => {
    // Prepare: the stored access token looks valid but QuickBooks does not know it (revoked elsewhere)
    await seedTokens(store, lenient, REALM, {
      accessToken: 'unknown-token',
      accessTokenExpiresAt: Date.now() + 3600_000,
    });
    const factory = factoryFor(lenient);

    // Act
    const walkIn = await factory.forRealm(REALM).findCustomerByName('Walk-in');

    // Assess
    expect(walkIn?.displayName).toBe('Walk-in');
    expect(tokenCalls(lenient)).toBe(1);
    expect(apiCalls(lenient).map((r) => r.status)).toEqual([401, 200]);
    expect(factory.calls.forRealm(REALM)).toMatchObject({ requests: 2, tokenRefreshes: 1 });
  });

  it('gives up with ReconnectRequiredError when the API refuses even a fresh token', async () => {
    await seedTokens(store, lenient);
    lenient.injectFault({ status: 401, path: '/query', count: 2 });
    const error = await factoryFor(lenient)
      .forRealm(REALM)
      .findCustomerByName('Walk-in')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconnectRequiredError);
    expect(apiCalls(lenient)).toHaveLength(2);
  });

  it('connects a company: authorize URL, callback code exchanged for tokens, tokens stored', async () => {
    // Prepare
    const manager = new QboTokenManager({
      store,
      clientId: lenient.clientId,
      clientSecret: lenient.clientSecret,
      tokenUrl: lenient.tokenUrl,
      authorizeUrl: lenient.authorizeUrl,
    });
    const redirectUri = 'http://127.0.0.1:9/callback';
    const url = new URL(manager.authorizeUrl('state-123', redirectUri));
    expect(url.origin + url.pathname).toBe(lenient.authorizeUrl);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: lenient.clientId,
      response_type: 'code',
      scope: 'com.intuit.quickbooks.accounting',
      redirect_uri: redirectUri,
      state: 'state-123',
    });
    const consent = await fetch(url, { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location') ?? '');
    expect(callback.searchParams.get('state')).toBe('state-123');

    // Act
    const tokens = await manager.exchangeAuthorizationCode(
      callback.searchParams.get('code') ?? '',
      redirectUri,
      callback.searchParams.get('realmId') ?? '',
    );

    // Assess
    expect(tokens.realmId).toBe(REALM);
    expect(await store.get(REALM)).toEqual(tokens);
    const books = factoryFor(lenient).forRealm(REALM);
    await expect(books.findCustomerByName('Walk-in')).resolves.toBeDefined();
    expect(tokenCalls(lenient)).toBe(1); // the exchange only: the new access token is used as it is
  });
});
