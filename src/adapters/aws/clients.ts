/**
 * The AWS SDK clients, built from the environment only (so the same code runs in Lambda, in local mode and in tests):
 * region from `AWS_REGION`; endpoints from the standard `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS`,
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER` (or `AWS_ENDPOINT_URL`), which the SDK reads itself.
 *
 * Created once per process (module-level memo), as Lambda guidance asks: call `awsClients()` anywhere.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClients {
  dynamodb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  secrets: SecretsManagerClient;
}

let memo: AwsClients | undefined;

const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;

function endpointOverride(service: 'DYNAMODB' | 'SQS' | 'SECRETS_MANAGER'): string | undefined {
  if (process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  return process.env[`AWS_ENDPOINT_URL_${service}`] || process.env.AWS_ENDPOINT_URL || undefined;
}

/** Shared config: the region, and dummy credentials only when every endpoint is a local emulator and none are set. */
function baseConfig(): { region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } {
  const overrides = (['DYNAMODB', 'SQS', 'SECRETS_MANAGER'] as const).map(endpointOverride);
  const allLocal = overrides.every((e) => e !== undefined && LOOPBACK.test(e));
  const region =
    process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || (allLocal ? 'us-east-1' : undefined);
  const credentials =
    allLocal && !process.env.AWS_ACCESS_KEY_ID
      ? { accessKeyId: 'local', secretAccessKey: 'local' }
      : undefined;
  return { ...(region ? { region } : {}), ...(credentials ? { credentials } : {}) };
}

export function awsClients(): AwsClients {
  if (memo) return memo;
  const base = baseConfig();
  const dynamodb = new DynamoDBClient(base);
  memo = {
    dynamodb,
    doc: DynamoDBDocumentClient.from(dynamodb, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    }),
    // Emulator queue URLs need not carry the endpoint's host: with an endpoint override, always call the endpoint.
    sqs: new SQSClient({ ...base, ...(endpointOverride('SQS') ? { useQueueUrlAsEndpoint: false } : {}) }),
    secrets: new SecretsManagerClient(base),
  };
  return memo;
}

/** Forgets the memo (after changing AWS_* env vars, e.g. local mode once its emulators are up; tests). */
export function resetAwsClients(): void {
  memo?.dynamodb.destroy();
  memo?.sqs.destroy();
  memo?.secrets.destroy();
  memo = undefined;
}
