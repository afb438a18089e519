/**
 * The payout ledger in the ledger table (pk `payoutId`; GSI `byTenant`: pk `tenantId`, sk `updatedAt`, all
 * attributes projected). Every change is conditional on the row's `version`, so two workers can never both move a
 * payout forward from the same state. Rows read back are validated. `calls` counts DynamoDB requests.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  type ActionRecorder,
  type Ledger,
  type LedgerAction,
  type LedgerRecord,
  MAX_LEDGER_ACTIONS,
} from '../../app/ports.js';
import { LEDGER_STATUSES, type LedgerStatus } from '../../domain/types.js';
import { isConditionFailed, parseItem } from './util.js';

const PostedRefSchema = z.object({ type: z.enum(['Deposit', 'JournalEntry']), id: z.string() });
const SnapshotSchema = z.object({
  type: z.enum(['Deposit', 'JournalEntry']),
  txnDate: z.string(),
  currency: z.string(),
  total: z.string(),
  depositAccount: z.string().nullable(),
  lines: z.array(z.string()),
  names: z.record(z.string(), z.string()),
});
const DRIFT_KINDS = ['deleted', 'changed', 'redated'] as const;
const DriftSchema = z.object({
  finding: z.enum(DRIFT_KINDS),
  detail: z.string(),
  foundAt: z.string(),
  found: SnapshotSchema.nullable(),
});

export const LedgerRecordSchema = z.object({
  payoutId: z.string(),
  tenantId: z.string(),
  status: z.enum(LEDGER_STATUSES),
  reason: z.string().nullable(),
  hint: z.string().nullable(),
  quickbooks: PostedRefSchema.nullable(),
  intent: z
    .object({
      requestId: z.string(),
      entryType: z.enum(['Deposit', 'JournalEntry']),
      createdAt: z.string().optional(),
    })
    .nullable(),
  generation: z.number().int(),
  version: z.number().int(),
  lineDetailUsed: z.string().optional(),
  folded: z.boolean().optional(),
  customersAfterPosting: z.number().int().optional(),
  attempts: z.number().int(),
  lastEventId: z.string().optional(),
  posted: SnapshotSchema.nullable().optional(),
  drift: DriftSchema.nullable().optional(),
  accepted: z
    .object({ finding: z.enum(DRIFT_KINDS), detail: z.string(), at: z.string(), ref: PostedRefSchema })
    .nullable()
    .optional(),
  reversal: z.object({ reverses: PostedRefSchema, expected: SnapshotSchema }).nullable().optional(),
  earlierReversals: z
    .array(
      z.object({
        reverses: PostedRefSchema,
        reversal: PostedRefSchema,
        expected: SnapshotSchema.nullable(),
        drift: DriftSchema.nullable().optional(),
      }),
    )
    .nullable()
    .optional(),
  originalDate: z.string().nullable().optional(),
  actions: z
    .array(
      z.object({
        action: z.enum(['sync', 'resync', 'replay', 'preview']),
        by: z.string(),
        via: z.enum(['cli', 'console']),
        at: z.string(),
      }),
    )
    .optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
}) satisfies z.ZodType<LedgerRecord>;

/** Fields `update` may not touch: the key, the version it manages itself, and the creation time. */
const FIXED = new Set(['payoutId', 'version', 'createdAt']);
const DEFAULT_LIMIT = 50;

export interface DynamoLedgerOptions {
  doc: DynamoDBDocumentClient;
  /** The ledger table (env `LEDGER_TABLE`). */
  tableName: string;
  /** Clock, for tests. Default `() => new Date()`. */
  now?: () => Date;
}

export class DynamoLedger implements Ledger, ActionRecorder {
  /** DynamoDB requests made. */
  calls = 0;
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => Date;

  constructor(options: DynamoLedgerOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.now = options.now ?? (() => new Date());
  }

  async get(payoutId: string): Promise<LedgerRecord | undefined> {
    this.calls++;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { payoutId }, ConsistentRead: true }),
    );
    return Item ? this.parse(Item) : undefined;
  }

  /** A new row is `RECEIVED`, version 0, generation 0, attempts 0. An existing row is returned unchanged. */
  async ensure(payoutId: string, tenantId: string, eventId?: string): Promise<LedgerRecord> {
    const at = this.now().toISOString();
    const row: LedgerRecord = {
      payoutId,
      tenantId,
      status: 'RECEIVED',
      reason: null,
      hint: null,
      quickbooks: null,
      intent: null,
      generation: 0,
      version: 0,
      attempts: 0,
      ...(eventId !== undefined ? { lastEventId: eventId } : {}),
      createdAt: at,
      updatedAt: at,
    };
    try {
      this.calls++;
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: row,
          ConditionExpression: 'attribute_not_exists(payoutId)',
        }),
      );
      return row;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const existing = await this.get(payoutId);
    if (!existing) throw new Error(`ledger row ${payoutId} exists but could not be read back; retry`);
    return existing;
  }

  async update(
    payoutId: string,
    expectedVersion: number,
    patch: Partial<Omit<LedgerRecord, 'payoutId' | 'version' | 'createdAt'>>,
  ): Promise<LedgerRecord | undefined> {
    const fields = Object.entries(patch).filter(([k, v]) => v !== undefined && !FIXED.has(k));
    if (!fields.some(([k]) => k === 'updatedAt')) fields.push(['updatedAt', this.now().toISOString()]);
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':expected': expectedVersion, ':one': 1 };
    const sets = ['#version = #version + :one'];
    fields.forEach(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
      sets.push(`#f${i} = :v${i}`);
    });
    try {
      this.calls++;
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { payoutId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(payoutId) AND #version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? this.parse(Attributes) : undefined;
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }

  /**
   * Appends to `actions` without touching `version` or `updatedAt`: a person's request never races the worker's
   * conditional updates (which SET only the fields they change). Beyond `MAX_LEDGER_ACTIONS` the oldest are removed,
   * conditionally on the list's length, so two concurrent appends never remove each other's entry.
   */
  async noteAction(payoutId: string, action: LedgerAction): Promise<void> {
    let length: number;
    try {
      this.calls++;
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { payoutId },
          UpdateExpression: 'SET #actions = list_append(if_not_exists(#actions, :empty), :action)',
          ConditionExpression: 'attribute_exists(payoutId)',
          ExpressionAttributeNames: { '#actions': 'actions' },
          ExpressionAttributeValues: { ':empty': [], ':action': [action] },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      length = Array.isArray(Attributes?.actions) ? Attributes.actions.length : 0;
    } catch (err) {
      if (isConditionFailed(err)) return; // no such row: nothing to record on
      throw err;
    }
    const excess = length - MAX_LEDGER_ACTIONS;
    if (excess <= 0) return;
    const removals = Array.from({ length: excess }, (_, i) => `#actions[${i}]`).join(', ');
    try {
      this.calls++;
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { payoutId },
          UpdateExpression: `REMOVE ${removals}`,
          ConditionExpression: 'size(#actions) = :length',
          ExpressionAttributeNames: { '#actions': 'actions' },
          ExpressionAttributeValues: { ':length': length },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err; // another append came first: it trims
    }
  }

  /**
   * Newest first by `updatedAt`. With `tenantId`: a query of the `byTenant` index, newest first, paged until `limit`
   * rows pass the status filter. Without: a full scan, sorted here (the operator's `payouts list`).
   */
  async list(filter: { status?: LedgerStatus; tenantId?: string; limit?: number }): Promise<LedgerRecord[]> {
    const limit = filter.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`limit must be a whole number of at least 1, not ${limit}`);
    const names: Record<string, string> = filter.status ? { '#status': 'status' } : {};
    const values: Record<string, unknown> = filter.status ? { ':status': filter.status } : {};
    const statusFilter = filter.status ? { FilterExpression: '#status = :status' } : {};
    const rows: LedgerRecord[] = [];
    let start: Record<string, unknown> | undefined;
    if (filter.tenantId !== undefined) {
      do {
        this.calls++;
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: 'byTenant',
            KeyConditionExpression: '#tenant = :tenant',
            ScanIndexForward: false,
            ...statusFilter,
            ExpressionAttributeNames: { ...names, '#tenant': 'tenantId' },
            ExpressionAttributeValues: { ...values, ':tenant': filter.tenantId },
            // A filter applies after Limit, so with one read on until enough rows passed it.
            ...(filter.status ? {} : { Limit: limit }),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) rows.push(this.parse(item));
        start = page.LastEvaluatedKey;
      } while (start && rows.length < limit);
      return rows.slice(0, limit);
    }
    do {
      this.calls++;
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          ...statusFilter,
          ...(filter.status ? { ExpressionAttributeNames: names, ExpressionAttributeValues: values } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) rows.push(this.parse(item));
      start = page.LastEvaluatedKey;
    } while (start);
    rows.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.payoutId.localeCompare(b.payoutId));
    return rows.slice(0, limit);
  }

  private parse(item: Record<string, unknown>): LedgerRecord {
    return parseItem(LedgerRecordSchema, item, `ledger row ${String(item.payoutId)} (table ${this.table})`);
  }
}
