// Shared by the test/adapters/aws*.test.ts files: the emulators come from test/setup/global-setup.mjs (through the
// AWS_ENDPOINT_URL_* variables); each test file provisions its own tables and queues under a unique prefix.
import { randomBytes } from 'node:crypto';
import { type AwsClients, awsClients } from '../../src/adapters/aws/clients.js';
import {
  type AwsResourceNames,
  type ProvisionOptions,
  provisionLocalResources,
} from '../../src/adapters/aws/provision.js';

export function uniquePrefix(name: string): string {
  return `t-${name}-${randomBytes(4).toString('hex')}`;
}

export async function provisioned(
  name: string,
  options: Omit<ProvisionOptions, 'prefix'> = {},
): Promise<{ clients: AwsClients; res: AwsResourceNames; prefix: string }> {
  if (!process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    throw new Error(
      'AWS_ENDPOINT_URL_DYNAMODB is not set: run these tests through jest (test/setup/global-setup.mjs)',
    );
  }
  const clients = awsClients();
  const prefix = uniquePrefix(name);
  const res = await provisionLocalResources(clients, { prefix, ...options });
  return { clients, res, prefix };
}
