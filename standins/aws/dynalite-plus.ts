/**
 * dynalite-plus: dynalite 4 (in-process DynamoDB, memory or LevelDB) with the operations it lacks filled in:
 * TransactWriteItems, TransactGetItems, UpdateTimeToLive and DescribeTimeToLive.
 *
 * Every other operation goes straight to dynalite's own request handler (same server, same port, no extra hop).
 * The added operations are built from ordinary single-item calls that this server makes to itself:
 * - TransactWriteItems: snapshot every target item, check every condition against the unchanged table, then apply
 *   the writes one by one; any failure restores the snapshots and answers `TransactionCanceledException` with one
 *   `CancellationReasons` entry per item (`None` / `ConditionalCheckFailed`), as DynamoDB does.
 * - TTL settings are kept in memory (items never expire: DynamoDB Local does not expire them either).
 *
 * Limits (fine for tests and local mode, documented in docs/standins.md, "AWS, offline"): transactions are serialised with
 * each other but not isolated from concurrent single-item writers; no ClientRequestToken idempotency.
 */
import { mkdirSync } from 'node:fs';
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { z } from 'zod';

export interface DynalitePlusOptions {
  /** LevelDB folder (created if missing); in memory when omitted. */
  path?: string;
  /** Port to listen on; 0 (default) picks a free one. Always bound to 127.0.0.1. */
  port?: number;
}

export interface DynalitePlus {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
interface Reply {
  status: number;
  body: Json;
}

const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
const MAX_TRANSACT_ITEMS = 100;
const AttrMap = z.record(z.string(), z.unknown());
const Names = z.record(z.string(), z.string()).optional();
const Values = AttrMap.optional();
const opFields = {
  TableName: z.string().min(1),
  ConditionExpression: z.string().optional(),
  ExpressionAttributeNames: Names,
  ExpressionAttributeValues: Values,
  ReturnValuesOnConditionCheckFailure: z.enum(['ALL_OLD', 'NONE']).optional(),
};
const TransactWriteSchema = z.object({
  TransactItems: z
    .array(
      z.object({
        Put: z.object({ ...opFields, Item: AttrMap }).optional(),
        Update: z.object({ ...opFields, Key: AttrMap, UpdateExpression: z.string() }).optional(),
        Delete: z.object({ ...opFields, Key: AttrMap }).optional(),
        ConditionCheck: z.object({ ...opFields, Key: AttrMap, ConditionExpression: z.string() }).optional(),
      }),
    )
    .min(1)
    .max(MAX_TRANSACT_ITEMS),
});
const TransactGetSchema = z.object({
  TransactItems: z
    .array(
      z.object({
        Get: z.object({
          TableName: z.string().min(1),
          Key: AttrMap,
          ProjectionExpression: z.string().optional(),
          ExpressionAttributeNames: Names,
        }),
      }),
    )
    .min(1)
    .max(MAX_TRANSACT_ITEMS),
});
const UpdateTtlSchema = z.object({
  TableName: z.string().min(1),
  TimeToLiveSpecification: z.object({ Enabled: z.boolean(), AttributeName: z.string().min(1) }),
});
const DescribeTtlSchema = z.object({ TableName: z.string().min(1) });
const KeySchemaResponse = z.object({
  Table: z.object({ KeySchema: z.array(z.object({ AttributeName: z.string(), KeyType: z.string() })) }),
});
const ItemResponse = z.object({ Item: AttrMap.optional() });

type WriteKind = 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
interface OpParams {
  TableName: string;
  ConditionExpression?: string | undefined;
  ExpressionAttributeNames?: Record<string, string> | undefined;
  ExpressionAttributeValues?: Json | undefined;
  ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE' | undefined;
  [field: string]: unknown;
}
interface WriteOp {
  kind: WriteKind;
  params: OpParams;
  table: string;
  key: Json;
  before?: Json;
}

function errorReply(type: string, message: string, extra: Json = {}): Reply {
  return { status: 400, body: { __type: `${ERROR_PREFIX}${type}`, message, ...extra } };
}

function errorType(reply: Reply): string {
  const t = reply.body.__type;
  return typeof t === 'string' ? (t.split('#').pop() ?? t) : '';
}

/** Keeps only the `#name` / `:value` entries an expression uses (DynamoDB rejects unused ones). */
function usedBy(expression: string, map: Record<string, unknown> | undefined, sigil: '#' | ':') {
  if (!map) return undefined;
  const used = new Set(expression.match(sigil === '#' ? /#[A-Za-z0-9_]+/g : /:[A-Za-z0-9_]+/g) ?? []);
  const kept = Object.fromEntries(Object.entries(map).filter(([k]) => used.has(k)));
  return Object.keys(kept).length > 0 ? kept : undefined;
}

function conditionOnly(op: WriteOp): Json {
  const expr = op.params.ConditionExpression ?? '';
  const out: Json = { TableName: op.table, ConditionExpression: expr };
  const names = usedBy(expr, op.params.ExpressionAttributeNames, '#');
  const values = usedBy(expr, op.params.ExpressionAttributeValues, ':');
  if (names) out.ExpressionAttributeNames = names;
  if (values) out.ExpressionAttributeValues = values;
  return out;
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown, op: string): T | Reply {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return errorReply(
    'ValidationException',
    `${op}: ${issue ? `${issue.path.join('.') || 'request'}: ${issue.message}` : 'invalid request'}`,
  );
}

function isReply(x: unknown): x is Reply {
  return typeof x === 'object' && x !== null && 'status' in x && 'body' in x;
}

export async function startDynalitePlus(options: DynalitePlusOptions = {}): Promise<DynalitePlus> {
  if (options.path) mkdirSync(options.path, { recursive: true });
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const inner = server.listeners('request')[0] as RequestListener | undefined;
  if (!inner)
    throw new Error('dynalite-plus: dynalite did not register a request handler (unexpected version?)');
  server.removeAllListeners('request');

  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const ttl = new Map<string, string>();
  let port = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };

  /** One single-item call to dynalite, through this same server (dynalite checks the auth header's shape only). */
  function call(op: string, body: Json): Promise<Reply> {
    const payload = JSON.stringify(body);
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/',
          agent,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'content-length': Buffer.byteLength(payload),
            'x-amz-target': `DynamoDB_20120810.${op}`,
            'x-amz-date': date,
            authorization: `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 500, body: text ? (JSON.parse(text) as Json) : {} });
            } catch {
              resolve(errorReply('InternalServerError', `dynalite answered ${op} with non-JSON: ${text}`));
            }
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async function tableKey(table: string, cache: Map<string, string[]>): Promise<string[] | Reply> {
    const known = cache.get(table);
    if (known) return known;
    const r = await call('DescribeTable', { TableName: table });
    if (r.status !== 200) return r;
    const names = KeySchemaResponse.parse(r.body).Table.KeySchema.map((k) => k.AttributeName);
    cache.set(table, names);
    return names;
  }

  async function restore(ops: readonly WriteOp[]): Promise<void> {
    for (const op of ops) {
      if (op.before) await call('PutItem', { TableName: op.table, Item: op.before });
      else await call('DeleteItem', { TableName: op.table, Key: op.key });
    }
  }

  async function transactWrite(raw: unknown): Promise<Reply> {
    const input = parseBody(TransactWriteSchema, raw, 'TransactWriteItems');
    if (isReply(input)) return input;
    const keyCache = new Map<string, string[]>();
    const ops: WriteOp[] = [];
    const seen = new Set<string>();
    for (const [i, item] of input.TransactItems.entries()) {
      const kinds = (['Put', 'Update', 'Delete', 'ConditionCheck'] as const).filter((k) => item[k]);
      const kind = kinds[0];
      const params = kind ? item[kind] : undefined;
      if (kinds.length !== 1 || !kind || !params) {
        return errorReply(
          'ValidationException',
          `TransactItems[${i}] must hold exactly one of Put, Update, Delete, ConditionCheck`,
        );
      }
      let key: Json;
      if (kind === 'Put') {
        const names = await tableKey(params.TableName, keyCache);
        if (isReply(names)) return names;
        const itemAttrs = 'Item' in params ? params.Item : {};
        key = Object.fromEntries(names.map((n) => [n, itemAttrs[n]]));
      } else {
        key = 'Key' in params ? params.Key : {};
      }
      const id = `${params.TableName}\u0000${JSON.stringify(Object.entries(key).sort(([a], [b]) => a.localeCompare(b)))}`;
      if (seen.has(id)) {
        return errorReply(
          'ValidationException',
          'Transaction request cannot include multiple operations on one item',
        );
      }
      seen.add(id);
      ops.push({ kind, params, table: params.TableName, key });
    }

    return serial(async () => {
      // 1. Snapshot every target item.
      for (const op of ops) {
        const r = await call('GetItem', { TableName: op.table, Key: op.key, ConsistentRead: true });
        if (r.status !== 200) return r;
        const item = ItemResponse.parse(r.body).Item;
        if (item) op.before = item;
      }
      // 2. Check every condition against the unchanged table, with a write that changes nothing.
      const reasons: Json[] = [];
      let cancelled = false;
      for (const op of ops) {
        if (!op.params.ConditionExpression) {
          reasons.push({ Code: 'None' });
          continue;
        }
        const probe = conditionOnly(op);
        const r = op.before
          ? await call('PutItem', { ...probe, Item: op.before })
          : await call('DeleteItem', { ...probe, Key: op.key });
        if (r.status === 200) {
          reasons.push({ Code: 'None' });
        } else if (errorType(r) === 'ConditionalCheckFailedException') {
          cancelled = true;
          reasons.push({
            Code: 'ConditionalCheckFailed',
            Message: 'The conditional request failed',
            ...(op.params.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && op.before
              ? { Item: op.before }
              : {}),
          });
        } else {
          return r;
        }
      }
      if (cancelled) return cancelledReply(reasons);
      // 3. Apply the writes; on any failure put every touched item back as it was.
      const applied: WriteOp[] = [];
      for (const [i, op] of ops.entries()) {
        if (op.kind === 'ConditionCheck') continue;
        const { ReturnValuesOnConditionCheckFailure: _ignored, ...params } = op.params;
        const action = op.kind === 'Put' ? 'PutItem' : op.kind === 'Update' ? 'UpdateItem' : 'DeleteItem';
        applied.push(op);
        const r = await call(action, params);
        if (r.status !== 200) {
          await restore(applied);
          if (errorType(r) !== 'ConditionalCheckFailedException') return r;
          // A concurrent single-item writer changed the item between the check and the write.
          return cancelledReply(
            ops.map((_, j) =>
              j === i
                ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }
                : { Code: 'None' },
            ),
          );
        }
      }
      return { status: 200, body: {} };
    });
  }

  function cancelledReply(reasons: Json[]): Reply {
    const codes = reasons.map((r) => String(r.Code)).join(', ');
    return errorReply(
      'TransactionCanceledException',
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
      { CancellationReasons: reasons },
    );
  }

  async function transactGet(raw: unknown): Promise<Reply> {
    const input = parseBody(TransactGetSchema, raw, 'TransactGetItems');
    if (isReply(input)) return input;
    return serial(async () => {
      const responses: Json[] = [];
      for (const { Get } of input.TransactItems) {
        const r = await call('GetItem', { ...Get, ConsistentRead: true });
        if (r.status !== 200) return r;
        const item = ItemResponse.parse(r.body).Item;
        responses.push(item ? { Item: item } : {});
      }
      return { status: 200, body: { Responses: responses } };
    });
  }

  async function updateTtl(raw: unknown): Promise<Reply> {
    const input = parseBody(UpdateTtlSchema, raw, 'UpdateTimeToLive');
    if (isReply(input)) return input;
    const exists = await call('DescribeTable', { TableName: input.TableName });
    if (exists.status !== 200) return exists;
    const spec = input.TimeToLiveSpecification;
    const current = ttl.get(input.TableName);
    if (spec.Enabled && current !== undefined)
      return errorReply('ValidationException', 'TimeToLive is already enabled');
    if (!spec.Enabled && current === undefined)
      return errorReply('ValidationException', 'TimeToLive is already disabled');
    if (spec.Enabled) ttl.set(input.TableName, spec.AttributeName);
    else ttl.delete(input.TableName);
    return { status: 200, body: { TimeToLiveSpecification: spec } };
  }

  async function describeTtl(raw: unknown): Promise<Reply> {
    const input = parseBody(DescribeTtlSchema, raw, 'DescribeTimeToLive');
    if (isReply(input)) return input;
    const exists = await call('DescribeTable', { TableName: input.TableName });
    if (exists.status !== 200) return exists;
    const attr = ttl.get(input.TableName);
    return {
      status: 200,
      body: {
        TimeToLiveDescription: attr
          ? { TimeToLiveStatus: 'ENABLED', AttributeName: attr }
          : { TimeToLiveStatus: 'DISABLED' },
      },
    };
  }

  const added: Record<string, (body: unknown) => Promise<Reply>> = {
    TransactWriteItems: transactWrite,
    TransactGetItems: transactGet,
    UpdateTimeToLive: updateTtl,
    DescribeTimeToLive: describeTtl,
  };

  function send(res: ServerResponse, reply: Reply): void {
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': `local-${Date.now().toString(36)}`,
    });
    res.end(text);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const handler = req.method === 'POST' ? added[target.split('.')[1] ?? ''] : undefined;
    if (!handler) {
      inner(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        send(res, { status: 400, body: { __type: 'com.amazon.coral.service#SerializationException' } });
        return;
      }
      handler(body).then(
        (reply) => send(res, reply),
        (err: unknown) =>
          send(res, {
            status: 500,
            body: { __type: `${ERROR_PREFIX}InternalServerError`, message: String(err) },
          }),
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        agent.destroy();
        server.close((err?: Error) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
