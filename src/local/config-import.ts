/**
 * Local mode's `--config F`. The file is read by the same reader as the CLI's `config validate|import`
 * (src/adapters/config-file.ts) and imported by the same use case (`importTenants` of src/app/tenant-config.ts):
 * refresh tokens seed only realms without a stored token, are left out of the stored tenant, and a Stripe account
 * owned by another tenant is refused before anything is stored. What is local here: how the problems are printed.
 */
import type { ConfigProblem } from '../app/tenant-config.js';

/** The problems as an indented list, one a line, for local mode's start-up error. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((p) => `  - ${p.tenant === null ? '' : `tenant ${p.tenant}, `}${p.entry}: ${p.message}`)
    .join('\n');
}
