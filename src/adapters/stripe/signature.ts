/**
 * Stripe webhook signature verification over the raw body, with `stripe.webhooks.constructEvent`
 * (HMAC-SHA256 of `${t}.${rawBody}`, scheme `v1`, timestamp tolerance). Returns the parsed but
 * unvalidated event; the caller validates it with `StripeEventSchema`.
 */
import Stripe from 'stripe';

export type SignatureFailureReason =
  | 'missing-header'
  | 'malformed-header'
  | 'bad-signature'
  | 'stale-timestamp'
  | 'missing-secret'
  | 'empty-body'
  | 'invalid-json';

/** The delivery is not provably from Stripe (or is too old): answer 400, enqueue nothing. */
export class SignatureError extends Error {
  override readonly name = 'SignatureError';
  constructor(
    readonly reason: SignatureFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function timestampOf(header: string): number | undefined {
  const t = /(?:^|,)\s*t=(\d+)/.exec(header)?.[1];
  return t === undefined ? undefined : Number(t);
}

/**
 * Verifies `header` (the `Stripe-Signature` value) over `rawBody` with the endpoint's `secret` (`whsec_…`).
 * `toleranceSec` is the largest accepted age of the signed timestamp (default 300; stripe-node 23 treats 0 as
 * "no check"); `nowSec` replaces the clock (unix seconds) in tests. Throws `SignatureError` with a reason.
 */
export function verifyStripeSignature(
  rawBody: string | Buffer,
  header: string | undefined,
  secret: string,
  toleranceSec = 300,
  nowSec?: number,
): unknown {
  if (header === undefined || header.trim() === '') {
    throw new SignatureError('missing-header', 'the Stripe-Signature header is missing');
  }
  if (secret.trim() === '') {
    throw new SignatureError('missing-secret', 'no webhook signing secret is configured (whsec_…)');
  }
  if (rawBody.length === 0) throw new SignatureError('empty-body', 'the webhook body is empty');
  try {
    return Stripe.webhooks.constructEvent(
      rawBody,
      header,
      secret,
      toleranceSec,
      undefined,
      nowSec === undefined ? undefined : nowSec * 1000,
    );
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new SignatureError('invalid-json', 'the signature is valid but the body is not JSON', {
        cause: error,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/tolerance zone/i.test(message)) {
      const t = timestampOf(header);
      const now = nowSec ?? Math.floor(Date.now() / 1000);
      const age = t === undefined ? '' : ` (signed ${now - t} s ago)`;
      throw new SignatureError(
        'stale-timestamp',
        `the signature's timestamp is older than ${toleranceSec} s${age}: a replayed or delayed delivery`,
        { cause: error },
      );
    }
    if (/extract timestamp|expected scheme/i.test(message)) {
      throw new SignatureError(
        'malformed-header',
        'the Stripe-Signature header is malformed: expected "t=<unix seconds>,v1=<hex signature>"',
        { cause: error },
      );
    }
    throw new SignatureError(
      'bad-signature',
      'no signature in Stripe-Signature matches the body and the signing secret (a tampered body, a re-serialised ' +
        'body, or the wrong whsec_ secret)',
      { cause: error },
    );
  }
}
