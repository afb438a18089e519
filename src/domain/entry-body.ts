/**
 * The QuickBooks request bodies of an entry: a Deposit for a positive payout, a balanced JournalEntry crediting the
 * deposit account for a negative one (CONTRACT §4).
 */
import type { DraftLine } from './deposit-lines.js';
import { type CustomerRef, payoutNotePrefix, refJson } from './entry-common.js';
import { formatMinor, toQboAmount } from './money.js';
import type { Payout } from './stripe.js';
import type { Minor, QboBody, Ref, TenantBooks } from './types.js';

export interface EntryHeader {
  TxnDate: string;
  CurrencyRef?: { value: string };
  /** Home-currency units per foreign unit, on a foreign-currency entry of a multicurrency company. */
  ExchangeRate?: number;
  PrivateNote: string;
}

export function depositBody(
  header: EntryHeader,
  lines: readonly DraftLine[],
  tenant: TenantBooks,
  currency: string,
): QboBody {
  return {
    DepositToAccountRef: refJson(tenant.depositAccount),
    ...header,
    Line: lines.map((l) => {
      const detail: Record<string, unknown> = {};
      if (l.customer !== undefined) {
        detail.Entity =
          l.customer.value === null
            ? { value: null, name: l.customer.name }
            : { ...refJson(l.customer), type: 'Customer' };
      }
      detail.AccountRef = refJson(l.account);
      if (l.class !== undefined) detail.ClassRef = refJson(l.class);
      return {
        Amount: toQboAmount(l.amount, currency),
        DetailType: 'DepositLineDetail',
        Description: l.description,
        DepositLineDetail: detail,
      };
    }),
  };
}

function journalLine(
  amount: Minor,
  postingType: 'Debit' | 'Credit',
  description: string,
  account: Ref,
  currency: string,
  cls?: Ref,
  customer?: CustomerRef,
): Record<string, unknown> {
  const detail: Record<string, unknown> = { PostingType: postingType, AccountRef: refJson(account) };
  if (cls !== undefined) detail.ClassRef = refJson(cls);
  if (customer !== undefined) {
    detail.Entity = {
      Type: 'Customer',
      EntityRef: customer.value === null ? { value: null, name: customer.name } : refJson(customer),
    };
  }
  return {
    Amount: toQboAmount(amount, currency),
    DetailType: 'JournalEntryLineDetail',
    Description: description,
    JournalEntryLineDetail: detail,
  };
}

export function journalBody(
  header: EntryHeader,
  lines: readonly DraftLine[],
  tenant: TenantBooks,
  currency: string,
  payout: Payout,
): QboBody {
  const withdrawn = -payout.amount;
  return {
    ...header,
    Line: [
      journalLine(
        withdrawn,
        'Credit',
        `${payoutNotePrefix(payout.id)}: negative payout, ${formatMinor(withdrawn, currency)} withdrawn`,
        tenant.depositAccount,
        currency,
      ),
      ...lines.map((l) =>
        journalLine(
          Math.abs(l.amount),
          l.amount > 0 ? 'Credit' : 'Debit',
          l.description,
          l.account,
          currency,
          l.class,
          l.customer,
        ),
      ),
    ],
  };
}
