// dynalite-plus: the transaction and TTL operations it adds on top of dynalite, through the real SDK client.
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  TransactionCanceledException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { uniquePrefix } from './aws-test-helpers.js';

const { dynamodb, doc } = awsClients();
const table = `${uniquePrefix('dplus')}-items`;

const get = async (pk: string) =>
  (await doc.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true }))).Item;

beforeAll(async () => {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

beforeEach(async () => {
  for (const [pk, n] of [
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ] as const) {
    await doc.send(new PutCommand({ TableName: table, Item: { pk, n } }));
  }
});

describe('TransactWriteItems', () => {
  it('applies Put, Update, Delete and ConditionCheck together', async () => {
    // Act
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: table,
              Item: { pk: 'new', n: 9 },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Update: {
              TableName: table,
              Key: { pk: 'a' },
              UpdateExpression: 'SET n = n + :one',
              ConditionExpression: 'n = :was',
              ExpressionAttributeValues: { ':one': 1, ':was': 1 },
            },
          },
          { Delete: { TableName: table, Key: { pk: 'b' } } },
          {
            ConditionCheck: {
              TableName: table,
              Key: { pk: 'c' },
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
        ],
      }),
    );

    // Assess
    expect(await get('new')).toEqual({ pk: 'new', n: 9 });
    expect(await get('a')).toEqual({ pk: 'a', n: 2 });
    expect(await get('b')).toBeUndefined();
    expect(await get('c')).toEqual({ pk: 'c', n: 3 });
  });

  it('changes nothing when one condition fails, and gives a reason per item', async () => {
    // Act
    const err = await doc
      .send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: table,
                Key: { pk: 'a' },
                UpdateExpression: 'SET n = :v',
                ExpressionAttributeValues: { ':v': 100 },
              },
            },
            { Delete: { TableName: table, Key: { pk: 'b' } } },
            { Put: { TableName: table, Item: { pk: 'x', n: 0 } } },
            {
              ConditionCheck: {
                TableName: table,
                Key: { pk: 'c' },
                ConditionExpression: 'n = :v',
                ExpressionAttributeValues: { ':v': 999 },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      )
      .catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(TransactionCanceledException);
    const reasons = (err as TransactionCanceledException).CancellationReasons ?? [];
    expect(reasons.map((r) => r.Code)).toEqual(['None', 'None', 'None', 'ConditionalCheckFailed']);
    expect(reasons[3]?.Item).toEqual({ pk: { S: 'c' }, n: { N: '3' } });
    expect(await get('a')).toEqual({ pk: 'a', n: 1 });
    expect(await get('b')).toEqual({ pk: 'b', n: 2 });
    expect(await get('x')).toBeUndefined();
  });

  it('rolls back writes already applied when a later write fails', async () => {
    // Item 2's update expression is invalid for the stored type: dynalite rejects it while applying.
    const err = await doc
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { pk: 'a', n: 50 } } },
            {
              Update: {
                TableName: table,
                Key: { pk: 'b' },
                UpdateExpression: 'SET n = n + :s',
                ExpressionAttributeValues: { ':s': 'text' },
              },
            },
          ],
        }),
      )
      .catch((e: unknown) => e);

    expect((err as Error).name).toBe('ValidationException');
    expect(await get('a')).toEqual({ pk: 'a', n: 1 });
    expect(await get('b')).toEqual({ pk: 'b', n: 2 });
  });

  it('refuses two operations on one item', async () => {
    const err = await doc
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { pk: 'a', n: 7 } } },
            { Delete: { TableName: table, Key: { pk: 'a' } } },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('ValidationException');
    expect((err as Error).message).toMatch(/multiple operations on one item/);
    expect(await get('a')).toEqual({ pk: 'a', n: 1 });
  });

  it('reports a missing table as ResourceNotFoundException', async () => {
    const err = await doc
      .send(
        new TransactWriteCommand({
          TransactItems: [{ Put: { TableName: `${table}-nope`, Item: { pk: 'a' } } }],
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('TransactGetItems', () => {
  it('reads several items, an empty response for a missing one', async () => {
    const out = await doc.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName: table, Key: { pk: 'a' } } },
          { Get: { TableName: table, Key: { pk: 'missing' } } },
          { Get: { TableName: table, Key: { pk: 'c' }, ProjectionExpression: 'n' } },
        ],
      }),
    );
    expect(out.Responses?.map((r) => r.Item)).toEqual([{ pk: 'a', n: 1 }, undefined, { n: 3 }]);
  });
});

describe('TimeToLive', () => {
  it('stores the setting, describes it, and refuses enabling it twice', async () => {
    const describe = async () =>
      (await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription;
    expect(await describe()).toEqual({ TimeToLiveStatus: 'DISABLED' });

    const out = await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiration' },
      }),
    );
    expect(out.TimeToLiveSpecification).toEqual({ Enabled: true, AttributeName: 'expiration' });
    expect(await describe()).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiration' });

    const again = await dynamodb
      .send(
        new UpdateTimeToLiveCommand({
          TableName: table,
          TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiration' },
        }),
      )
      .catch((e: unknown) => e);
    expect((again as Error).name).toBe('ValidationException');
  });

  it('answers ResourceNotFoundException for a missing table', async () => {
    const err = await dynamodb
      .send(new DescribeTimeToLiveCommand({ TableName: `${table}-nope` }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
  });
});
