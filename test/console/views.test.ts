/**
 * The console's pure parts: which QuickBooks web app a posted entry opens in (production, sandbox, none for a
 * stand-in; deposit and journal paths as the LedgerSync QuickBooks Online adaptor's `url_for` builds them), the
 * chart's days (every day of the range, counted on the day each payout reached the ledger), and when the payout
 * page keeps refreshing (the worker has it, or has not yet acted on a person's request).
 */
import type { LedgerRecord } from '../../src/app/ports.js';
import { quickBooksAppOrigin } from '../../src/console/services.js';
import { countByStatus, perDay } from '../../src/console/summary.js';
import { isInFlight, quickBooksLink } from '../../src/console/views/payouts.js';

const row = (over: Partial<LedgerRecord>): LedgerRecord => ({
  payoutId: 'po_1',
  tenantId: 'studio',
  status: 'POSTED',
  reason: null,
  hint: null,
  quickbooks: null,
  intent: null,
  generation: 0,
  version: 1,
  attempts: 0,
  createdAt: '2026-03-02T10:00:00.000Z',
  updatedAt: '2026-03-02T10:00:05.000Z',
  ...over,
});

it('links a posted entry to the QuickBooks web app of its API, and to none for a stand-in', async () => {
  expect(quickBooksAppOrigin(undefined)).toBe('https://app.qbo.intuit.com');
  expect(quickBooksAppOrigin('https://quickbooks.api.intuit.com')).toBe('https://app.qbo.intuit.com');
  expect(quickBooksAppOrigin('https://sandbox-quickbooks.api.intuit.com')).toBe(
    'https://app.sandbox.qbo.intuit.com',
  );
  expect(quickBooksAppOrigin('http://127.0.0.1:41949')).toBeUndefined();
  const deposit = String(await quickBooksLink('https://app.qbo.intuit.com', { type: 'Deposit', id: '148' }));
  expect(deposit).toContain('href="https://app.qbo.intuit.com/app/deposit?txnId=148"');
  expect(deposit).toContain('rel="noopener noreferrer"');
  const journal = String(
    await quickBooksLink('https://app.sandbox.qbo.intuit.com', { type: 'JournalEntry', id: '9' }),
  );
  expect(journal).toContain('href="https://app.sandbox.qbo.intuit.com/app/journal?txnId=9"');
  expect(String(await quickBooksLink(undefined, { type: 'Deposit', id: '3' }))).not.toContain('href');
});

it('counts per status and per day, every day of the range included', () => {
  const rows = [
    row({ payoutId: 'po_a', status: 'POSTED', createdAt: '2026-03-01T23:59:59.000Z' }),
    row({ payoutId: 'po_b', status: 'HELD', createdAt: '2026-03-03T00:00:00.000Z' }),
    row({ payoutId: 'po_c', status: 'HELD', createdAt: '2026-03-03T12:00:00.000Z' }),
    row({ payoutId: 'po_d', status: 'FAILED', createdAt: '2026-02-20T12:00:00.000Z' }),
  ];
  expect(countByStatus(rows)).toMatchObject({ POSTED: 1, HELD: 2, FAILED: 1, RECEIVED: 0 });
  const days = perDay(rows, '2026-03-01', '2026-03-03');
  expect(days.map((d) => [d.day, d.total, d.counts.HELD])).toEqual([
    ['2026-03-01', 1, 0],
    ['2026-03-02', 0, 0],
    ['2026-03-03', 2, 2],
  ]);
});

it('keeps refreshing while the worker has the payout, or has not acted on a request yet', () => {
  const now = Date.parse('2026-03-02T10:01:00.000Z');
  expect(isInFlight(row({ status: 'POSTING' }), now)).toBe(true);
  expect(isInFlight(row({ status: 'HELD' }), now)).toBe(false);
  const asked = {
    action: 'sync' as const,
    by: 'sam',
    via: 'console' as const,
    at: '2026-03-02T10:00:30.000Z',
  };
  expect(isInFlight(row({ status: 'HELD', actions: [asked] }), now)).toBe(true);
  // The worker acted after the request (updatedAt moved past it), or a preview only: nothing to wait for.
  expect(
    isInFlight(row({ status: 'HELD', actions: [asked], updatedAt: '2026-03-02T10:00:40.000Z' }), now),
  ).toBe(false);
  expect(isInFlight(row({ status: 'HELD', actions: [{ ...asked, action: 'preview' }] }), now)).toBe(false);
  // Ten minutes without the worker: stop refreshing.
  expect(isInFlight(row({ status: 'HELD', actions: [asked] }), now + 11 * 60_000)).toBe(false);
});
