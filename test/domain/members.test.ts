import fc from 'fast-check';
import { collectMembers, indexCharges, memberOfCharge, originalCharge } from '../../src/domain/members.js';
import { charge, chargeTxn, disputeTxn, refundTxn, txn } from './fixtures.js';

describe('memberOfCharge', () => {
  it.each([
    [
      'metadata first',
      { email: ' Jane@Example.COM ', billingEmail: 'x@y.z', receiptEmail: 'r@y.z' },
      'jane@example.com',
    ],
    ['then billing_details.email', { billingEmail: 'Bill@Y.z', receiptEmail: 'r@y.z' }, 'bill@y.z'],
    ['then receipt_email', { receiptEmail: ' R@Y.Z' }, 'r@y.z'],
    ['blank metadata falls back', { email: '  ', receiptEmail: 'r@y.z' }, 'r@y.z'],
    ['none: a walk-in', {}, undefined],
  ])('%s', (_label, options, email) => {
    expect(memberOfCharge(charge(options))?.email).toBe(email);
  });

  it.each([
    ['metadata name first', { email: 'a@b.c', name: ' Jane  Doe ', billingName: 'J D' }, 'Jane Doe'],
    ['then billing name', { email: 'a@b.c', billingName: 'J D' }, 'J D'],
    ['no name', { email: 'a@b.c' }, undefined],
  ])('%s', (_label, options, name) => {
    expect(memberOfCharge(charge(options))?.name).toBe(name);
  });

  it('tidies any name as trim and collapse-every-whitespace-run would (the tidy-name fast path changes nothing)', () => {
    const piece = fc.constantFrom(
      ' ',
      '  ',
      '\t',
      '\n',
      '\r',
      '\u00a0',
      '\u2003',
      '\u3000',
      'a',
      'Zoë',
      '-',
      '.',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), (pieces) => {
        const raw = pieces.join('');
        const expected = raw.trim().replace(/\s+/g, ' ');
        expect(memberOfCharge(charge({ email: 'a@b.c', name: raw }))?.name).toBe(
          expected === '' ? undefined : expected,
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe('originalCharge', () => {
  it('follows refunds and disputes, and looks bare ids up in the index', () => {
    const c = charge({ id: 'ch_a', email: 'a@b.c' });
    const transactions = [chargeTxn(c), refundTxn('ch_a', -100), disputeTxn(c, -1000)];
    const index = indexCharges(transactions);
    expect(index.get('ch_a')).toEqual(c);
    expect(originalCharge(transactions[1]!.source, index)?.id).toBe('ch_a');
    expect(originalCharge(transactions[2]!.source, index)?.id).toBe('ch_a');
    expect(originalCharge('ch_missing', index)).toBeUndefined();
    expect(originalCharge(null, index)).toBeUndefined();
  });
});

describe('collectMembers', () => {
  it('lists every distinct member of the payout, through refunds and disputes, sorted, with the best name', () => {
    // Prepare
    const jane1 = charge({ id: 'ch_1', email: 'jane@example.com', billingName: 'J. Doe', created: 300 });
    const jane2 = charge({ id: 'ch_2', email: 'JANE@example.com', name: 'Jane Doe', created: 100 });
    const bob = charge({ id: 'ch_3', billingEmail: 'bob@example.com' });
    const refunded = charge({ id: 'ch_4', email: 'ann@example.com', name: 'Ann' });
    const disputed = charge({ id: 'ch_5', receiptEmail: 'zed@example.com', billingName: 'Zed' });
    const walkIn = charge({ id: 'ch_6' });
    const transactions = [
      chargeTxn(jane1),
      chargeTxn(jane2),
      chargeTxn(bob),
      refundTxn(refunded, -500),
      disputeTxn(disputed, -1000),
      chargeTxn(walkIn),
      txn({ id: 'txn_r', type: 'reserve_transaction', amount: -10 }),
    ];

    // Act
    const members = collectMembers(transactions);
    const reversed = collectMembers([...transactions].reverse());

    // Assess
    expect(members).toEqual([
      { email: 'ann@example.com', name: 'Ann' },
      { email: 'bob@example.com' },
      { email: 'jane@example.com', name: 'Jane Doe' },
      { email: 'zed@example.com', name: 'Zed' },
    ]);
    expect(reversed).toEqual(members);
  });

  it('prefers the more recent charge between names of the same kind', () => {
    const older = charge({ id: 'ch_1', email: 'a@b.c', name: 'Old Name', created: 100 });
    const newer = charge({ id: 'ch_2', email: 'a@b.c', name: 'New Name', created: 200 });
    expect(collectMembers([chargeTxn(older), chargeTxn(newer)])).toEqual([
      { email: 'a@b.c', name: 'New Name' },
    ]);
    expect(collectMembers([chargeTxn(newer), chargeTxn(older)])).toEqual([
      { email: 'a@b.c', name: 'New Name' },
    ]);
  });
});
