/**
 * Local mode's `--config F`: the sync config file read, validated against its schema and against each tenant's
 * QuickBooks company (accounts and classes resolved to ids), and stored in the tenants table. Every problem is
 * reported, naming the tenant, the config entry and the reason (CONTRACT §2, §8 `config validate`).
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { describeError } from '../app/log.js';
import type { QboCustomer, QuickBooksBooks, StoredTenant, TenantStore } from '../app/ports.js';
import { resolveTenantBooks } from '../domain/chart.js';
import { type SyncConfigFile, SyncConfigFileSchema, type TenantConfig } from '../domain/config.js';

export interface ConfigProblem {
  /** The tenant id, or null for a file-level problem. */
  tenant: string | null;
  /** The config path (`quickbooks.depositAccount`, `revenue[2]`), or `file`. */
  entry: string;
  message: string;
}

export type ParseConfigResult =
  | { ok: true; config: SyncConfigFile }
  | { ok: false; problems: ConfigProblem[] };

/** `tenants.0.quickbooks.depositAccount` → `quickbooks.depositAccount`; `revenue.2.class` → `revenue[2].class`. */
function entryPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || 'file';
}

/** Parses and checks the shape of a sync config (YAML or JSON text). */
export function parseSyncConfig(text: string, fileName: string): ParseConfigResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          tenant: null,
          entry: 'file',
          message: `${fileName} line ${pos.line}, column ${pos.col}: ${e.message.split('\n')[0]}`,
        };
      }),
    };
  }
  let raw: unknown;
  try {
    // Aliases are resolved here: one to no anchor, or an alias bomb, throws (no line is known for it).
    raw = doc.toJS();
  } catch (error) {
    return {
      ok: false,
      problems: [{ tenant: null, entry: 'file', message: `${fileName}: ${describeError(error)}` }],
    };
  }
  const parsed = SyncConfigFileSchema.safeParse(raw);
  if (parsed.success) return { ok: true, config: parsed.data };
  const tenantsRaw =
    typeof raw === 'object' && raw !== null && Array.isArray((raw as { tenants?: unknown }).tenants)
      ? ((raw as { tenants: unknown[] }).tenants as unknown[])
      : [];
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const issue of parsed.error.issues) {
    const [top, index, ...rest] = issue.path;
    let tenant: string | null = null;
    let entry = entryPath(issue.path);
    if (top === 'tenants' && typeof index === 'number') {
      const t = tenantsRaw[index];
      const id = typeof t === 'object' && t !== null ? (t as { id?: unknown }).id : undefined;
      tenant = typeof id === 'string' && id ? id : `tenants[${index}]`;
      entry = rest.length > 0 ? entryPath(rest) : 'tenant';
    }
    const key = `${tenant}\u0000${entry}`;
    if (seen.has(key)) continue; // one problem per entry
    seen.add(key);
    problems.push({ tenant, entry, message: issue.message });
  }
  return { ok: false, problems };
}

export function readSyncConfig(file: string): ParseConfigResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return {
      ok: false,
      problems: [
        {
          tenant: null,
          entry: 'file',
          message: `cannot read the config file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : describeError(error)}`,
        },
      ],
    };
  }
  return parseSyncConfig(text, file);
}

export interface ImportDeps {
  tenants: TenantStore;
  books: (realmId: string, tenantId: string) => QuickBooksBooks;
  now?: () => Date;
}

/**
 * Resolves every tenant against its QuickBooks company and stores the ones that resolve. Returns the problems;
 * nothing is stored unless every tenant resolves (an import is all or nothing).
 */
export async function importTenants(
  deps: ImportDeps,
  tenants: readonly TenantConfig[],
): Promise<{ imported: StoredTenant[]; problems: ConfigProblem[] }> {
  const problems: ConfigProblem[] = [];
  const resolved: StoredTenant[] = [];
  const now = (deps.now ?? (() => new Date()))().toISOString();
  for (const tenant of tenants) {
    const books = deps.books(tenant.quickbooks.realmId, tenant.id);
    try {
      const chart = await books.getChart();
      let walkInCustomer: QboCustomer | undefined;
      if (tenant.quickbooks.walkInCustomer !== undefined) {
        walkInCustomer = await books.findCustomerByName(tenant.quickbooks.walkInCustomer.trim());
      }
      const result = resolveTenantBooks(tenant, chart, walkInCustomer ? { walkInCustomer } : {});
      if (result.ok) resolved.push({ books: result.books, source: tenant, updatedAt: now });
      else
        for (const p of result.problems)
          problems.push({ tenant: tenant.id, entry: p.entry, message: p.message });
    } catch (error) {
      const hint = (error as { hint?: unknown }).hint;
      problems.push({
        tenant: tenant.id,
        entry: 'quickbooks.realmId',
        message: `could not read the chart of accounts of QuickBooks company ${tenant.quickbooks.realmId}: ${describeError(error)}${typeof hint === 'string' && hint ? ` (${hint})` : ''}`,
      });
    }
  }
  if (problems.length > 0) return { imported: [], problems };
  for (const t of resolved) {
    try {
      await deps.tenants.put(t);
    } catch (error) {
      const hint = (error as { hint?: unknown }).hint;
      problems.push({
        tenant: t.books.tenantId,
        entry: 'stripeAccount',
        message: `${describeError(error)}${typeof hint === 'string' && hint ? ` (${hint})` : ''}`,
      });
    }
  }
  return { imported: problems.length > 0 ? [] : resolved, problems };
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((p) => `  - ${p.tenant === null ? '' : `tenant ${p.tenant}, `}${p.entry}: ${p.message}`)
    .join('\n');
}
