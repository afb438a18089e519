/**
 * The app's credentials: from the environment where set (local mode), else from the Secrets Manager secrets named by
 * `STRIPE_SECRET_ARN` (`{"secretKey","webhookSecret"}`) and `QBO_APP_SECRET_ARN`
 * (`{"clientId","clientSecret","redirectUri"}`), read through Powertools parameters (cached 5 minutes) and validated.
 * Each environment variable wins over its secret field; a secret is read only when some field is missing.
 * Loaded once per cold start. Values are never logged or put in error messages.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';
import { parseSigningSecrets } from '../../app/signing-secrets.js';

export interface StripeSettings {
  stripeSecretKey: string;
  /** The webhook signing secrets where they come with the key (local mode's STRIPE_WEBHOOK_SECRET). */
  stripeWebhookSecret?: string;
}

/** What the webhook function reads: only its signing secrets, and the mode from configuration. */
export interface WebhookSettings {
  /** `platform:whsec_…,connect:whsec_…` (src/app/signing-secrets.ts). */
  webhookSecret: string;
  stripeMode: 'live' | 'test';
}

export interface QboSettings {
  qboClientId: string;
  qboClientSecret: string;
  qboRedirectUri?: string;
}

export type Settings = StripeSettings & QboSettings;

export interface LoadSettingsOptions {
  /** Read the secrets again instead of using this cold start's values. */
  forceFetch?: boolean;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const SECRET_MAX_AGE_SECONDS = 300;

const StripeSecretJson = z.object({ secretKey: z.string().optional(), webhookSecret: z.string().optional() });
const QboSecretJson = z.object({
  clientId: z.string().optional(),
  clientSecret: z.string().optional(),
  redirectUri: z.string().optional(),
});

const StripeSettingsSchema = z.object({
  stripeSecretKey: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\S+$/, { error: 'is not a Stripe secret key (sk_test_… or sk_live_…)' }),
  stripeWebhookSecret: z.string().min(1, { error: 'is empty' }).optional(),
});
const QboSettingsSchema = z.object({
  qboClientId: z.string().min(1, { error: 'is empty' }),
  qboClientSecret: z.string().min(1, { error: 'is empty' }),
  qboRedirectUri: z.url({ error: 'is not a URL' }).optional(),
});

/** Where each setting comes from, for error messages. */
const SOURCES: Record<string, { env: string; arn: string; field: string }> = {
  stripeSecretKey: { env: 'STRIPE_SECRET_KEY', arn: 'STRIPE_SECRET_ARN', field: 'secretKey' },
  stripeWebhookSecret: { env: 'STRIPE_WEBHOOK_SECRET', arn: 'STRIPE_SECRET_ARN', field: 'webhookSecret' },
  qboClientId: { env: 'QBO_CLIENT_ID', arn: 'QBO_APP_SECRET_ARN', field: 'clientId' },
  qboClientSecret: { env: 'QBO_CLIENT_SECRET', arn: 'QBO_APP_SECRET_ARN', field: 'clientSecret' },
  qboRedirectUri: { env: 'QBO_REDIRECT_URI', arn: 'QBO_APP_SECRET_ARN', field: 'redirectUri' },
};

let stripeMemo: Promise<StripeSettings> | undefined;
let qboMemo: Promise<QboSettings> | undefined;

/** Forget this cold start's values (tests; after rotating a secret). */
export function resetSettingsCache(): void {
  stripeMemo = undefined;
  qboMemo = undefined;
}

export async function loadSettings(options: LoadSettingsOptions = {}): Promise<Settings> {
  const [stripe, qbo] = await Promise.all([loadStripeSettings(options), loadQboSettings(options)]);
  return { ...stripe, ...qbo };
}

export function loadStripeSettings(options: LoadSettingsOptions = {}): Promise<StripeSettings> {
  if (!stripeMemo || options.forceFetch) {
    stripeMemo = resolve(
      ['stripeSecretKey'],
      ['stripeWebhookSecret'],
      'STRIPE_SECRET_ARN',
      StripeSecretJson,
      StripeSettingsSchema,
      options,
    );
    stripeMemo.catch(() => {
      stripeMemo = undefined;
    });
  }
  return stripeMemo;
}

/**
 * The webhook's settings: the signing secrets from `STRIPE_WEBHOOK_SECRET`, else field `webhookSecret` of the
 * secret named by `STRIPE_WEBHOOK_SECRET_ARN` (there every entry must be marked `platform:` or `connect:`); the mode
 * from `STRIPE_MODE`, else (local mode) from `STRIPE_SECRET_KEY`'s prefix. Never cached here: the caller keeps
 * them, and `forceFetch` re-reads the secret (a rolled signing secret).
 */
export async function loadWebhookSettings(options: LoadSettingsOptions = {}): Promise<WebhookSettings> {
  const env = options.env ?? process.env;
  const mode = env.STRIPE_MODE?.trim();
  let stripeMode: 'live' | 'test';
  if (mode === 'live' || mode === 'test') stripeMode = mode;
  else if (mode)
    throw new Error(`invalid setting: STRIPE_MODE must be live or test, not "${mode.slice(0, 20)}"`);
  else if (env.STRIPE_SECRET_KEY) stripeMode = /^(sk|rk)_live_/.test(env.STRIPE_SECRET_KEY) ? 'live' : 'test';
  else
    throw new Error(
      'missing setting: STRIPE_MODE (live or test; the stack sets it from the stripeMode context)',
    );

  if (env.STRIPE_WEBHOOK_SECRET) return { webhookSecret: env.STRIPE_WEBHOOK_SECRET, stripeMode };
  const arn = env.STRIPE_WEBHOOK_SECRET_ARN;
  if (!arn) {
    throw new Error(
      'missing setting: STRIPE_WEBHOOK_SECRET (or field "webhookSecret" of the secret named by STRIPE_WEBHOOK_SECRET_ARN); STRIPE_WEBHOOK_SECRET_ARN is not set either',
    );
  }
  let raw: unknown;
  try {
    raw = await getSecret(arn, {
      transform: 'json',
      maxAge: SECRET_MAX_AGE_SECONDS,
      forceFetch: options.forceFetch ?? false,
    });
  } catch (err) {
    const message = (err as Error).message;
    const notJson = /transform|JSON/i.test(message);
    throw new Error(
      `could not read the secret ${arn} named by STRIPE_WEBHOOK_SECRET_ARN: ${notJson ? 'it does not hold JSON' : message}; check that it exists, holds JSON, and that this function may read it`,
      notJson ? undefined : { cause: err },
    );
  }
  const parsed = StripeSecretJson.safeParse(raw);
  const text = parsed.success ? parsed.data.webhookSecret : undefined;
  if (!text) {
    throw new Error(
      'missing setting: field "webhookSecret" of the secret named by STRIPE_WEBHOOK_SECRET_ARN is empty: put {"webhookSecret":"platform:whsec_…,connect:whsec_…"} in it',
    );
  }
  // Every entry must say which endpoint it belongs to (throws saying which one does not; never the secret).
  parseSigningSecrets(text, { allowUnmarked: false });
  return { webhookSecret: text, stripeMode };
}

export function loadQboSettings(options: LoadSettingsOptions = {}): Promise<QboSettings> {
  if (!qboMemo || options.forceFetch) {
    qboMemo = resolve(
      ['qboClientId', 'qboClientSecret'],
      ['qboRedirectUri'],
      'QBO_APP_SECRET_ARN',
      QboSecretJson,
      QboSettingsSchema,
      options,
    );
    qboMemo.catch(() => {
      qboMemo = undefined;
    });
  }
  return qboMemo;
}

async function resolve<T>(
  required: readonly string[],
  optional: readonly string[],
  arnVar: string,
  secretSchema: z.ZodType<Record<string, string | undefined>>,
  settingsSchema: z.ZodType<T>,
  options: LoadSettingsOptions,
): Promise<T> {
  const env = options.env ?? process.env;
  const values: Record<string, string | undefined> = {};
  for (const key of [...required, ...optional]) {
    const name = SOURCES[key]?.env;
    if (name && env[name]) values[key] = env[name];
  }
  const arn = env[arnVar];
  if (required.some((k) => values[k] === undefined) && arn) {
    let raw: unknown;
    try {
      raw = await getSecret(arn, {
        transform: 'json',
        maxAge: SECRET_MAX_AGE_SECONDS,
        forceFetch: options.forceFetch ?? false,
      });
    } catch (err) {
      const message = (err as Error).message;
      // A JSON parse error quotes the secret's text: never repeat it.
      const notJson = /transform|JSON/i.test(message);
      throw new Error(
        `could not read the secret ${arn} named by ${arnVar}: ${notJson ? 'it does not hold JSON' : message}; check that it exists, holds JSON, and that this function may read it`,
        notJson ? undefined : { cause: err },
      );
    }
    const parsed = secretSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`the secret named by ${arnVar} must hold a JSON object of text fields`);
    }
    for (const key of [...required, ...optional]) {
      const field = SOURCES[key]?.field;
      if (values[key] === undefined && field && parsed.data[field]) values[key] = parsed.data[field];
    }
  }
  const missing = required.filter((k) => values[k] === undefined);
  if (missing.length > 0) {
    const how = missing.map((k) => {
      const s = SOURCES[k];
      return s ? `${s.env} (or field "${s.field}" of the secret named by ${s.arn})` : k;
    });
    throw new Error(
      `missing setting${missing.length > 1 ? 's' : ''}: ${how.join(', ')}${arn ? '' : `; ${arnVar} is not set either`}`,
    );
  }
  const checked = settingsSchema.safeParse(values);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => {
      const s = SOURCES[String(i.path[0])];
      return `${s ? `${s.env} / ${s.arn}.${s.field}` : i.path.join('.')} ${i.message}`;
    });
    throw new Error(`invalid setting: ${problems.join('; ')}`);
  }
  return checked.data;
}
