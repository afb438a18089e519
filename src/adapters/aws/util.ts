/** Small helpers shared by the AWS adapters. */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { z } from 'zod';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with full jitter: attempt 0 → up to `baseMs`, capped at `capMs`. */
export function backoffMs(attempt: number, baseMs = 25, capMs = 2000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

export function isConditionFailed(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err as { name?: unknown })?.name === 'ConditionalCheckFailedException'
  );
}

/** The cancellation reason codes of a failed transaction (`None`, `ConditionalCheckFailed`, …), or undefined. */
export function cancellationCodes(err: unknown): (string | undefined)[] | undefined {
  if (
    !(err instanceof TransactionCanceledException) &&
    (err as { name?: unknown })?.name !== 'TransactionCanceledException'
  ) {
    return undefined;
  }
  return ((err as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code);
}

/** Validates an item read back from DynamoDB; a malformed one is reported with where it lives. */
export function parseItem<T>(schema: z.ZodType<T>, item: unknown, where: string): T {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(
    `${where} is malformed (${issue ? `${issue.path.join('.') || 'item'}: ${issue.message}` : 'invalid'}); fix or delete that item`,
  );
}
