/**
 * Creates (idempotently) the project's DynamoDB tables and FIFO queues on the local emulators, shaped exactly as the
 * CDK stack shapes them in AWS (docs/ARCHITECTURE.md). Tests give each file its own prefix; local mode uses one too.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** The names every adapter needs; in AWS they come from the Lambda environment (see `resourcesFromEnv`). */
export interface AwsResourceNames {
  tenantsTable: string;
  customersTable: string;
  ledgerTable: string;
  idempotencyTable: string;
  queueUrl: string;
  dlqUrl: string;
}

export interface ProvisionOptions {
  /** Names become `<prefix>-tenants`, `<prefix>-payouts.fifo`, …: letters, digits, `-` and `_`, at most 50. */
  prefix: string;
  /** Receives before a message moves to the DLQ. Default 5. */
  maxReceiveCount?: number;
  /** The main queue's visibility timeout. Default 30 s. */
  visibilityTimeoutSeconds?: number;
}

const PREFIX = /^[A-Za-z0-9_-]{1,50}$/;

export async function provisionLocalResources(
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient },
  names: ProvisionOptions,
): Promise<AwsResourceNames> {
  if (!PREFIX.test(names.prefix)) {
    throw new Error(
      `resource prefix "${names.prefix}" is not usable: use 1–50 letters, digits, "-" or "_" (it names tables and queues)`,
    );
  }
  const maxReceiveCount = names.maxReceiveCount ?? 5;
  const visibility = names.visibilityTimeoutSeconds ?? 30;
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw new Error(`maxReceiveCount must be a whole number from 1 to 1000, not ${maxReceiveCount}`);
  }
  if (!Number.isInteger(visibility) || visibility < 0 || visibility > 43200) {
    throw new Error(`visibilityTimeoutSeconds must be a whole number from 0 to 43200, not ${visibility}`);
  }
  const p = names.prefix;
  const out = {
    tenantsTable: `${p}-tenants`,
    customersTable: `${p}-customers`,
    ledgerTable: `${p}-ledger`,
    idempotencyTable: `${p}-idempotency`,
  };
  const [, , , , queues] = await Promise.all([
    createTable(
      clients.dynamodb,
      {
        TableName: out.tenantsTable,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      },
      'ttl',
    ),
    createTable(clients.dynamodb, {
      TableName: out.customersTable,
      KeySchema: [
        { AttributeName: 'realmId', KeyType: 'HASH' },
        { AttributeName: 'email', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'realmId', AttributeType: 'S' },
        { AttributeName: 'email', AttributeType: 'S' },
      ],
    }),
    createTable(clients.dynamodb, {
      TableName: out.ledgerTable,
      KeySchema: [{ AttributeName: 'payoutId', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'payoutId', AttributeType: 'S' },
        { AttributeName: 'tenantId', AttributeType: 'S' },
        { AttributeName: 'updatedAt', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byTenant',
          KeySchema: [
            { AttributeName: 'tenantId', KeyType: 'HASH' },
            { AttributeName: 'updatedAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
    createTable(
      clients.dynamodb,
      {
        TableName: out.idempotencyTable,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      },
      'expiration',
    ),
    createQueues(clients.sqs, p, maxReceiveCount, visibility),
  ]);
  return { ...out, ...queues };
}

async function createTable(
  ddb: DynamoDBClient,
  input: Omit<CreateTableCommandInput, 'BillingMode'>,
  ttlAttribute?: string,
): Promise<void> {
  const TableName = input.TableName;
  try {
    await ddb.send(new CreateTableCommand({ ...input, BillingMode: 'PAY_PER_REQUEST' }));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (let i = 0; ; i++) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    if (i > 500) throw new Error(`table ${TableName} did not become ACTIVE (status ${Table?.TableStatus})`);
    await new Promise((r) => setTimeout(r, 20));
  }
  if (ttlAttribute) {
    const { TimeToLiveDescription: ttl } = await ddb.send(new DescribeTimeToLiveCommand({ TableName }));
    if (ttl?.TimeToLiveStatus !== 'ENABLED' && ttl?.TimeToLiveStatus !== 'ENABLING') {
      await ddb.send(
        new UpdateTimeToLiveCommand({
          TableName,
          TimeToLiveSpecification: { Enabled: true, AttributeName: ttlAttribute },
        }),
      );
    }
  }
}

async function createQueue(
  sqs: SQSClient,
  QueueName: string,
  Attributes: Record<string, string>,
): Promise<string> {
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName, Attributes }));
    if (QueueUrl) return QueueUrl;
  } catch (err) {
    // SQS's query-compatible error code (AWS.SimpleQueueService.QueueNameExists) can replace the modelled name.
    if (!(err instanceof QueueNameExists) && !/QueueNameExists|QueueAlreadyExists/.test((err as Error).name))
      throw err;
  }
  // It exists with other settings (e.g. a different maxReceiveCount): bring them up to date.
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName }));
  if (!QueueUrl) throw new Error(`queue ${QueueName} exists but its URL could not be read`);
  const { FifoQueue: _fixed, ...settable } = Attributes;
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: settable }));
  return QueueUrl;
}

async function createQueues(sqs: SQSClient, prefix: string, maxReceiveCount: number, visibility: number) {
  const dlqUrl = await createQueue(sqs, `${prefix}-payouts-dlq.fifo`, {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'false',
    MessageRetentionPeriod: String(14 * 24 * 3600),
  });
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const dlqArn = Attributes?.QueueArn;
  if (!dlqArn) throw new Error(`could not read the ARN of the DLQ ${dlqUrl}`);
  const queueUrl = await createQueue(sqs, `${prefix}-payouts.fifo`, {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'false',
    VisibilityTimeout: String(visibility),
    MessageRetentionPeriod: String(4 * 24 * 3600),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
  });
  return { queueUrl, dlqUrl };
}
