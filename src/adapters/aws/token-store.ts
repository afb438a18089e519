/**
 * QuickBooks OAuth tokens, one Secrets Manager secret per realm (`<prefix><realmId>`, JSON of `QboTokens`), and the
 * cross-process refresh lock: a lease item `LOCK#qbo-refresh#<realmId>` in the tenants table, taken with a conditional
 * put (free, or its lease expired), kept alive by a heartbeat while `fn` runs, and released only by its owner.
 * Token values never appear in errors or logs.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ReconnectRequiredError, TransientError } from '../../app/errors.js';
import type { QboTokens, TokenStore } from '../../app/ports.js';
import { isConditionFailed, sleep } from './util.js';

export const QboTokensSchema = z.object({
  realmId: z.string().min(1),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  accessTokenExpiresAt: z.number().int(),
  refreshTokenExpiresAt: z.number().int().optional(),
  updatedAt: z.string(),
}) satisfies z.ZodType<QboTokens>;

export interface SecretsTokenStoreOptions {
  secrets: SecretsManagerClient;
  doc: DynamoDBDocumentClient;
  /** Holds the lock items (env `TENANTS_TABLE`). */
  tenantsTable: string;
  /** Token secrets are named `<secretPrefix><realmId>` (env `QBO_TOKEN_SECRET_PREFIX`). */
  secretPrefix: string;
  /** How long a taken lock stays valid without a heartbeat (a crashed holder's lock frees itself). Default 30 s. */
  leaseMs?: number;
  /** How long to wait for a held lock before giving up with a TransientError. Default 40 s. */
  waitTimeoutMs?: number;
  /** Mean polling interval while waiting (jittered ±50 %). Default 100 ms. */
  pollMs?: number;
}

/** The tenants-table key of a realm's refresh lock (its items carry `ttl`, so a lost lock is deleted later). */
export function refreshLockKey(realmId: string): string {
  return `LOCK#qbo-refresh#${realmId}`;
}

const reconnectHint = (realmId: string) =>
  `reconnect QuickBooks for the tenant using realm ${realmId}: npx qbo-sync connect --tenant <tenant>`;

export class SecretsTokenStore implements TokenStore {
  private readonly o: Required<SecretsTokenStoreOptions>;

  constructor(options: SecretsTokenStoreOptions) {
    this.o = { leaseMs: 30_000, waitTimeoutMs: 40_000, pollMs: 100, ...options };
  }

  secretName(realmId: string): string {
    return `${this.o.secretPrefix}${realmId}`;
  }

  async get(realmId: string): Promise<QboTokens | undefined> {
    const SecretId = this.secretName(realmId);
    let text: string | undefined;
    try {
      text = (await this.o.secrets.send(new GetSecretValueCommand({ SecretId }))).SecretString;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text ?? '');
    } catch {
      // The parser's message would quote the secret: say only where the problem is.
      throw new ReconnectRequiredError(`secret ${SecretId} does not hold JSON`, reconnectHint(realmId));
    }
    const parsed = QboTokensSchema.safeParse(json);
    if (!parsed.success || parsed.data.realmId !== realmId) {
      const where = parsed.success
        ? `realmId is ${parsed.data.realmId}`
        : parsed.error.issues[0]?.path.join('.');
      throw new ReconnectRequiredError(
        `secret ${SecretId} does not hold QuickBooks tokens for realm ${realmId} (${where})`,
        reconnectHint(realmId),
      );
    }
    return parsed.data;
  }

  async put(tokens: QboTokens): Promise<void> {
    const parsed = QboTokensSchema.safeParse(tokens);
    if (!parsed.success) {
      throw new Error(
        `refusing to store incomplete QuickBooks tokens (${parsed.error.issues[0]?.path.join('.')})`,
      );
    }
    const SecretId = this.secretName(tokens.realmId);
    const SecretString = JSON.stringify(parsed.data);
    try {
      await this.o.secrets.send(new PutSecretValueCommand({ SecretId, SecretString }));
      return;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    try {
      await this.o.secrets.send(
        new CreateSecretCommand({
          Name: SecretId,
          SecretString,
          Description: `QuickBooks OAuth tokens for realm ${tokens.realmId} (momence-qbo-sync)`,
        }),
      );
    } catch (err) {
      // Someone created it meanwhile: write ours as the new current version.
      if (!(err instanceof ResourceExistsException)) throw err;
      await this.o.secrets.send(new PutSecretValueCommand({ SecretId, SecretString }));
    }
  }

  async withRefreshLock<T>(realmId: string, fn: () => Promise<T>): Promise<T> {
    const { doc, tenantsTable: TableName, leaseMs, waitTimeoutMs, pollMs } = this.o;
    const pk = refreshLockKey(realmId);
    const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
    const deadline = Date.now() + waitTimeoutMs;
    for (;;) {
      const now = Date.now();
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: {
              pk,
              kind: 'lock',
              owner,
              expiresAt: now + leaseMs,
              takenAt: new Date(now).toISOString(),
              // The table's TTL (epoch seconds): a lock its holder never released is deleted a day later.
              ttl: Math.floor(now / 1000) + 86_400,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        break;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      if (Date.now() >= deadline) {
        throw new TransientError(
          `timed out after ${waitTimeoutMs} ms waiting for the QuickBooks token refresh lock of realm ${realmId}: another process is refreshing; the lock frees itself within ${leaseMs} ms if that process died`,
          pollMs,
        );
      }
      await sleep(pollMs * (0.5 + Math.random()));
    }

    const ownerCondition = {
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
    };
    const heartbeat = setInterval(
      () => {
        doc
          .send(
            new UpdateCommand({
              TableName,
              Key: { pk },
              UpdateExpression: 'SET expiresAt = :exp',
              ...ownerCondition,
              ExpressionAttributeValues: { ':owner': owner, ':exp': Date.now() + leaseMs },
            }),
          )
          .catch(() => undefined); // lost it or a blip: the next beat or the release settles it
      },
      Math.max(10, Math.floor(leaseMs / 3)),
    );
    heartbeat.unref();
    try {
      return await fn();
    } finally {
      clearInterval(heartbeat);
      try {
        await doc.send(
          new DeleteCommand({
            TableName,
            Key: { pk },
            ...ownerCondition,
            ExpressionAttributeValues: { ':owner': owner },
          }),
        );
      } catch {
        // Not ours any more (taken over after its lease expired), or unreachable: it expires by itself.
      }
    }
  }
}
