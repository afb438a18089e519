/** The operating-system user running this process: who the CLI and the local console record on the ledger. */
import { userInfo } from 'node:os';

export function osUserName(env: NodeJS.ProcessEnv = process.env): string {
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // no account database entry (some containers): fall back to the environment
  }
  return env.USER || env.USERNAME || 'unknown';
}
