// The Secrets Manager stand-in, through the real SDK client (the shared one from global setup, and a private one
// with a state file to check persistence).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { startSecretsManagerStub } from '../../standins/aws/secrets-manager.js';
import { uniquePrefix } from './aws-test-helpers.js';

const { secrets } = awsClients();
const prefix = `${uniquePrefix('sm')}/`;

describe('Secrets Manager stand-in', () => {
  it('creates, versions and reads a secret by name and by ARN', async () => {
    // Prepare
    const Name = `${prefix}versions`;
    const created = await secrets.send(new CreateSecretCommand({ Name, SecretString: 'v1' }));

    // Act
    const put = await secrets.send(new PutSecretValueCommand({ SecretId: Name, SecretString: 'v2' }));
    const current = await secrets.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    const previous = await secrets.send(
      new GetSecretValueCommand({ SecretId: Name, VersionStage: 'AWSPREVIOUS' }),
    );
    const first = await secrets.send(
      new GetSecretValueCommand({ SecretId: Name, VersionId: created.VersionId }),
    );

    // Assess
    expect(created.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:${Name}-[A-Za-z0-9]{6}$`),
    );
    expect(current).toMatchObject({
      Name,
      SecretString: 'v2',
      VersionId: put.VersionId,
      VersionStages: ['AWSCURRENT'],
    });
    expect(current.CreatedDate).toBeInstanceOf(Date);
    expect(previous).toMatchObject({
      SecretString: 'v1',
      VersionId: created.VersionId,
      VersionStages: ['AWSPREVIOUS'],
    });
    expect(first.SecretString).toBe('v1');
  });

  it('moves AWSPREVIOUS along with each new version', async () => {
    const Name = `${prefix}rotate`;
    await secrets.send(new CreateSecretCommand({ Name, SecretString: 'a' }));
    await secrets.send(new PutSecretValueCommand({ SecretId: Name, SecretString: 'b' }));
    await secrets.send(new PutSecretValueCommand({ SecretId: Name, SecretString: 'c' }));

    const d = await secrets.send(new DescribeSecretCommand({ SecretId: Name }));
    const stages = Object.values(d.VersionIdsToStages ?? {});
    expect(stages).toHaveLength(3);
    expect(stages.filter((s) => s.includes('AWSCURRENT'))).toHaveLength(1);
    expect(stages.filter((s) => s.includes('AWSPREVIOUS'))).toHaveLength(1);
    expect(stages.filter((s) => s.length === 0)).toHaveLength(1);
    const prev = await secrets.send(
      new GetSecretValueCommand({ SecretId: Name, VersionStage: 'AWSPREVIOUS' }),
    );
    expect(prev.SecretString).toBe('b');
  });

  it('gives the typed errors the SDK maps', async () => {
    const Name = `${prefix}errors`;
    await secrets.send(new CreateSecretCommand({ Name, SecretString: 'x' }));
    await expect(secrets.send(new CreateSecretCommand({ Name, SecretString: 'y' }))).rejects.toBeInstanceOf(
      ResourceExistsException,
    );
    await expect(
      secrets.send(new GetSecretValueCommand({ SecretId: `${prefix}missing` })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      secrets.send(new PutSecretValueCommand({ SecretId: `${prefix}missing`, SecretString: 'z' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      secrets.send(new GetSecretValueCommand({ SecretId: Name, VersionStage: 'NOPE' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('replays a PutSecretValue with the same request token, refuses it with another value', async () => {
    const Name = `${prefix}token`;
    await secrets.send(new CreateSecretCommand({ Name, SecretString: 'x' }));
    const token = 'a'.repeat(40);
    const one = await secrets.send(
      new PutSecretValueCommand({ SecretId: Name, SecretString: 'y', ClientRequestToken: token }),
    );
    const two = await secrets.send(
      new PutSecretValueCommand({ SecretId: Name, SecretString: 'y', ClientRequestToken: token }),
    );
    expect(two.VersionId).toBe(one.VersionId);
    await expect(
      secrets.send(
        new PutSecretValueCommand({ SecretId: Name, SecretString: 'other', ClientRequestToken: token }),
      ),
    ).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('lists by name prefix, paged', async () => {
    for (const n of ['list/a', 'list/b', 'list/c', 'other']) {
      await secrets.send(new CreateSecretCommand({ Name: `${prefix}${n}`, SecretString: n }));
    }
    const names: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await secrets.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'name', Values: [`${prefix}list/`] }],
          MaxResults: 2,
          NextToken,
        }),
      );
      names.push(...(page.SecretList ?? []).map((s) => s.Name ?? ''));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(names).toEqual([`${prefix}list/a`, `${prefix}list/b`, `${prefix}list/c`]);
  });

  it('deletes with a recovery window (then refuses reads) or at once', async () => {
    const soft = `${prefix}soft`;
    const hard = `${prefix}hard`;
    await secrets.send(new CreateSecretCommand({ Name: soft, SecretString: 's' }));
    await secrets.send(new CreateSecretCommand({ Name: hard, SecretString: 'h' }));

    const out = await secrets.send(new DeleteSecretCommand({ SecretId: soft, RecoveryWindowInDays: 7 }));
    await secrets.send(new DeleteSecretCommand({ SecretId: hard, ForceDeleteWithoutRecovery: true }));

    expect(out.DeletionDate?.getTime()).toBeGreaterThan(Date.now() + 6 * 86400_000);
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: soft }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    expect((await secrets.send(new DescribeSecretCommand({ SecretId: soft }))).DeletedDate).toBeInstanceOf(
      Date,
    );
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: hard }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await secrets.send(new CreateSecretCommand({ Name: hard, SecretString: 'again' }));
  });

  it('keeps its state in a file across restarts', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sm-stub-'));
    const file = join(dir, 'secrets.json');
    const client = (endpoint: string) =>
      new SecretsManagerClient({
        endpoint,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
    try {
      const first = await startSecretsManagerStub({ file });
      const c1 = client(first.endpoint);
      const created = await c1.send(new CreateSecretCommand({ Name: 'kept', SecretString: '{"a":1}' }));
      c1.destroy();
      await first.close();

      // Act
      const second = await startSecretsManagerStub({ file });
      const c2 = client(second.endpoint);
      const got = await c2.send(new GetSecretValueCommand({ SecretId: 'kept' }));
      c2.destroy();
      await second.close();

      // Assess
      expect(created.ARN).toContain(':eu-west-1:');
      expect(got).toMatchObject({ ARN: created.ARN, SecretString: '{"a":1}' });
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8')).format).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
