/**
 * Stripe's form-style query strings, as stripe-node sends them: nested keys in brackets
 * (`arrival_date[gte]=1700000000`), arrays with indices or empty brackets (`expand[0]=data.source`,
 * `expand[]=data.source`). Brackets may arrive encoded (`%5B`, `%5D`) or not; both are accepted.
 */

export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };
export type Query = { [key: string]: QueryValue };

/** A malformed query: the caller answers 400 `invalid_request_error` naming `param`. */
export class QueryParseError extends Error {
  override readonly name = 'QueryParseError';
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

/** `a[b][0]` → `['a', 'b', '0']`; `expand[]` → `['expand', '']`. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const segments = [key.slice(0, open)];
  const rest = key.slice(open);
  const re = /\[([^[\]]*)\]/g;
  let consumed = 0;
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    if (m.index !== consumed) break;
    segments.push(m[1] ?? '');
    consumed = m.index + m[0].length;
  }
  if (consumed !== rest.length) {
    throw new QueryParseError(`Invalid parameter name: ${key} (unbalanced brackets).`, key);
  }
  return segments;
}

const isIndex = (segment: string): boolean => segment === '' || /^\d+$/.test(segment);

function assign(container: Query | QueryValue[], segments: string[], value: string, fullKey: string): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (Array.isArray(container)) {
    if (!isIndex(head)) throw new QueryParseError(`Invalid array: ${fullKey}`, fullKey);
    const index = head === '' ? container.length : Number(head);
    if (rest.length === 0) {
      container[index] = value;
      return;
    }
    const existing = container[index];
    const child = existing ?? (isIndex(rest[0] ?? '') ? [] : {});
    if (typeof child === 'string') throw new QueryParseError(`Invalid parameter: ${fullKey}`, fullKey);
    container[index] = child;
    assign(child, rest, value, fullKey);
    return;
  }
  if (rest.length === 0) {
    if (head in container) throw new QueryParseError(`Parameter given more than once: ${fullKey}`, fullKey);
    container[head] = value;
    return;
  }
  const wantArray = isIndex(rest[0] ?? '');
  const existing = container[head];
  if (existing === undefined) {
    const child: Query | QueryValue[] = wantArray ? [] : {};
    container[head] = child;
    assign(child, rest, value, fullKey);
    return;
  }
  if (typeof existing === 'string' || Array.isArray(existing) !== wantArray) {
    throw new QueryParseError(`Invalid parameter: ${fullKey} mixes a value and nested keys`, fullKey);
  }
  assign(existing, rest, value, fullKey);
}

/** Removes the holes that indexed keys can leave (`expand[0]`, `expand[2]`). */
function compact(value: QueryValue): QueryValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(compact);
  const out: Query = {};
  for (const [k, v] of Object.entries(value)) out[k] = compact(v);
  return out;
}

/** Parses the search part of a URL (`?a=1&b[c]=2`) into a nested object. */
export function parseStripeQuery(search: string): Query {
  const params = new URLSearchParams(search);
  const out: Query = {};
  for (const [key, value] of params) {
    assign(out, splitKey(key), value, key);
  }
  return compact(out) as Query;
}
