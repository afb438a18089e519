/**
 * The Accounting API routes under /v3/company/:realmId, once the request is authenticated and admitted:
 * query, reads, writes (create/update/delete) and batch. Synchronous and HTTP-free: it maps a request to a
 * reply, so the server can wrap it with auth, limits, requestid replays and fault injection.
 */
import { z } from 'zod';
import { changeDataCapture } from './cdc.js';
import { qboTime } from './clock.js';
import type { Company } from './company.js';
import { updateCustomer, writeCustomer } from './customers.js';
import { readExchangeRate } from './exchange-rates.js';
import {
  batchTooLarge,
  concreteEnvelope,
  faultObject,
  invalidProperty,
  objectNotFound,
  QboFault,
  renderFault,
  requiredMissing,
  systemFault,
  unsupportedOperation,
} from './faults.js';
import { type QueryOptions, runQuery } from './query.js';
import { deleteTxn, updateTxn, writeTxn } from './transactions.js';
import type { FaultEnvelope, StandInEntityType } from './types.js';
import { parseBody, type TxnType } from './write-rules.js';

export interface ApiRequest {
  method: string;
  /** The path after /v3/company/:realmId, e.g. `/deposit` or `/customer/12`. */
  subPath: string;
  query: URLSearchParams;
  contentType: string;
  /** The decoded UTF-8 body (empty for GET). */
  body: string;
  /** The `requestid` of the request, when sent (bIds are then limited to 10 characters). */
  requestId?: string;
}

export interface Reply {
  status: number;
  body: string;
  contentType: string;
  location?: string;
  batchItems?: number;
}

export interface ApiContext {
  company: Company;
  nowMs: number;
  queryOptions: QueryOptions;
  /** The form of fault bodies and batch item faults (default `capital`). */
  envelope?: FaultEnvelope;
}

export const MAX_BATCH_ITEMS = 30;
const JSON_TYPE = 'application/json;charset=UTF-8';

const READABLE: Record<string, StandInEntityType> = {
  account: 'Account',
  class: 'Class',
  customer: 'Customer',
  deposit: 'Deposit',
  journalentry: 'JournalEntry',
};
const TXN: Record<string, TxnType> = { deposit: 'Deposit', journalentry: 'JournalEntry' };

export function jsonReply(status: number, value: Record<string, unknown>, nowMs: number): Reply {
  return { status, body: JSON.stringify({ ...value, time: qboTime(nowMs) }), contentType: JSON_TYPE };
}

export function faultReply(fault: QboFault, nowMs: number, envelope: FaultEnvelope = 'capital'): Reply {
  const { body, contentType } = renderFault(fault, nowMs, concreteEnvelope(envelope, fault.status));
  return {
    status: fault.status,
    body,
    contentType: contentType === 'application/json' ? JSON_TYPE : contentType,
  };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (e) {
    throw invalidProperty(`The body is not valid JSON: ${(e as Error).message}`);
  }
}

function requireJson(req: ApiRequest): unknown {
  if (!req.contentType.toLowerCase().startsWith('application/json')) {
    throw new QboFault(
      415,
      '415',
      'Unsupported Media Type',
      `Content-Type "${req.contentType}" is not supported here: send Content-Type: application/json.`,
    );
  }
  return parseJson(req.body);
}

/** A successful write (anything but a query): saved to the state file and kept for its requestid. */
export function isMutation(req: ApiRequest, reply: Reply): boolean {
  return (
    req.method === 'POST' && !/^\/query\/?$/i.test(req.subPath) && reply.status >= 200 && reply.status < 300
  );
}

export function handleApi(ctx: ApiContext, req: ApiRequest): Reply {
  try {
    return route(ctx, req);
  } catch (e) {
    if (e instanceof QboFault) return faultReply(e, ctx.nowMs, ctx.envelope);
    throw e;
  }
}

function route(ctx: ApiContext, req: ApiRequest): Reply {
  const parts = req.subPath.split('/').filter(Boolean);
  const head = (parts[0] ?? '').toLowerCase();
  const { company, nowMs } = ctx;

  if (head === 'query' && parts.length === 1) {
    let text: string | null;
    if (req.method === 'GET') {
      text = req.query.get('query');
    } else if (req.method === 'POST') {
      const type = req.contentType.toLowerCase();
      if (!type.startsWith('application/text') && !type.startsWith('text/plain')) {
        throw new QboFault(
          415,
          '415',
          'Unsupported Media Type',
          'POST /query takes the query as the body with Content-Type: application/text.',
        );
      }
      text = req.body;
    } else {
      throw unsupportedOperation(`${req.method} /query`);
    }
    if (!text?.trim()) throw requiredMissing('Required parameter query is missing in the request', 'query');
    return jsonReply(200, runQuery(company, text, ctx.queryOptions), nowMs);
  }

  if (head === 'preferences' && parts.length === 1 && req.method === 'GET') {
    return jsonReply(200, { Preferences: company.preferences() }, nowMs);
  }
  if (head === 'cdc' && parts.length === 1 && req.method === 'GET') {
    return jsonReply(200, changeDataCapture(company, req.query, nowMs), nowMs);
  }
  if (head === 'companyinfo' && parts.length === 2 && req.method === 'GET') {
    if (parts[1] !== company.settings.realmId && parts[1] !== '1') {
      throw objectNotFound(
        `CompanyInfo ${parts[1]} was not found; use /companyinfo/${company.settings.realmId}.`,
      );
    }
    return jsonReply(200, { CompanyInfo: company.companyInfo() }, nowMs);
  }

  if (head === 'exchangerate' && parts.length === 1 && req.method === 'GET') {
    return jsonReply(200, readExchangeRate(company.settings, req.query, nowMs), nowMs);
  }

  const readable = READABLE[head];
  if (readable && parts.length === 2 && req.method === 'GET') {
    const id = decodeURIComponent(parts[1] ?? '');
    const found = company.store(readable).get(id);
    if (!found)
      throw objectNotFound(
        `Another user has deleted this transaction or the ${readable} Id ${id} does not exist.`,
      );
    return jsonReply(200, { [readable]: found }, nowMs);
  }

  if (head === 'batch' && parts.length === 1 && req.method === 'POST') return batch(ctx, req);

  if (readable && parts.length === 1 && req.method === 'POST') {
    const body = requireJson(req);
    const operation = req.query.get('operation') ?? 'create';
    const result = write(ctx, readable, operation, body, 'direct');
    return jsonReply(200, result, nowMs);
  }

  throw unsupportedOperation(`${req.method} ${req.subPath}`);
}

/** One create/update/delete; returns `{ <Entity>: … }`. */
function write(
  ctx: ApiContext,
  entity: StandInEntityType,
  operation: string,
  body: unknown,
  via: 'direct' | 'batch',
): Record<string, unknown> {
  const wctx = { company: ctx.company, nowMs: ctx.nowMs };
  if (entity === 'Account' || entity === 'Class') {
    throw unsupportedOperation(
      `${operation} ${entity} (the stand-in's chart of accounts and classes are seeded only)`,
    );
  }
  if (
    via === 'batch' &&
    operation === 'create' &&
    body !== null &&
    typeof body === 'object' &&
    'Id' in body
  ) {
    throw invalidProperty(
      `Property Name:Id must not be sent with operation create (use operation update).`,
      'Id',
    );
  }
  if (entity === 'Customer') {
    if (operation === 'create') return { Customer: writeCustomer(wctx, body) };
    if (operation === 'update') return { Customer: updateCustomer(wctx, body) };
    throw unsupportedOperation(
      `${operation} Customer (make a customer inactive with a sparse update Active:false)`,
    );
  }
  const type = TXN[entity.toLowerCase()];
  if (!type) throw unsupportedOperation(`${operation} ${entity}`);
  if (operation === 'create') return { [type]: writeTxn(wctx, type, body) };
  if (operation === 'update') return { [type]: updateTxn(wctx, type, body) };
  if (operation === 'delete') return { [type]: deleteTxn(wctx, type, body) };
  throw unsupportedOperation(`${operation} ${type}`);
}

// ------------------------------------------------------------------------------------------ batch

const batchSchema = z.object({ BatchItemRequest: z.array(z.unknown()) });
const ENTITY_KEYS = ['Customer', 'Deposit', 'JournalEntry', 'Account', 'Class'] as const;
const itemSchema = z
  .object({
    bId: z.string().min(1),
    operation: z.enum(['create', 'update', 'delete']).optional(),
    optionsData: z.string().optional(),
    Query: z.string().optional(),
    Customer: z.unknown().optional(),
    Deposit: z.unknown().optional(),
    JournalEntry: z.unknown().optional(),
    Account: z.unknown().optional(),
    Class: z.unknown().optional(),
  })
  .strict();

/** Items of a batch body, or 1 when it is not one (the cost of the request toward the per-minute limit). */
export function batchCost(body: string): number {
  try {
    const parsed = batchSchema.safeParse(JSON.parse(body));
    return parsed.success ? Math.max(1, parsed.data.BatchItemRequest.length) : 1;
  } catch {
    return 1;
  }
}

function batch(ctx: ApiContext, req: ApiRequest): Reply {
  const raw = requireJson(req);
  const parsed = parseBody(batchSchema, raw, 'BatchItemRequest');
  const items = parsed.BatchItemRequest;
  if (items.length > MAX_BATCH_ITEMS) throw batchTooLarge(items.length);
  if (items.length === 0)
    throw requiredMissing('BatchItemRequest is empty: send 1 to 30 items.', 'BatchItemRequest');

  type Out = Record<string, unknown>;
  const out: Out[] = new Array(items.length);
  // Batch answers are JSON: an XML envelope renders its items with null fields instead.
  const itemEnvelope = concreteEnvelope(ctx.envelope ?? 'capital', 200);
  const itemFault = (bId: unknown, fault: QboFault): Out => ({
    ...(typeof bId === 'string' ? { bId } : {}),
    ...faultObject(fault, itemEnvelope === 'xml' ? 'nulls' : itemEnvelope),
  });
  const run = (bId: unknown, f: () => Out): Out => {
    try {
      return { bId, ...f() };
    } catch (e) {
      if (e instanceof QboFault) return itemFault(bId, e);
      return itemFault(bId, systemFault(500));
    }
  };

  const writes: Array<{ index: number; item: z.infer<typeof itemSchema> }> = [];
  // Queries see the company as it was before this batch: items cannot see each other's effects.
  for (const [index, rawItem] of items.entries()) {
    const result = itemSchema.safeParse(rawItem);
    const bId = (rawItem as { bId?: unknown } | null)?.bId;
    if (!result.success) {
      const issue = result.error.issues[0];
      const keys = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : '';
      out[index] = itemFault(
        bId,
        keys
          ? invalidProperty(`Property Name:${keys} is not supported in a batch item by the stand-in`, keys)
          : issue?.path[0] === 'bId'
            ? requiredMissing('Required parameter bId is missing in the batch item', 'bId')
            : invalidProperty(`Invalid batch item: ${issue?.path.join('.')} ${issue?.message}`),
      );
      continue;
    }
    const item = result.data;
    if (req.requestId !== undefined && item.bId.length > 10) {
      out[index] = itemFault(
        item.bId,
        invalidProperty(
          `bId "${item.bId}" is longer than 10 characters, the limit when requestid is used`,
          'bId',
        ),
      );
      continue;
    }
    if (item.Query !== undefined) {
      const query = item.Query;
      out[index] = run(item.bId, () => runQuery(ctx.company, query, ctx.queryOptions));
      continue;
    }
    writes.push({ index, item });
  }
  for (const { index, item } of writes) {
    out[index] = run(item.bId, () => {
      const present = ENTITY_KEYS.filter((k) => item[k] !== undefined);
      const entity = present[0];
      if (present.length !== 1 || entity === undefined) {
        throw requiredMissing('A batch item needs exactly one of Query, Customer, Deposit or JournalEntry.');
      }
      if (item.operation === undefined)
        throw requiredMissing('Required parameter operation is missing in the batch item');
      if (item.optionsData !== undefined)
        throw unsupportedOperation(`optionsData "${item.optionsData}" in the stand-in`);
      return write(ctx, entity, item.operation, item[entity], 'batch');
    });
  }
  return { ...jsonReply(200, { BatchItemResponse: out }, ctx.nowMs), batchItems: items.length };
}
