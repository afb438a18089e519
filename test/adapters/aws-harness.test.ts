// The harness itself, started inside a jest worker (where fauxqs runs as a child process), with a data folder:
// DynamoDB tables and secrets survive a restart; SQS works through the clients built from localAwsEnv.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { awsClients, resetAwsClients } from '../../src/adapters/aws/clients.js';
import { provisionLocalResources } from '../../src/adapters/aws/provision.js';
import { SecretsTokenStore } from '../../src/adapters/aws/token-store.js';
import { localAwsEnv, startAwsEmulators } from '../../standins/aws/index.js';

const saved = { ...process.env };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aws-harness-'));
});

afterAll(() => {
  for (const k of Object.keys(localAwsEnv({ dynamodb: '', sqs: '', secretsManager: '' }))) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  resetAwsClients();
  rmSync(dir, { recursive: true, force: true });
});

it('starts on 127.0.0.1, keeps DynamoDB and secrets in the data folder across a restart', async () => {
  // Prepare: first run writes a row, a token secret, and uses the queue.
  const first = await startAwsEmulators({ dataDir: dir });
  for (const url of Object.values(first.endpoints)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  // A second user of the same folder is refused up front (LevelDB cannot be shared).
  await expect(startAwsEmulators({ dataDir: dir })).rejects.toThrow(
    `the data folder ${dir} is in use by process ${process.pid}`,
  );
  Object.assign(process.env, localAwsEnv(first.endpoints));
  resetAwsClients();
  let clients = awsClients();
  const res = await provisionLocalResources(clients, { prefix: 'harness' });
  await clients.doc.send(
    new PutCommand({ TableName: res.ledgerTable, Item: { payoutId: 'po_kept', tenantId: 't' } }),
  );
  const tokens = () =>
    new SecretsTokenStore({
      secrets: awsClients().secrets,
      doc: awsClients().doc,
      tenantsTable: res.tenantsTable,
      secretPrefix: 'qbo/',
    });
  await tokens().put({
    realmId: '123',
    accessToken: 'at',
    refreshToken: 'rt',
    accessTokenExpiresAt: 1,
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  await clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: res.queueUrl,
      MessageBody: '{}',
      MessageGroupId: 'g',
      MessageDeduplicationId: 'd',
    }),
  );
  const { Messages } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: res.queueUrl }));
  expect(Messages).toHaveLength(1);
  resetAwsClients();
  await first.close();

  // Act: a second run on the same folder.
  const second = await startAwsEmulators({ dataDir: dir });
  try {
    Object.assign(process.env, localAwsEnv(second.endpoints));
    resetAwsClients();
    clients = awsClients();
    const again = await provisionLocalResources(clients, { prefix: 'harness' });
    const row = await clients.doc.send(
      new GetCommand({ TableName: again.ledgerTable, Key: { payoutId: 'po_kept' } }),
    );
    const secret = await clients.secrets.send(new GetSecretValueCommand({ SecretId: 'qbo/123' }));

    // Assess
    expect(row.Item).toEqual({ payoutId: 'po_kept', tenantId: 't' });
    expect(JSON.parse(secret.SecretString ?? '{}')).toMatchObject({ realmId: '123', refreshToken: 'rt' });
    expect((await tokens().get('123'))?.accessToken).toBe('at');
  } finally {
    resetAwsClients();
    await second.close();
  }
});
