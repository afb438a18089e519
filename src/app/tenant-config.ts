/**
 * The sync config against QuickBooks (CONTRACT §2, §8 `config validate F` with a target, `config import F`):
 * each tenant's accounts and classes are resolved to ids against its company's chart of accounts (the domain's
 * chart resolver), and, on import, stored with the tenant store. An import is all or nothing: a single problem
 * stores no tenant.
 *
 * Tokens: a tenant whose realm has no stored QuickBooks connection cannot be checked. On import, a config's
 * `refreshToken` seeds the token store for such a realm (never over a stored token: a rotated token is never rolled
 * back); `validate` never writes and reports the missing connection instead.
 */
import { resolveTenantBooks } from '../domain/chart.js';
import type { SyncConfigFile, TenantConfig } from '../domain/config.js';
import { PermanentError } from './errors.js';
import { describeError } from './log.js';
import type { QboCustomer, QuickBooksBooks, StoredTenant, TenantStore, TokenStore } from './ports.js';

export interface ConfigProblem {
  /** The tenant id, or null for a file-level problem. */
  tenant: string | null;
  /** The config path: `quickbooks.depositAccount`, `revenue[2]`… (`file` for the file itself). */
  entry: string;
  message: string;
}

export interface CheckTenantsDeps {
  books: (realmId: string, tenantId: string) => Pick<QuickBooksBooks, 'getChart' | 'findCustomerByName'>;
  tokens: Pick<TokenStore, 'get'>;
  now?: () => Date;
}

/** A company's closing date as read when the tenant was checked, with the tenant's closed-period policy. */
export interface ClosingDate {
  tenant: string;
  /** `Preferences.AccountingInfoPrefs.BookCloseDate`; null when the books have no closing date. */
  closedThrough: string | null;
  closedPeriod: 'hold' | 'nextOpenDate';
}

export interface CheckTenantsResult {
  resolved: StoredTenant[];
  problems: ConfigProblem[];
  /** One per tenant whose company could be read. */
  closingDates: ClosingDate[];
}

/** The config entry as stored: everything but the refresh token (tokens live in the token store). */
export function withoutSecrets(tenant: TenantConfig): TenantConfig {
  const { refreshToken: _dropped, ...quickbooks } = tenant.quickbooks;
  return { ...tenant, quickbooks };
}

/**
 * The stored tenant, or a PermanentError naming it and how to configure it (by default: import the sync config
 * that defines it).
 */
export async function configuredTenant(
  tenants: Pick<TenantStore, 'get'> & Partial<Pick<TenantStore, 'list'>>,
  tenantId: string,
  hint = 'import the sync config that defines it first: `npx qbo-sync config import F`',
): Promise<StoredTenant> {
  const stored = await tenants.get(tenantId);
  if (stored !== undefined) return stored;
  // Name the tenants there are, when the store can list them (a typo is the usual cause).
  const known = tenants.list ? (await tenants.list()).map((t) => t.books.tenantId).sort() : undefined;
  const which =
    known === undefined
      ? ''
      : known.length === 0
        ? ' (no tenant is configured yet)'
        : ` (the configured tenant${known.length > 1 ? 's are' : ' is'} ${known.map((k) => `"${k}"`).join(', ')})`;
  throw new PermanentError(`tenant "${tenantId}" is not configured${which}`, hint);
}

function hintOf(error: unknown): string {
  const hint = (error as { hint?: unknown }).hint;
  return typeof hint === 'string' && hint !== '' ? ` (${hint})` : '';
}

/** Resolves every tenant against its company; reports every problem, one per config entry. */
export async function checkTenants(
  deps: CheckTenantsDeps,
  tenants: readonly TenantConfig[],
): Promise<CheckTenantsResult> {
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const resolved: StoredTenant[] = [];
  const problems: ConfigProblem[] = [];
  const closingDates: ClosingDate[] = [];
  for (const tenant of tenants) {
    const realmId = tenant.quickbooks.realmId;
    let connected: boolean;
    try {
      connected = (await deps.tokens.get(realmId)) !== undefined;
    } catch (error) {
      problems.push({
        tenant: tenant.id,
        entry: 'quickbooks.realmId',
        message: `the stored QuickBooks connection of company ${realmId} cannot be read: ${describeError(error)}${hintOf(error)}`,
      });
      continue;
    }
    if (!connected) {
      problems.push({
        tenant: tenant.id,
        entry: 'quickbooks.realmId',
        message: `no QuickBooks connection is stored for company ${realmId}: connect it with \`npx qbo-sync connect --tenant ${tenant.id}\`${tenant.quickbooks.refreshToken ? ' (or import the file: its refreshToken is stored on import)' : ''}`,
      });
      continue;
    }
    try {
      const books = deps.books(realmId, tenant.id);
      const chart = await books.getChart();
      closingDates.push({
        tenant: tenant.id,
        closedThrough: chart.company.bookCloseDate ?? null,
        closedPeriod: tenant.quickbooks.closedPeriod ?? 'hold',
      });
      let walkInCustomer: QboCustomer | undefined;
      if (tenant.quickbooks.walkInCustomer !== undefined) {
        walkInCustomer = await books.findCustomerByName(tenant.quickbooks.walkInCustomer.trim());
      }
      const result = resolveTenantBooks(tenant, chart, walkInCustomer ? { walkInCustomer } : {});
      if (result.ok) resolved.push({ books: result.books, source: withoutSecrets(tenant), updatedAt: now });
      else
        for (const p of result.problems)
          problems.push({ tenant: tenant.id, entry: p.entry, message: p.message });
    } catch (error) {
      problems.push({
        tenant: tenant.id,
        entry: 'quickbooks.realmId',
        message: `could not read the chart of accounts of QuickBooks company ${realmId}: ${describeError(error)}${hintOf(error)}`,
      });
    }
  }
  return { resolved, problems, closingDates };
}

export interface ImportTenantsDeps extends CheckTenantsDeps {
  tenants: Pick<TenantStore, 'put' | 'findByStripeAccount'>;
  tokens: Pick<TokenStore, 'get' | 'put'>;
}

export interface ImportTenantsResult {
  imported: StoredTenant[];
  problems: ConfigProblem[];
  /** Realms whose connection was seeded from the file's refreshToken. */
  seeded: string[];
}

/** Seeds missing connections from the file, checks every tenant, and stores them all only when none has a problem. */
export async function importTenants(
  deps: ImportTenantsDeps,
  config: SyncConfigFile,
): Promise<ImportTenantsResult> {
  const seeded: string[] = [];
  const now = deps.now ?? (() => new Date());
  for (const tenant of config.tenants) {
    const { realmId, refreshToken } = tenant.quickbooks;
    if (refreshToken === undefined || seeded.includes(realmId)) continue;
    if ((await deps.tokens.get(realmId)) !== undefined) continue;
    await deps.tokens.put({
      realmId,
      // Expired on purpose: the first call refreshes it (and stores the rotated refresh token).
      accessToken: 'seeded-from-config',
      refreshToken,
      accessTokenExpiresAt: 0,
      updatedAt: now().toISOString(),
    });
    seeded.push(realmId);
  }
  const checked = await checkTenants(deps, config.tenants);
  if (checked.problems.length > 0) return { imported: [], problems: checked.problems, seeded };
  // A Stripe account owned by a tenant the file does not mention: refused before anything is stored.
  const inFile = new Set(config.tenants.map((t) => t.id));
  for (const tenant of checked.resolved) {
    const owner = await deps.tenants.findByStripeAccount(tenant.books.stripeAccount);
    const ownerId = owner?.books.tenantId;
    if (ownerId !== undefined && ownerId !== tenant.books.tenantId && !inFile.has(ownerId)) {
      checked.problems.push({
        tenant: tenant.books.tenantId,
        entry: 'stripeAccount',
        message: `Stripe account ${tenant.books.stripeAccount} already belongs to tenant "${ownerId}": give this tenant its own stripeAccount, or include "${ownerId}" in the file with another one`,
      });
    }
  }
  if (checked.problems.length > 0) return { imported: [], problems: checked.problems, seeded };
  const problems: ConfigProblem[] = [];
  const imported: StoredTenant[] = [];
  for (const tenant of checked.resolved) {
    try {
      await deps.tenants.put(tenant);
      imported.push(tenant);
    } catch (error) {
      problems.push({
        tenant: tenant.books.tenantId,
        entry: 'stripeAccount',
        message: `${describeError(error)}${hintOf(error)}`,
      });
    }
  }
  return { imported, problems, seeded };
}
