/**
 * `statePath`: the whole stand-in state (companies, entities, tokens, requestid replays) as one JSON file.
 * Saves are coalesced (at most one write per SAVE_DELAY_MS) and atomic (write a temp file, then rename);
 * `flush()` writes any pending change at once (the server's `close()` calls it).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { PersistedCompany } from './company.js';
import { exchangeRatesSchema } from './exchange-rates.js';
import { type PersistedTokens, persistedTokensSchema } from './oauth.js';

const SAVE_DELAY_MS = 200;

const meta = z.object({ CreateTime: z.string(), LastUpdatedTime: z.string() });
const entity = z.looseObject({ Id: z.string(), SyncToken: z.string(), MetaData: meta });
const companySchema = z.object({
  settings: z.object({
    realmId: z.string(),
    companyName: z.string(),
    homeCurrency: z.string(),
    multicurrency: z.boolean(),
    classTrackingPerTxnLine: z.boolean(),
    closedBefore: z.string().optional(),
    exchangeRates: exchangeRatesSchema.optional(),
    createdAt: z.number(),
    prefsSyncToken: z.number(),
  }),
  nextId: z.number().int().positive(),
  accounts: z.array(
    entity.extend({
      Name: z.string(),
      FullyQualifiedName: z.string(),
      Active: z.boolean(),
      AccountType: z.string(),
      CurrencyRef: z.looseObject({ value: z.string() }),
    }),
  ),
  classes: z.array(entity.extend({ Name: z.string(), FullyQualifiedName: z.string(), Active: z.boolean() })),
  customers: z.array(entity.extend({ DisplayName: z.string(), Active: z.boolean() })),
  deposits: z.array(entity.extend({ TxnDate: z.string() })),
  journalEntries: z.array(entity.extend({ TxnDate: z.string() })),
  replays: z.array(
    z.tuple([
      z.string(),
      z.object({ status: z.number(), body: z.string(), contentType: z.string(), at: z.number().optional() }),
    ]),
  ),
  deletions: z
    .array(z.object({ type: z.enum(['Deposit', 'JournalEntry']), Id: z.string(), at: z.number() }))
    .optional(),
});
const stateSchema = z.object({
  version: z.literal(1),
  companies: z.array(companySchema),
  tokens: persistedTokensSchema,
});

export interface PersistedState {
  version: 1;
  companies: PersistedCompany[];
  tokens: PersistedTokens;
}

/** Reads the state file; undefined when it does not exist. Throws with the file name when it is unreadable. */
export function loadState(path: string): PersistedState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `QuickBooks stand-in: state file ${path} is not valid JSON (${(e as Error).message}); delete it to start fresh`,
    );
  }
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `QuickBooks stand-in: state file ${path} is not a stand-in state (${issue?.path.join('.')}: ${issue?.message}); ` +
        'delete it to start fresh',
    );
  }
  // The schema checked every field the stand-in reads; the entities keep their other QuickBooks fields as they are.
  return parsed.data as unknown as PersistedState;
}

export class StateFile {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;

  constructor(
    readonly path: string,
    private readonly snapshot: () => PersistedState,
  ) {}

  /** Marks the state changed; it is written within SAVE_DELAY_MS. */
  changed(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, SAVE_DELAY_MS);
    this.timer.unref();
  }

  /** Writes now if anything changed. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.dirty) return;
    this.dirty = false;
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot()));
    renameSync(tmp, this.path);
  }
}
