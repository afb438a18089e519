/**
 * Write intents (CONTRACT §4, §7): the request id recorded before a write is sent to QuickBooks, reused by every
 * later attempt, so QuickBooks replays its first answer instead of making a second object.
 *
 * How long QuickBooks remembers a `requestid` is undocumented (external-apis.md §7), so an intent older than
 * `REQUEST_ID_MEMORY_MS` is not trusted to replay: before it is reused, the product looks in QuickBooks for its
 * own entry and adopts it instead of posting again.
 */
import type { WriteIntent } from './ports.js';

/** The age after which an intent's request id is not trusted to be remembered by QuickBooks (24 h). */
export const REQUEST_ID_MEMORY_MS = 24 * 3600 * 1000;

/** A new intent, stamped with its creation time. */
export function newIntent(requestId: string, entryType: WriteIntent['entryType'], now: Date): WriteIntent {
  return { requestId, entryType, createdAt: now.toISOString() };
}

/** True when QuickBooks may have forgotten the intent's request id (older than a day, or of unknown age). */
export function outlivesRequestIdMemory(intent: WriteIntent, now: Date): boolean {
  const created = intent.createdAt === undefined ? Number.NaN : Date.parse(intent.createdAt);
  return !Number.isFinite(created) || now.getTime() - created >= REQUEST_ID_MEMORY_MS;
}

/** The ledger's words for an adopted entry. */
export function describeAdoption(ref: { type: string; id: string }, intent: WriteIntent): string {
  const when = intent.createdAt ? ` of ${intent.createdAt.slice(0, 16).replace('T', ' ')} UTC` : '';
  return `${ref.type} ${ref.id} found in QuickBooks and adopted: the write${when} (request id ${intent.requestId}) is older than QuickBooks is known to remember request ids, so it was not sent again`;
}
