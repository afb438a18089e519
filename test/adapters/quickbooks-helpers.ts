/**
 * Shared set-up for the QuickBooks adapter tests: the stand-in, the AWS emulators' token store (a unique prefix
 * per test file), and tokens seeded as after `connect`.
 */
import { randomUUID } from 'node:crypto';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { provisionLocalResources } from '../../src/adapters/aws/provision.js';
import { SecretsTokenStore } from '../../src/adapters/aws/token-store.js';
import { QuickBooksClientFactory } from '../../src/adapters/quickbooks/client.js';
import type { QboTokens, TokenStore } from '../../src/app/ports.js';
import type { CompanySeed, QuickBooksStandIn } from '../../standins/quickbooks/index.js';

export const REALM = '9341453187';

export async function tokenStoreForTest(
  name: string,
): Promise<{ store: SecretsTokenStore; make: () => SecretsTokenStore }> {
  const prefix = `qbo-${name}-${randomUUID().slice(0, 8)}`;
  const clients = awsClients();
  const resources = await provisionLocalResources(clients, { prefix });
  const make = () =>
    new SecretsTokenStore({
      secrets: clients.secrets,
      doc: clients.doc,
      tenantsTable: resources.tenantsTable,
      secretPrefix: `${prefix}/qbo/`,
      pollMs: 20,
    });
  return { store: make(), make };
}

/** Stores tokens as after "connect": a valid refresh token, and an access token that is already expired. */
export async function seedTokens(
  store: TokenStore,
  standIn: QuickBooksStandIn,
  realmId: string = REALM,
  accessToken: Partial<Pick<QboTokens, 'accessToken' | 'accessTokenExpiresAt'>> = {},
): Promise<QboTokens> {
  const tokens: QboTokens = {
    realmId,
    accessToken: accessToken.accessToken ?? 'expired-access-token',
    refreshToken: standIn.issueRefreshToken(realmId),
    accessTokenExpiresAt: accessToken.accessTokenExpiresAt ?? 0,
    updatedAt: new Date().toISOString(),
  };
  await store.put(tokens);
  return tokens;
}

export const tokenCalls = (standIn: QuickBooksStandIn) =>
  standIn.requests.filter((r) => r.path === '/oauth2/v1/tokens/bearer').length;

export const apiCalls = (standIn: QuickBooksStandIn) =>
  standIn.requests.filter((r) => r.path.startsWith('/v3/company/'));

/** Short backoffs: tests must stay fast. */
export const FAST_RETRY = { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 40 };

// ---------------------------------------------------------------- client test set-up (quickbooks-client, -customers)

/** A company of 2,500 customers, to measure paging against lookups. */
export const BIG_REALM = '5550002500';
export const BIG_COUNT = 2500;
export const bigEmail = (i: number) => `member${String(i).padStart(4, '0')}@example.com`;

export function bigCompany(): CompanySeed {
  return {
    realmId: BIG_REALM,
    customers: Array.from({ length: BIG_COUNT }, (_, i) => ({
      DisplayName: `Member ${i}`,
      Email: bigEmail(i),
      CreateTime: '2023-03-01T10:00:00.000-07:00',
    })),
  };
}

/** A client factory on `standIn` with short backoffs and pauses, its own limiter. */
export function clientFactory(
  store: TokenStore,
  standIn: QuickBooksStandIn,
  extra: Partial<ConstructorParameters<typeof QuickBooksClientFactory>[0]> = {},
): QuickBooksClientFactory {
  return new QuickBooksClientFactory({
    tokens: store,
    clientId: standIn.clientId,
    clientSecret: standIn.clientSecret,
    apiBase: standIn.url,
    tokenUrl: standIn.tokenUrl,
    retry: FAST_RETRY,
    limits: { maxInFlight: 10, perMinute: 500 },
    throttlePauseMs: 20,
    ...extra,
  });
}

/** A factory whose realm already has a fresh access token, and the request log cleared: tests count API calls only. */
export async function connectedClient(
  store: TokenStore,
  standIn: QuickBooksStandIn,
  realmId: string = REALM,
): Promise<QuickBooksClientFactory> {
  await seedTokens(store, standIn, realmId);
  const f = clientFactory(store, standIn);
  await f.tokenManager.accessToken(realmId);
  standIn.clearRequests();
  return f;
}
