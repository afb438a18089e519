/**
 * Load, in the suite (CONTRACT §7 "no payout lost", "at most one live object"): 100 signed webhooks — 80 payouts
 * and 20 duplicate deliveries — POSTed over HTTP into local mode (real endpoint, FIFO queue, poller, worker).
 * Every one accepted, every payout posted once. The 1,000-event run is `node bin/run-ts.cjs scripts/load-test.ts`.
 */
import { runLoad } from './helpers-load.js';

it('100 webhooks into local mode: 100 accepted, every payout posted, none lost, none doubled', async () => {
  // Act
  const report = await runLoad({ events: 100, tenants: 4, concurrency: 10, timeoutMs: 60_000 });

  // Assess
  expect(report).toMatchObject({
    events: 100,
    accepted: 100,
    rejected: {},
    payouts: 80,
    duplicateEvents: 20,
  });
  expect(report.lost).toEqual([]);
  expect(report.doubled).toEqual([]);
  expect(report.posted).toBe(80);
  expect(report.statuses).toEqual({ POSTED: 80 });
}, 90_000);
