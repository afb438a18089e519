/**
 * The QuickBooks keep-alive in the daily catch-up (CONTRACT §7): a company whose tokens were last refreshed over 30
 * days ago is refreshed, under the realm's refresh lock; a younger one is left alone. Real parts: the QuickBooks
 * stand-in's token endpoint (rotating refresh tokens), token secrets and the lock item on the emulators.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { makeCatchUpHandler } from '../../lambdas/catch-up.js';
import { refreshLockKey } from '../../src/adapters/aws/token-store.js';
import { keepConnectionsAlive } from '../../src/app/keep-alive.js';
import { silentLog } from '../../src/app/log.js';
import type { QboTokens } from '../../src/app/ports.js';
import { buildCatchUpDeps } from '../../src/runtime.js';
import { type Harness, OTHER_REALM, REALM, startHarness, tenantConfig } from './harness.js';

const DAY_MS = 86_400_000;
let h: Harness;

beforeAll(async () => {
  h = await startHarness('keepalive', { companies: [REALM, OTHER_REALM] });
  await h.addTenant(tenantConfig());
  await h.addTenant(
    tenantConfig({
      id: 'other-studio',
      stripeAccount: 'acct_1KeepAliveOther01',
      quickbooks: { realmId: OTHER_REALM },
    }),
  );
});

afterAll(async () => {
  await h?.close();
});

/** Tokens for the realm as if last refreshed `days` ago (a valid refresh token from the stand-in). */
async function tokensAged(realmId: string, days: number): Promise<QboTokens> {
  const updatedAt = new Date(Date.now() - days * DAY_MS);
  const tokens: QboTokens = {
    realmId,
    accessToken: `old-access-${realmId}`,
    refreshToken: h.qbo.issueRefreshToken(realmId),
    accessTokenExpiresAt: updatedAt.getTime() + 3_600_000,
    updatedAt: updatedAt.toISOString(),
  };
  await h.runtime.tokens.put(tokens);
  return tokens;
}

it('the catch-up refreshes a 31-day-old token and not a 29-day-old one', async () => {
  // Prepare
  const old = await tokensAged(REALM, 31);
  const young = await tokensAged(OTHER_REALM, 29);
  const manager = h.runtime.quickbooks.tokenManager;
  const before = { old: manager.refreshes(REALM), young: manager.refreshes(OTHER_REALM) };

  // Act
  const result = await makeCatchUpHandler(h.runtime.catchUpDeps())();

  // Assess
  expect(result.keepAlive).toMatchObject({ realms: 2, refreshed: [REALM], failures: [] });
  expect(manager.refreshes(REALM)).toBe(before.old + 1);
  expect(manager.refreshes(OTHER_REALM)).toBe(before.young);
  const refreshed = await h.runtime.tokens.get(REALM);
  expect(refreshed?.refreshToken).not.toBe(old.refreshToken);
  expect(Date.now() - Date.parse(refreshed?.updatedAt ?? '')).toBeLessThan(60_000);
  // The rotated refresh token works: the stand-in accepts it for the next refresh.
  expect(await manager.keepAlive(REALM, 0)).toBe('refreshed');
  expect(await h.runtime.tokens.get(OTHER_REALM)).toEqual(young);
});

it('waits for the realm lock, and skips the refresh a worker made meanwhile', async () => {
  // Prepare: a worker holds the refresh lock and refreshes the 40-day-old tokens itself.
  await tokensAged(REALM, 40);
  const manager = h.runtime.quickbooks.tokenManager;
  const refreshesBefore = manager.refreshes(REALM);
  let releaseWorker = () => {};
  const workerHolds = new Promise<void>((resolve) => {
    releaseWorker = resolve;
  });
  let lockTaken = () => {};
  const taken = new Promise<void>((resolve) => {
    lockTaken = resolve;
  });
  const worker = h.runtime.tokens.withRefreshLock(REALM, async () => {
    lockTaken();
    await workerHolds;
    await tokensAged(REALM, 0);
  });
  await taken;
  // The lock item expires by itself (the tenants table's TTL attribute), should its holder never release it.
  const { Item: lock } = await h.runtime.clients.doc.send(
    new GetCommand({ TableName: h.runtime.resources.tenantsTable, Key: { pk: refreshLockKey(REALM) } }),
  );
  expect(lock?.ttl).toBeGreaterThan(Date.now() / 1000);

  // Act: the keep-alive starts while the worker holds the lock.
  const keeping = keepConnectionsAlive({
    tenants: h.runtime.tenants,
    connections: manager,
    log: silentLog,
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  releaseWorker();
  await worker;
  const result = await keeping;

  // Assess: it waited, re-read the tokens inside the lock, and found them fresh.
  expect(result.refreshed).toEqual([]);
  expect(result.failures).toEqual([]);
  expect(manager.refreshes(REALM)).toBe(refreshesBefore);
});

it('a company without tokens, or whose token QuickBooks refuses, fails the catch-up naming how to reconnect', async () => {
  // Prepare: the other realm's refresh token is unknown to QuickBooks (revoked).
  await tokensAged(REALM, 0);
  await h.runtime.tokens.put({ ...(await tokensAged(OTHER_REALM, 45)), refreshToken: 'revoked-long-ago' });

  // Act
  const run = makeCatchUpHandler(h.runtime.catchUpDeps())();

  // Assess
  await expect(run).rejects.toThrow(
    /keep-alive failed for 1 of 2 QuickBooks companies: .*QuickBooks company 4620816365 \(other-studio\).*npx qbo-sync connect --tenant other-studio/,
  );
});

it('the catch-up refuses to start when the configured Stripe mode does not match the key', async () => {
  await expect(buildCatchUpDeps({ ...h.env, STRIPE_MODE: 'live' }, { log: silentLog })).rejects.toThrow(
    /serves Stripe live mode \(context stripeMode\), but the Stripe secret key is a test-mode key/,
  );
});
