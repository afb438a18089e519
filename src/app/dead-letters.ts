/**
 * `qbo-sync dlq list` / `dlq replay` (CONTRACT §8): what reached the dead-letter queue and why (the reason and hint
 * the worker recorded in the ledger), and sending it back to the main queue once the cause is fixed.
 *
 * Replaying moves each message inside the application (receive from the DLQ → send to the queue → delete from the
 * DLQ, in that order: a stop half-way can duplicate a message, which the worker absorbs, but never lose one). A
 * replayed payout's ledger row goes from FAILED back to RECEIVED until the worker processes it; rows in any other
 * status are left alone (a POSTED row must never look unposted).
 */
import { PermanentError } from './errors.js';
import type { ActionRecorder, Ledger, LedgerRecord, PayoutMessage } from './ports.js';
import { type Actor, recordAction } from './record-action.js';
import { messageLedgerKey } from './record-failure.js';

/** One message of the dead-letter queue. */
export interface DeadLetter {
  /** The SQS message id it had when it reached the DLQ. */
  messageId: string;
  /** SQS `ApproximateReceiveCount` when it reached the DLQ (the deliveries in the main queue). */
  receiveCount: number;
  /** ISO time it was first sent to the DLQ, when known. */
  sentAt?: string;
  /** Its FIFO group (the tenant). */
  groupId?: string;
  /** The body, when it is a payout message. */
  message?: PayoutMessage;
  /** Why `message` is missing. */
  problem?: string;
}

/** The DLQ operations the use cases need (the SQS adapter's `receiveDlq` / `moveDlqMessages`). */
export interface DeadLetterQueue {
  list(): Promise<DeadLetter[]>;
  /** Moves the matching messages to the main queue; returns what moved and what stayed. */
  moveBack(match: (letter: DeadLetter) => boolean): Promise<{ moved: DeadLetter[]; remaining: DeadLetter[] }>;
}

export interface DeadLetterDeps {
  dlq: DeadLetterQueue;
  ledger: Pick<Ledger, 'get' | 'update'>;
  /** Where the person's request is recorded (the ledger); with `actor` in the input. */
  actions?: ActionRecorder;
  /**
   * How long after a row turns FAILED its message may still be on its way to the DLQ: the queue moves it there on
   * the delivery after the last one, once its visibility timeout has passed (default 0).
   */
  inTransitSeconds?: number;
  now?: () => Date;
}

/** True while a FAILED row's message may still be on its way from the queue to the DLQ. */
function mayBeInTransit(row: LedgerRecord, inTransitSeconds = 0, now: Date = new Date()): boolean {
  return now.getTime() - Date.parse(row.updatedAt) < inTransitSeconds * 1000;
}

export interface DeadLetterView {
  /** The payout id, or null when the message names none (it cannot be processed). */
  payout: string | null;
  tenant: string | null;
  messageId: string;
  receiveCount: number;
  reason: string | null;
  hint: string | null;
  /** Ledger status of the payout (FAILED normally). */
  status: string | null;
  /** Attempts recorded in the ledger. */
  attempts: number | null;
  sentAt: string | null;
}

async function ledgerRowOf(
  ledger: Pick<Ledger, 'get'>,
  letter: DeadLetter,
): Promise<LedgerRecord | undefined> {
  const payoutId = letter.message?.payoutId;
  const row = payoutId !== undefined ? await ledger.get(payoutId) : undefined;
  return row ?? (await ledger.get(messageLedgerKey(letter.messageId)));
}

function view(letter: DeadLetter, row: LedgerRecord | undefined): DeadLetterView {
  return {
    payout: letter.message?.payoutId ?? null,
    tenant: letter.message?.tenantId ?? row?.tenantId ?? letter.groupId ?? null,
    messageId: letter.messageId,
    receiveCount: letter.receiveCount,
    reason: row?.reason ?? letter.problem ?? null,
    hint: row?.hint ?? null,
    status: row?.status ?? null,
    attempts: row?.attempts ?? null,
    sentAt: letter.sentAt ?? null,
  };
}

export async function listDeadLetters(deps: DeadLetterDeps): Promise<DeadLetterView[]> {
  const letters = await deps.dlq.list();
  const out: DeadLetterView[] = [];
  for (const letter of letters) out.push(view(letter, await ledgerRowOf(deps.ledger, letter)));
  return out;
}

export interface ReplayInput {
  /** Replay this payout's messages; omitted: every payout message (`--all`). */
  payoutId?: string;
  /** Only say what would be replayed. */
  dryRun?: boolean;
  /** Who asked: recorded on each replayed payout's ledger row. */
  actor?: Actor;
  now?: () => Date;
}

export interface ReplayResult {
  /** Payout ids sent back to the queue (or that would be, in a dry run), oldest first, each once. */
  replayed: string[];
  /** Messages left in the DLQ. */
  remaining: number;
  dryRun: boolean;
  /** Messages that stay because they are not payout messages (they can never be processed). */
  unreadable: number;
}

const unique = (ids: readonly string[]) => [...new Set(ids)];

export async function replayDeadLetters(deps: DeadLetterDeps, input: ReplayInput): Promise<ReplayResult> {
  const wanted = (letter: DeadLetter) =>
    letter.message !== undefined &&
    (input.payoutId === undefined || letter.message.payoutId === input.payoutId);

  if (input.dryRun) {
    const letters = await deps.dlq.list();
    const chosen = letters.filter(wanted);
    if (input.payoutId !== undefined && chosen.length === 0) throw await notInDlq(deps, input.payoutId);
    return {
      replayed: unique(chosen.map((l) => l.message?.payoutId ?? '')),
      remaining: letters.length - chosen.length,
      dryRun: true,
      unreadable: letters.filter((l) => l.message === undefined).length,
    };
  }

  const { moved, remaining } = await deps.dlq.moveBack(wanted);
  const movedIds = unique(moved.map((l) => l.message?.payoutId ?? '').filter((id) => id !== ''));
  if (input.payoutId !== undefined && movedIds.length === 0) throw await notInDlq(deps, input.payoutId);
  // Only a FAILED row becomes RECEIVED, and only the version read here: a worker that already picked the message
  // up (POSTING, POSTED…) is never overwritten, and one that changes the row meanwhile wins.
  const clock = input.now ?? (() => new Date());
  const now = clock().toISOString();
  for (const id of movedIds) {
    await recordAction(deps.actions, input.actor, id, 'replay', clock);
    const row = await deps.ledger.get(id);
    if (row === undefined || row.status !== 'FAILED') continue;
    await deps.ledger.update(id, row.version, {
      status: 'RECEIVED',
      reason: `replayed from the dead-letter queue at ${now}; waiting for the worker`,
      hint: null,
    });
  }
  return {
    replayed: movedIds,
    remaining: remaining.length,
    dryRun: false,
    unreadable: remaining.filter((l) => l.message === undefined).length,
  };
}

async function notInDlq(deps: DeadLetterDeps, payoutId: string): Promise<PermanentError> {
  const row = await deps.ledger.get(payoutId);
  if (row?.status === 'FAILED' && mayBeInTransit(row, deps.inTransitSeconds, deps.now?.())) {
    return new PermanentError(
      `payout ${payoutId} is not in the dead-letter queue yet: its last attempt failed ${Math.round((Date.now() - Date.parse(row.updatedAt)) / 1000)} s ago, and the queue moves the message there on its next delivery (within ${deps.inTransitSeconds} s)`,
      `run the command again in a moment; see what is there with \`npx qbo-sync dlq list\``,
    );
  }
  if (row?.status === 'FAILED') {
    return new PermanentError(
      `payout ${payoutId} is not in the dead-letter queue: the ledger says FAILED, but its message is gone (${GONE_WHY})`,
      goneFix(payoutId),
    );
  }
  return new PermanentError(
    `payout ${payoutId} is not in the dead-letter queue`,
    `see what is there with \`npx qbo-sync dlq list\`, and the payout's state with \`npx qbo-sync payouts status ${payoutId}\``,
  );
}

/** Why a FAILED payout's message can be missing from the DLQ. */
const GONE_WHY =
  'a dead-letter queue keeps messages 14 days; a local mode that did not stop cleanly loses them; someone may have deleted it';

/** The fix of a FAILED payout whose message is no longer in the DLQ: queue it again. */
function goneFix(payoutId: string): string {
  return `fix the cause, then queue it again with \`npx qbo-sync payouts sync ${payoutId}\``;
}

/**
 * A ledger row with the fix that works now: a FAILED row's stored fix (`dlq replay`) holds only while its message is
 * in the DLQ; once the message is gone, `payouts sync` queues the payout again. Other rows are returned as they are.
 */
export function withCurrentFix(
  row: LedgerRecord,
  inDlq: ReadonlySet<string>,
  inTransit: { seconds: number; now?: Date } = { seconds: 0 },
): LedgerRecord {
  if (row.status !== 'FAILED' || inDlq.has(row.payoutId)) return row;
  if (mayBeInTransit(row, inTransit.seconds, inTransit.now)) return row;
  return {
    ...row,
    reason: `${row.reason ?? 'retries exhausted'}; its message is no longer in the dead-letter queue`,
    hint: goneFix(row.payoutId),
  };
}

/** The payout ids whose messages are in the DLQ (read only when some row is FAILED). */
export async function payoutsInDlq(
  dlq: Pick<DeadLetterQueue, 'list'>,
  rows: readonly LedgerRecord[],
): Promise<Set<string>> {
  if (!rows.some((r) => r.status === 'FAILED')) return new Set();
  const letters = await dlq.list();
  return new Set(letters.map((l) => l.message?.payoutId).filter((id): id is string => id !== undefined));
}
