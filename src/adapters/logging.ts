/**
 * Logging: the Powertools Logger (JSON to stdout; pretty-printed when `POWERTOOLS_DEV=true`; level from
 * `POWERTOOLS_LOG_LEVEL`), with redaction built in. Every log line goes through `redactValue`, so a token, secret or
 * authorization header never reaches the logs even when passed by mistake, and emails are masked (`j***@example.com`).
 */
import { Logger } from '@aws-lambda-powertools/logger';

export type { Logger } from '@aws-lambda-powertools/logger';

const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
const INLINE_SECRETS: [RegExp, string][] = [
  [/\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]+/g, '$1_$2_***'],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, 'whsec_***'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 ***'],
  [/\b(access_token|refresh_token|client_secret|id_token)=[^&\s"]+/gi, '$1=***'],
];

/**
 * Keys whose values are removed: anything naming a token, secret, password, credential, signature, cookie or
 * authorization. Keys that only describe one (`…Arn`, `…ExpiresAt`, `…Prefix`, `…Count`) are kept.
 */
const SECRET_KEY = /token|secret|passw|credential|authorization|cookie|signature|apikey|privatekey/;
const DESCRIPTIVE_KEY = /(arn|expiresat|expiresin|expiry|prefix|count|type|name)$/;

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_\s.]/g, '');
  return SECRET_KEY.test(k) && !DESCRIPTIVE_KEY.test(k);
}

/** `jane.doe@example.com` → `j***@example.com`. Text without an email is returned unchanged. */
export function maskEmail(text: string): string {
  return text.replace(EMAIL, '$1***@$2');
}

function redactString(text: string): string {
  let out = maskEmail(text);
  for (const [pattern, replacement] of INLINE_SECRETS) out = out.replace(pattern, replacement);
  return out;
}

/** The JSON replacer the logger uses: drops secret keys, masks emails and inline keys/tokens in strings. */
export function redactValue(key: string, value: unknown): unknown {
  if (key !== '' && isSecretKey(key)) return undefined;
  return typeof value === 'string' ? redactString(value) : value;
}

/**
 * A redacted deep copy, for logging or printing anything that may hold member data or credentials:
 * secret keys removed, emails masked, Stripe keys / bearer tokens in text masked. Errors become
 * `{ name, message, stack? }`; Maps become objects; cycles become `'[Circular]'`.
 */
export function redact<T>(value: T): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactString(v);
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return '[Circular]';
    seen.add(v);
    if (v instanceof Error) {
      return {
        name: v.name,
        message: redactString(v.message),
        ...(v.stack ? { stack: redactString(v.stack) } : {}),
      };
    }
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map(walk);
    const entries =
      v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x] as const) : Object.entries(v);
    const out: Record<string, unknown> = {};
    for (const [k, x] of entries) {
      if (isSecretKey(k)) continue;
      out[redactString(k)] = walk(x);
    }
    return out;
  };
  return walk(value);
}

/** A Powertools Logger for one service (`POWERTOOLS_SERVICE_NAME` wins when set), redacting every line. */
export function createLogger(serviceName: string): Logger {
  return new Logger({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME || serviceName,
    jsonReplacerFn: redactValue,
  });
}
