/**
 * The worker's CloudWatch metrics, one per ledger status a person must hear about (CONTRACT §7): a payout newly
 * `HELD` and a payout newly `FAILED`. Emitted with Powertools Metrics as Embedded Metric Format lines on stdout,
 * which CloudWatch Logs turns into metrics without an API call; the stack's alarms watch them.
 *
 * Names are exact and shared with lib/constructs/sync-alarms.ts (a test checks they agree): namespace from
 * `POWERTOOLS_METRICS_NAMESPACE` (the stack sets `qbo-sync/<stack name>`, so stages never mix), dimension
 * `service` = {@link METRICS_SERVICE}, metric names {@link PAYOUT_STATUS_METRICS}.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DriftMetrics } from '../app/audit-drift.js';

/** The metric counted for each alarming status. */
export const PAYOUT_STATUS_METRICS = { HELD: 'PayoutsHeld', FAILED: 'PayoutsFailed' } as const;
export type AlarmingStatus = keyof typeof PAYOUT_STATUS_METRICS;

/** The `service` dimension of the worker's metrics. */
export const METRICS_SERVICE = 'deposit-builder';
/** Used when `POWERTOOLS_METRICS_NAMESPACE` is unset (outside the stack). */
export const DEFAULT_METRICS_NAMESPACE = 'qbo-sync';

/** What the deposit builder reports: a payout reached a status a person must hear about. */
export interface StatusMetrics {
  count(status: AlarmingStatus): void;
  /** Writes what was counted (once per invocation). */
  publish(): void;
}

/** {@link StatusMetrics} on Powertools Metrics (EMF on stdout). */
export class PowertoolsStatusMetrics implements StatusMetrics {
  readonly metrics: Metrics;

  constructor(opts: { namespace?: string; metrics?: Metrics } = {}) {
    this.metrics =
      opts.metrics ??
      new Metrics({
        namespace: opts.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
        serviceName: METRICS_SERVICE,
      });
  }

  count(status: AlarmingStatus): void {
    this.metrics.addMetric(PAYOUT_STATUS_METRICS[status], MetricUnit.Count, 1);
  }

  publish(): void {
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }
}

/**
 * The daily catch-up's drift metric (issue 16): how many posted entries its audit found deleted or edited in
 * QuickBooks, written on every run (0 included, so the alarm recovers once each finding is resynced or accepted).
 * Dimension `service` = {@link DRIFT_METRIC}.service; lib/constructs/sync-alarms.ts alarms on it.
 */
export const DRIFT_METRIC = { service: 'catch-up', name: 'EntriesDrifted' } as const;

/** {@link DriftMetrics} on Powertools Metrics (EMF on stdout). */
export class PowertoolsDriftMetrics implements DriftMetrics {
  readonly metrics: Metrics;

  constructor(opts: { namespace?: string; metrics?: Metrics } = {}) {
    this.metrics =
      opts.metrics ??
      new Metrics({
        namespace: opts.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
        serviceName: DRIFT_METRIC.service,
      });
  }

  drifted(count: number): void {
    this.metrics.addMetric(DRIFT_METRIC.name, MetricUnit.Count, count);
  }

  publish(): void {
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }
}
