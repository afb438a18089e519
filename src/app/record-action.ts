/**
 * Who asked for a sync, resync, replay or preview (the CLI's operating-system user, the console's signed-in user)
 * is recorded on the payout's ledger row by the use case that carries the request out, so the CLI and the console
 * record it the same way.
 */
import type { ActionRecorder, LedgerAction } from './ports.js';

/** The person behind a request, and where it came from. */
export interface Actor {
  by: string;
  via: LedgerAction['via'];
}

/** Records the action when both a recorder and an actor are given (tests and tools may pass neither). */
export async function recordAction(
  recorder: ActionRecorder | undefined,
  actor: Actor | undefined,
  payoutId: string,
  action: LedgerAction['action'],
  now: () => Date = () => new Date(),
): Promise<void> {
  if (recorder === undefined || actor === undefined) return;
  await recorder.noteAction(payoutId, { action, by: actor.by, via: actor.via, at: now().toISOString() });
}
