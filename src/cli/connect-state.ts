/**
 * Writes pending QuickBooks connections (`connect --tenant T`) into the tenants table, in the item format the
 * callback's store reads (`DynamoConnectStateStore` of src/runtime.ts): `{pk: "STATE#<state>", tenantId, expiresAt
 * (epoch ms), redirectUri}`. The callback adds `realmId` and `completedAt`. `ttl` (epoch seconds, a day after
 * expiry) lets a table TTL clean old states up.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PendingConnection } from '../app/connect-quickbooks.js';
import { connectStateKey } from '../runtime.js';

export class DynamoConnectStateStore {
  constructor(private readonly opts: { doc: DynamoDBDocumentClient; tableName: string }) {}

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
}
