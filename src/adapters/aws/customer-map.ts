/**
 * email → QuickBooks customer id, per realm, in the customers table (pk `realmId`, sk `email`, attr `customerId`,
 * and `currency`: the customer's QuickBooks currency, absent in rows written before it was stored).
 * Reads are BatchGetItem of ≤ 100 keys, writes BatchWriteItem of ≤ 25 items; whatever DynamoDB leaves unprocessed
 * is retried with jittered backoff. `calls` counts every request (the benchmark reports it).
 *
 * Its items are three or four strings, so they are written as DynamoDB attribute values here and sent with the
 * low-level commands (through the same client): the Document client's generic marshalling cost about a quarter of
 * each request's CPU, and a 10,000-transaction payout makes some 370 of them (docs/benchmark.md).
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { TransientError } from '../../app/errors.js';
import type { CustomerMap, CustomerMapping } from '../../app/ports.js';
import { backoffMs, parseItem, sleep } from './util.js';

const READ_BATCH = 100;
const WRITE_BATCH = 25;
const MappingItem = z.object({
  realmId: z.string(),
  email: z.string(),
  customerId: z.string().min(1),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
});

export interface DynamoCustomerMapOptions {
  doc: DynamoDBDocumentClient;
  /** The customers table (env `CUSTOMERS_TABLE`). */
  tableName: string;
  /** Batches in flight at once. Default 4. */
  concurrency?: number;
  /** Rounds of retrying unprocessed keys/items before giving up with a TransientError. Default 8. */
  maxRetries?: number;
}

export class DynamoCustomerMap implements CustomerMap {
  /** DynamoDB requests made, retries included. */
  calls = 0;
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly concurrency: number;
  private readonly maxRetries: number;

  constructor(options: DynamoCustomerMapOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.maxRetries = options.maxRetries ?? 8;
  }

  async getMany(realmId: string, emails: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.getMappings(realmId, emails);
    return new Map([...rows].map(([email, row]) => [email, row.customerId]));
  }

  async getMappings(realmId: string, emails: readonly string[]): Promise<Map<string, CustomerMapping>> {
    const found = new Map<string, CustomerMapping>();
    const unique = [...new Set(emails)];
    await this.inBatches(unique, READ_BATCH, (batch) =>
      this.untilProcessed(
        'reads',
        batch.map(
          (email): Record<string, AttributeValue> => ({ realmId: { S: realmId }, email: { S: email } }),
        ),
        async (keys) => {
          const out = await this.doc.send(
            new BatchGetItemCommand({
              RequestItems: {
                [this.table]: {
                  Keys: keys,
                  ProjectionExpression: 'realmId, email, customerId, currency',
                },
              },
            }),
          );
          for (const item of out.Responses?.[this.table] ?? []) {
            const row = parseItem(
              MappingItem,
              {
                realmId: item.realmId?.S,
                email: item.email?.S,
                customerId: item.customerId?.S,
                currency: item.currency?.S,
              },
              `${this.table} item (${String(item.realmId?.S)}, ${String(item.email?.S)})`,
            );
            found.set(row.email, {
              customerId: row.customerId,
              ...(row.currency !== undefined ? { currency: row.currency } : {}),
            });
          }
          return out.UnprocessedKeys?.[this.table]?.Keys ?? [];
        },
      ),
    );
    return found;
  }

  async putMany(
    realmId: string,
    entries: readonly { email: string; customerId: string; currency?: string }[],
  ): Promise<void> {
    // BatchWriteItem refuses two writes of one key in a request: the last entry for an email wins.
    const byEmail = new Map(entries.map((e) => [e.email, e]));
    const items = [...byEmail].map(
      ([email, e]): Record<string, AttributeValue> => ({
        realmId: { S: realmId },
        email: { S: email },
        customerId: { S: e.customerId },
        ...(e.currency ? { currency: { S: e.currency.toUpperCase() } } : {}),
      }),
    );
    await this.inBatches(items, WRITE_BATCH, (batch) =>
      this.untilProcessed(
        'writes',
        batch.map((Item): WriteRequest => ({ PutRequest: { Item } })),
        async (requests) => {
          const out = await this.doc.send(
            new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } }),
          );
          return out.UnprocessedItems?.[this.table] ?? [];
        },
      ),
    );
  }

  /**
   * Sends `pending` and then whatever DynamoDB leaves unprocessed, with jittered backoff, until none is left; after
   * `maxRetries` rounds, a TransientError (the queue retries the payout later).
   */
  private async untilProcessed<T>(
    what: 'reads' | 'writes',
    pending: T[],
    send: (pending: T[]) => Promise<T[]>,
  ): Promise<void> {
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > this.maxRetries) {
        throw new TransientError(
          `DynamoDB kept ${pending.length} customer-map ${what} unprocessed (throttled); retry later`,
        );
      }
      if (attempt > 0) await sleep(backoffMs(attempt));
      this.calls++;
      pending = await send(pending);
    }
  }

  private async inBatches<T>(
    all: readonly T[],
    size: number,
    run: (batch: T[]) => Promise<void>,
  ): Promise<void> {
    const batches: T[][] = [];
    for (let i = 0; i < all.length; i += size) batches.push(all.slice(i, i + size));
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        if (batch) await run(batch);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
  }
}
