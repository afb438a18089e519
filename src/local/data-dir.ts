/**
 * The data folder (`.qbo-sync/` by default): the local webhook secret kept there, the check that no other local
 * mode uses it, and `--fresh`'s emptying, which refuses a folder local mode did not create.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { QUEUES_FILE } from './queue-state.js';
import { isProcessAlive, LOCAL_JSON, LocalTargetSchema } from './target.js';
import { LocalStartError } from './types.js';

export const SETTINGS_FILE = 'settings.json';
export const QUICKBOOKS_STATE_FILE = 'quickbooks.json';
/** What a data folder may hold: `--fresh` refuses to empty a folder holding anything else. */
const DATA_DIR_ENTRIES = new Set([
  'dynamodb',
  'secrets.json',
  'aws.lock',
  QUICKBOOKS_STATE_FILE,
  SETTINGS_FILE,
  LOCAL_JSON,
  QUEUES_FILE,
]);
/** How long the demo waits for the worker: enough for a payout that keeps failing to reach the DLQ. */

const SettingsSchema = z.object({ webhookSecret: z.string().regex(/^whsec_\S+$/) });

/** The local webhook secret, generated once per data folder. */
export function loadOrCreateSettings(dataDir: string): z.infer<typeof SettingsSchema> {
  const file = path.join(dataDir, SETTINGS_FILE);
  if (existsSync(file)) {
    try {
      const parsed = SettingsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (parsed.success) return parsed.data;
    } catch {
      // rewritten below
    }
  }
  const settings = { webhookSecret: `whsec_${randomBytes(24).toString('base64url')}` };
  writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  return settings;
}

export function refuseIfRunning(dataDir: string): void {
  const file = path.join(dataDir, LOCAL_JSON);
  if (!existsSync(file)) return;
  try {
    const parsed = LocalTargetSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success && parsed.data.pid !== process.pid && isProcessAlive(parsed.data.pid)) {
      throw new LocalStartError(
        `local mode is already running with the data folder ${dataDir} (process ${parsed.data.pid}, ${parsed.data.url}): stop it (Ctrl-C in its terminal) or give this one another --data-dir`,
      );
    }
  } catch (error) {
    if (error instanceof LocalStartError) throw error;
  }
  rmSync(file, { force: true }); // left by a process that did not exit cleanly
}

/** Empties the data folder (`--fresh`); returns how many entries it removed (0: it was empty or absent). */
export function emptyDataDir(dataDir: string): number {
  if (!existsSync(dataDir)) return 0;
  const strangers = readdirSync(dataDir).filter(
    (name) => !DATA_DIR_ENTRIES.has(name) && !name.endsWith('.tmp'),
  );
  if (strangers.length > 0) {
    throw new LocalStartError(
      `--fresh would empty ${dataDir}, but it holds ${strangers
        .slice(0, 5)
        .map((s) => `"${s}"`)
        .join(
          ', ',
        )}, which local mode did not create: point --data-dir at a local-mode data folder (or a new one)`,
    );
  }
  const entries = readdirSync(dataDir);
  for (const name of entries) rmSync(path.join(dataDir, name), { recursive: true, force: true });
  return entries.length;
}
