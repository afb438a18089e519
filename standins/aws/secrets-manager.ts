/**
 * A small Secrets Manager stand-in on node:http (AWS JSON 1.1 protocol, `X-Amz-Target: secretsmanager.<Op>`), enough
 * for the SDK client and Powertools parameters through `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
 *
 * Operations: CreateSecret, PutSecretValue, GetSecretValue (by name or ARN; VersionId / VersionStage; AWSCURRENT and
 * AWSPREVIOUS move on each new version), DescribeSecret, ListSecrets (filters `name`, `description`, `all`: prefix
 * match), DeleteSecret (recovery window, or ForceDeleteWithoutRecovery). Errors are the typed ones the SDK maps:
 * ResourceNotFoundException, ResourceExistsException, InvalidRequestException, InvalidParameterException.
 * With `file`, the state is kept in that JSON file (written atomically, mode 0600) and read back on start.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { z } from 'zod';

export interface SecretsManagerStubOptions {
  /** JSON file holding the secrets; created on the first write. In memory when omitted. */
  file?: string;
  port?: number;
  /** Used in ARNs when the request does not say (from its credential scope). Default us-east-1. */
  region?: string;
}

export interface SecretsManagerStub {
  endpoint: string;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';
const MAX_BODY = 1024 * 1024;
const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';

const VersionSchema = z.object({
  secretString: z.string().optional(),
  secretBinary: z.string().optional(),
  createdDate: z.number(),
  stages: z.array(z.string()),
});
const SecretSchema = z.object({
  arn: z.string(),
  name: z.string(),
  description: z.string().optional(),
  createdDate: z.number(),
  lastChangedDate: z.number(),
  deletedDate: z.number().optional(),
  versions: z.record(z.string(), VersionSchema),
});
const StateFileSchema = z.object({ format: z.literal(1), secrets: z.array(SecretSchema) });
type Secret = z.infer<typeof SecretSchema>;
type Version = z.infer<typeof VersionSchema>;

const SecretName = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9/_+=.@-]+$/, { error: 'secret names use only letters, digits and /_+=.@-' });
const Token = z.string().min(32).max(64).optional();
const Value = { SecretString: z.string().max(65536).optional(), SecretBinary: z.string().optional() };
const Requests = {
  CreateSecret: z.object({
    Name: SecretName,
    ClientRequestToken: Token,
    Description: z.string().optional(),
    ...Value,
  }),
  PutSecretValue: z.object({
    SecretId: z.string().min(1),
    ClientRequestToken: Token,
    VersionStages: z.array(z.string()).min(1).optional(),
    ...Value,
  }),
  GetSecretValue: z.object({
    SecretId: z.string().min(1),
    VersionId: z.string().optional(),
    VersionStage: z.string().optional(),
  }),
  DescribeSecret: z.object({ SecretId: z.string().min(1) }),
  ListSecrets: z.object({
    Filters: z.array(z.object({ Key: z.string(), Values: z.array(z.string()).min(1) })).optional(),
    MaxResults: z.number().int().min(1).max(100).optional(),
    NextToken: z.string().optional(),
    IncludePlannedDeletion: z.boolean().optional(),
  }),
  DeleteSecret: z.object({
    SecretId: z.string().min(1),
    RecoveryWindowInDays: z.number().int().min(7).max(30).optional(),
    ForceDeleteWithoutRecovery: z.boolean().optional(),
  }),
};

class StubError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const notFound = () =>
  new StubError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
const now = () => Date.now() / 1000;

export async function startSecretsManagerStub(
  options: SecretsManagerStubOptions = {},
): Promise<SecretsManagerStub> {
  const secrets = new Map<string, Secret>();
  if (options.file && existsSync(options.file)) {
    const parsed = StateFileSchema.safeParse(JSON.parse(readFileSync(options.file, 'utf8')));
    if (!parsed.success) {
      throw new Error(
        `${options.file} is not a Secrets Manager stand-in state file (${parsed.error.issues[0]?.message}); delete it or start local mode with --fresh`,
      );
    }
    for (const s of parsed.data.secrets) secrets.set(s.name, s);
  }

  function save(): void {
    if (!options.file) return;
    mkdirSync(dirname(options.file), { recursive: true });
    const tmp = `${options.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ format: 1, secrets: [...secrets.values()] }, null, 2), {
      mode: 0o600,
    });
    renameSync(tmp, options.file);
    chmodSync(options.file, 0o600);
  }

  function find(id: string): Secret {
    const byName = secrets.get(id);
    if (byName) return byName;
    for (const s of secrets.values()) {
      // A full ARN, or a partial one without the random 6-character suffix.
      if (
        s.arn === id ||
        (id.startsWith('arn:') && s.arn.startsWith(`${id}-`) && s.arn.length === id.length + 7)
      ) {
        return s;
      }
    }
    throw notFound();
  }

  function live(id: string): Secret {
    const s = find(id);
    if (s.deletedDate !== undefined) {
      throw new StubError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return s;
  }

  function addVersion(
    s: Secret,
    id: string,
    v: Omit<Version, 'stages' | 'createdDate'>,
    stages: string[],
  ): void {
    for (const stage of stages) {
      for (const [otherId, other] of Object.entries(s.versions)) {
        if (otherId === id || !other.stages.includes(stage)) continue;
        other.stages = other.stages.filter((x) => x !== stage);
        if (stage === CURRENT) {
          for (const o of Object.values(s.versions)) o.stages = o.stages.filter((x) => x !== PREVIOUS);
          other.stages.push(PREVIOUS);
        }
      }
    }
    s.versions[id] = { ...v, createdDate: now(), stages: [...stages] };
    s.lastChangedDate = now();
  }

  function secretValue(input: { SecretString?: string | undefined; SecretBinary?: string | undefined }) {
    if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
      throw new StubError(
        'InvalidParameterException',
        'You must provide either SecretString or SecretBinary, not both.',
      );
    }
    return {
      ...(input.SecretString !== undefined ? { secretString: input.SecretString } : {}),
      ...(input.SecretBinary !== undefined ? { secretBinary: input.SecretBinary } : {}),
    };
  }

  function stagesMap(s: Secret): Record<string, string[]> {
    return Object.fromEntries(Object.entries(s.versions).map(([id, v]) => [id, v.stages]));
  }

  function describe(s: Secret) {
    return {
      ARN: s.arn,
      Name: s.name,
      ...(s.description !== undefined ? { Description: s.description } : {}),
      CreatedDate: s.createdDate,
      LastChangedDate: s.lastChangedDate,
      ...(s.deletedDate !== undefined ? { DeletedDate: s.deletedDate } : {}),
      VersionIdsToStages: stagesMap(s),
    };
  }

  const ops: Record<string, (body: unknown, region: string) => Record<string, unknown>> = {
    CreateSecret(body, region) {
      const input = Requests.CreateSecret.parse(body);
      const existing = secrets.get(input.Name);
      if (existing?.deletedDate !== undefined) {
        throw new StubError(
          'InvalidRequestException',
          `You can't create this secret because a secret with the name ${input.Name} is already scheduled for deletion.`,
        );
      }
      if (existing) {
        throw new StubError(
          'ResourceExistsException',
          `The operation failed because the secret ${input.Name} already exists.`,
        );
      }
      const suffix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6);
      const s: Secret = {
        arn: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${input.Name}-${suffix}`,
        name: input.Name,
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        createdDate: now(),
        lastChangedDate: now(),
        versions: {},
      };
      const value = secretValue(input);
      const versionId = input.ClientRequestToken ?? randomUUID();
      const hasValue = Object.keys(value).length > 0;
      if (hasValue) addVersion(s, versionId, value, [CURRENT]);
      secrets.set(s.name, s);
      save();
      return { ARN: s.arn, Name: s.name, ...(hasValue ? { VersionId: versionId } : {}) };
    },
    PutSecretValue(body) {
      const input = Requests.PutSecretValue.parse(body);
      const s = live(input.SecretId);
      const value = secretValue(input);
      if (Object.keys(value).length === 0) {
        throw new StubError(
          'InvalidRequestException',
          'You must provide either SecretString or SecretBinary.',
        );
      }
      const versionId = input.ClientRequestToken ?? randomUUID();
      const existing = s.versions[versionId];
      if (existing) {
        if (existing.secretString === value.secretString && existing.secretBinary === value.secretBinary) {
          return { ARN: s.arn, Name: s.name, VersionId: versionId, VersionStages: existing.stages };
        }
        throw new StubError(
          'ResourceExistsException',
          "You can't modify an existing version, you can only create a new version.",
        );
      }
      const stages = input.VersionStages ?? [CURRENT];
      addVersion(s, versionId, value, stages);
      save();
      return { ARN: s.arn, Name: s.name, VersionId: versionId, VersionStages: stages };
    },
    GetSecretValue(body) {
      const input = Requests.GetSecretValue.parse(body);
      const s = live(input.SecretId);
      let entry: [string, Version] | undefined;
      if (input.VersionId !== undefined) {
        const v = s.versions[input.VersionId];
        if (v && (input.VersionStage === undefined || v.stages.includes(input.VersionStage)))
          entry = [input.VersionId, v];
      } else {
        const stage = input.VersionStage ?? CURRENT;
        entry = Object.entries(s.versions).find(([, v]) => v.stages.includes(stage));
      }
      if (!entry) {
        throw new StubError(
          'ResourceNotFoundException',
          input.VersionId !== undefined
            ? `Secrets Manager can't find the specified secret value for VersionId: ${input.VersionId}`
            : `Secrets Manager can't find the specified secret value for staging label: ${input.VersionStage ?? CURRENT}`,
        );
      }
      const [versionId, v] = entry;
      return {
        ARN: s.arn,
        Name: s.name,
        VersionId: versionId,
        ...(v.secretString !== undefined ? { SecretString: v.secretString } : {}),
        ...(v.secretBinary !== undefined ? { SecretBinary: v.secretBinary } : {}),
        VersionStages: v.stages,
        CreatedDate: v.createdDate,
      };
    },
    DescribeSecret(body) {
      return describe(find(Requests.DescribeSecret.parse(body).SecretId));
    },
    ListSecrets(body) {
      const input = Requests.ListSecrets.parse(body);
      const tests: ((s: Secret) => boolean)[] = [];
      for (const f of input.Filters ?? []) {
        const fields: Record<string, (s: Secret) => string[]> = {
          name: (s) => [s.name],
          description: (s) => [s.description ?? ''],
          all: (s) => [s.name, s.description ?? ''],
        };
        const field = fields[f.Key];
        if (!field) {
          throw new StubError(
            'InvalidParameterException',
            `The local Secrets Manager stand-in supports the ListSecrets filters name, description and all, not ${f.Key}.`,
          );
        }
        tests.push((s) => field(s).some((text) => f.Values.some((v) => text.startsWith(v))));
      }
      const all = [...secrets.values()]
        .filter(
          (s) => (input.IncludePlannedDeletion || s.deletedDate === undefined) && tests.every((t) => t(s)),
        )
        .sort((a, b) => a.name.localeCompare(b.name));
      const start = input.NextToken ? Number.parseInt(input.NextToken, 10) || 0 : 0;
      const max = input.MaxResults ?? 100;
      const page = all.slice(start, start + max);
      return {
        SecretList: page.map((s) => {
          const { VersionIdsToStages, ...d } = describe(s);
          return { ...d, SecretVersionsToStages: VersionIdsToStages };
        }),
        ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
      };
    },
    DeleteSecret(body) {
      const input = Requests.DeleteSecret.parse(body);
      if (input.ForceDeleteWithoutRecovery && input.RecoveryWindowInDays !== undefined) {
        throw new StubError(
          'InvalidParameterException',
          "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        );
      }
      const s = find(input.SecretId);
      const deletionDate = input.ForceDeleteWithoutRecovery
        ? now()
        : now() + (input.RecoveryWindowInDays ?? 30) * 86400;
      if (input.ForceDeleteWithoutRecovery) secrets.delete(s.name);
      else s.deletedDate = deletionDate;
      save();
      return { ARN: s.arn, Name: s.name, DeletionDate: deletionDate };
    },
  };

  function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    const opName = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
    const op = ops[opName];
    if (!op) {
      send(res, 400, {
        __type: 'UnknownOperationException',
        message: `The local Secrets Manager stand-in does not implement "${target}"; it supports ${Object.keys(ops).join(', ')}.`,
      });
      return;
    }
    const scope = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(String(req.headers.authorization ?? ''));
    const region = scope?.[1] ?? options.region ?? 'us-east-1';
    try {
      send(res, 200, op(raw ? JSON.parse(raw) : {}, region));
    } catch (err) {
      if (err instanceof StubError) send(res, 400, { __type: err.type, message: err.message });
      else if (err instanceof z.ZodError) {
        const issue = err.issues[0];
        send(res, 400, {
          __type: 'InvalidParameterException',
          message: `${opName}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid request'}`,
        });
      } else if (err instanceof SyntaxError)
        send(res, 400, { __type: 'SerializationException', message: err.message });
      else send(res, 500, { __type: 'InternalServiceError', message: String(err) });
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY)
        send(res, 413, { __type: 'RequestEntityTooLarge', message: 'request body over 1 MiB' });
      else if (req.method !== 'POST') send(res, 200, { status: 'ok' });
      else handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
