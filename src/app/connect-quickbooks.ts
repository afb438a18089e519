/**
 * The end of `qbo-sync connect --tenant T` (the QuickBooks OAuth callback), failing closed at every step:
 *   1. the `state` must be a pending one the CLI stored, unused and unexpired (CSRF);
 *   2. the tenant must be readable (an unreadable one refuses: never connect blind), its configured company (if
 *      imported) must be the one chosen, and that company must not be bound to another tenant;
 *   3. the state is marked used, atomically and once, BEFORE the code is exchanged, so a replayed or raced
 *      callback can never exchange a second time;
 *   4. the code is exchanged for tokens, and QuickBooks itself is asked which company they belong to (CompanyInfo
 *      read with the new access token): the `realmId` query parameter alone is never trusted (CONTRACT §7);
 *   5. the company is bound to the tenant (conditionally: a company bound to another tenant is refused), the
 *      tokens are stored, and the state is completed (the CLI polls it).
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
  /** Set when a callback claimed the state (before its code exchange). */
  usedAt?: string;
  /** Set once the callback succeeded. */
  realmId?: string;
  completedAt?: string;
}

export interface ConnectStateStore {
  get(state: string): Promise<PendingConnection | undefined>;
  /** Marks the state used, atomically and once (conditional): false when it was already used or is unknown. */
  claim(state: string, usedAt: string): Promise<boolean>;
  /** Records the outcome, once (conditional): false when it was already completed. */
  complete(state: string, outcome: { realmId: string; completedAt: string }): Promise<boolean>;
}

/** Which tenant each QuickBooks company is bound to (the tenants-table item `REALM#<realmId>`). */
export interface RealmBindings {
  realmOwner(realmId: string): Promise<string | undefined>;
  /** Binds the company to the tenant unless another tenant holds it: that tenant's id then, else undefined. */
  bindRealm(realmId: string, tenantId: string): Promise<string | undefined>;
}

export interface CompleteConnectionDeps {
  states: ConnectStateStore;
  tenants: Pick<TenantStore, 'get'> & RealmBindings;
  /** Exchanges the authorization code for tokens (not stored yet: QboTokenManager.exchangeCode). */
  exchangeCode: (
    code: string,
    redirectUri: string,
    realmId: string,
    ctx: { tenantId: string },
  ) => Promise<QboTokens>;
  /** Reads CompanyInfo of `realmId` with the access token; throws a PermanentError when QuickBooks refuses. */
  confirmRealm: (accessToken: string, realmId: string) => Promise<{ companyName?: string | undefined }>;
  /** Stores the tokens of a confirmed company (under its refresh lock). */
  storeTokens: (tokens: QboTokens) => Promise<void>;
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
  const failed = (message: string): CallbackOutcome => ({ status: 500, title: 'Not connected', message });

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

  // 1. The pending state.
  let pending: PendingConnection | undefined;
  try {
    pending = await deps.states.get(state);
  } catch (error) {
    log.error('could not read the pending connection', { reason: describeError(error) });
    return failed('could not read the pending connection; nothing was connected. Try again.');
  }
  if (pending === undefined) {
    return refused(
      'this link is unknown or was already used: run `npx qbo-sync connect --tenant <id>` again.',
    );
  }
  const tenantId = pending.tenantId;
  const again = `run \`npx qbo-sync connect --tenant ${tenantId}\` again`;
  const about = { tenantId, realmId };
  if (pending.completedAt !== undefined || pending.usedAt !== undefined)
    return refused(`this link was already used: ${again}.`);
  if (pending.expiresAt <= now.getTime()) return refused(`this link has expired: ${again}.`);

  // 2. The tenant and the company's binding, read or refused.
  let tenant: Awaited<ReturnType<CompleteConnectionDeps['tenants']['get']>>;
  let owner: string | undefined;
  try {
    tenant = await deps.tenants.get(tenantId);
    owner = await deps.tenants.realmOwner(realmId);
  } catch (error) {
    log.error('could not read the tenant or the company binding: nothing connected', {
      ...about,
      reason: describeError(error),
    });
    return {
      ...failed(`tenant ${tenantId} could not be read, so nothing was connected; try again later.`),
      ...about,
    };
  }
  if (tenant !== undefined && tenant.books.realmId !== realmId) {
    return {
      ...refused(
        `tenant ${tenantId} is configured for QuickBooks company ${tenant.books.realmId}, but company ${realmId} was chosen. Choose company ${tenant.books.realmId} (${again}), or change quickbooks.realmId in the sync config and import it first.`,
      ),
      ...about,
    };
  }
  const takenBy = (other: string) => ({
    ...refused(
      `QuickBooks company ${realmId} is already connected to tenant ${other}; a company serves one tenant. Choose another company (${again}).`,
    ),
    ...about,
  });
  if (owner !== undefined && owner !== tenantId) return takenBy(owner);

  const redirectUri = pending.redirectUri ?? deps.redirectUri;
  if (redirectUri === undefined) {
    log.error('no redirect URI configured for the QuickBooks app');
    return failed(
      'the QuickBooks app has no redirect URI configured (redirectUri in the QBO_APP_SECRET_ARN secret).',
    );
  }

  // 3. Used once, before the exchange.
  try {
    if (!(await deps.states.claim(state, now.toISOString()))) {
      return { ...refused(`this link was already used: ${again}.`), ...about };
    }
  } catch (error) {
    log.error('could not mark the pending connection used', { ...about, reason: describeError(error) });
    return { ...failed('could not mark this link used, so nothing was connected; try again.'), ...about };
  }

  // 4. Exchange, then ask QuickBooks which company the tokens are for.
  const fail = (what: string, error: unknown): CallbackOutcome => {
    const reason = describeError(error);
    log.warn(`QuickBooks ${what} failed`, { ...about, reason });
    if (error instanceof PermanentError) return { ...refused(`${reason}. ${again}.`), ...about };
    return { ...failed(`QuickBooks could not be reached: ${reason}. ${again}.`), ...about };
  };
  let tokens: QboTokens;
  try {
    tokens = await deps.exchangeCode(code, redirectUri, realmId, { tenantId });
  } catch (error) {
    return fail('code exchange', error);
  }
  let company: { companyName?: string | undefined };
  try {
    company = await deps.confirmRealm(tokens.accessToken, realmId);
  } catch (error) {
    return fail('company check', error);
  }

  // 5. Bind, store, complete.
  try {
    const other = await deps.tenants.bindRealm(realmId, tenantId);
    if (other !== undefined) return takenBy(other);
    await deps.storeTokens(tokens);
  } catch (error) {
    return fail('connection storage', error);
  }
  const first = await deps.states.complete(state, { realmId, completedAt: now.toISOString() });
  if (!first) log.warn('pending connection completed twice', about);
  log.info('QuickBooks connected', about);
  const note =
    tenant === undefined
      ? ` Tenant ${tenantId} is not imported yet: import the sync config with quickbooks.realmId "${realmId}".`
      : '';
  const name = company.companyName ? ` (${company.companyName})` : '';
  return {
    status: 200,
    title: 'QuickBooks connected',
    message: `Company ${realmId}${name} is connected to tenant ${tenantId}. You can close this window.${note}`,
    ...about,
  };
}
