/**
 * The QuickBooks query language subset (external-apis.md §4):
 *   SELECT * | SELECT COUNT(*) FROM Entity [WHERE p op v [AND …]] [ORDERBY f [ASC|DESC], …]
 *   [STARTPOSITION n] [MAXRESULTS n ≤ 1000]
 * ops: = < > <= >= IN (…) LIKE ('%' only). No OR, no projections. Keywords and property names are
 * case-insensitive; entity names are case-sensitive. Strings are quoted with ' and escape ' as \'.
 */
import type { Company } from './company.js';
import { invalidQuery, queryParseError } from './faults.js';
import type { StandInEntityType } from './types.js';

type Literal = string | number | boolean;
type Op = '=' | '<' | '>' | '<=' | '>=' | 'LIKE' | 'IN';
interface Condition {
  field: string;
  op: Op;
  values: Literal[];
}
export interface ParsedQuery {
  count: boolean;
  entity: string;
  where: Condition[];
  orderBy: Array<{ field: string; desc: boolean }>;
  start: number;
  max: number | undefined;
}

/** The page size when MAXRESULTS is absent (QuickBooks' own default is undocumented; 100 is widely reported). */
export const DEFAULT_MAX_RESULTS = 100;
export const MAX_RESULTS_LIMIT = 1000;

// ------------------------------------------------------------------------------------------ tokenizer

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'number'; value: number; text: string }
  | { kind: 'punct'; text: string };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const ch = query[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'") {
      let text = '';
      i++;
      let closed = false;
      while (i < query.length) {
        const c = query[i];
        if (c === '\\' && i + 1 < query.length) {
          text += query[i + 1];
          i += 2;
          continue;
        }
        if (c === "'") {
          closed = true;
          i++;
          break;
        }
        text += c;
        i++;
      }
      if (!closed)
        throw queryParseError(`unterminated string starting at column ${query.length - text.length}`);
      tokens.push({ kind: 'string', text });
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?/.exec(query.slice(i));
    if (num && (ch === '-' || /\d/.test(ch))) {
      tokens.push({ kind: 'number', value: Number(num[0]), text: num[0] });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(query.slice(i));
    if (word) {
      tokens.push({ kind: 'word', text: word[0] });
      i += word[0].length;
      continue;
    }
    const two = query.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '!=' || two === '<>') {
      tokens.push({ kind: 'punct', text: two });
      i += 2;
      continue;
    }
    if ('*(),=<>'.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch });
      i++;
      continue;
    }
    throw queryParseError(`Encountered "${ch}" at column ${i + 1}, which is not valid here`);
  }
  return tokens;
}

// ------------------------------------------------------------------------------------------ parser

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }
  private next(): Token | undefined {
    return this.tokens[this.pos++];
  }
  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t?.kind === 'word' && t.text.toUpperCase() === word;
  }
  private expectKeyword(word: string): void {
    const t = this.next();
    if (t?.kind !== 'word' || t.text.toUpperCase() !== word)
      throw queryParseError(`expected ${word}, found ${describe(t)}`);
  }
  private expectPunct(p: string): void {
    const t = this.next();
    if (t?.kind !== 'punct' || t.text !== p) throw queryParseError(`expected "${p}", found ${describe(t)}`);
  }
  private ident(): string {
    const t = this.next();
    if (t?.kind !== 'word') throw queryParseError(`expected a property name, found ${describe(t)}`);
    return t.text;
  }
  private literal(): Literal {
    const t = this.next();
    if (t?.kind === 'string') return t.text;
    if (t?.kind === 'number') return t.value;
    if (t?.kind === 'word' && /^(true|false)$/i.test(t.text)) return t.text.toLowerCase() === 'true';
    throw queryParseError(`expected a value ('text', a number, true or false), found ${describe(t)}`);
  }
  private integer(what: string): number {
    const t = this.next();
    if (t?.kind !== 'number' || !Number.isInteger(t.value)) throw queryParseError(`${what} needs an integer`);
    return t.value;
  }

  parse(): ParsedQuery {
    this.expectKeyword('SELECT');
    let count = false;
    const t = this.next();
    if (t?.kind === 'punct' && t.text === '*') {
      count = false;
    } else if (t?.kind === 'word' && t.text.toUpperCase() === 'COUNT') {
      this.expectPunct('(');
      this.expectPunct('*');
      this.expectPunct(')');
      count = true;
    } else {
      throw queryParseError(
        `only SELECT * and SELECT COUNT(*) are supported (no projections), found ${describe(t)}`,
      );
    }
    this.expectKeyword('FROM');
    const entity = this.ident();
    const where: Condition[] = [];
    if (this.isKeyword('WHERE')) {
      this.next();
      where.push(this.condition());
      while (this.isKeyword('AND')) {
        this.next();
        where.push(this.condition());
      }
      if (this.isKeyword('OR'))
        throw queryParseError('OR is not supported; run one query per alternative or use IN');
    }
    const orderBy: ParsedQuery['orderBy'] = [];
    let start = 1;
    let max: number | undefined;
    while (this.pos < this.tokens.length) {
      if (this.isKeyword('ORDERBY') || this.isKeyword('ORDER')) {
        if (this.next()?.text.toUpperCase() === 'ORDER') this.expectKeyword('BY');
        for (;;) {
          const field = this.ident();
          let desc = false;
          if (this.isKeyword('ASC') || this.isKeyword('DESC'))
            desc = this.next()?.text.toUpperCase() === 'DESC';
          orderBy.push({ field, desc });
          if (this.peek()?.kind !== 'punct' || this.peek()?.text !== ',') break;
          this.next();
        }
      } else if (this.isKeyword('STARTPOSITION')) {
        this.next();
        start = this.integer('STARTPOSITION');
      } else if (this.isKeyword('MAXRESULTS')) {
        this.next();
        max = this.integer('MAXRESULTS');
      } else {
        throw queryParseError(`unexpected ${describe(this.peek())}`);
      }
    }
    return { count, entity, where, orderBy, start, max };
  }

  private condition(): Condition {
    const field = this.ident();
    const t = this.next();
    if (t?.kind === 'word' && t.text.toUpperCase() === 'IN') {
      this.expectPunct('(');
      const values: Literal[] = [this.literal()];
      while (this.peek()?.kind === 'punct' && this.peek()?.text === ',') {
        this.next();
        values.push(this.literal());
      }
      this.expectPunct(')');
      return { field, op: 'IN', values };
    }
    if (t?.kind === 'word' && t.text.toUpperCase() === 'LIKE') {
      const v = this.literal();
      if (typeof v !== 'string') throw queryParseError('LIKE needs a quoted pattern');
      return { field, op: 'LIKE', values: [v] };
    }
    if (t?.kind === 'punct' && ['=', '<', '>', '<=', '>='].includes(t.text)) {
      return { field, op: t.text as Op, values: [this.literal()] };
    }
    throw queryParseError(
      `unsupported operator ${describe(t)} after ${field}; use =, <, >, <=, >=, IN or LIKE`,
    );
  }
}

function describe(t: Token | undefined): string {
  if (!t) return 'the end of the query';
  return t.kind === 'string' ? `'${t.text}'` : `"${t.text}"`;
}

export function parseQuery(query: string): ParsedQuery {
  return new Parser(tokenize(query)).parse();
}

// ------------------------------------------------------------------------------------------ execution

const META = ['MetaData.CreateTime', 'MetaData.LastUpdatedTime'];
const FIELDS: Record<StandInEntityType, string[]> = {
  Account: [
    'Id',
    'Name',
    'SubAccount',
    'ParentRef',
    'FullyQualifiedName',
    'Active',
    'Classification',
    'AccountType',
    'AccountSubType',
    'AcctNum',
    'Description',
    'CurrentBalance',
    'CurrentBalanceWithSubAccounts',
    'CurrencyRef',
    ...META,
  ],
  Class: ['Id', 'Name', 'SubClass', 'ParentRef', 'FullyQualifiedName', 'Active', ...META],
  Customer: [
    'Id',
    'DisplayName',
    'Title',
    'GivenName',
    'MiddleName',
    'FamilyName',
    'Suffix',
    'CompanyName',
    'FullyQualifiedName',
    'PrintOnCheckName',
    'Active',
    'PrimaryEmailAddr',
    'Balance',
    'BalanceWithJobs',
    'Job',
    'ParentRef',
    'Level',
    'CurrencyRef',
    'Taxable',
    ...META,
  ],
  Deposit: [
    'Id',
    'TxnDate',
    'DocNumber',
    'PrivateNote',
    'TotalAmt',
    'HomeTotalAmt',
    'DepositToAccountRef',
    'CurrencyRef',
    ...META,
  ],
  JournalEntry: [
    'Id',
    'TxnDate',
    'DocNumber',
    'PrivateNote',
    'TotalAmt',
    'HomeTotalAmt',
    'Adjustment',
    'CurrencyRef',
    ...META,
  ],
};
const NAME_LISTS = new Set<string>(['Account', 'Class', 'Customer']);
/** Real QuickBooks entities the stand-in does not model: queries on them return nothing. */
const UNMODELLED = new Set([
  'Vendor',
  'Employee',
  'Item',
  'Department',
  'Payment',
  'Invoice',
  'SalesReceipt',
  'Bill',
  'BillPayment',
  'Purchase',
  'Transfer',
  'TaxCode',
  'TaxRate',
  'Term',
  'PaymentMethod',
  'CreditMemo',
  'RefundReceipt',
  'Estimate',
  'Attachable',
  'Budget',
  'CompanyCurrency',
  'ExchangeRate',
]);

export interface QueryOptions {
  emailQuery: 'supported' | 'refused';
  /** `exact`: `PrimaryEmailAddr = '…'` compares byte for byte (QuickBooks' comparison is undocumented). */
  emailMatch?: 'case-insensitive' | 'exact';
}

export type QueryResult = { QueryResponse: Record<string, unknown> };

function canonicalField(entity: StandInEntityType, field: string, opts: QueryOptions): string {
  const lower = field.toLowerCase();
  if (lower === 'primaryemailaddr.address') {
    throw invalidQuery(`property '${field}' is not queryable; filter on PrimaryEmailAddr`);
  }
  const found = FIELDS[entity].find((f) => f.toLowerCase() === lower);
  if (!found) throw invalidQuery(`property '${field}' is not queryable on ${entity}`);
  if (found === 'PrimaryEmailAddr' && opts.emailQuery === 'refused') {
    throw invalidQuery(`property 'PrimaryEmailAddr' is not queryable`);
  }
  return found;
}

function fieldValue(row: Record<string, unknown>, field: string): unknown {
  return valueAtPath(row, field.split('.'));
}

function valueAtPath(row: Record<string, unknown>, parts: readonly string[]): unknown {
  let v: unknown = row;
  for (const part of parts) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('value' in o) return o.value;
    if ('Address' in o) return o.Address;
    return undefined;
  }
  return v;
}

const DATE_LIKE = /^\d{4}-\d{2}-\d{2}/;

function compare(a: unknown, b: Literal): number | undefined {
  if (a === undefined || a === null) return undefined;
  if (typeof b === 'boolean' || typeof a === 'boolean') {
    const av = typeof a === 'boolean' ? a : String(a).toLowerCase() === 'true';
    const bv = typeof b === 'boolean' ? b : String(b).toLowerCase() === 'true';
    return av === bv ? 0 : av ? 1 : -1;
  }
  const an = typeof a === 'number' ? a : Number(a);
  const bn = typeof b === 'number' ? b : Number(b);
  if (String(a).trim() !== '' && String(b).trim() !== '' && !Number.isNaN(an) && !Number.isNaN(bn)) {
    return an === bn ? 0 : an < bn ? -1 : 1;
  }
  const as = String(a);
  const bs = String(b);
  if (DATE_LIKE.test(as) && DATE_LIKE.test(bs) && (as.length > 10 || bs.length > 10)) {
    const at = Date.parse(as.length === 10 ? `${as}T00:00:00Z` : as);
    const bt = Date.parse(bs.length === 10 ? `${bs}T00:00:00Z` : bs);
    if (!Number.isNaN(at) && !Number.isNaN(bt)) return at === bt ? 0 : at < bt ? -1 : 1;
  }
  const al = as.toLowerCase();
  const bl = bs.toLowerCase();
  return al === bl ? 0 : al < bl ? -1 : 1;
}

function likeRegex(pattern: string): RegExp {
  const body = pattern
    .split('%')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'is');
}

/** Turns a condition into a row predicate once per query (paths split, LIKE patterns compiled). */
function predicate(c: Condition): (row: Record<string, unknown>) => boolean {
  const parts = c.field.split('.');
  const first = c.values[0] as Literal;
  const get = (row: Record<string, unknown>) => valueAtPath(row, parts);
  switch (c.op) {
    case '=':
      return (row) => compare(get(row), first) === 0;
    case 'IN':
      return (row) => {
        const v = get(row);
        return c.values.some((x) => compare(v, x) === 0);
      };
    case '<':
      return (row) => (compare(get(row), first) ?? 0) < 0;
    case '>':
      return (row) => (compare(get(row), first) ?? 0) > 0;
    case '<=':
      return (row) => {
        const r = compare(get(row), first);
        return r !== undefined && r <= 0;
      };
    case '>=':
      return (row) => {
        const r = compare(get(row), first);
        return r !== undefined && r >= 0;
      };
    case 'LIKE': {
      const re = likeRegex(String(first));
      return (row) => {
        const v = get(row);
        return v !== undefined && v !== null && re.test(String(v));
      };
    }
  }
}

/** Candidate rows, narrowed by an index when a condition allows it. */
function candidates(
  company: Company,
  entity: StandInEntityType,
  where: Condition[],
): Iterable<Record<string, unknown>> {
  const store = company.store(entity);
  for (const c of where) {
    if (c.op !== '=' && c.op !== 'IN') continue;
    const values = c.values.map(String);
    if (c.field === 'Id') {
      return values.flatMap((v) => {
        const row = store.get(v);
        return row ? [row] : [];
      });
    }
    if (entity === 'Customer' && c.field === 'PrimaryEmailAddr') {
      const ids = new Set(values.flatMap((v) => [...(company.customerIdsByEmail(v) ?? [])]));
      return [...ids].flatMap((id) => {
        const row = store.get(id);
        return row ? [row] : [];
      });
    }
    if (entity === 'Customer' && c.field === 'DisplayName') {
      return values.flatMap((v) => {
        const id = company.customerIdByName(v);
        const row = id === undefined ? undefined : store.get(id);
        return row ? [row] : [];
      });
    }
  }
  return store.values();
}

function byId(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const an = Number(a.Id);
  const bn = Number(b.Id);
  return an === bn ? 0 : an < bn ? -1 : 1;
}

export function runQuery(company: Company, query: string, opts: QueryOptions): QueryResult {
  const q = parseQuery(query);
  if (q.max !== undefined && (q.max < 1 || q.max > MAX_RESULTS_LIMIT)) {
    throw invalidQuery(
      `MAXRESULTS ${q.max} is out of range: use 1 to ${MAX_RESULTS_LIMIT} and page with STARTPOSITION`,
    );
  }
  if (q.start < 1) throw invalidQuery(`STARTPOSITION ${q.start} is out of range: it starts at 1`);

  if (q.entity === 'Preferences' || q.entity === 'CompanyInfo') {
    const doc = q.entity === 'Preferences' ? company.preferences() : company.companyInfo();
    if (q.count) return { QueryResponse: { totalCount: 1 } };
    return { QueryResponse: { [q.entity]: [doc], startPosition: 1, maxResults: 1 } };
  }
  if (UNMODELLED.has(q.entity)) return { QueryResponse: q.count ? { totalCount: 0 } : {} };
  if (!(q.entity in FIELDS)) {
    throw invalidQuery(
      `invalid context declaration : ${q.entity} (entity names are case-sensitive, e.g. Customer)`,
    );
  }
  const entity = q.entity as StandInEntityType;
  const where = q.where.map((c) => ({ ...c, field: canonicalField(entity, c.field, opts) }));
  const orderBy = q.orderBy.map((o) => ({ ...o, field: canonicalField(entity, o.field, opts) }));
  if (NAME_LISTS.has(entity) && !where.some((c) => c.field === 'Active')) {
    where.push({ field: 'Active', op: '=', values: [true] });
  }

  const tests = where.map(predicate);
  if (opts.emailMatch === 'exact') {
    for (const c of where) {
      if (c.field !== 'PrimaryEmailAddr' || (c.op !== '=' && c.op !== 'IN')) continue;
      const values = new Set(c.values.map(String));
      tests.push((row) =>
        values.has(String((row.PrimaryEmailAddr as { Address?: unknown } | undefined)?.Address)),
      );
    }
  }
  const rows: Record<string, unknown>[] = [];
  for (const row of candidates(company, entity, where)) if (tests.every((t) => t(row))) rows.push(row);
  if (q.count) return { QueryResponse: { totalCount: rows.length } };

  rows.sort(byId);
  if (orderBy.length > 0) {
    rows.sort((a, b) => {
      for (const o of orderBy) {
        const av = fieldValue(a, o.field);
        const bv = fieldValue(b, o.field);
        let r: number;
        if (av === undefined || av === null) r = bv === undefined || bv === null ? 0 : -1;
        else if (bv === undefined || bv === null) r = 1;
        else r = compare(av, typeof bv === 'object' ? String(bv) : (bv as Literal)) ?? 0;
        if (r !== 0) return o.desc ? -r : r;
      }
      return 0;
    });
  }
  const max = q.max ?? DEFAULT_MAX_RESULTS;
  const page = rows.slice(q.start - 1, q.start - 1 + max);
  if (page.length === 0) return { QueryResponse: {} };
  return { QueryResponse: { [entity]: page, startPosition: q.start, maxResults: page.length } };
}
