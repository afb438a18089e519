/**
 * The configured official `stripe` client, and the translation of its errors into the application's
 * `TransientError` (retry) / `PermanentError` (hold, with a hint) — see src/app/errors.ts.
 */
import Stripe from 'stripe';
import type { z } from 'zod';
import { PermanentError, TransientError } from '../../app/errors.js';

/** The API version this product is written against: stripe-node 23.1.0's own, pinned explicitly. */
export const STRIPE_API_VERSION = '2026-10-28.endive' as const satisfies Stripe.StripeConfig['apiVersion'];

export interface StripeClientOptions {
  /** `sk_live_…`, `sk_test_…` or `rk_…`. */
  secretKey: string;
  /** `STRIPE_API_BASE`: an origin such as `http://127.0.0.1:12111`; unset = api.stripe.com. */
  apiBase?: string;
  /** stripe-node's own retries of connection errors, 409 and 5xx (default 2, with backoff). */
  maxNetworkRetries?: number;
  /** Per-request timeout (default 30 000 ms; stripe-node's own default is 80 s, too long inside a Lambda). */
  timeoutMs?: number;
}

const API_BASE_HINT =
  'set STRIPE_API_BASE to an origin without a path, e.g. http://127.0.0.1:12111, or unset it to use Stripe';

/** `http://127.0.0.1:12111` → stripe-node's `{ host, port, protocol }`. */
export function parseStripeApiBase(apiBase: string): {
  host: string;
  port: number;
  protocol: 'http' | 'https';
} {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new PermanentError(`STRIPE_API_BASE is not a URL: "${apiBase}"`, API_BASE_HINT);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PermanentError(`STRIPE_API_BASE must be http or https, got "${url.protocol}"`, API_BASE_HINT);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new PermanentError(
      `STRIPE_API_BASE must be an origin without a path (the product adds /v1/…), got "${apiBase}"`,
      API_BASE_HINT,
    );
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port, protocol };
}

/** A stripe-node client with the product's settings (pinned API version, no telemetry, bounded timeout). */
export function stripeClient(opts: StripeClientOptions): Stripe {
  if (typeof opts.secretKey !== 'string' || opts.secretKey.trim() === '') {
    throw new PermanentError(
      'the Stripe secret key is empty',
      'set STRIPE_SECRET_KEY (local mode) or "secretKey" in the secret named by STRIPE_SECRET_ARN',
    );
  }
  const config: Stripe.StripeConfig = {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: opts.maxNetworkRetries ?? 2,
    timeout: opts.timeoutMs ?? 30_000,
    telemetry: false,
    appInfo: { name: 'momence-qbo-sync' },
  };
  if (opts.apiBase !== undefined && opts.apiBase !== '') {
    Object.assign(config, parseStripeApiBase(opts.apiBase));
  }
  return new Stripe(opts.secretKey, config);
}

const KEY_HINT =
  'check the Stripe secret key: STRIPE_SECRET_KEY in local mode, "secretKey" in the STRIPE_SECRET_ARN secret in AWS ' +
  '(sk_live_… for live payouts, sk_test_… for test ones)';

/**
 * A stripe-node failure as the application's error: network, timeout, 409, 429 and 5xx → `TransientError`;
 * authentication, permission, 404 and other invalid requests → `PermanentError` with a hint.
 * `doing` reads "reading payout po_1 of acct_1"; errors that are already the application's pass through.
 */
export function translateStripeError(error: unknown, doing: string, stripeAccount: string): Error {
  if (error instanceof PermanentError || error instanceof TransientError) return error;
  if (!(error instanceof Stripe.errors.StripeError)) {
    return error instanceof Error ? error : new Error(`${doing}: ${String(error)}`);
  }
  const status = error.statusCode;
  const detail = `${error.message}${error.requestId ? ` (Stripe request ${error.requestId})` : ''}`;
  const cause = { cause: error };
  if (error instanceof Stripe.errors.StripeConnectionError || status === undefined) {
    return new TransientError(`Stripe could not be reached while ${doing}: ${detail}`, undefined, cause);
  }
  if (status === 429 || error instanceof Stripe.errors.StripeRateLimitError) {
    const retryAfter = Number(error.headers?.['retry-after']);
    const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
    return new TransientError(`Stripe rate-limited us while ${doing}: ${detail}`, retryAfterMs, cause);
  }
  if (status >= 500 || status === 409) {
    return new TransientError(`Stripe failed (HTTP ${status}) while ${doing}: ${detail}`, undefined, cause);
  }
  if (status === 401 || error instanceof Stripe.errors.StripeAuthenticationError) {
    return new PermanentError(`Stripe rejected the secret key while ${doing}: ${detail}`, KEY_HINT, cause);
  }
  if (status === 403 || error instanceof Stripe.errors.StripePermissionError) {
    return new PermanentError(
      `Stripe refused access while ${doing}: ${detail}`,
      stripeAccount === 'platform'
        ? `the key lacks a permission: ${KEY_HINT} (a restricted rk_… key needs read access to payouts and balance)`
        : `check the tenant's stripeAccount (${stripeAccount}): the platform's key must have access to that connected account`,
      cause,
    );
  }
  if (status === 404 || error.code === 'resource_missing') {
    return new PermanentError(
      `Stripe has no such object while ${doing}: ${detail}`,
      `check the payout id and the tenant's stripeAccount (${stripeAccount}): a payout of another account is not visible`,
      cause,
    );
  }
  if (error.param === 'payout' && /automatic/i.test(error.message)) {
    return new PermanentError(
      `Stripe cannot list the transactions of a manual payout while ${doing}: ${detail}`,
      'Stripe itemises only automatic payouts; book this payout by hand in QuickBooks',
      cause,
    );
  }
  return new PermanentError(
    `Stripe refused the request (HTTP ${status}) while ${doing}: ${detail}`,
    'the product sent a request Stripe does not accept: report it with the Stripe request id',
    cause,
  );
}

// ------------------------------------------------------------------------------------------------ validation

type Issue = z.core.$ZodIssue;

/** In a union (e.g. an expanded `source`), the branch the object meant to be: not a type or `object` mismatch. */
function innermost(issue: Issue, prefix: PropertyKey[]): Array<{ path: PropertyKey[]; message: string }> {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branch = issue.errors.find(
      (branchIssues) =>
        branchIssues.length > 0 &&
        !branchIssues.some(
          (i) => (i.code === 'invalid_type' && i.path.length === 0) || i.path[i.path.length - 1] === 'object',
        ),
    );
    if (branch) return branch.flatMap((i) => innermost(i, path));
  }
  return [{ path, message: issue.message }];
}

/** `source.amount: charge amount must be a whole number of minor units; fee: …` (at most 5 problems). */
export function describeIssues(error: z.ZodError): string {
  const problems = error.issues.flatMap((i) => innermost(i, []));
  const text = problems
    .slice(0, 5)
    .map((p) => `${p.path.length > 0 ? p.path.map(String).join('.') : '(the object)'}: ${p.message}`)
    .join('; ');
  return problems.length > 5 ? `${text}; and ${problems.length - 5} more` : text;
}

/**
 * Parses a Stripe response with a domain schema. A mismatch is a `PermanentError` naming the object, its id and
 * the fields: "Stripe balance transaction txn_1 (payout po_1) cannot be read: source.amount: …".
 */
export function parseStripeObject<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  context?: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const id =
    typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string'
      ? ` ${(value as { id: string }).id}`
      : '';
  throw new PermanentError(
    `Stripe ${what}${id}${context ? ` (${context})` : ''} cannot be read: ${describeIssues(result.error)}`,
    `the product is pinned to Stripe API version ${STRIPE_API_VERSION}; if Stripe changed the object, report it with this message`,
  );
}
