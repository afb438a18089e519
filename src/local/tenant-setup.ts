/**
 * The tenants local mode serves: those of `--config F`, or the demo tenant on the QuickBooks stand-in's demo
 * company. A tenant whose company has no stored connection gets one from the embedded stand-in (as after
 * `connect`); with a real QuickBooks it is left out with a warning saying how to connect it.
 */
import path from 'node:path';
import type { QuickBooksStandIn } from '../../standins/quickbooks/index.js';
import { readConfigFile } from '../adapters/config-file.js';
import type { TokenStore } from '../app/ports.js';
import { type ImportTenantsDeps, type ImportTenantsResult, importTenants } from '../app/tenant-config.js';
import type { TenantConfig } from '../domain/config.js';
import { demoTenantConfig } from './demo.js';
import { LocalStartError } from './types.js';

export interface TenantSetupOptions {
  cwd: string;
  dataDir: string;
  /** `--config F`; undefined: the demo tenant. */
  config: string | undefined;
  /** The embedded QuickBooks stand-in (undefined with a real QuickBooks). */
  qbo: QuickBooksStandIn | undefined;
  deps: ImportTenantsDeps & { tokens: Pick<TokenStore, 'get' | 'put'> };
}

export interface TenantSetup {
  imported: ImportTenantsResult['imported'];
  /** Tenants left out, each with how to connect it. */
  warnings: string[];
}

/** A refresh token from the QuickBooks stand-in for a realm it knows (as after "connect"); undefined otherwise. */
function issueToken(qbo: QuickBooksStandIn, realmId: string): string | undefined {
  try {
    return qbo.issueRefreshToken(realmId);
  } catch {
    return undefined;
  }
}

/** Imports the tenants. @throws LocalStartError when the config is not valid or does not match QuickBooks. */
export async function setUpTenants(options: TenantSetupOptions): Promise<TenantSetup> {
  const { cwd, dataDir, config, qbo, deps } = options;
  const { tokens } = deps;

  /** Seeds a realm's refresh token, only when none is stored (a restart never rolls a rotated token back). */
  const seedToken = async (realmId: string, refreshToken: string, force = false): Promise<boolean> => {
    if (!force && (await tokens.get(realmId))) return false;
    await tokens.put({
      realmId,
      accessToken: 'expired-seed',
      refreshToken,
      accessTokenExpiresAt: 0,
      updatedAt: new Date().toISOString(),
    });
    return true;
  };

  let tenantConfigs: TenantConfig[];
  if (config) {
    const configPath = path.resolve(cwd, config);
    const parsed = readConfigFile(configPath);
    if (!parsed.ok) throw new LocalStartError(`the config file ${configPath} is not valid`, parsed.problems);
    tenantConfigs = parsed.config.tenants;
  } else {
    if (!qbo) {
      throw new LocalStartError(
        'QBO_API_BASE points at a real QuickBooks, so the demo company is not available: pass --config F with your tenants (their realmId, accounts and a refreshToken)',
      );
    }
    tenantConfigs = [demoTenantConfig()];
  }
  // A config's refreshToken seeds its realm on import (only when no token is stored). Without one, the embedded
  // stand-in issues a connection; a tenant whose company was never connected is left out (not an error: `connect`
  // needs local mode running).
  const notConnected: TenantConfig[] = [];
  for (const t of tenantConfigs) {
    const realmId = t.quickbooks.realmId;
    if (t.quickbooks.refreshToken || (await tokens.get(realmId))) continue;
    const issued = qbo ? issueToken(qbo, realmId) : undefined;
    if (issued) await seedToken(realmId, issued);
    else notConnected.push(t);
  }
  const warnings = notConnected.map(
    (t) =>
      `tenant ${t.id} was not imported: no QuickBooks connection is stored for company ${t.quickbooks.realmId}. Connect it with \`npx qbo-sync connect --tenant ${t.id} --local\`, then \`npx qbo-sync config import ${config ?? '<file>'} --local\` (or restart local mode); or add quickbooks.refreshToken to the config`,
  );
  tenantConfigs = tenantConfigs.filter((t) => !notConnected.includes(t));
  let imported = await importTenants(deps, { tenants: tenantConfigs });
  if (imported.problems.length > 0 && qbo && !config) {
    // The demo's stored token may belong to an emptied stand-in state: connect again and retry once.
    const realmId = tenantConfigs[0]?.quickbooks.realmId ?? '';
    const issued = issueToken(qbo, realmId);
    if (issued) {
      await seedToken(realmId, issued, true);
      imported = await importTenants(deps, { tenants: tenantConfigs });
    }
  }
  if (imported.problems.length > 0) {
    const taken = imported.problems.some((p) => p.entry === 'stripeAccount');
    throw new LocalStartError(
      `${config ? `the config file ${config} does not match QuickBooks` : 'the demo tenant could not be set up'}${
        taken
          ? ` (tenants imported by an earlier run stay in the data folder ${dataDir}, e.g. the demo's demo-studio on "platform": start with --fresh to drop them)`
          : ''
      }`,
      imported.problems,
    );
  }
  return { imported: imported.imported, warnings };
}
