/**
 * The FIFO payout queue (MessageGroupId = the tenant, see `messageGroupOf`; MessageDeduplicationId = eventId;
 * body = `PayoutMessage` JSON) and the DLQ tools behind `dlq list` / `dlq replay`.
 *
 * Why the DLQ tools walk the queue: SQS's own redrive (StartMessageMoveTask) is missing from the emulator, and in a
 * FIFO queue only the first message(s) of each group can be received while they are in flight. So a walk receives
 * what it can, and each message it is not moving to the main queue is *rotated*: sent again to the DLQ's tail (its
 * original message id, receive count and send time kept in message attributes) and then deleted, which uncovers
 * the next message of its group. The walk ends when only its own rotated copies (held in flight, released at the
 * end) or nothing is left. Every move sends first and deletes only after the send succeeded, so a crash can
 * duplicate a message (the worker is idempotent) but never lose one.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { DeadLetter, DeadLetterQueue } from '../../app/dead-letters.js';
import { TransientError } from '../../app/errors.js';
import { messageGroupOf } from '../../app/payout-message.js';
import type { PayoutMessage, PayoutQueue } from '../../app/ports.js';

export const PayoutMessageSchema = z.object({
  eventId: z.string().min(1),
  eventType: z.string().min(1),
  tenantId: z.string().min(1),
  stripeAccount: z.string().min(1),
  payoutId: z.string().min(1),
  receivedAt: z.string().min(1),
  customers: z
    .object({ realmId: z.string().min(1), count: z.number().int(), packed: z.string().min(1) })
    .optional(),
}) satisfies z.ZodType<PayoutMessage>;

/** Parses a queue message body; the error says which field is wrong. */
export function parsePayoutMessage(body: string): PayoutMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error('queue message body is not JSON');
  }
  const parsed = PayoutMessageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `queue message body is not a payout message (${issue?.path.join('.')}: ${issue?.message})`,
    );
  }
  return parsed.data;
}

/** FIFO ids allow 1–128 printable ASCII characters; anything else is hashed into that alphabet. */
function fifoId(value: string): string {
  return /^[\x21-\x7e]{1,128}$/.test(value) ? value : createHash('sha256').update(value).digest('hex');
}

export interface SqsPayoutQueueOptions {
  sqs: SQSClient;
  /** The FIFO queue (env `QUEUE_URL`). */
  queueUrl: string;
}

export class SqsPayoutQueue implements PayoutQueue {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;

  constructor(options: SqsPayoutQueueOptions) {
    this.sqs = options.sqs;
    this.queueUrl = options.queueUrl;
  }

  async enqueue(message: PayoutMessage): Promise<void> {
    const valid = PayoutMessageSchema.parse(message);
    try {
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: JSON.stringify(valid),
          MessageGroupId: fifoId(messageGroupOf(valid)),
          MessageDeduplicationId: fifoId(valid.eventId),
        }),
      );
    } catch (err) {
      throw new TransientError(
        `could not enqueue payout ${valid.payoutId} (event ${valid.eventId}): ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
  }
}

// ---------------------------------------------------------------- DLQ

export interface DlqMessage {
  /** The id the message had when it reached the DLQ (kept across rotations). */
  messageId: string;
  /** `ApproximateReceiveCount` when first seen in the DLQ (receives in the main queue included). */
  receiveCount: number;
  /** When it was first sent to the DLQ (ISO), when SQS says. */
  sentAt?: string;
  /** Its FIFO group (the tenant). */
  groupId?: string;
  body: string;
  /** The body as a payout message, when it is one. */
  message?: PayoutMessage;
  /** Why `message` is missing. */
  problem?: string;
}

export interface DlqWalkOptions {
  sqs: SQSClient;
  dlqUrl: string;
  /** Long-poll seconds per receive (0 suits the emulator; real SQS samples servers on short polls). Default 1. */
  waitSeconds?: number;
  /** How long received messages stay hidden while the walk runs. Default 30 s. */
  visibilitySeconds?: number;
  /** Stop after this many distinct messages. Default 10,000. */
  maxMessages?: number;
}

export interface DlqMoveOptions extends DlqWalkOptions {
  /** The main FIFO queue the messages go back to. */
  queueUrl: string;
  /** Which messages to move; the rest stay in the DLQ. Default: all. */
  match?: (message: DlqMessage) => boolean;
}

const ATTR_ID = 'qboSync.originalMessageId';
const ATTR_COUNT = 'qboSync.receiveCount';
const ATTR_SENT = 'qboSync.firstSentAt';
const OWN_ATTRS = new Set([ATTR_ID, ATTR_COUNT, ATTR_SENT]);
/** The message attributes that keep a DLQ message's original id, receive count and first send time across copies. */
export const DLQ_ATTRIBUTES = {
  originalMessageId: ATTR_ID,
  receiveCount: ATTR_COUNT,
  firstSentAt: ATTR_SENT,
} as const;

/** Every message in the DLQ, oldest first by first send, without removing any. */
export async function receiveDlq(options: DlqWalkOptions): Promise<DlqMessage[]> {
  const { kept } = await walk(options, undefined, () => false);
  return kept;
}

/** Moves the matching DLQ messages back to the main queue (fresh dedup ids); returns what moved and what stayed. */
export async function moveDlqMessages(
  options: DlqMoveOptions,
): Promise<{ moved: DlqMessage[]; remaining: DlqMessage[] }> {
  const { moved, kept } = await walk(options, options.queueUrl, options.match ?? (() => true));
  return { moved, remaining: kept };
}

function describeMessage(raw: Message): DlqMessage {
  const attrs = raw.MessageAttributes ?? {};
  const sys = raw.Attributes ?? {};
  const count = Number(attrs[ATTR_COUNT]?.StringValue ?? sys.ApproximateReceiveCount ?? 0);
  const sentMs = Number(attrs[ATTR_SENT]?.StringValue ?? sys.SentTimestamp ?? Number.NaN);
  const body = raw.Body ?? '';
  const out: DlqMessage = {
    messageId: attrs[ATTR_ID]?.StringValue ?? raw.MessageId ?? 'unknown',
    receiveCount: Number.isFinite(count) ? count : 0,
    ...(Number.isFinite(sentMs) ? { sentAt: new Date(sentMs).toISOString() } : {}),
    ...(sys.MessageGroupId ? { groupId: sys.MessageGroupId } : {}),
    body,
  };
  try {
    out.message = parsePayoutMessage(body);
  } catch (err) {
    out.problem = (err as Error).message;
  }
  return out;
}

async function walk(
  options: DlqWalkOptions,
  queueUrl: string | undefined,
  match: (message: DlqMessage) => boolean,
): Promise<{ moved: DlqMessage[]; kept: DlqMessage[] }> {
  const { sqs, dlqUrl } = options;
  const max = options.maxMessages ?? 10_000;
  const seen = new Set<string>();
  const parked: string[] = [];
  const moved: DlqMessage[] = [];
  const kept: DlqMessage[] = [];
  try {
    while (seen.size < max) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: options.waitSeconds ?? 1,
          VisibilityTimeout: options.visibilitySeconds ?? 30,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      for (const raw of Messages) {
        const handle = raw.ReceiptHandle;
        if (!handle) continue;
        const m = describeMessage(raw);
        if (seen.has(m.messageId)) {
          parked.push(handle); // our own rotated copy: its group has been walked
          continue;
        }
        seen.add(m.messageId);
        const groupId = m.groupId ?? m.message?.tenantId ?? 'unknown';
        const userAttrs = Object.fromEntries(
          Object.entries(raw.MessageAttributes ?? {}).filter(([k]) => !OWN_ATTRS.has(k)),
        );
        if (queueUrl && match(m)) {
          await sqs.send(
            new SendMessageCommand({
              QueueUrl: queueUrl,
              MessageBody: m.body,
              MessageGroupId: groupId,
              MessageDeduplicationId: `replay-${randomUUID()}`,
              ...(Object.keys(userAttrs).length > 0 ? { MessageAttributes: userAttrs } : {}),
            }),
          );
          moved.push(m);
        } else {
          const own: Record<string, MessageAttributeValue> = {
            [ATTR_ID]: { DataType: 'String', StringValue: m.messageId },
            [ATTR_COUNT]: { DataType: 'Number', StringValue: String(m.receiveCount) },
            ...(m.sentAt
              ? { [ATTR_SENT]: { DataType: 'Number', StringValue: String(Date.parse(m.sentAt)) } }
              : {}),
          };
          await sqs.send(
            new SendMessageCommand({
              QueueUrl: dlqUrl,
              MessageBody: m.body,
              MessageGroupId: groupId,
              MessageDeduplicationId: `rotate-${randomUUID()}`,
              MessageAttributes: { ...userAttrs, ...own },
            }),
          );
          kept.push(m);
        }
        // Only now that the copy is safely sent.
        await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: handle }));
      }
    }
  } catch (err) {
    throw new TransientError(
      `walking the DLQ failed: ${(err as Error).message}; nothing was lost, run it again`,
      undefined,
      {
        cause: err,
      },
    );
  } finally {
    for (let i = 0; i < parked.length; i += 10) {
      const Entries = parked
        .slice(i, i + 10)
        .map((ReceiptHandle, j) => ({ Id: `m${j}`, ReceiptHandle, VisibilityTimeout: 0 }));
      await sqs
        .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlqUrl, Entries }))
        .catch(() => undefined);
    }
  }
  const bySent = (a: DlqMessage, b: DlqMessage) => (a.sentAt ?? '').localeCompare(b.sentAt ?? '');
  return { moved: moved.sort(bySent), kept: kept.sort(bySent) };
}

function toDeadLetter(m: DlqMessage): DeadLetter {
  return {
    messageId: m.messageId,
    receiveCount: m.receiveCount,
    ...(m.sentAt !== undefined ? { sentAt: m.sentAt } : {}),
    ...(m.groupId !== undefined ? { groupId: m.groupId } : {}),
    ...(m.message !== undefined ? { message: m.message } : {}),
    ...(m.problem !== undefined ? { problem: m.problem } : {}),
  };
}

/**
 * The dead-letter queue port of `dlq list` / `dlq replay` (the CLI and the support console): a walk of the DLQ
 * (`receiveDlq`) and the move back to the main queue (`moveDlqMessages`).
 */
export function sqsDeadLetterQueue(options: DlqWalkOptions & { queueUrl: string }): DeadLetterQueue {
  const { queueUrl, ...walkOptions } = options;
  return {
    list: async () => (await receiveDlq(walkOptions)).map(toDeadLetter),
    moveBack: async (match) => {
      const { moved, remaining } = await moveDlqMessages({
        ...walkOptions,
        queueUrl,
        match: (m) => match(toDeadLetter(m)),
      });
      return { moved: moved.map(toDeadLetter), remaining: remaining.map(toDeadLetter) };
    },
  };
}

/**
 * How long a FAILED payout's message may still be on its way from the queue to the DLQ, in seconds. Local mode's
 * poller returns a failing message after at most ~24 s (src/local/poller.ts); SQS after the queue's visibility
 * timeout. Either way it reaches the DLQ on the delivery after that; a minute of margin.
 */
export async function dlqTransitSeconds(options: {
  sqs: SQSClient;
  queueUrl: string;
  local: boolean;
}): Promise<number> {
  if (options.local) return 60;
  const { Attributes } = await options.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['VisibilityTimeout'] }),
  );
  return (Number(Attributes?.VisibilityTimeout) || 0) + 60;
}
