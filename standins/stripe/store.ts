/**
 * The stand-in's data and routes: payouts and their balance transactions per account (`platform`, or an `acct_…`
 * selected by the `Stripe-Account` header), rendered as Stripe renders them: sources as ids unless expanded,
 * lists newest first as `{object:'list', data, has_more, url}`, filtering by payout refused for manual payouts.
 */
import type { BalanceTransaction, Payout } from '../../src/domain/stripe.js';
import { invalid, noSuch } from './errors.js';
import {
  checkParams,
  expandParam,
  KNOWN_PAYOUT_STATUSES,
  paginate,
  rangeParam,
  stringParam,
} from './params.js';
import type { Query } from './query.js';

export type JsonObject = Record<string, unknown>;

interface StoredPayout {
  payout: Payout;
  /** Newest first (by `created`, ties keep the given order). */
  transactions: BalanceTransaction[];
  /** Transaction id → index in `transactions`, for cursors. */
  positions: Map<string, number>;
  /** Insertion sequence, so payouts created in the same second still list newest first. */
  seq: number;
}

interface AccountData {
  payouts: Map<string, StoredPayout>;
  /** Every expanded object seen (charges, refunds, disputes, …) by id, to expand sources stored as ids. */
  objects: Map<string, JsonObject>;
  /** Every balance transaction by id (for `expand[]=balance_transaction` on payouts). */
  transactions: Map<string, BalanceTransaction>;
}

export const PLATFORM = 'platform';
export const ACCOUNT_ID = /^acct_[A-Za-z0-9]+$/;
export const API_VERSION_SHAPE = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function idOf(v: unknown): unknown {
  return isObject(v) && typeof v.id === 'string' ? v.id : v;
}

function sortNewestFirst<T extends { created: number }>(items: readonly T[]): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => b.item.created - a.item.created || a.index - b.index)
    .map(({ item }) => item);
}

export interface StandInStore {
  addPayout(input: { account?: string; payout: Payout; transactions: BalanceTransaction[] }): void;
  updatePayout(account: string, payoutId: string, patch: Partial<Payout>): void;
  route(method: string, path: string, query: Query, account: string): JsonObject;
}

export function createStore(): StandInStore {
  const accounts = new Map<string, AccountData>();
  let seq = 0;

  const accountData = (account: string): AccountData => {
    let data = accounts.get(account);
    if (!data) {
      data = { payouts: new Map(), objects: new Map(), transactions: new Map() };
      accounts.set(account, data);
    }
    return data;
  };

  const checkAccountName = (account: string): void => {
    if (account !== PLATFORM && !ACCOUNT_ID.test(account)) {
      throw new Error(`Stripe stand-in: account must be "platform" or an "acct_…" id, got "${account}"`);
    }
  };

  const indexObject = (data: AccountData, value: unknown): void => {
    if (!isObject(value) || typeof value.id !== 'string') return;
    data.objects.set(value.id, value);
    if (isObject(value.charge)) indexObject(data, value.charge);
  };

  const addPayout: StandInStore['addPayout'] = ({ account = PLATFORM, payout, transactions }) => {
    checkAccountName(account);
    if (typeof payout?.id !== 'string')
      throw new Error('Stripe stand-in: addPayout needs a payout with an id');
    const data = accountData(account);
    const previous = data.payouts.get(payout.id);
    for (const t of previous?.transactions ?? []) data.transactions.delete(t.id);
    const copies = structuredClone(transactions);
    const seen = new Set<string>();
    for (const t of copies) {
      if (typeof t?.id !== 'string')
        throw new Error(`Stripe stand-in: a transaction of ${payout.id} has no id`);
      if (seen.has(t.id))
        throw new Error(`Stripe stand-in: transaction ${t.id} appears twice in ${payout.id}`);
      seen.add(t.id);
      data.transactions.set(t.id, t);
      indexObject(data, t.source);
    }
    const sorted = sortNewestFirst(copies);
    data.payouts.set(payout.id, {
      payout: structuredClone(payout),
      transactions: sorted,
      positions: new Map(sorted.map((t, i) => [t.id, i])),
      seq: seq++,
    });
  };

  const updatePayout: StandInStore['updatePayout'] = (account, payoutId, patch) => {
    const stored = accounts.get(account)?.payouts.get(payoutId);
    if (!stored) throw new Error(`Stripe stand-in: no payout ${payoutId} for account ${account}`);
    stored.payout = { ...stored.payout, ...structuredClone(patch) };
  };

  // ----------------------------------------------------------------------------------------- rendering

  const renderPayout = (data: AccountData, payout: Payout, expand: ReadonlySet<string>): JsonObject => {
    const out: JsonObject = { ...payout };
    if (expand.has('balance_transaction')) {
      const id = idOf(payout.balance_transaction);
      out.balance_transaction = (typeof id === 'string' && data.transactions.get(id)) || id || null;
    } else {
      out.balance_transaction = idOf(payout.balance_transaction) ?? null;
    }
    return out;
  };

  const renderTransaction = (
    data: AccountData,
    t: BalanceTransaction,
    expand: ReadonlySet<string>,
  ): JsonObject => {
    const out: JsonObject = { ...t };
    if (!expand.has('data.source')) {
      out.source = idOf(t.source) ?? null;
      return out;
    }
    const raw: unknown = typeof t.source === 'string' ? (data.objects.get(t.source) ?? t.source) : t.source;
    if (isObject(raw) && 'charge' in raw) {
      const charge = raw.charge;
      const rendered = expand.has('data.source.charge')
        ? typeof charge === 'string'
          ? (data.objects.get(charge) ?? charge)
          : charge
        : idOf(charge);
      out.source = { ...raw, charge: rendered ?? null };
    } else {
      out.source = raw ?? null;
    }
    return out;
  };

  // ----------------------------------------------------------------------------------------- routes

  const getPayout = (data: AccountData, id: string, query: Query): JsonObject => {
    checkParams(query, ['expand']);
    const expand = expandParam(query.expand, ['balance_transaction']);
    const stored = data.payouts.get(id);
    if (!stored) throw noSuch('payout', id, 'id', 404);
    return renderPayout(data, stored.payout, expand);
  };

  const listPayouts = (data: AccountData, query: Query): JsonObject => {
    checkParams(query, [
      'status',
      'arrival_date',
      'created',
      'limit',
      'starting_after',
      'ending_before',
      'expand',
    ]);
    const expand = expandParam(query.expand, ['data.balance_transaction']);
    const status = stringParam(query.status, 'status');
    if (status !== undefined && !KNOWN_PAYOUT_STATUSES.includes(status)) {
      throw invalid(`Invalid status: must be one of ${KNOWN_PAYOUT_STATUSES.join(', ')}`, 'status');
    }
    const arrival = rangeParam(query.arrival_date, 'arrival_date');
    const created = rangeParam(query.created, 'created');
    const all = [...data.payouts.values()]
      .sort((a, b) => b.payout.created - a.payout.created || b.seq - a.seq)
      .map((s) => s.payout)
      .filter(
        (p) => (status === undefined || p.status === status) && arrival(p.arrival_date) && created(p.created),
      );
    const page = paginate(all, query, 'payout');
    const inner = new Set([...expand].map((e) => e.replace(/^data\./, '')));
    return {
      object: 'list',
      data: page.data.map((p) => renderPayout(data, p, inner)),
      has_more: page.has_more,
      url: '/v1/payouts',
    };
  };

  const listTransactions = (data: AccountData, query: Query): JsonObject => {
    checkParams(query, [
      'payout',
      'type',
      'currency',
      'source',
      'limit',
      'starting_after',
      'ending_before',
      'expand',
    ]);
    const expand = expandParam(query.expand, ['data.source', 'data.source.charge']);
    const payoutId = stringParam(query.payout, 'payout');
    const type = stringParam(query.type, 'type');
    const currency = stringParam(query.currency, 'currency')?.toLowerCase();
    const source = stringParam(query.source, 'source');
    let items: BalanceTransaction[];
    let positions: ReadonlyMap<string, number> | undefined;
    if (payoutId !== undefined) {
      const stored = data.payouts.get(payoutId);
      if (!stored) throw noSuch('payout', payoutId, 'payout', 400);
      if (stored.payout.automatic !== true) {
        throw invalid(
          'Balance transaction history can only be filtered on automatic transfers, not manual.',
          'payout',
        );
      }
      items = stored.transactions;
      positions = stored.positions;
    } else {
      items = sortNewestFirst([...data.transactions.values()]);
    }
    if (type !== undefined || currency !== undefined || source !== undefined) {
      items = items.filter(
        (t) =>
          (type === undefined || t.type === type) &&
          (currency === undefined || t.currency === currency) &&
          (source === undefined || idOf(t.source) === source),
      );
      positions = undefined;
    }
    const page = paginate(items, query, 'balance transaction', positions);
    return {
      object: 'list',
      data: page.data.map((t) => renderTransaction(data, t, expand)),
      has_more: page.has_more,
      url: '/v1/balance_transactions',
    };
  };

  const route = (method: string, path: string, query: Query, account: string): JsonObject => {
    const data = accounts.get(account) ?? { payouts: new Map(), objects: new Map(), transactions: new Map() };
    if (method === 'GET') {
      if (path === '/v1/payouts') return listPayouts(data, query);
      if (path === '/v1/balance_transactions') return listTransactions(data, query);
      const m = /^\/v1\/payouts\/([^/]+)$/.exec(path);
      if (m?.[1]) return getPayout(data, decodeURIComponent(m[1]), query);
    }
    throw invalid(
      `Unrecognized request URL (${method}: ${path}). The Stripe stand-in serves GET /v1/payouts, ` +
        'GET /v1/payouts/:id and GET /v1/balance_transactions.',
      undefined,
      undefined,
      404,
    );
  };

  return { addPayout, updatePayout, route };
}
