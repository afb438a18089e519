import { closedPeriodDecision, moveEntry, nextDay } from '../../src/domain/closed-period.js';
import { buildEntry } from '../../src/domain/deposit.js';
import { compareSnapshots, driftHint, snapshotOf } from '../../src/domain/drift.js';
import type { QboEntry } from '../../src/domain/types.js';
import { ACCOUNTS, CLASSES, charge, chargeTxn, directory, payout, tenant, txn } from './fixtures.js';

const JANE = { value: '58', name: 'Jane Doe' };
const customers = directory({ 'jane@example.com': JANE });

function entryFor(amounts: { pack: number; fee: number }): QboEntry {
  const sale = charge({
    id: 'ch_1',
    amount: amounts.pack,
    email: 'jane@example.com',
    category: 'Class Packs',
  });
  const transactions = [
    chargeTxn(sale, { feeDetails: [] }),
    txn({ id: 'txn_fee', type: 'stripe_fee', amount: -amounts.fee, net: -amounts.fee }),
  ];
  const built = buildEntry({
    payout: payout({ amount: amounts.pack - amounts.fee }),
    transactions,
    tenant: tenant(),
    customers,
  });
  if (built.outcome !== 'POST') throw new Error(JSON.stringify(built));
  return built.entry;
}

/** The entry as QuickBooks returns it after a person's edit: ids become strings, TotalAmt computed. */
function asReturned(entry: QboEntry, edit: (body: Record<string, unknown>) => void = () => {}): QboEntry {
  const body = structuredClone(entry.body);
  edit(body);
  const lines = body.Line as { Amount: number }[];
  body.TotalAmt = lines.reduce((a, l) => a + Math.round(l.Amount * 100), 0) / 100;
  return { type: entry.type, body: { ...body, Id: '146', SyncToken: '1' } };
}

describe('the snapshot of a posted entry', () => {
  it('keeps date, total, deposit account and each line, whatever the line order', () => {
    // Prepare
    const entry = entryFor({ pack: 12000, fee: 380 });
    // Act
    const snapshot = snapshotOf(entry, 'usd');
    const reordered = snapshotOf(
      asReturned(entry, (b) => {
        b.Line = [...(b.Line as unknown[])].reverse();
      }),
      'usd',
    );
    // Assess
    expect(snapshot).toMatchObject({
      type: 'Deposit',
      txnDate: entry.body.TxnDate,
      currency: 'USD',
      total: '116.20',
      depositAccount: ACCOUNTS.checking.value,
    });
    expect(snapshot.lines).toEqual(
      [`120.00||${ACCOUNTS.classPacks.value}||58`, `-3.80||${ACCOUNTS.fees.value}||`].sort(),
    );
    expect(compareSnapshots(snapshot, reordered)).toBeUndefined();
  });

  it('sums a journal entry by its debits', () => {
    const entry: QboEntry = {
      type: 'JournalEntry',
      body: {
        TxnDate: '2026-11-02',
        Line: [
          {
            Amount: 50,
            JournalEntryLineDetail: { PostingType: 'Credit', AccountRef: { value: '35' } },
          },
          {
            Amount: 50,
            JournalEntryLineDetail: {
              PostingType: 'Debit',
              AccountRef: { value: '90' },
              Entity: { Type: 'Customer', EntityRef: { value: '58' } },
            },
          },
        ],
      },
    };
    const snapshot = snapshotOf(entry, 'USD');
    expect(snapshot.total).toBe('50.00');
    expect(snapshot.depositAccount).toBeNull();
    expect(snapshot.lines).toEqual(['50.00|Credit|35||', '50.00|Debit|90||58']);
  });
});

describe('comparing what was posted with what QuickBooks has', () => {
  const entry = entryFor({ pack: 12000, fee: 380 });
  const posted = snapshotOf(entry, 'USD');

  it('names a line re-pointed to another account', () => {
    const found = snapshotOf(
      asReturned(entry, (b) => {
        const line = (b.Line as { DepositLineDetail: { AccountRef: unknown } }[])[0];
        if (line) line.DepositLineDetail.AccountRef = { value: ACCOUNTS.sales.value, name: 'Sales' };
      }),
      'USD',
    );
    const drift = compareSnapshots(posted, found);
    expect(drift?.finding).toBe('changed');
    expect(drift?.detail).toBe(
      `line 120.00 USD: account Class Pack Revenue (${ACCOUNTS.classPacks.value}) → Sales (${ACCOUNTS.sales.value})`,
    );
  });

  it('names an amount edited, and the total it changed', () => {
    const found = snapshotOf(
      asReturned(entry, (b) => {
        const line = (b.Line as { Amount: number }[])[1];
        if (line) line.Amount = -4.8;
      }),
      'USD',
    );
    const drift = compareSnapshots(posted, found);
    expect(drift?.finding).toBe('changed');
    expect(drift?.detail).toContain('total 116.20 USD → 115.20 USD');
    expect(drift?.detail).toContain('amount -3.80 USD → -4.80 USD');
  });

  it('names a class or a customer changed, a line added or removed', () => {
    const found = snapshotOf(
      asReturned(entry, (b) => {
        const lines = b.Line as { Amount: number; DepositLineDetail: Record<string, unknown> }[];
        const sale = lines[0];
        if (sale) {
          sale.DepositLineDetail.ClassRef = { value: CLASSES.online.value, name: 'Online' };
          sale.DepositLineDetail.Entity = { value: '77', type: 'Customer' };
        }
        lines.push({ Amount: 10, DepositLineDetail: { AccountRef: { value: '79', name: 'Sales' } } });
      }),
      'USD',
    );
    const drift = compareSnapshots(posted, found);
    expect(drift?.finding).toBe('changed');
    expect(drift?.detail).toContain('class none → Online (5000)');
    expect(drift?.detail).toContain('customer 58 → 77');
    expect(drift?.detail).toContain('line 10.00 USD (Sales (79)) added');
  });

  it('calls a date moved alone "redated", and a date moved with other edits "changed"', () => {
    const redated = snapshotOf(
      asReturned(entry, (b) => {
        b.TxnDate = '2027-01-15';
      }),
      'USD',
    );
    expect(compareSnapshots(posted, redated)).toEqual({
      finding: 'redated',
      detail: `date ${posted.txnDate} → 2027-01-15`,
    });
    const both = snapshotOf(
      asReturned(entry, (b) => {
        b.TxnDate = '2027-01-15';
        b.DepositToAccountRef = { value: '36', name: 'Savings' };
      }),
      'USD',
    );
    const drift = compareSnapshots(posted, both);
    expect(drift?.finding).toBe('changed');
    expect(drift?.detail).toBe(
      `date ${posted.txnDate} → 2027-01-15; deposit account Checking (${ACCOUNTS.checking.value}) → Savings (36)`,
    );
  });

  it('ignores a memo or description edited: no figure changed', () => {
    const found = snapshotOf(
      asReturned(entry, (b) => {
        b.PrivateNote = 'checked by Anna';
        const line = (b.Line as { Description?: string }[])[0];
        if (line) line.Description = 'class packs, November';
      }),
      'USD',
    );
    expect(compareSnapshots(posted, found)).toBeUndefined();
  });

  it('offers both fixes', () => {
    expect(driftHint('po_1', 'deleted')).toBe(
      '`npx qbo-sync payouts resync po_1` posts the computed entry again; `npx qbo-sync payouts accept po_1` records that the deletion was intended',
    );
    // On a reversing JournalEntry (a REVERSED payout), a resync reverses the entry again.
    expect(driftHint('po_1', 'changed', true)).toBe(
      "`npx qbo-sync payouts resync po_1` reverses the failed payout's entry again; `npx qbo-sync payouts accept po_1` keeps QuickBooks' version as intended",
    );
  });
});

describe('the closed-period policy', () => {
  it('posts when no closing date is set or the entry is after it', () => {
    expect(
      closedPeriodDecision({ payoutId: 'po_1', txnDate: '2026-11-02', bookCloseDate: null, policy: 'hold' }),
    ).toEqual({ action: 'post' });
    expect(
      closedPeriodDecision({
        payoutId: 'po_1',
        txnDate: '2026-11-01',
        bookCloseDate: '2026-10-31',
        policy: 'hold',
      }),
    ).toEqual({ action: 'post' });
  });

  it('holds an entry dated on or before the closing date under hold', () => {
    const decision = closedPeriodDecision({
      payoutId: 'po_1',
      txnDate: '2026-10-31',
      bookCloseDate: '2026-10-31',
      policy: 'hold',
    });
    expect(decision).toMatchObject({
      action: 'hold',
      reason: 'the books are closed through 2026-10-31; the payout is dated 2026-10-31',
    });
  });

  it('moves it to the first open day under nextOpenDate, the note keeping the original date', () => {
    const decision = closedPeriodDecision({
      payoutId: 'po_1',
      txnDate: '2026-02-14',
      bookCloseDate: '2026-02-28',
      policy: 'nextOpenDate',
    });
    expect(decision).toEqual({
      action: 'move',
      from: '2026-02-14',
      to: '2026-03-01',
      closedThrough: '2026-02-28',
    });
    if (decision.action !== 'move') throw new Error('expected a move');
    const moved = moveEntry(
      {
        type: 'Deposit',
        body: { TxnDate: '2026-02-14', PrivateNote: 'Stripe payout po_1 · 2 transactions' },
      },
      decision,
    );
    expect(moved.body).toEqual({
      TxnDate: '2026-03-01',
      PrivateNote:
        'Stripe payout po_1 · 2 transactions · dated 2026-02-14, posted on 2026-03-01: the books are closed through 2026-02-28',
    });
  });

  it('counts days by the calendar', () => {
    expect(nextDay('2024-02-28')).toBe('2024-02-29');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(() => nextDay('31/12/2026')).toThrow(RangeError);
  });
});
