/**
 * The deposit builder (CONTRACT §4): one Stripe payout and its balance transactions → the exact QuickBooks
 * request body (a Deposit, or a JournalEntry for a negative payout), or HELD / SKIPPED with a reason.
 *
 * Pure and deterministic: the same input (in any transaction order) always gives the same body. Lines are drafted
 * in deposit-lines.ts, written as QuickBooks JSON in entry-body.ts; reversals are built in reversal-entry.ts.
 */
import { classifyPayout, isPayoutOwnTransaction, type ReturnedPayouts } from './classify.js';
import { draftLines } from './deposit-lines.js';
import { depositBody, journalBody } from './entry-body.js';
import { cmp, held, idList, payoutNotePrefix, plural, quoteList, refName, utcDate } from './entry-common.js';
import { formatMinor } from './money.js';
import type { BalanceTransaction, Payout } from './stripe.js';
import type {
  BuildResult,
  CustomerDirectory,
  ExchangeRateQuote,
  LineDetailMode,
  QboEntry,
  TenantBooks,
} from './types.js';

// Where these lived before deposit.ts was split; kept so work in flight that imports them from here still builds.
export { payoutNotePrefix, reversalNotePrefix, utcDate } from './entry-common.js';
export { buildReversalEntry } from './reversal-entry.js';

export interface BuildInput {
  payout: Payout;
  transactions: readonly BalanceTransaction[];
  tenant: TenantBooks;
  /** QuickBooks customers by normalised member email; only needed for `customer` and `transaction` lines. */
  customers: CustomerDirectory;
  /**
   * The balance transactions of failed payouts whose funds come back in this payout (`payout_reversal`), by
   * payout id, as listed by `payout=<po_…>` (see `returnedPayoutIds`). A failed payout missing here is booked as
   * an adjustment naming it.
   */
  returned?: ReturnedPayouts;
  /**
   * QuickBooks' rate for the payout currency on the entry date, read by the caller when the payout is not in the
   * home currency of a multicurrency company (CONTRACT §4). Without it such a payout is HELD.
   */
  exchangeRate?: ExchangeRateQuote;
}

/** Whether an entry of this payout needs an `ExchangeRate`: multicurrency on, payout not in the home currency. */
export function needsExchangeRate(payout: Payout, tenant: TenantBooks): boolean {
  return (
    tenant.company.multicurrency &&
    payout.currency.toUpperCase() !== tenant.company.homeCurrency.toUpperCase()
  );
}

/** The ledger's words for the rate put on an entry. */
export function exchangeRateNote(quote: ExchangeRateQuote): string {
  return `booked at QuickBooks' exchange rate ${quote.rate} ${quote.targetCurrency} per ${quote.sourceCurrency} (as of ${quote.asOfDate})`;
}

/**
 * Builds the QuickBooks entry of a payout (CONTRACT §4). Never throws for bad data: anything that stops the
 * booking is a HELD result with a reason and a hint.
 */
export function buildEntry(input: BuildInput): BuildResult {
  const { payout, tenant } = input;
  const currency = payout.currency.toUpperCase();
  // A HELD payout has nothing posted: `payouts sync` queues it again (`resync` is for a posted one, CONTRACT §8).
  const resyncHint = `then \`npx qbo-sync payouts sync ${payout.id}\``;

  if (payout.status === 'failed' || payout.status === 'canceled') {
    return { outcome: 'SKIPPED', reason: `payout is ${payout.status} in Stripe` };
  }
  if (payout.amount === 0) return { outcome: 'SKIPPED', reason: 'payout amount is zero: nothing to book' };
  if (!payout.automatic) {
    return held(
      'a manual payout cannot be itemised by Stripe (only automatic payouts list their balance transactions)',
      'book it by hand in QuickBooks',
    );
  }

  // Currency.
  const home = tenant.company.homeCurrency.toUpperCase();
  if (!tenant.company.multicurrency && currency !== home) {
    return held(
      `the payout is in ${currency} but the QuickBooks company's home currency is ${home} and multicurrency is off`,
      `turn on multicurrency in QuickBooks and use a ${currency} deposit account, or pay out to a ${home} account, ${resyncHint}`,
    );
  }
  const depositCurrency = tenant.depositAccount.currency?.toUpperCase();
  if (tenant.company.multicurrency && depositCurrency !== undefined && depositCurrency !== currency) {
    return held(
      `the payout is in ${currency} but the deposit account "${refName(tenant.depositAccount)}" is in ${depositCurrency}`,
      `set depositAccount to a ${currency} bank account in the sync config (\`npx qbo-sync config import\`), ${resyncHint}`,
    );
  }
  const txnDate = utcDate(payout.arrival_date);
  let exchangeRate: ExchangeRateQuote | undefined;
  if (needsExchangeRate(payout, tenant)) {
    const quote = input.exchangeRate;
    if (
      quote === undefined ||
      quote.sourceCurrency.toUpperCase() !== currency ||
      quote.targetCurrency.toUpperCase() !== home ||
      !Number.isFinite(quote.rate) ||
      quote.rate <= 0
    ) {
      return held(
        `QuickBooks has no usable exchange rate from ${currency} to ${home} for ${txnDate}${quote === undefined ? '' : ` (it answered ${quote.rate} ${quote.targetCurrency} per ${quote.sourceCurrency})`}; a foreign-currency entry is not posted without one`,
        `enter the ${currency} rate for ${txnDate} in QuickBooks (Settings → Currencies), ${resyncHint}`,
      );
    }
    exchangeRate = quote;
  }
  const foreign = input.transactions
    .filter((bt) => bt.currency.toUpperCase() !== currency && !isPayoutOwnTransaction(bt, payout))
    .sort((a, b) => cmp(a.id, b.id));
  if (foreign.length > 0) {
    return held(
      `${plural(foreign.length, 'balance transaction')} of the payout ${foreign.length === 1 ? 'is' : 'are'} not in ${currency}: ${idList(foreign.map((bt) => `${bt.id} (${bt.currency.toUpperCase()})`))}`,
      'Stripe settles a payout in one currency; check the payout in the Stripe dashboard and book it by hand',
    );
  }

  const classification = classifyPayout(payout, input.transactions, tenant, input.returned);
  if (classification.problems.length > 0) {
    const [first] = [...classification.problems].sort(cmp);
    const more =
      classification.problems.length > 1 ? ` (and ${classification.problems.length - 1} more)` : '';
    return held(
      `${first}${more}`,
      `fix the data in Stripe (or the booking platform) or book it by hand, ${resyncHint}`,
    );
  }
  if (classification.unmapped.length > 0) {
    return held(
      `unmapped revenue ${classification.unmapped.length === 1 ? 'category' : 'categories'}: ${quoteList(classification.unmapped)}`,
      `add a revenue mapping (or set uncategorizedAccount) in the sync config and import it, ${resyncHint}`,
    );
  }
  if (!tenant.company.classTrackingPerTxnLine) {
    const classes = [
      ...new Set(classification.items.flatMap((i) => (i.class ? [refName(i.class)] : []))),
    ].sort(cmp);
    if (classes.length > 0) {
      return held(
        `revenue mappings use ${classes.length === 1 ? 'class' : 'classes'} ${quoteList(classes)} but the QuickBooks company does not track classes per transaction line`,
        `turn on class tracking per line in QuickBooks (Settings → Advanced → Categories → Track classes: one to each row), or remove the class from the revenue mappings, ${resyncHint}`,
      );
    }
  }

  const transactionCount = classification.transactions.length;
  let lineDetail: LineDetailMode = tenant.lineDetail;
  let folded = false;
  const extra = payout.amount < 0 ? 1 : 0; // the journal entry's deposit-account line
  // Customer lines are at least one per distinct customer: with more customers than lines allowed, fold at once
  // instead of drafting (and dropping) thousands of lines. Not when a member has no customer: drafting holds that.
  let customersExceedLimit = false;
  if (lineDetail === 'customer') {
    const distinct = new Set<string>();
    let unresolved = false;
    for (const item of classification.items) {
      if (item.amount === 0 || (item.kind !== 'revenue' && item.kind !== 'refund' && item.kind !== 'dispute'))
        continue;
      const known =
        item.member === undefined ? tenant.walkInCustomer : input.customers.get(item.member.email);
      if (known === undefined && item.member !== undefined) {
        unresolved = true;
        break;
      }
      const customer = known ?? undefined; // null: no customer (a line without Entity)
      distinct.add(customer === undefined ? '' : (customer.value ?? `new:${customer.name}`));
    }
    customersExceedLimit = !unresolved && distinct.size + extra > tenant.maxDepositLines;
  }
  let lines = customersExceedLimit
    ? []
    : draftLines(classification.items, lineDetail, tenant, input.customers);
  if (!Array.isArray(lines)) return lines;
  if ((customersExceedLimit || lines.length + extra > tenant.maxDepositLines) && lineDetail !== 'category') {
    lineDetail = 'category';
    folded = true;
    const refolded = draftLines(classification.items, lineDetail, tenant, input.customers);
    if (!Array.isArray(refolded)) return refolded;
    lines = refolded;
  }
  if (lines.length + extra > tenant.maxDepositLines) {
    return held(
      `the payout needs ${lines.length + extra} lines even as category lines, more than maxDepositLines (${tenant.maxDepositLines})`,
      `raise maxDepositLines in the sync config and import it, ${resyncHint}; or book it by hand`,
    );
  }

  const total = lines.reduce((a, l) => a + l.amount, 0);
  if (total !== payout.amount) {
    return held(
      `lines sum to ${formatMinor(total, currency)} but the payout is ${formatMinor(payout.amount, currency)} (difference ${formatMinor(payout.amount - total, currency)})`,
      `Stripe's itemisation may be incomplete; sync it again later (\`npx qbo-sync payouts sync ${payout.id}\`)`,
    );
  }

  const note = [
    payoutNotePrefix(payout.id),
    plural(transactionCount, 'transaction'),
    `tenant ${tenant.tenantId}`,
    ...(folded ? [`folded to category lines (over ${tenant.maxDepositLines})`] : []),
    ...classification.returned
      .slice(0, 5)
      .map((r) =>
        r.notItemised === undefined
          ? `returns failed payout ${r.payoutId} (${plural(r.transactions, 'transaction')} itemised)`
          : `returns failed payout ${r.payoutId} as an adjustment (${r.notItemised})`,
      ),
    ...(classification.returned.length > 5
      ? [`and ${classification.returned.length - 5} more failed payouts`]
      : []),
  ].join(' · ');
  const header = {
    TxnDate: txnDate,
    ...(tenant.company.multicurrency ? { CurrencyRef: { value: currency } } : {}),
    ...(exchangeRate !== undefined ? { ExchangeRate: exchangeRate.rate } : {}),
    PrivateNote: note,
  };
  const entry: QboEntry =
    payout.amount > 0
      ? { type: 'Deposit', body: depositBody(header, lines, tenant, currency) }
      : { type: 'JournalEntry', body: journalBody(header, lines, tenant, currency, payout) };
  return {
    outcome: 'POST',
    entry,
    ...(exchangeRate !== undefined ? { exchangeRate } : {}),
    lineDetail,
    folded,
    lineCount: (entry.body.Line as unknown[]).length,
    transactionCount,
  };
}
