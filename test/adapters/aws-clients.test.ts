// Clients from the environment, idempotent provisioning, and the resource-name environment variables.
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { provisionLocalResources } from '../../src/adapters/aws/provision.js';
import { resourcesFromEnv, resourcesToEnv } from '../../src/adapters/aws/resources.js';
import { lambdaContext } from '../../src/local/lambda-context.js';
import { uniquePrefix } from './aws-test-helpers.js';

describe('awsClients', () => {
  it('is built once per process, from the environment', async () => {
    const clients = awsClients();
    expect(awsClients()).toBe(clients);
    expect(await clients.dynamodb.config.region()).toBe(process.env.AWS_REGION);
    expect(clients.sqs.config.useQueueUrlAsEndpoint).toBe(false);
  });
});

describe('provisionLocalResources', () => {
  it('creates the tables and queues as the stack does, and is idempotent', async () => {
    // Prepare
    const clients = awsClients();
    const prefix = uniquePrefix('prov');

    // Act
    const first = await provisionLocalResources(clients, { prefix });
    const again = await provisionLocalResources(clients, {
      prefix,
      maxReceiveCount: 3,
      visibilityTimeoutSeconds: 60,
    });

    // Assess
    expect(again).toEqual(first);
    expect(first).toMatchObject({
      tenantsTable: `${prefix}-tenants`,
      customersTable: `${prefix}-customers`,
      ledgerTable: `${prefix}-ledger`,
      idempotencyTable: `${prefix}-idempotency`,
    });
    expect(first.queueUrl).toMatch(new RegExp(`/${prefix}-payouts\\.fifo$`));
    expect(first.dlqUrl).toMatch(new RegExp(`/${prefix}-payouts-dlq\\.fifo$`));

    const ledger = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: first.ledgerTable })))
      .Table;
    expect(ledger?.KeySchema).toEqual([{ AttributeName: 'payoutId', KeyType: 'HASH' }]);
    expect(ledger?.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: 'byTenant',
      KeySchema: [
        { AttributeName: 'tenantId', KeyType: 'HASH' },
        { AttributeName: 'updatedAt', KeyType: 'RANGE' },
      ],
    });
    const customers = (
      await clients.dynamodb.send(new DescribeTableCommand({ TableName: first.customersTable }))
    ).Table;
    expect(customers?.KeySchema).toEqual([
      { AttributeName: 'realmId', KeyType: 'HASH' },
      { AttributeName: 'email', KeyType: 'RANGE' },
    ]);
    const ttl = await clients.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: first.idempotencyTable }),
    );
    expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiration' });

    const { Attributes: q } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: first.queueUrl, AttributeNames: ['All'] }),
    );
    const { Attributes: dlq } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: first.dlqUrl, AttributeNames: ['QueueArn', 'FifoQueue'] }),
    );
    expect(q?.FifoQueue).toBe('true');
    expect(dlq?.FifoQueue).toBe('true');
    expect(q?.VisibilityTimeout).toBe('60');
    expect(JSON.parse(q?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: dlq?.QueueArn,
      maxReceiveCount: 3,
    });
  });

  it('gives an idempotency table Powertools can use', async () => {
    // Prepare
    const clients = awsClients();
    const res = await provisionLocalResources(clients, { prefix: uniquePrefix('idem') });
    let runs = 0;
    // As the deposit builder does: Powertools reads the invocation's remaining time from the registered context
    // (without one it warns "Could not determine remaining time left").
    const config = new IdempotencyConfig({ eventKeyJmesPath: 'payoutId' });
    config.registerLambdaContext(lambdaContext('aws-clients-test', 60_000, 'us-east-1'));
    const once = makeIdempotent(
      async (event: { payoutId: string }) => {
        runs++;
        return { posted: event.payoutId };
      },
      {
        persistenceStore: new DynamoDBPersistenceLayer({
          tableName: res.idempotencyTable,
          awsSdkV3Client: clients.dynamodb,
        }),
        config,
      },
    );

    // Act
    const first = await once({ payoutId: 'po_idem' });
    const second = await once({ payoutId: 'po_idem' });

    // Assess
    expect(second).toEqual(first);
    expect(runs).toBe(1);
  });

  it('refuses a prefix that cannot name tables and queues', async () => {
    await expect(provisionLocalResources(awsClients(), { prefix: 'bad prefix!' })).rejects.toThrow(
      /resource prefix "bad prefix!" is not usable/,
    );
  });
});

describe('resourcesFromEnv / resourcesToEnv', () => {
  it('round-trips the Lambda variables and names every missing one', () => {
    const resources = {
      tenantsTable: 't',
      customersTable: 'c',
      ledgerTable: 'l',
      idempotencyTable: 'i',
      queueUrl: 'q',
      dlqUrl: 'd',
      tokenSecretPrefix: 'p/',
    };
    const env = resourcesToEnv(resources);
    expect(env).toMatchObject({ TENANTS_TABLE: 't', QUEUE_URL: 'q', QBO_TOKEN_SECRET_PREFIX: 'p/' });
    expect(resourcesFromEnv(undefined, env)).toEqual(resources);
    expect(resourcesFromEnv(['queueUrl'], { QUEUE_URL: 'q' })).toEqual({ queueUrl: 'q' });
    expect(() => resourcesFromEnv(['tenantsTable', 'queueUrl'], {})).toThrow(
      /^missing environment variables TENANTS_TABLE, QUEUE_URL:/,
    );
  });
});
