/**
 * The queue message (`PayoutMessage` of ports.ts) as a zod schema: every body read from the queue is validated
 * with it before anything acts on it. Also the ids of the messages the product generates itself.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { Member } from '../domain/types.js';
import { PAYOUT_EVENT_TYPES } from '../domain/types.js';
import type { CustomerWork, PayoutMessage } from './ports.js';

/**
 * Message types besides the Stripe payout events: a person's or the catch-up's request, a continuation, and the
 * customers of a posted payout to create and map afterwards (`customers`, in a message group of its own).
 */
export const INTERNAL_MESSAGE_TYPES = ['sync', 'resync', 'continue', 'customers'] as const;
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
    customers: z
      .object({
        realmId: z.string().regex(/^[0-9A-Za-z]{1,32}$/, { error: 'customers.realmId must be a realm id' }),
        count: z.number().int().min(1),
        packed: z.string().min(1),
      })
      .optional(),
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
    const { eventId, eventType, tenantId, stripeAccount, payoutId, receivedAt, customers } = parsed.data;
    if (eventType === 'customers' && customers === undefined) {
      return {
        ok: false,
        reason: 'the message is not a payout message: a customers message carries its customers',
        partial: { eventId, eventType, tenantId, stripeAccount, payoutId, receivedAt },
      };
    }
    return {
      ok: true,
      message: {
        eventId,
        eventType,
        tenantId,
        stripeAccount,
        payoutId,
        receivedAt,
        ...(customers !== undefined ? { customers } : {}),
      },
    };
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
  kind: 'sync' | 'resync' | 'continue' | 'catchup' | 'customers',
  payoutId: string,
  unique: string,
) {
  return `${kind}-${payoutId}-${unique}`.slice(0, 128);
}

/**
 * The FIFO message group of a message: the tenant, so its payouts are processed in order; the customers created
 * after a payout was posted go in a group of their own (`<tenant>.customers`), so thousands of creations at
 * QuickBooks' metered rate never hold up the tenant's next payouts.
 */
export function messageGroupOf(message: Pick<PayoutMessage, 'tenantId' | 'eventType'>): string {
  return message.eventType === 'customers' ? `${message.tenantId}.customers` : message.tenantId;
}

/**
 * Members packed for a queue message: JSON `[[email, name?], …]`, gzip, base64. An SQS message holds 256 KiB by
 * default (the queue's MaximumMessageSize); `packMembers` splits the members over as many parts as keep each part
 * under `maxPackedChars` (a payout of ten thousand members packs to about 100 KB, one part).
 */
export function packMembers(members: readonly Member[], maxPackedChars = 180_000): CustomerWorkPart[] {
  const pack = (part: readonly Member[]): string =>
    gzipSync(
      JSON.stringify(part.map((m) => (m.name === undefined ? [m.email] : [m.email, m.name]))),
    ).toString('base64');
  const out: CustomerWorkPart[] = [];
  const split = (part: readonly Member[]): void => {
    if (part.length === 0) return;
    const packed = pack(part);
    if (packed.length <= maxPackedChars || part.length === 1) {
      out.push({ count: part.length, packed });
      return;
    }
    const half = Math.ceil(part.length / 2);
    split(part.slice(0, half));
    split(part.slice(half));
  };
  split(members);
  return out;
}

export type CustomerWorkPart = Omit<CustomerWork, 'realmId'>;

const PackedMembers = z.array(z.union([z.tuple([z.string()]), z.tuple([z.string(), z.string()])]));

/** The members of a `customers` message. @throws when the packed text is not what `packMembers` makes. */
export function unpackMembers(work: Pick<CustomerWork, 'packed' | 'count'>): Member[] {
  let json: unknown;
  try {
    json = JSON.parse(gunzipSync(Buffer.from(work.packed, 'base64')).toString('utf8'));
  } catch {
    throw new Error('the customers of the message cannot be unpacked (not gzip+base64 JSON)');
  }
  const members = PackedMembers.parse(json).map(([email, name]) =>
    name === undefined ? { email } : { email, name },
  );
  if (members.length !== work.count) {
    throw new Error(`the message says ${work.count} customers but carries ${members.length}`);
  }
  return members;
}
