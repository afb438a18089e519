/** The shapes of local mode: its options, its start-up error, and the running instance `startLocal` returns. */
import type { QuickBooksStandIn } from '../../standins/quickbooks/index.js';
import type { StripeStandIn } from '../../standins/stripe/index.js';
import type { LedgerRecord } from '../app/ports.js';
import type { ConfigProblem } from '../app/tenant-config.js';
import type { LocalTarget } from './target.js';

export interface LocalOptions {
  /** The working directory (the data folder is found from it). Default `process.cwd()`. */
  cwd?: string;
  /** A sync config file to import at start; without it the demo tenant is used. */
  config?: string;
  /** HTTP port; default `PORT`, else 3000. 0 picks a free port. */
  port?: number;
  /** Run the demo payout, print it, stop: exit 0 when POSTED. */
  once?: boolean;
  /** Empty the data folder first. */
  fresh?: boolean;
  /** The data folder, default `.qbo-sync` (relative to `cwd`). */
  dataDir?: string;
  /**
   * Scales the queue poller's waits between receives of a failing message (0 < scale ≤ 1); default
   * `QBO_SYNC_LOCAL_RETRY_SCALE`, else 1 (5, 10, 15, 20 s).
   */
  retryScale?: number;
  /** The environment to read settings from. Default `process.env`. The handlers always read `process.env`, which local mode sets. */
  env?: NodeJS.ProcessEnv;
  /** Where the banner and the deposit table go. Default stdout. */
  out?: (text: string) => void;
  /** Where start-up problems go. Default stderr. */
  err?: (text: string) => void;
  /** Whether runLocal installs SIGINT/SIGTERM handlers. Default true. */
  handleSignals?: boolean;
}

/** A start-up failure a person can fix (bad config, port in use…): printed without a stack trace. */
export class LocalStartError extends Error {
  override readonly name = 'LocalStartError';
  constructor(
    message: string,
    readonly problems: readonly ConfigProblem[] = [],
  ) {
    super(message);
  }
}

export interface DemoOutcome {
  payoutId: string;
  /** The ledger row at the end (undefined: the payout never reached the ledger in time). */
  row: LedgerRecord | undefined;
  /** True when this run sent the webhook; false when an earlier run had already processed the payout. */
  sent: boolean;
}

export interface LocalInstance {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly target: LocalTarget;
  /** Tenant ids imported at start. */
  readonly tenants: readonly string[];
  /** True when no config was given and the embedded Stripe and QuickBooks run: `runDemo` can run. */
  readonly demoAvailable: boolean;
  /** Things a person should know, printed after the banner (tenants not imported for lack of a connection). */
  readonly warnings: readonly string[];
  /** Payouts besides the demo one that the embedded Stripe stand-in holds (empty otherwise). */
  readonly samplePayoutIds: readonly string[];
  /** The embedded stand-ins (undefined where the environment points at a real service), for tests and tools. */
  readonly standIns: { quickbooks?: QuickBooksStandIn; stripe?: StripeStandIn };
  /** Sends the demo payout (unless an earlier run processed it), waits for the ledger, prints the deposit. */
  runDemo(): Promise<DemoOutcome>;
  /** Stops everything (HTTP, poller, stand-ins, emulators) and removes local.json. Idempotent. */
  stop(): Promise<void>;
  /** Resolves once stopped. */
  readonly stopped: Promise<void>;
}
