/**
 * Helpers for the QuickBooks stand-in tests: plain fetch against the running server (never the product's
 * adapter), so the tests prove the stand-in itself.
 */
import {
  type QuickBooksStandIn,
  type QuickBooksStandInOptions,
  startQuickBooksStandIn,
} from '../../standins/quickbooks/index.js';

export const DEMO_REALM = '9341453187';

export interface Http {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary QuickBooks JSON
  json: any;
}

async function toHttp(res: Response): Promise<Http> {
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export async function tokenRequest(
  qbo: QuickBooksStandIn,
  form: Record<string, string>,
  authorization = basic(qbo.clientId, qbo.clientSecret),
): Promise<Http> {
  return toHttp(
    await fetch(qbo.tokenUrl, {
      method: 'POST',
      headers: {
        authorization,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(form).toString(),
    }),
  );
}

export interface Api {
  get(path: string, query?: Record<string, string>): Promise<Http>;
  post(path: string, body: unknown, query?: Record<string, string>): Promise<Http>;
  query(q: string): Promise<Http>;
}

export function makeApi(qbo: QuickBooksStandIn, realmId: string, accessToken: string | undefined): Api {
  const url = (path: string, query: Record<string, string> = {}) => {
    const u = new URL(`${qbo.url}/v3/company/${realmId}${path}`);
    u.searchParams.set('minorversion', '75');
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return u.toString();
  };
  const headers = (): Record<string, string> => ({
    accept: 'application/json',
    ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
  });
  return {
    get: async (path, query) => toHttp(await fetch(url(path, query), { headers: headers() })),
    post: async (path, body, query) =>
      toHttp(
        await fetch(url(path, query), {
          method: 'POST',
          headers: { ...headers(), 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      ),
    query: async (q) => toHttp(await fetch(url('/query', { query: q }), { headers: headers() })),
  };
}

export interface Connected {
  qbo: QuickBooksStandIn;
  realmId: string;
  api: Api;
  accessToken: string;
}

/** Starts a stand-in on a random port and connects to its first company (refresh → access token). */
export async function startConnected(opts: QuickBooksStandInOptions = {}): Promise<Connected> {
  const qbo = await startQuickBooksStandIn(opts);
  const realmId = opts.companies?.[0]?.realmId ?? DEMO_REALM;
  const res = await tokenRequest(qbo, {
    grant_type: 'refresh_token',
    refresh_token: qbo.issueRefreshToken(realmId),
  });
  if (res.status !== 200) throw new Error(`token refresh failed: ${res.text}`);
  const accessToken = String(res.json.access_token);
  return { qbo, realmId, api: makeApi(qbo, realmId, accessToken), accessToken };
}

/** Id of a seeded account or class by FullyQualifiedName. */
export function idOf(
  qbo: QuickBooksStandIn,
  realmId: string,
  type: 'Account' | 'Class' | 'Customer',
  name: string,
): string {
  const key = type === 'Customer' ? 'DisplayName' : 'FullyQualifiedName';
  const found = qbo.entities(realmId, type).find((e) => e[key] === name);
  if (!found) throw new Error(`no ${type} ${name}`);
  return String(found.Id);
}
