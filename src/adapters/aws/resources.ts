/**
 * The resource names as Lambda environment variables (docs/ARCHITECTURE.md), both ways: read them in a Lambda
 * (`resourcesFromEnv`), or write them for handlers run by local mode (`resourcesToEnv`).
 */
import type { AwsResourceNames } from './provision.js';

export interface AwsResources extends AwsResourceNames {
  /** Per-realm token secrets are named `<tokenSecretPrefix><realmId>`. */
  tokenSecretPrefix: string;
}

const VARS = {
  tenantsTable: 'TENANTS_TABLE',
  customersTable: 'CUSTOMERS_TABLE',
  ledgerTable: 'LEDGER_TABLE',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  queueUrl: 'QUEUE_URL',
  dlqUrl: 'DLQ_URL',
  tokenSecretPrefix: 'QBO_TOKEN_SECRET_PREFIX',
} as const satisfies Record<keyof AwsResources, string>;

/**
 * Reads the names a function needs (all of them unless `only` narrows it). Throws naming every missing variable:
 * the stack sets them; local mode sets them from its provisioned resources.
 */
export function resourcesFromEnv<K extends keyof AwsResources = keyof AwsResources>(
  only?: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Pick<AwsResources, K> {
  const keys = (only ?? (Object.keys(VARS) as K[])) as readonly K[];
  const missing = keys.filter((k) => !env[VARS[k]]).map((k) => VARS[k]);
  if (missing.length > 0) {
    throw new Error(
      `missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: the CDK stack sets them on each Lambda; locally run through \`npx qbo-sync local\`, which sets them`,
    );
  }
  return Object.fromEntries(keys.map((k) => [k, env[VARS[k]] as string])) as Pick<AwsResources, K>;
}

export function resourcesToEnv(resources: AwsResources): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(VARS) as (keyof AwsResources)[]).map((k) => [VARS[k], resources[k]]),
  );
}
