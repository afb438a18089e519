/**
 * The CLI's use cases on in-memory ports (the cases the end-to-end test cannot reach cheaply): DLQ replay never
 * turns a processed row back, request ids are stable per ledger version, shared-email ranking, config parsing.
 */

import { parseConfigText } from '../../src/adapters/config-file.js';
import {
  type DeadLetter,
  payoutsInDlq,
  replayDeadLetters,
  withCurrentFix,
} from '../../src/app/dead-letters.js';
import { PermanentError } from '../../src/app/errors.js';
import type { Ledger, LedgerRecord, PayoutMessage, StoredTenant } from '../../src/app/ports.js';
import { RequestUsageError, requestResync, requestSync } from '../../src/app/request-payouts.js';
import { oldestFirst, syncCustomers } from '../../src/app/sync-customers.js';
import { configuredTenant } from '../../src/app/tenant-config.js';

function memoryLedger(rows: LedgerRecord[] = []): Ledger & { rows: Map<string, LedgerRecord> } {
  const map = new Map(rows.map((r) => [r.payoutId, r]));
  return {
    rows: map,
    get: async (id) => map.get(id),
    ensure: async (id, tenantId, eventId) => {
      const existing = map.get(id);
      if (existing) return existing;
      const row = record(id, tenantId, 'RECEIVED');
      if (eventId) row.lastEventId = eventId;
      map.set(id, row);
      return row;
    },
    update: async (id, version, patch) => {
      const row = map.get(id);
      if (!row || row.version !== version) return undefined;
      const next = { ...row, ...patch, version: row.version + 1 } as LedgerRecord;
      map.set(id, next);
      return next;
    },
    list: async () => [...map.values()],
  };
}

function record(
  payoutId: string,
  tenantId: string,
  status: LedgerRecord['status'],
  version = 0,
): LedgerRecord {
  return {
    payoutId,
    tenantId,
    status,
    reason: null,
    hint: null,
    quickbooks: status === 'POSTED' ? { type: 'Deposit', id: '7' } : null,
    intent: null,
    generation: 0,
    version,
    attempts: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

const tenant = {
  books: { tenantId: 'studio', stripeAccount: 'acct_1A', realmId: '1' },
} as unknown as StoredTenant;
const tenants = { get: async (id: string) => (id === 'studio' ? tenant : undefined) };

function letter(payoutId: string, id: string): DeadLetter {
  const message: PayoutMessage = {
    eventId: `evt_${id}`,
    eventType: 'payout.paid',
    tenantId: 'studio',
    stripeAccount: 'acct_1A',
    payoutId,
    receivedAt: '2026-01-01T00:00:00.000Z',
  };
  return { messageId: id, receiveCount: 5, message };
}

describe('replayDeadLetters', () => {
  test('moves the chosen messages; FAILED rows become RECEIVED, rows the worker already moved stay', async () => {
    // Prepare
    const ledger = memoryLedger([
      record('po_failed', 'studio', 'FAILED', 3),
      record('po_posted', 'studio', 'POSTED', 9),
    ]);
    const queue = [
      letter('po_failed', 'm1'),
      letter('po_posted', 'm2'),
      { messageId: 'm3', receiveCount: 1, problem: 'not JSON' },
    ];
    const dlq = {
      list: async () => queue,
      moveBack: async (match: (l: DeadLetter) => boolean) => ({
        moved: queue.filter(match),
        remaining: queue.filter((l) => !match(l)),
      }),
    };

    // Act
    const result = await replayDeadLetters({ dlq, ledger }, {});

    // Assess
    expect(result).toEqual({
      replayed: ['po_failed', 'po_posted'],
      remaining: 1,
      dryRun: false,
      unreadable: 1,
    });
    expect(ledger.rows.get('po_failed')).toMatchObject({ status: 'RECEIVED', version: 4, hint: null });
    expect(ledger.rows.get('po_posted')).toMatchObject({ status: 'POSTED', version: 9 });
  });

  test('a payout that is not in the DLQ is an error naming it', async () => {
    const dlq = { list: async () => [], moveBack: async () => ({ moved: [], remaining: [] }) };
    await expect(replayDeadLetters({ dlq, ledger: memoryLedger() }, { payoutId: 'po_x' })).rejects.toThrow(
      'payout po_x is not in the dead-letter queue',
    );
  });

  test('a FAILED payout whose message is gone: replay says so, and gives payouts sync as the fix', async () => {
    const dlq = { list: async () => [], moveBack: async () => ({ moved: [], remaining: [] }) };
    const ledger = memoryLedger([record('po_gone', 'studio', 'FAILED', 5)]);
    const error = await replayDeadLetters({ dlq, ledger }, { payoutId: 'po_gone' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).message).toMatch(
      /^payout po_gone is not in the dead-letter queue: the ledger says FAILED, but its message is gone/,
    );
    expect((error as PermanentError).hint).toBe(
      'fix the cause, then queue it again with `npx qbo-sync payouts sync po_gone`',
    );
  });
});

describe('the fix of a FAILED row', () => {
  const failed = {
    ...record('po_failed', 'studio', 'FAILED', 5),
    reason: 'attempt 5 failed: Stripe failed (HTTP 503)',
    hint: 'retries exhausted: the message is in the dead-letter queue. Fix the cause, then `npx qbo-sync dlq replay --payout po_failed`',
  };
  const letter = (payoutId: string): DeadLetter => ({
    messageId: `m-${payoutId}`,
    receiveCount: 5,
    message: {
      eventId: 'evt_1',
      eventType: 'payout.paid',
      tenantId: 'studio',
      stripeAccount: 'acct_1A',
      payoutId,
      receivedAt: '2026-01-01T00:00:00.000Z',
    },
  });

  test('stays dlq replay while its message is in the DLQ', async () => {
    const inDlq = await payoutsInDlq({ list: async () => [letter('po_failed')] }, [failed]);
    expect(withCurrentFix(failed, inDlq)).toEqual(failed);
  });

  test('becomes payouts sync once its message is gone from the DLQ', async () => {
    const inDlq = await payoutsInDlq({ list: async () => [letter('po_other')] }, [failed]);
    expect(withCurrentFix(failed, inDlq)).toMatchObject({
      status: 'FAILED',
      reason: 'attempt 5 failed: Stripe failed (HTTP 503); its message is no longer in the dead-letter queue',
      hint: 'fix the cause, then queue it again with `npx qbo-sync payouts sync po_failed`',
    });
  });

  test('stays dlq replay while its message may still be on its way to the DLQ', async () => {
    const now = new Date('2026-01-01T00:00:30.000Z'); // 30 s after the row turned FAILED
    const inDlq = await payoutsInDlq({ list: async () => [] }, [failed]);
    expect(withCurrentFix(failed, inDlq, { seconds: 60, now })).toEqual(failed);
    expect(withCurrentFix(failed, inDlq, { seconds: 20, now }).hint).toMatch(/payouts sync po_failed/);
  });

  test('the DLQ is not read when no row is FAILED', async () => {
    let reads = 0;
    const dlq = {
      list: async () => {
        reads += 1;
        return [];
      },
    };
    await payoutsInDlq(dlq, [record('po_posted', 'studio', 'POSTED')]);
    expect(reads).toBe(0);
  });
});

describe('requestSync / requestResync', () => {
  test('the message id follows the ledger version: the same request twice is one message', async () => {
    const sent: PayoutMessage[] = [];
    const deps = {
      tenants,
      ledger: memoryLedger(),
      queue: { enqueue: async (m: PayoutMessage) => void sent.push(m) },
    };
    const first = await requestSync(deps, { payoutId: 'po_1', tenantId: 'studio' });
    const again = await requestSync(deps, { payoutId: 'po_1' });
    expect(first.eventId).toBe('sync-po_1-v0');
    expect(again.eventId).toBe(first.eventId);
    expect(sent.map((m) => [m.eventType, m.stripeAccount, m.tenantId])).toEqual([
      ['sync', 'acct_1A', 'studio'],
      ['sync', 'acct_1A', 'studio'],
    ]);
  });

  test('usage and permanent problems are told apart', async () => {
    const ledger = memoryLedger([
      record('po_2', 'other', 'POSTED', 4),
      record('po_3', 'studio', 'REVERSED', 2),
    ]);
    const deps = { tenants, ledger, queue: { enqueue: async () => {} } };
    await expect(requestSync(deps, { payoutId: 'po_9' })).rejects.toBeInstanceOf(RequestUsageError);
    await expect(requestSync(deps, { payoutId: 'bad' })).rejects.toBeInstanceOf(RequestUsageError);
    await expect(requestSync(deps, { payoutId: 'po_2', tenantId: 'studio' })).rejects.toThrow(
      /belongs to tenant "other"/,
    );
    await expect(requestSync(deps, { payoutId: 'po_9', tenantId: 'nobody' })).rejects.toBeInstanceOf(
      PermanentError,
    );
    await expect(requestResync(deps, { payoutId: 'po_3' })).rejects.toThrow(/was reversed/);
    await expect(requestResync(deps, { payoutId: 'po_8' })).rejects.toThrow(/does not know payout po_8/);
  });
});

describe('syncCustomers', () => {
  test('the oldest customer wins a shared email; unknown creation times rank last; inactive ones are ignored', async () => {
    const customers = [
      {
        id: '12',
        displayName: 'B',
        email: 'x@example.com',
        active: true,
        createTime: '2024-01-01T00:00:00Z',
      },
      { id: '11', displayName: 'A', email: 'x@example.com', active: true },
      {
        id: '13',
        displayName: 'C',
        email: 'x@example.com',
        active: true,
        createTime: '2023-01-01T00:00:00Z',
      },
      {
        id: '14',
        displayName: 'D',
        email: 'x@example.com',
        active: false,
        createTime: '2020-01-01T00:00:00Z',
      },
      { id: '15', displayName: 'E', active: true },
    ];
    expect(oldestFirst(customers.slice(0, 3)).map((c) => c.id)).toEqual(['13', '12', '11']);
    const stored: { email: string; customerId: string }[] = [];
    const result = await syncCustomers(
      {
        tenants,
        quickbooks: () => ({ listCustomers: async () => customers }),
        customers: { putMany: async (_realm, entries) => void stored.push(...entries) },
      },
      { tenantId: 'studio' },
    );
    expect(result).toEqual({
      tenant: 'studio',
      realmId: '1',
      customers: 4,
      mapped: 1,
      withoutEmail: 1,
      sharedEmails: [{ email: 'x@example.com', ids: ['13', '12', '11'] }],
    });
    expect(stored).toEqual([{ email: 'x@example.com', customerId: '13' }]);
  });
});

describe('parseConfigText', () => {
  test('a file-level problem has tenant null; a tenant problem names the tenant by id', () => {
    expect(parseConfigText('tenants: []\n', 'a.yaml')).toEqual({
      ok: false,
      problems: [{ tenant: null, entry: 'tenants', message: 'the file must list at least one tenant' }],
    });
    expect(parseConfigText('', 'a.yaml')).toEqual({
      ok: false,
      problems: [{ tenant: null, entry: 'file', message: 'a.yaml is empty: it needs a tenants: list' }],
    });
    const dup = parseConfigText(
      JSON.stringify({
        tenants: ['a1', 'a1'].map((id) => ({
          id,
          stripeAccount: 'platform',
          quickbooks: {
            realmId: '1',
            depositAccount: 'C',
            processingFeesAccount: 'F',
            adjustmentsAccount: 'A',
          },
        })),
      }),
      'b.json',
    );
    expect(dup.ok).toBe(false);
    expect(!dup.ok && dup.problems.map((p) => [p.tenant, p.entry])).toEqual([
      ['a1', 'id'],
      ['a1', 'stripeAccount'],
    ]);
  });

  test('JSON syntax errors name the line and column of the first mistake', () => {
    const cases: Array<[string, string]> = [
      ['{"tenants": [1,]}', 'line 1, column 16: unexpected "]": expected a value'],
      ['{"tenants":\n  "x"\n  "y"}', 'line 3, column 3: unexpected """: expected "," or "}"'],
      ['{"a": "unclosed', 'line 1, column 16: a text value is not closed with "'],
      ['{"a": 1} extra', 'line 1, column 10: unexpected "e" after the end of the document'],
    ];
    for (const [text, message] of cases) {
      const r = parseConfigText(text, 'c.json');
      expect(r).toEqual({
        ok: false,
        problems: [{ tenant: null, entry: 'file', message: `c.json ${message}` }],
      });
    }
  });
});

describe('an unknown --tenant', () => {
  const stored = (tenantId: string) => ({ books: { tenantId } }) as unknown as StoredTenant;
  const store = (ids: string[]) => ({
    get: async (id: string) => (ids.includes(id) ? stored(id) : undefined),
    list: async () => ids.map(stored),
  });

  test('names the configured tenants', async () => {
    await expect(configuredTenant(store(['yoga-west', 'demo-studio']), 'demo')).rejects.toThrow(
      'tenant "demo" is not configured (the configured tenants are "demo-studio", "yoga-west")',
    );
  });

  test('says when there is none', async () => {
    await expect(configuredTenant(store([]), 'demo')).rejects.toThrow(
      'tenant "demo" is not configured (no tenant is configured yet)',
    );
  });
});

describe('a YAML key that is a list or a mapping', () => {
  test('is refused with its line, not stringified', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const result = parseConfigText('tenants:\n  - id: a\n    ? [x, y]\n    : 1\n', 'f.yaml');
    process.off('warning', onWarning);
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          tenant: null,
          entry: 'file',
          message:
            'f.yaml line 3, column 7: a key must be a plain name (like tenants: or account:), not a list or a mapping',
        },
      ],
    });
    expect(warnings).toEqual([]);
  });
});
