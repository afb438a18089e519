/**
 * GET /quickbooks/callback?code&state&realmId (API Gateway REST proxy) → `completeQuickBooksConnection`, answered
 * with a small HTML page. Thin: the logic is in src/app/connect-quickbooks.ts.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createLogger } from '../src/adapters/logging.js';
import {
  type CallbackQuery,
  type CompleteConnectionDeps,
  completeQuickBooksConnection,
} from '../src/app/connect-quickbooks.js';
import { type AppLog, describeError } from '../src/app/log.js';
import { buildConnectDeps } from '../src/runtime.js';
import { builtOnFirstUse } from '../src/runtime-base.js';

export type QboCallbackHandler = (
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>,
) => Promise<APIGatewayProxyResult>;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page's headers: no script, frame, form, base or outside resource may run or load (CSP; its only style is
 * inline), the type is not sniffed, it is never framed (clickjacking), and neither it nor its OAuth query string is
 * cached or sent on as a referrer.
 */
export const CALLBACK_PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
} as const;

/** The page shown in the browser that completed the OAuth flow. */
export function callbackPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · qbo-sync</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>
</head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>
`;
}

function queryOf(event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>): CallbackQuery {
  const q = event.queryStringParameters ?? {};
  const pick = (key: keyof CallbackQuery) => {
    const value = q[key];
    return typeof value === 'string' && value !== '' ? { [key]: value } : {};
  };
  return {
    ...pick('code'),
    ...pick('state'),
    ...pick('realmId'),
    ...pick('error'),
    ...pick('error_description'),
  };
}

export function makeQboCallbackHandler(
  deps: CompleteConnectionDeps | (() => Promise<CompleteConnectionDeps>),
  opts: { log?: AppLog } = {},
): QboCallbackHandler {
  const resolve = builtOnFirstUse(typeof deps === 'function' ? deps : () => Promise.resolve(deps));
  const page = (statusCode: number, title: string, message: string): APIGatewayProxyResult => ({
    statusCode,
    headers: CALLBACK_PAGE_HEADERS,
    body: callbackPage(title, message),
  });
  return async (event) => {
    let ready: CompleteConnectionDeps;
    try {
      ready = await resolve();
    } catch (error) {
      const log = opts.log ?? createLogger('qbo-sync-qbo-callback');
      log.error('QuickBooks callback not configured', { reason: describeError(error) });
      return page(500, 'Not connected', 'The QuickBooks callback is not configured on this deployment.');
    }
    const outcome = await completeQuickBooksConnection(ready, queryOf(event));
    return page(outcome.status, outcome.title, outcome.message);
  };
}

/** The Lambda entry point: dependencies from the environment the stack gives this function, built on first use. */
export const handler: QboCallbackHandler = makeQboCallbackHandler(() => buildConnectDeps(process.env));
