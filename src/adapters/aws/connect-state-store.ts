/**
 * Pending QuickBooks connections in the tenants table: item `{pk: "STATE#<state>", kind: "connect-state", tenantId,
 * expiresAt (epoch ms), redirectUri?, ttl}`, written by `qbo-sync connect --tenant T` (`put`) and read and completed
 * by the OAuth callback (`get`; `claim`: `usedAt`, conditionally, once, before the code exchange; `complete`: it adds
 * `realmId` and `completedAt`, conditionally, once). `ttl` (epoch seconds, a day after expiry) is the tenants
 * table's TTL attribute: old states are deleted by DynamoDB.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { PendingConnection } from '../../app/connect-quickbooks.js';
import type { PendingConnectionStore } from '../../app/start-connection.js';

/** The tenants-table key of a pending `connect` state. */
export function connectStateKey(state: string): string {
  return `STATE#${state}`;
}

/** `expiresAt`: epoch ms, epoch seconds or an ISO date (items written by older CLIs are read too). */
const ExpiresAtSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: 'expiresAt must be epoch ms, epoch seconds or an ISO date' });
    return z.NEVER;
  }
  return n < 1e12 ? n * 1000 : n;
});

const PendingItemSchema = z
  .object({
    pk: z.string(),
    tenantId: z.string().min(1),
    expiresAt: ExpiresAtSchema,
    redirectUri: z.string().optional(),
    usedAt: z.string().optional(),
    realmId: z.string().optional(),
    completedAt: z.string().optional(),
  })
  .loose();

export interface DynamoConnectStateStoreOptions {
  doc: DynamoDBDocumentClient;
  /** The tenants table (`TENANTS_TABLE`). */
  tableName: string;
}

export class DynamoConnectStateStore implements PendingConnectionStore {
  constructor(private readonly opts: DynamoConnectStateStoreOptions) {}

  /** Stores a new pending connection; refuses a state that already exists. */
  async put(pending: PendingConnection): Promise<void> {
    await this.opts.doc.send(
      new PutCommand({
        TableName: this.opts.tableName,
        Item: {
          pk: connectStateKey(pending.state),
          kind: 'connect-state',
          tenantId: pending.tenantId,
          expiresAt: pending.expiresAt,
          ...(pending.redirectUri !== undefined ? { redirectUri: pending.redirectUri } : {}),
          ttl: Math.floor(pending.expiresAt / 1000) + 86_400,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /** The pending connection, or undefined when the state is unknown or its item unreadable. */
  async get(state: string): Promise<PendingConnection | undefined> {
    const { Item } = await this.opts.doc.send(
      new GetCommand({
        TableName: this.opts.tableName,
        Key: { pk: connectStateKey(state) },
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return undefined;
    const parsed = PendingItemSchema.safeParse(Item);
    if (!parsed.success) return undefined;
    const { tenantId, expiresAt, redirectUri, usedAt, realmId, completedAt } = parsed.data;
    return {
      state,
      tenantId,
      expiresAt,
      ...(redirectUri !== undefined ? { redirectUri } : {}),
      ...(usedAt !== undefined ? { usedAt } : {}),
      ...(realmId !== undefined ? { realmId } : {}),
      ...(completedAt !== undefined ? { completedAt } : {}),
    };
  }

  /** Marks the state used, atomically and once, before its code is exchanged: false when used or unknown. */
  async claim(state: string, usedAt: string): Promise<boolean> {
    try {
      await this.opts.doc.send(
        new UpdateCommand({
          TableName: this.opts.tableName,
          Key: { pk: connectStateKey(state) },
          UpdateExpression: 'SET usedAt = :at',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(usedAt) AND attribute_not_exists(completedAt)',
          ExpressionAttributeValues: { ':at': usedAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Records the outcome, once: false when it was already completed (or does not exist). */
  async complete(state: string, outcome: { realmId: string; completedAt: string }): Promise<boolean> {
    try {
      await this.opts.doc.send(
        new UpdateCommand({
          TableName: this.opts.tableName,
          Key: { pk: connectStateKey(state) },
          UpdateExpression: 'SET realmId = :realm, completedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(completedAt)',
          ExpressionAttributeValues: { ':realm': outcome.realmId, ':at': outcome.completedAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
