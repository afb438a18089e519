/** Local mode's fixed settings (CONTRACT §9). */

export const DEFAULT_PORT = 3000;
/** Receives before a payout message moves to the DLQ (ledger FAILED). */
export const LOCAL_MAX_RECEIVE_COUNT = 5;
/**
 * Scales the queue poller's waits between receives of a failing message (`retryDelaySeconds`): a number above 0
 * and at most 1, default 1 (5, 10, 15, 20 s). Smaller values let a test or a demo see a payout reach the DLQ in
 * seconds; no wait is shorter than 1 s, as SQS visibility timeouts are whole seconds.
 */
export const RETRY_SCALE_ENV = 'QBO_SYNC_LOCAL_RETRY_SCALE';
/**
 * Payout ids (comma-separated) the embedded Stripe stand-in answers 503 for on every read, for as long as local
 * mode runs: a Stripe outage for those payouts, so the support playbook can make a payout FAILED on purpose.
 * Restart local mode without it to end the outage (the DLQ is kept across the restart).
 */
export const STRIPE_OUTAGE_ENV = 'QBO_SYNC_LOCAL_STRIPE_OUTAGE';
/**
 * The deposit builder's time budget per invocation (`context.getRemainingTimeInMillis`): the stack's default worker
 * timeout (lib/config.ts `workerTimeoutSeconds`, 180 s). The handler stops starting QuickBooks work a minute before
 * the end and continues in a new message, so the budget must be well above that minute.
 */
export const LOCAL_INVOCATION_BUDGET_MS = 180_000;
/** Longer than one invocation's budget, so a message is never received twice while it is being worked on. */
export const LOCAL_VISIBILITY_TIMEOUT_SECONDS = 200;
/** Tables are `<prefix>-tenants`…, queues `<prefix>-payouts.fifo` and `<prefix>-payouts-dlq.fifo`. */
export const RESOURCE_PREFIX = 'qbo-sync-local';
/** Per-realm QuickBooks token secrets are named `<prefix><realmId>`. */
export const TOKEN_SECRET_PREFIX = 'qbo-sync-local/quickbooks-tokens/';
