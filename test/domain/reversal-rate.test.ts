/**
 * Multicurrency (CONTRACT §4): a reversal converts at the rate of the entry it reverses, so its home-currency
 * amounts cancel the original's exactly, whatever QuickBooks' rate on the day of the reversal.
 */
import { buildReversalEntry } from '../../src/domain/deposit.js';

const eurDeposit = {
  type: 'Deposit' as const,
  body: {
    Id: '145',
    DepositToAccountRef: { value: '35', name: 'EUR Checking' },
    TxnDate: '2026-11-20',
    CurrencyRef: { value: 'EUR', name: 'Euro' },
    ExchangeRate: 1.0834,
    PrivateNote: 'Stripe payout po_eur',
    Line: [
      { Amount: 120.5, DetailType: 'DepositLineDetail', DepositLineDetail: { AccountRef: { value: '79' } } },
      { Amount: -3.8, DetailType: 'DepositLineDetail', DepositLineDetail: { AccountRef: { value: '80' } } },
    ],
  },
};

it('a reversed EUR deposit: the JournalEntry is in EUR at the deposit’s own rate', () => {
  const reversal = buildReversalEntry(eurDeposit, 'po_eur', '2026-12-03');
  expect(reversal.body).toMatchObject({ CurrencyRef: { value: 'EUR' }, ExchangeRate: 1.0834 });
});

it('a reversed EUR journal entry (rate as QuickBooks may send it, a string): the same rate', () => {
  const journal = {
    type: 'JournalEntry' as const,
    body: {
      Id: '146',
      CurrencyRef: { value: 'EUR' },
      ExchangeRate: '0.9',
      Line: [
        { Amount: 10, JournalEntryLineDetail: { PostingType: 'Debit', AccountRef: { value: '79' } } },
        { Amount: 10, JournalEntryLineDetail: { PostingType: 'Credit', AccountRef: { value: '35' } } },
      ],
    },
  };
  expect(buildReversalEntry(journal, 'po_eur', '2026-12-03').body.ExchangeRate).toBe(0.9);
});

it('an entry without a currency carries no rate', () => {
  const { CurrencyRef: _c, ExchangeRate: _r, ...home } = eurDeposit.body;
  expect(
    buildReversalEntry({ type: 'Deposit', body: home }, 'po_eur', '2026-12-03').body.ExchangeRate,
  ).toBeUndefined();
});
