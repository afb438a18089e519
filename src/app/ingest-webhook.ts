/**
 * The webhook use case (CONTRACT §1): checks a Stripe delivery and puts one `PayoutMessage` on the FIFO queue.
 *
 * Order of the checks, each answered without looking further:
 * 1. body over 1 MiB → 413 (before anything else, so an oversized body is never parsed or verified);
 * 2. no webhook secret configured → 500 (a configuration error: Stripe keeps retrying until it is fixed;
 *    there is never an unverified fallback);
 * 3. missing or bad `Stripe-Signature`, or a timestamp older than the tolerance → 400, nothing enqueued; when no
 *    secret verifies it, the secrets are read again once (rate-limited by the caller), so a secret rolled in the
 *    secret store works without waiting for a cold start;
 * 4. an envelope that is not a Stripe event → 400 with the reason; an event signed by a secret that may not sign
 *    its kind (a platform endpoint's secret on a Connect event, or the reverse) → 400;
 * 5. an event type other than the four payout types → 200, ignored;
 * 6. an unknown account (only the tenants' account index is read), or `livemode` not matching the configured
 *    mode → 200, logged, not enqueued;
 * 7. enqueue (MessageGroupId = tenant, MessageDeduplicationId = event id); a failure → 500 so Stripe retries.
 *
 * The body is never logged (it may carry emails); only ids, types and accounts are.
 */
import { z } from 'zod';
import { StripeEventSchema } from '../domain/stripe.js';
import { PAYOUT_EVENT_TYPES, type PayoutEventType } from '../domain/types.js';
import { type AppLog, describeError, maskEmailsIn } from './log.js';
import type { PayoutMessage, PayoutQueue, TenantStore } from './ports.js';
import { maySign, parseSigningSecrets, type SigningSecret } from './signing-secrets.js';

/** Stripe's largest event is far below this; anything bigger is refused with 413 before it is parsed. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

export type StripeKeyMode = 'live' | 'test';

/** `sk_live_…` / `rk_live_…` → `live`; anything else (`sk_test_…`, stand-in keys) → `test`. */
export function stripeKeyMode(secretKey: string): StripeKeyMode {
  return /^(sk|rk)_live_/.test(secretKey) ? 'live' : 'test';
}

export interface IngestWebhookDeps {
  /** Only the account index: which tenant owns a Stripe account. */
  tenants: Pick<TenantStore, 'accountOwner'>;
  queue: PayoutQueue;
  /**
   * The endpoint signing secrets (src/app/signing-secrets.ts): `platform:whsec_…` and `connect:whsec_…`, comma-
   * separated, one per Stripe endpoint that delivers here and, while a secret is being rolled, the old and the new
   * one; an unmarked `whsec_…` may sign either kind (local mode). A delivery is accepted when one of them verifies
   * it and may sign its kind. Empty → every delivery gets 500 (configuration error).
   */
  webhookSecret: string;
  /**
   * Called when no secret verified a delivery: the secrets read again from their store, or undefined when they
   * were read too recently (the caller rate-limits it). Omitted: never re-read.
   */
  rereadWebhookSecret?: () => Promise<string | undefined>;
  /** The Stripe mode this deployment serves (configuration: STRIPE_MODE, or the key's mode in local mode). */
  stripeMode: StripeKeyMode;
  /**
   * Verifies `Stripe-Signature` over the raw bytes (tolerance 300 s) and returns the parsed event; throws when
   * the signature is missing, bad or too old. E.g. `(raw, header, secret) => verifyStripeSignature(raw, header, secret, 300)`.
   */
  verify: (rawBody: Buffer, header: string, secret: string) => unknown;
  now?: () => Date;
  log: AppLog;
}

export interface IngestWebhookRequest {
  rawBody: Buffer;
  /** The `Stripe-Signature` header, looked up case-insensitively by the caller. */
  signature?: string;
}

export type IngestWebhookBody =
  | { received: true; queued: true; eventId: string; payoutId: string; tenantId: string }
  | { received: true; queued: false; eventId: string; ignored: string }
  | { error: string };

export interface IngestWebhookResponse {
  status: 200 | 400 | 413 | 500;
  body: IngestWebhookBody;
}

/** Stripe ids are at most 255 characters. */
const PayoutRefSchema = z
  .object({
    id: z
      .string()
      .max(255, { error: 'data.object.id is longer than any Stripe id' })
      .regex(/^po_[A-Za-z0-9_]+$/, { error: 'data.object.id must be a payout id (po_…)' }),
    object: z.literal('payout', { error: 'data.object must be a payout' }),
  })
  .loose();

/** An event id usable as the queue's dedup id and the worker's idempotency key (≤ 128 printable ASCII). */
const EVENT_ID = /^evt_[\x21-\x7e]{1,124}$/;
/** A connected account id; anything else cannot belong to a tenant (and is never looked up). */
const ACCOUNT_ID = /^acct_[A-Za-z0-9]{1,250}$/;

function isPayoutEventType(type: string): type is PayoutEventType {
  return (PAYOUT_EVENT_TYPES as readonly string[]).includes(type);
}

function zodReason(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/** 200 (so Stripe does not retry), nothing enqueued, and why. */
function ignored(eventId: string, why: string): IngestWebhookResponse {
  return { status: 200, body: { received: true, queued: false, eventId, ignored: why } };
}

/** Parses what the verifier returned: the event object, or its raw JSON text/bytes. */
function asJson(verified: unknown): unknown {
  if (Buffer.isBuffer(verified)) return JSON.parse(verified.toString('utf8'));
  if (typeof verified === 'string') return JSON.parse(verified);
  return verified;
}

export async function ingestWebhook(
  deps: IngestWebhookDeps,
  req: IngestWebhookRequest,
): Promise<IngestWebhookResponse> {
  const { log } = deps;
  const now = deps.now ?? (() => new Date());

  // 1. Size first: 413 before any signature work.
  if (req.rawBody.length > MAX_WEBHOOK_BODY_BYTES) {
    log.warn('webhook body too large', { bytes: req.rawBody.length, limit: MAX_WEBHOOK_BODY_BYTES });
    return {
      status: 413,
      body: {
        error: `body is ${req.rawBody.length} bytes; the limit is ${MAX_WEBHOOK_BODY_BYTES} bytes (1 MiB)`,
      },
    };
  }

  // 2. No secret: a configuration error, never an unverified fallback.
  let secrets: SigningSecret[];
  try {
    secrets = parseSigningSecrets(deps.webhookSecret, { allowUnmarked: true });
  } catch (error) {
    log.error('webhook signing secrets are unreadable: refusing every delivery until they are fixed', {
      reason: describeError(error),
    });
    return { status: 500, body: { error: 'the webhook signing secrets are misconfigured on this endpoint' } };
  }
  if (secrets.length === 0) {
    log.error('webhook secret is not configured: refusing every delivery until it is set', {
      fix: 'set webhookSecret in the STRIPE_WEBHOOK_SECRET_ARN secret (or STRIPE_WEBHOOK_SECRET in local mode)',
    });
    return { status: 500, body: { error: 'the webhook signing secret is not configured on this endpoint' } };
  }

  // 3. Signature over the raw bytes.
  const header = req.signature?.trim();
  if (header === undefined || header === '') {
    log.warn('webhook without Stripe-Signature header: rejected');
    return { status: 400, body: { error: 'missing Stripe-Signature header' } };
  }
  const verifyWith = (candidates: readonly SigningSecret[]) => {
    let rejection: unknown;
    for (const candidate of candidates) {
      try {
        return {
          ok: true as const,
          verified: deps.verify(req.rawBody, header, candidate.secret),
          by: candidate,
        };
      } catch (error) {
        rejection = error;
      }
    }
    return { ok: false as const, rejection };
  };
  let signed = verifyWith(secrets);
  if (!signed.ok && deps.rereadWebhookSecret !== undefined) {
    // Perhaps a secret rolled since this container read them: read them once more (rate-limited).
    let fresh: SigningSecret[] | undefined;
    try {
      const text = await deps.rereadWebhookSecret();
      fresh = text === undefined ? undefined : parseSigningSecrets(text, { allowUnmarked: true });
    } catch (error) {
      log.error('could not re-read the webhook signing secrets', { reason: describeError(error) });
    }
    if (fresh !== undefined) {
      log.info('webhook signing secrets re-read after a signature failure', { secrets: fresh.length });
      signed = verifyWith(fresh);
    }
  }
  if (!signed.ok) {
    const reason = describeError(signed.rejection);
    log.warn('webhook signature rejected', { reason });
    return { status: 400, body: { error: `signature verification failed: ${reason}` } };
  }
  const { verified, by } = signed;

  // 4. The envelope.
  let json: unknown;
  try {
    json = asJson(verified);
  } catch {
    log.warn('webhook body is not JSON');
    return { status: 400, body: { error: 'the body is not JSON' } };
  }
  const parsed = StripeEventSchema.safeParse(json);
  if (!parsed.success) {
    const reason = maskEmailsIn(zodReason(parsed.error));
    log.warn('webhook body is not a Stripe event', { reason });
    return { status: 400, body: { error: `not a Stripe event: ${reason}` } };
  }
  const event = parsed.data;
  if (!EVENT_ID.test(event.id)) {
    log.warn('webhook event id is not a Stripe event id', { eventId: event.id.slice(0, 140) });
    return {
      status: 400,
      body: { error: 'not a Stripe event: id must be evt_ followed by at most 124 printable characters' },
    };
  }
  const context = {
    eventId: event.id,
    type: event.type.slice(0, 100),
    account: (event.account ?? 'platform').slice(0, 100),
  };
  if (!maySign(by.kind, event)) {
    const [what, other] =
      by.kind === 'platform'
        ? ['a Connect event', "the platform endpoint's"]
        : ['a platform event', "the Connect endpoint's"];
    log.warn('webhook signed by a secret that may not sign this kind of event: rejected', {
      ...context,
      secretKind: by.kind,
    });
    return {
      status: 400,
      body: {
        error: `${what} signed with ${other} secret: each endpoint's secret signs only its own events`,
      },
    };
  }

  // 5. Only the four payout types.
  if (!isPayoutEventType(event.type)) {
    log.info('webhook event type ignored', context);
    return ignored(event.id, `event type ${event.type} is not synced`);
  }
  const payoutRef = PayoutRefSchema.safeParse(event.data.object);
  if (!payoutRef.success) {
    const reason = maskEmailsIn(zodReason(payoutRef.error));
    log.warn('payout event without a payout object', { ...context, reason });
    return { status: 400, body: { error: `${event.type} event ${event.id}: ${reason}` } };
  }
  const payoutId = payoutRef.data.id;

  // 6. Tenant by account, and the key's mode.
  const stripeAccount = event.account ?? 'platform';
  let tenantId: string | undefined;
  try {
    // An account that is not an acct_ id belongs to no tenant (and could not be a DynamoDB key).
    tenantId =
      event.account === undefined || ACCOUNT_ID.test(event.account)
        ? await deps.tenants.accountOwner(stripeAccount)
        : undefined;
  } catch (error) {
    log.error('tenant lookup failed; answering 500 so Stripe retries', {
      ...context,
      reason: describeError(error),
    });
    return { status: 500, body: { error: 'could not look the tenant up; Stripe will retry' } };
  }
  if (tenantId === undefined) {
    log.warn('webhook for an unknown Stripe account: not enqueued', {
      ...context,
      payoutId,
      fix: `add a tenant with stripeAccount "${context.account}" to the sync config and import it`,
    });
    return ignored(event.id, `no tenant for account ${context.account}`);
  }
  const eventMode: StripeKeyMode = event.livemode ? 'live' : 'test';
  if (eventMode !== deps.stripeMode) {
    log.warn('webhook livemode does not match the configured Stripe mode: not enqueued', {
      ...context,
      payoutId,
      eventMode,
      configuredMode: deps.stripeMode,
    });
    return ignored(
      event.id,
      `a ${eventMode}-mode event, but this endpoint serves Stripe ${deps.stripeMode} mode`,
    );
  }

  // 7. Enqueue.
  const message: PayoutMessage = {
    eventId: event.id,
    eventType: event.type,
    tenantId,
    stripeAccount,
    payoutId,
    receivedAt: now().toISOString(),
  };
  try {
    await deps.queue.enqueue(message);
  } catch (error) {
    log.error('enqueue failed; answering 500 so Stripe retries', {
      ...context,
      payoutId,
      reason: describeError(error),
    });
    return { status: 500, body: { error: 'could not queue the event; Stripe will retry' } };
  }
  log.info('payout event queued', { ...context, payoutId, tenantId: message.tenantId });
  return {
    status: 200,
    body: { received: true, queued: true, eventId: event.id, payoutId, tenantId: message.tenantId },
  };
}
