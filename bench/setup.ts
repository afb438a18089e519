/**
 * Everything before a measured run, done with clients that are NOT counted: the tables and queues, the product's
 * settings, and per run a tenant (imported from a sync config against its own QuickBooks company, exactly as
 * `config import` does), fresh QuickBooks tokens, and the mapping table's pre-existing rows.
 */
import { randomBytes } from 'node:crypto';
import { DynamoCustomerMap } from '../src/adapters/aws/customer-map.js';
import { DynamoLedger } from '../src/adapters/aws/ledger.js';
import { provisionLocalResources } from '../src/adapters/aws/provision.js';
import { type AwsResources, resourcesToEnv } from '../src/adapters/aws/resources.js';
import type { Settings } from '../src/adapters/aws/settings.js';
import { DynamoTenantStore } from '../src/adapters/aws/tenant-store.js';
import { SecretsTokenStore } from '../src/adapters/aws/token-store.js';
import { QuickBooksClientFactory } from '../src/adapters/quickbooks/client.js';
import type { StoredTenant } from '../src/app/ports.js';
import { importTenants } from '../src/app/tenant-config.js';
import { TenantConfigSchema } from '../src/domain/config.js';
import { demoTenantConfig } from '../src/local/demo.js';
import type { PreparedWorkload, ServiceEndpoints, StandInHost } from './host.js';
import { type CountedAwsClients, countedAwsClients, destroyClients } from './measure.js';

export const TOKEN_SECRET_PREFIX = 'qbo-sync-bench/quickbooks-tokens/';

/**
 * QuickBooks limits the product's own limiter applies in the benchmark: 10 in flight, metering off (neither the 500
 * units nor the 40 batch requests a minute: the floor they impose is computed from the calls, `quickbooksFloorMs`).
 */
export const BENCH_QBO_LIMITS = {
  maxInFlight: 10,
  perMinute: Number.MAX_SAFE_INTEGER,
  batchesPerMinute: Number.MAX_SAFE_INTEGER,
};

export interface BenchContext {
  host: StandInHost;
  /** The stand-ins this context's runs use: the unpaced pair, or the paced one (time to the books). */
  services: ServiceEndpoints;
  paced: boolean;
  region: string;
  resources: AwsResources;
  settings: Settings;
  /** Environment for `buildRuntime`: the resource names and the stand-ins' origins. */
  env: NodeJS.ProcessEnv;
  /** Uncounted clients, for setting up and checking. */
  setup: CountedAwsClients;
}

export async function createContext(
  host: StandInHost,
  options: { region?: string; paced?: boolean } = {},
): Promise<BenchContext> {
  const region = options.region ?? 'us-east-1';
  const paced = options.paced ?? false;
  const services: ServiceEndpoints = paced ? host.endpoints.paced : host.endpoints;
  const setup = countedAwsClients(host.endpoints.aws, region);
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const names = await provisionLocalResources(setup, { prefix });
  const resources: AwsResources = { ...names, tokenSecretPrefix: `${TOKEN_SECRET_PREFIX}${prefix}/` };
  const settings: Settings = {
    stripeSecretKey: services.stripe.secretKey,
    stripeWebhookSecret: `whsec_bench${randomBytes(16).toString('hex')}`,
    qboClientId: services.quickbooks.clientId,
    qboClientSecret: services.quickbooks.clientSecret,
  };
  const env: NodeJS.ProcessEnv = {
    ...resourcesToEnv(resources),
    STRIPE_API_BASE: services.stripe.url,
    QBO_API_BASE: services.quickbooks.url,
    QBO_OAUTH_TOKEN_URL: services.quickbooks.tokenUrl,
    AWS_REGION: region,
  };
  return { host, services, paced, region, resources, settings, env, setup };
}

export function closeContext(ctx: BenchContext): void {
  destroyClients(ctx.setup);
}

export interface PreparedRun {
  workload: PreparedWorkload;
  tenant: StoredTenant;
}

/**
 * A workload ready to be processed: the payout in Stripe, the company in QuickBooks, the tenant imported, a valid
 * access token stored (so no refresh is due during the run), and the mapped customers in the mapping table.
 */
export async function prepareRun(
  ctx: BenchContext,
  request: { transactions: number; seed: number; label: string },
): Promise<PreparedRun> {
  const workload = await ctx.host.prepare({
    transactions: request.transactions,
    seed: request.seed,
    paced: ctx.paced,
  });
  const { doc, secrets } = ctx.setup;
  const tokens = new SecretsTokenStore({
    secrets,
    doc,
    tenantsTable: ctx.resources.tenantsTable,
    secretPrefix: ctx.resources.tokenSecretPrefix,
  });
  // As after `connect`, with an access token that has expired: the import below refreshes it.
  await tokens.put({
    realmId: workload.realmId,
    accessToken: 'bench-expired-access-token',
    refreshToken: workload.refreshToken,
    accessTokenExpiresAt: 0,
    updatedAt: new Date().toISOString(),
  });
  const factory = new QuickBooksClientFactory({
    tokens,
    clientId: ctx.settings.qboClientId,
    clientSecret: ctx.settings.qboClientSecret,
    apiBase: ctx.services.quickbooks.url,
    tokenUrl: ctx.services.quickbooks.tokenUrl,
    limits: BENCH_QBO_LIMITS,
  });
  const tenants = new DynamoTenantStore({ doc, tableName: ctx.resources.tenantsTable });
  const config = TenantConfigSchema.parse({
    ...demoTenantConfig(workload.realmId),
    id: `bench-${request.label}`
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 64),
    stripeAccount: workload.stripeAccount,
  });
  const { imported, problems } = await importTenants(
    { tenants, tokens, books: (realmId, tenantId) => factory.forRealm(realmId, { tenantId }) },
    { tenants: [config] },
  );
  const tenant = imported[0];
  if (tenant === undefined || problems.length > 0) {
    throw new Error(
      `bench: could not import the tenant: ${problems.map((p) => `${p.entry}: ${p.message}`).join('; ')}`,
    );
  }
  await new DynamoCustomerMap({ doc, tableName: ctx.resources.customersTable }).putMany(
    workload.realmId,
    workload.mapped,
  );
  return { workload, tenant };
}

/** The ledger as the setup clients see it (for checking a run's outcome, uncounted). */
export function setupLedger(ctx: BenchContext): DynamoLedger {
  return new DynamoLedger({ doc: ctx.setup.doc, tableName: ctx.resources.ledgerTable });
}
