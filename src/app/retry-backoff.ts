/**
 * How long a failed payout message stays invisible before its next delivery (CONTRACT §7: "a failing message backs
 * off on its own (growing visibility timeouts), so a tenant's other payouts wait minutes, not hours").
 *
 * Why the worker sets it: Lambda's SQS event source mapping leaves a failed message alone, so it reappears only when
 * the queue's visibility timeout (6 × the worker's timeout, 18 min) runs out ("After your queue's visibility timeout
 * runs out, the message will again reappear in the queue":
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html). On a FIFO queue the tenant's
 * whole message group waits with it, so five failures held a studio's later payouts for about 90 minutes. The
 * deposit builder therefore calls ChangeMessageVisibility on each failed record with the wait below, and with 0 on
 * the last delivery, so the redrive policy moves the message to the DLQ at the next receive and frees the group.
 */

export interface BackoffSchedule {
  /** The wait after the first failed delivery. */
  firstSeconds: number;
  /** Each later wait is this many times the previous one. */
  factor: number;
  /** No wait is longer than this. */
  maxSeconds: number;
  /** Every wait is multiplied by a factor drawn from [1 − jitter, 1 + jitter]. */
  jitter: number;
}

/**
 * AWS: 30 s, 1, 2, 4 min (±20 %). With the queue's maxReceiveCount of 5, the third delivery comes about 1.5 min after
 * the first failure and a message failing every time reaches the DLQ after about 7.5 min of waiting (plus the
 * attempts themselves), instead of 5 × 18 min.
 */
export const AWS_BACKOFF: BackoffSchedule = { firstSeconds: 30, factor: 2, maxSeconds: 900, jitter: 0.2 };

/** SQS's largest visibility timeout (12 h). */
const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/**
 * The visibility timeout (whole seconds) for a message whose delivery number `receiveCount` (1 = first) failed.
 * `retryAfterMs` is the service's own "wait at least" (QuickBooks asks for 60 s after a 429): never undercut.
 */
export function retryVisibilitySeconds(
  receiveCount: number,
  opts: { schedule?: BackoffSchedule; retryAfterMs?: number; random?: () => number } = {},
): number {
  const s = opts.schedule ?? AWS_BACKOFF;
  const n = Math.max(1, Math.floor(receiveCount));
  const base = Math.min(s.maxSeconds, s.firstSeconds * s.factor ** (n - 1));
  const jittered = base * (1 - s.jitter + 2 * s.jitter * (opts.random ?? Math.random)());
  const floor = opts.retryAfterMs !== undefined ? Math.ceil(opts.retryAfterMs / 1000) : 0;
  return Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.max(1, Math.round(jittered), floor));
}

/** A schedule with every wait multiplied by `scale` (0 < scale ≤ 1), e.g. local mode's and tests'. */
export function scaledSchedule(schedule: BackoffSchedule, scale: number): BackoffSchedule {
  return {
    ...schedule,
    firstSeconds: schedule.firstSeconds * scale,
    maxSeconds: schedule.maxSeconds * scale,
  };
}
