/** The AWS adapters, and one call that wires them all from resource names and clients. */
import { type AwsClients, awsClients } from './clients.js';
import { DynamoCustomerMap } from './customer-map.js';
import { DynamoLedger } from './ledger.js';
import { SqsPayoutQueue } from './queue.js';
import type { AwsResources } from './resources.js';
import { DynamoTenantStore } from './tenant-store.js';
import { SecretsTokenStore } from './token-store.js';

export { type AwsClients, awsClients, resetAwsClients } from './clients.js';
export {
  connectStateKey,
  DynamoConnectStateStore,
  type DynamoConnectStateStoreOptions,
} from './connect-state-store.js';
export { DynamoCustomerMap, type DynamoCustomerMapOptions } from './customer-map.js';
export { DynamoLedger, type DynamoLedgerOptions, LedgerRecordSchema } from './ledger.js';
export { type AwsResourceNames, type ProvisionOptions, provisionLocalResources } from './provision.js';
export {
  type DlqMessage,
  type DlqMoveOptions,
  type DlqWalkOptions,
  moveDlqMessages,
  PayoutMessageSchema,
  parsePayoutMessage,
  receiveDlq,
  SqsPayoutQueue,
  type SqsPayoutQueueOptions,
} from './queue.js';
export { type AwsResources, resourcesFromEnv, resourcesToEnv } from './resources.js';
export {
  loadQboSettings,
  loadSettings,
  loadStripeSettings,
  type QboSettings,
  resetSettingsCache,
  type Settings,
  type StripeSettings,
} from './settings.js';
export {
  DynamoTenantStore,
  type DynamoTenantStoreOptions,
  StripeAccountTakenError,
  TenantBooksSchema,
} from './tenant-store.js';
export { QboTokensSchema, SecretsTokenStore, type SecretsTokenStoreOptions } from './token-store.js';

export interface AwsAdapters {
  tenants: DynamoTenantStore;
  customers: DynamoCustomerMap;
  ledger: DynamoLedger;
  tokens: SecretsTokenStore;
  queue: SqsPayoutQueue;
}

/** Every store and the queue, on one set of clients (default: `awsClients()`, from the environment). */
export function createAwsAdapters(resources: AwsResources, clients: AwsClients = awsClients()): AwsAdapters {
  return {
    tenants: new DynamoTenantStore({ doc: clients.doc, tableName: resources.tenantsTable }),
    customers: new DynamoCustomerMap({ doc: clients.doc, tableName: resources.customersTable }),
    ledger: new DynamoLedger({ doc: clients.doc, tableName: resources.ledgerTable }),
    tokens: new SecretsTokenStore({
      secrets: clients.secrets,
      doc: clients.doc,
      tenantsTable: resources.tenantsTable,
      secretPrefix: resources.tokenSecretPrefix,
    }),
    queue: new SqsPayoutQueue({ sqs: clients.sqs, queueUrl: resources.queueUrl }),
  };
}
