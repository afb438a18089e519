/**
 * The queue message (`PayoutMessage` of ports.ts) as a zod schema: every body read from the queue is validated
 * with it before anything acts on it. Also the ids of the messages the product generates itself.
 */
import { z } from 'zod';
import { PAYOUT_EVENT_TYPES } from '../domain/types.js';
import type { PayoutMessage } from './ports.js';

/** Message types besides the Stripe payout events: a person's or the catch-up's request, a continuation. */
export const INTERNAL_MESSAGE_TYPES = ['sync', 'resync', 'continue'] as const;
export const MESSAGE_TYPES = [...PAYOUT_EVENT_TYPES, ...INTERNAL_MESSAGE_TYPES] as const;

export const PayoutMessageSchema = z
  .object({
    eventId: z.string({ error: 'eventId must be a text value' }).regex(/^[\x21-\x7e]{1,128}$/, {
      error: 'eventId must be 1–128 printable ASCII characters (an SQS dedup id)',
    }),
    eventType: z.enum(MESSAGE_TYPES, { error: `eventType must be one of ${MESSAGE_TYPES.join(', ')}` }),
    tenantId: z
      .string({ error: 'tenantId must be a text value' })
      .regex(/^[a-z0-9-]{2,64}$/, { error: 'tenantId must be 2–64 characters of a-z, 0-9 and "-"' }),
    stripeAccount: z
      .string({ error: 'stripeAccount must be a text value' })
      .regex(/^(platform|acct_[A-Za-z0-9]+)$/, { error: 'stripeAccount must be "platform" or acct_…' }),
    payoutId: z
      .string({ error: 'payoutId must be a text value' })
      .regex(/^po_[A-Za-z0-9_]+$/, { error: 'payoutId must be a payout id (po_…)' }),
    receivedAt: z.iso.datetime({ error: 'receivedAt must be an ISO date-time', offset: true }),
  })
  .loose() satisfies z.ZodType<PayoutMessage>;

export type ParsedMessage =
  | { ok: true; message: PayoutMessage }
  | { ok: false; reason: string; partial: Partial<PayoutMessage> };

/** Parses a queue body: JSON, then the schema. On failure, the reason and whatever ids could be read. */
export function parsePayoutMessage(body: string): ParsedMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'the message body is not JSON', partial: {} };
  }
  const parsed = PayoutMessageSchema.safeParse(json);
  if (parsed.success) {
    const { eventId, eventType, tenantId, stripeAccount, payoutId, receivedAt } = parsed.data;
    return { ok: true, message: { eventId, eventType, tenantId, stripeAccount, payoutId, receivedAt } };
  }
  const partial: Partial<PayoutMessage> = {};
  if (typeof json === 'object' && json !== null) {
    const record = json as Record<string, unknown>;
    for (const key of [
      'eventId',
      'eventType',
      'tenantId',
      'stripeAccount',
      'payoutId',
      'receivedAt',
    ] as const) {
      const value = record[key];
      if (typeof value === 'string') partial[key] = value;
    }
  }
  const reason = parsed.error.issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
  return { ok: false, reason: `the message is not a payout message: ${reason}`, partial };
}

/** A message id of our own, unique, usable as an SQS dedup id and a Powertools idempotency key. */
export function internalEventId(
  kind: 'sync' | 'resync' | 'continue' | 'catchup',
  payoutId: string,
  unique: string,
) {
  return `${kind}-${payoutId}-${unique}`.slice(0, 128);
}
