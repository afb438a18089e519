/**
 * The start of `qbo-sync connect --tenant T` (QuickBooks OAuth, authorization-code flow): a random `state` is stored
 * with an expiry (the callback refuses any other state: CSRF), and the authorize URL a person opens is built. The
 * callback (`completeQuickBooksConnection`) checks the state, exchanges the code, stores the tokens and marks the
 * state completed; `waitForConnection` polls for that.
 */
import { randomBytes } from 'node:crypto';
import type { ConnectStateStore, PendingConnection } from './connect-quickbooks.js';

/** How long an authorize link stays usable. */
export const CONNECT_STATE_TTL_MS = 10 * 60 * 1000;

export interface PendingConnectionStore extends ConnectStateStore {
  /** Stores a new pending connection (refuses an existing state). */
  put(pending: PendingConnection): Promise<void>;
}

export interface StartConnectionDeps {
  states: Pick<PendingConnectionStore, 'put'>;
  /** The authorize URL for a state and redirect URI (QboTokenManager.authorizeUrl). */
  authorizeUrl: (state: string, redirectUri: string) => string;
  now?: () => Date;
  newState?: () => string;
}

export interface StartedConnection {
  state: string;
  authorizeUrl: string;
  redirectUri: string;
  /** Epoch ms after which the link is refused. */
  expiresAt: number;
}

const TENANT_ID = /^[a-z0-9-]{2,64}$/;

export async function startQuickBooksConnection(
  deps: StartConnectionDeps,
  input: { tenantId: string; redirectUri: string; ttlMs?: number },
): Promise<StartedConnection> {
  if (!TENANT_ID.test(input.tenantId)) {
    throw new Error(`tenant id "${input.tenantId}" is not valid: 2–64 characters of a-z, 0-9 and "-"`);
  }
  const now = (deps.now ?? (() => new Date()))().getTime();
  const state = (deps.newState ?? (() => randomBytes(24).toString('base64url')))();
  const expiresAt = now + (input.ttlMs ?? CONNECT_STATE_TTL_MS);
  await deps.states.put({ state, tenantId: input.tenantId, expiresAt, redirectUri: input.redirectUri });
  return {
    state,
    authorizeUrl: deps.authorizeUrl(state, input.redirectUri),
    redirectUri: input.redirectUri,
    expiresAt,
  };
}

/** Polls the state until the callback completed it; undefined when `deadline` (epoch ms) passes first. */
export async function waitForConnection(
  states: Pick<ConnectStateStore, 'get'>,
  state: string,
  opts: { deadline: number; pollMs?: number; isCancelled?: () => boolean },
): Promise<PendingConnection | undefined> {
  for (;;) {
    const pending = await states.get(state);
    if (pending?.completedAt !== undefined) return pending;
    if (Date.now() >= opts.deadline || opts.isCancelled?.()) return undefined;
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 1000));
  }
}
