/**
 * Shared set-up for the QuickBooks adapter tests: the stand-in, the AWS emulators' token store (a unique prefix
 * per test file), and tokens seeded as after `connect`.
 */
import { randomUUID } from 'node:crypto';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { provisionLocalResources } from '../../src/adapters/aws/provision.js';
import { SecretsTokenStore } from '../../src/adapters/aws/token-store.js';
import type { QboTokens, TokenStore } from '../../src/app/ports.js';
import type { QuickBooksStandIn } from '../../standins/quickbooks/index.js';

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
