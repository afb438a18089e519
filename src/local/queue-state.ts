/**
 * Local mode's queues across restarts (CONTRACT §9: "a restart loses nothing"). The embedded SQS (fauxqs) keeps its
 * messages in memory only, so on a clean stop local mode saves every message of the payout queue and of its DLQ —
 * waiting, delayed and in flight — to `<dataDir>/queues.json`, read through fauxqs's non-destructive inspection
 * route (`GET /_fauxqs/queues/<name>`, fauxqs 1.9.2 README, "Queue inspection"); the next start sends them back
 * before the worker polls, and removes the file.
 *
 * What a send cannot restore: a message's SQS id and receive count. A DLQ message keeps both in the message
 * attributes `dlq list` already reads for its rotated copies (`qboSync.originalMessageId`, `qboSync.receiveCount`,
 * `qboSync.firstSentAt`); a payout-queue message starts its deliveries again (the ledger's `attempts` goes on).
 * After a crash (no clean stop) nothing is saved: the payouts whose ledger row is RECEIVED or POSTING are then
 * queued again from the ledger (recovery.ts), and a FAILED row's fix says `payouts sync`.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { DLQ_ATTRIBUTES } from '../adapters/aws/queue.js';

export const QUEUES_FILE = 'queues.json';

const AttributeSchema = z.object({
  DataType: z.string(),
  StringValue: z.string().optional(),
  BinaryValue: z.string().optional(),
});

/** One message as fauxqs's inspection route shows it (the fields used here). */
const InspectedMessageSchema = z.object({
  messageId: z.string(),
  body: z.string(),
  messageAttributes: z.record(z.string(), AttributeSchema).default({}),
  sentTimestamp: z.number(),
  approximateReceiveCount: z.number(),
  messageGroupId: z.string().optional(),
  messageDeduplicationId: z.string().optional(),
  sequenceNumber: z.string().optional(),
});
type InspectedMessage = z.infer<typeof InspectedMessageSchema>;

const InspectionSchema = z.object({
  messages: z.object({
    ready: z.array(InspectedMessageSchema),
    delayed: z.array(InspectedMessageSchema),
    inflight: z.array(z.object({ message: InspectedMessageSchema })),
  }),
});

const SavedQueuesSchema = z.object({
  savedAt: z.string(),
  queue: z.array(InspectedMessageSchema),
  dlq: z.array(InspectedMessageSchema),
});
export type SavedQueues = z.infer<typeof SavedQueuesSchema>;

const queueName = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** Order of arrival: FIFO sequence numbers, else send time. */
function byArrival(a: InspectedMessage, b: InspectedMessage): number {
  if (a.sequenceNumber && b.sequenceNumber) {
    const d = BigInt(a.sequenceNumber) - BigInt(b.sequenceNumber);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
  return a.sentTimestamp - b.sentTimestamp;
}

/** Every message of one queue of the embedded SQS, in flight included, oldest first. */
async function inspect(sqsEndpoint: string, queueUrl: string): Promise<InspectedMessage[]> {
  const response = await fetch(`${sqsEndpoint}/_fauxqs/queues/${encodeURIComponent(queueName(queueUrl))}`);
  if (!response.ok)
    throw new Error(`the embedded SQS answered ${response.status} for ${queueName(queueUrl)}`);
  const { messages } = InspectionSchema.parse(await response.json());
  return [...messages.inflight.map((m) => m.message), ...messages.delayed, ...messages.ready].sort(byArrival);
}

export interface QueueUrls {
  queueUrl: string;
  dlqUrl: string;
}

/** Saves both queues' messages to `<dataDir>/queues.json` (nothing saved and any old file removed when both are empty). */
export async function saveQueues(
  sqsEndpoint: string,
  urls: QueueUrls,
  dataDir: string,
): Promise<SavedQueues> {
  const saved: SavedQueues = {
    savedAt: new Date().toISOString(),
    queue: await inspect(sqsEndpoint, urls.queueUrl),
    dlq: await inspect(sqsEndpoint, urls.dlqUrl),
  };
  const file = path.join(dataDir, QUEUES_FILE);
  if (saved.queue.length === 0 && saved.dlq.length === 0) {
    rmSync(file, { force: true });
    return saved;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return saved;
}

/** The saved queues, or undefined when there is no file. @throws Error naming the file when it is not readable. */
export function readSavedQueues(dataDir: string): SavedQueues | undefined {
  const file = path.join(dataDir, QUEUES_FILE);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message})`);
  }
  const parsed = SavedQueuesSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file} is not a saved-queues file (${issue?.path.join('.')}: ${issue?.message})`);
  }
  return parsed.data;
}

function attributesOf(m: InspectedMessage): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(m.messageAttributes)) {
    out[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: Buffer.from(value.BinaryValue, 'base64') } : {}),
    };
  }
  return out;
}

/**
 * Sends the saved messages back (the payout queue's, then the DLQ's, each oldest first) and removes the file.
 * @returns the saved messages, or undefined when nothing was saved.
 */
export async function restoreQueues(
  sqs: SQSClient,
  urls: QueueUrls,
  dataDir: string,
): Promise<SavedQueues | undefined> {
  const saved = readSavedQueues(dataDir);
  if (!saved) return undefined;
  for (const m of saved.queue) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: urls.queueUrl,
        MessageBody: m.body,
        MessageGroupId: m.messageGroupId ?? 'restored',
        MessageDeduplicationId: m.messageDeduplicationId ?? `restored-${randomUUID()}`,
        ...(Object.keys(m.messageAttributes).length > 0 ? { MessageAttributes: attributesOf(m) } : {}),
      }),
    );
  }
  for (const m of saved.dlq) {
    // The id, receive count and first send time `dlq list` shows, unless a rotation already recorded them.
    const own: Record<string, MessageAttributeValue> = {
      [DLQ_ATTRIBUTES.originalMessageId]: { DataType: 'String', StringValue: m.messageId },
      [DLQ_ATTRIBUTES.receiveCount]: { DataType: 'Number', StringValue: String(m.approximateReceiveCount) },
      [DLQ_ATTRIBUTES.firstSentAt]: { DataType: 'Number', StringValue: String(m.sentTimestamp) },
    };
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: urls.dlqUrl,
        MessageBody: m.body,
        MessageGroupId: m.messageGroupId ?? 'restored',
        MessageDeduplicationId: `restored-${randomUUID()}`,
        MessageAttributes: { ...own, ...attributesOf(m) },
      }),
    );
  }
  rmSync(path.join(dataDir, QUEUES_FILE), { force: true });
  return saved;
}
