/**
 * The end of `qbo-sync connect --tenant T` (the QuickBooks OAuth callback): checks the `state` against the pending
 * one the CLI stored, exchanges the code for tokens (stored by the token manager), and links the realm to the
 * tenant by completing the pending state (the CLI polls it).
 */
import { PermanentError } from './errors.js';
import { type AppLog, describeError } from './log.js';
import type { QboTokens, TenantStore } from './ports.js';

/** A pending connection: the tenants-table item `STATE#<state>`, written by `qbo-sync connect`. */
export interface PendingConnection {
  state: string;
  tenantId: string;
  /** Epoch ms after which the state is refused. */
  expiresAt: number;
  /** The redirect URI the authorize URL used (the token exchange must send the same). */
  redirectUri?: string;
  /** Set once the callback succeeded. */
  realmId?: string;
  completedAt?: string;
}

export interface ConnectStateStore {
  get(state: string): Promise<PendingConnection | undefined>;
  /** Marks the state used, once (conditional): false when it was already completed. */
  complete(state: string, outcome: { realmId: string; completedAt: string }): Promise<boolean>;
}

export interface CompleteConnectionDeps {
  states: ConnectStateStore;
  tenants: Pick<TenantStore, 'get'>;
  /** Exchanges the authorization code and stores the tokens (QboTokenManager.exchangeAuthorizationCode). */
  exchangeCode: (
    code: string,
    redirectUri: string,
    realmId: string,
    ctx: { tenantId: string },
  ) => Promise<QboTokens>;
  /** The app's redirect URI, when the pending state does not carry one. */
  redirectUri?: string;
  log: AppLog;
  now?: () => Date;
}

export interface CallbackQuery {
  code?: string;
  state?: string;
  realmId?: string;
  error?: string;
  error_description?: string;
}

export interface CallbackOutcome {
  status: 200 | 400 | 500;
  title: string;
  message: string;
  tenantId?: string;
  realmId?: string;
}

const REALM_ID = /^\d{1,20}$/;

export async function completeQuickBooksConnection(
  deps: CompleteConnectionDeps,
  query: CallbackQuery,
): Promise<CallbackOutcome> {
  const { log } = deps;
  const now = (deps.now ?? (() => new Date()))();
  const refused = (message: string): CallbackOutcome => ({ status: 400, title: 'Not connected', message });

  if (query.error) {
    log.warn('QuickBooks authorization refused', { error: query.error });
    return refused(
      `QuickBooks did not authorize the connection (${query.error}${query.error_description ? `: ${query.error_description}` : ''}). Run \`npx qbo-sync connect --tenant <id>\` again.`,
    );
  }
  const { code, state, realmId } = query;
  if (!code || !state || !realmId) {
    return refused(
      'the callback needs code, state and realmId: open the link printed by `npx qbo-sync connect`.',
    );
  }
  if (!REALM_ID.test(realmId))
    return refused(`realmId "${realmId.slice(0, 40)}" is not a QuickBooks company id.`);

  let pending: PendingConnection | undefined;
  try {
    pending = await deps.states.get(state);
  } catch (error) {
    log.error('could not read the pending connection', { reason: describeError(error) });
    return {
      status: 500,
      title: 'Not connected',
      message: 'could not read the pending connection; try again.',
    };
  }
  if (pending === undefined) {
    return refused(
      'this link is unknown or was already used: run `npx qbo-sync connect --tenant <id>` again.',
    );
  }
  const tenantId = pending.tenantId;
  const again = `run \`npx qbo-sync connect --tenant ${tenantId}\` again`;
  if (pending.completedAt !== undefined) return refused(`this link was already used: ${again}.`);
  if (pending.expiresAt <= now.getTime()) return refused(`this link has expired: ${again}.`);

  const tenant = await deps.tenants.get(tenantId).catch(() => undefined);
  if (tenant !== undefined && tenant.books.realmId !== realmId) {
    return {
      ...refused(
        `tenant ${tenantId} is configured for QuickBooks company ${tenant.books.realmId}, but company ${realmId} was chosen. Choose company ${tenant.books.realmId} (${again}), or change quickbooks.realmId in the sync config and import it first.`,
      ),
      tenantId,
      realmId,
    };
  }

  const redirectUri = pending.redirectUri ?? deps.redirectUri;
  if (redirectUri === undefined) {
    log.error('no redirect URI configured for the QuickBooks app');
    return {
      status: 500,
      title: 'Not connected',
      message:
        'the QuickBooks app has no redirect URI configured (redirectUri in the QBO_APP_SECRET_ARN secret).',
    };
  }
  try {
    await deps.exchangeCode(code, redirectUri, realmId, { tenantId });
  } catch (error) {
    const reason = describeError(error);
    log.warn('QuickBooks code exchange failed', { tenantId, realmId, reason });
    if (error instanceof PermanentError) return { ...refused(`${reason}. ${again}.`), tenantId, realmId };
    return {
      status: 500,
      title: 'Not connected',
      message: `QuickBooks could not be reached: ${reason}. ${again}.`,
    };
  }
  const first = await deps.states.complete(state, { realmId, completedAt: now.toISOString() });
  if (!first) log.warn('pending connection completed twice', { tenantId, realmId });
  log.info('QuickBooks connected', { tenantId, realmId });
  const note =
    tenant === undefined
      ? ` Tenant ${tenantId} is not imported yet: import the sync config with quickbooks.realmId "${realmId}".`
      : '';
  return {
    status: 200,
    title: 'QuickBooks connected',
    message: `Company ${realmId} is connected to tenant ${tenantId}. You can close this window.${note}`,
    tenantId,
    realmId,
  };
}
