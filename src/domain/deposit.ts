/**
 * The deposit builder (CONTRACT §4): one Stripe payout and its balance transactions → the exact QuickBooks
 * request body (a Deposit, or a JournalEntry for a negative payout), or HELD / SKIPPED with a reason.
 *
 * Pure and deterministic: the same input (in any transaction order) always gives the same body.
 *
 * Line order: by kind (revenue, refunds, disputes, adjustments, processing fees, platform fees), then account
 * name, class name, customer name, sign (positive first), then balance transaction id (transaction mode).
 */
import { z } from 'zod';
import { categoryLabel } from './categories.js';
import {
  type BookedItem,
  type BookingKind,
  classifyPayout,
  distinctLabels,
  isPayoutOwnTransaction,
} from './classify.js';
import { decimalToScaled, formatMinor, scaledToDecimalString, toQboAmount } from './money.js';
import type { BalanceTransaction, Payout } from './stripe.js';
import type {
  BuildResult,
  CustomerDirectory,
  LineDetailMode,
  Minor,
  QboBody,
  QboEntry,
  Ref,
  TenantBooks,
} from './types.js';

export interface BuildInput {
  payout: Payout;
  transactions: readonly BalanceTransaction[];
  tenant: TenantBooks;
  /** QuickBooks customers by normalised member email; only needed for `customer` and `transaction` lines. */
  customers: CustomerDirectory;
}

/** QuickBooks' limit on a line `Description`. */
export const MAX_DESCRIPTION_LENGTH = 4000;
/** How many Stripe ids a description lists before it switches to counts. */
export const MAX_DESCRIPTION_IDS = 3;

const KIND_ORDER: Record<BookingKind, number> = {
  revenue: 0,
  refund: 1,
  dispute: 2,
  adjustment: 3,
  processingFee: 4,
  platformFee: 5,
};

type CustomerRef = Ref | { value: null; name: string };

/** A line before it is written as QuickBooks JSON: amounts still in minor units. */
export interface DraftLine {
  kind: BookingKind;
  account: Ref;
  class?: Ref;
  customer?: CustomerRef;
  /** Signed minor units, never 0. */
  amount: Minor;
  description: string;
}

interface LineGroup {
  kind: BookingKind;
  account: Ref;
  class?: Ref;
  customer?: CustomerRef;
  amount: Minor;
  sign: 1 | -1;
  items: BookedItem[];
  /** Set in transaction mode for per-transaction lines. */
  transactionId?: string;
}

/** The UTC calendar date of a unix timestamp (seconds), `YYYY-MM-DD`. */
export function utcDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/** The `PrivateNote` prefix every entry of a payout starts with. */
export function payoutNotePrefix(payoutId: string): string {
  return `Stripe payout ${payoutId}`;
}

/** The `PrivateNote` prefix of a reversal. */
export function reversalNotePrefix(payoutId: string): string {
  return `Reversal of Stripe payout ${payoutId}`;
}

function held(reason: string, hint: string): BuildResult {
  return { outcome: 'HELD', reason, hint };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function quoteList(values: readonly string[], max = 10): string {
  const shown = values.slice(0, max).map((v) => `"${v}"`);
  const more = values.length > max ? ` and ${values.length - max} more` : '';
  return `${shown.join(', ')}${more}`;
}

function idList(values: readonly string[], max = 3): string {
  const more = values.length > max ? ` and ${values.length - max} more` : '';
  return `${values.slice(0, max).join(', ')}${more}`;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function refJson(ref: Ref): { value: string; name?: string } {
  return ref.name === undefined ? { value: ref.value } : { value: ref.value, name: ref.name };
}

function refName(ref: { value: string | null; name?: string } | undefined): string {
  return ref === undefined ? '' : (ref.name ?? ref.value ?? '');
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
  const foreign = input.transactions
    .filter((bt) => bt.currency.toUpperCase() !== currency && !isPayoutOwnTransaction(bt, payout))
    .sort((a, b) => cmp(a.id, b.id));
  if (foreign.length > 0) {
    return held(
      `${plural(foreign.length, 'balance transaction')} of the payout ${foreign.length === 1 ? 'is' : 'are'} not in ${currency}: ${idList(foreign.map((bt) => `${bt.id} (${bt.currency.toUpperCase()})`))}`,
      'Stripe settles a payout in one currency; check the payout in the Stripe dashboard and book it by hand',
    );
  }

  const classification = classifyPayout(payout, input.transactions, tenant);
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
      const customer =
        item.member === undefined ? tenant.walkInCustomer : input.customers.get(item.member.email);
      if (customer === undefined && item.member !== undefined) {
        unresolved = true;
        break;
      }
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
  ].join(' · ');
  const header = {
    TxnDate: utcDate(payout.arrival_date),
    ...(tenant.company.multicurrency ? { CurrencyRef: { value: currency } } : {}),
    PrivateNote: note,
  };
  const entry: QboEntry =
    payout.amount > 0
      ? { type: 'Deposit', body: depositBody(header, lines, tenant, currency) }
      : { type: 'JournalEntry', body: journalBody(header, lines, tenant, currency, payout) };
  return {
    outcome: 'POST',
    entry,
    lineDetail,
    folded,
    lineCount: (entry.body.Line as unknown[]).length,
    transactionCount,
  };
}

function customerFor(
  item: BookedItem,
  tenant: TenantBooks,
  customers: CustomerDirectory,
  missing: Set<string>,
): CustomerRef | undefined {
  if (item.member === undefined) return tenant.walkInCustomer;
  const found = customers.get(item.member.email);
  if (found === undefined) missing.add(item.member.email);
  return found;
}

function groupKey(parts: readonly (string | number | null | undefined)[]): string {
  return JSON.stringify(parts);
}

/** Groups booked items into lines for a line-detail mode; HELD when a member has no customer. */
export function draftLines(
  items: readonly BookedItem[],
  mode: LineDetailMode,
  tenant: TenantBooks,
  customers: CustomerDirectory,
): DraftLine[] | BuildResult {
  const groups = new Map<string, LineGroup>();
  const missing = new Set<string>();
  for (const item of items) {
    if (item.amount === 0) continue;
    const sign: 1 | -1 = item.amount > 0 ? 1 : -1;
    const sale = item.kind === 'revenue' || item.kind === 'refund' || item.kind === 'dispute';
    const customer = sale && mode !== 'category' ? customerFor(item, tenant, customers, missing) : undefined;
    const perTransaction = mode === 'transaction' && (sale || item.kind === 'adjustment');
    const key = groupKey([
      item.kind,
      item.account.value,
      item.class?.value,
      customer === undefined ? undefined : (customer.value ?? `new:${customer.name}`),
      sign,
      perTransaction ? item.transactionId : undefined,
    ]);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        kind: item.kind,
        account: item.account,
        ...(item.class === undefined ? {} : { class: item.class }),
        ...(customer === undefined ? {} : { customer }),
        amount: 0,
        sign,
        items: [],
        ...(perTransaction ? { transactionId: item.transactionId } : {}),
      };
      groups.set(key, group);
    }
    group.amount += item.amount;
    group.items.push(item);
  }
  if (missing.size > 0) {
    const emails = [...missing].sort(cmp);
    return held(
      `no QuickBooks customer was resolved for ${plural(emails.length, 'member email')} (${idList(emails.map(maskEmail))}); this is an ordering error in the sync, not a data problem`,
      'resolve customers for every member email before building the deposit (collectMembers), then retry',
    );
  }
  const sorted = [...groups.values()].sort(compareGroups);
  return sorted.map((g): DraftLine => {
    const line: DraftLine = {
      kind: g.kind,
      account: g.account,
      amount: g.amount,
      description: describe(g),
    };
    if (g.class !== undefined) line.class = g.class;
    if (g.customer !== undefined) line.customer = g.customer;
    return line;
  });
}

function maskEmail(email: string): string {
  const at = email.indexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

function compareGroups(a: LineGroup, b: LineGroup): number {
  return (
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    cmp(refName(a.account), refName(b.account)) ||
    cmp(a.account.value, b.account.value) ||
    cmp(refName(a.class), refName(b.class)) ||
    cmp(a.class?.value ?? '', b.class?.value ?? '') ||
    cmp(refName(a.customer), refName(b.customer)) ||
    cmp(a.customer?.value ?? '', b.customer?.value ?? '') ||
    b.sign - a.sign ||
    cmp(a.transactionId ?? '', b.transactionId ?? '')
  );
}

const NOUNS: Record<string, string> = {
  charge: 'charge',
  payment: 'payment',
  refund: 'refund',
  payment_refund: 'payment refund',
  payment_failure_refund: 'payment failure refund',
  refund_failure: 'refund failure',
  adjustment: 'adjustment',
};

function nounOf(item: BookedItem): string {
  if (item.kind === 'dispute') return 'dispute';
  return NOUNS[item.transactionType] ?? item.transactionType.replace(/_/g, ' ');
}

/** "12 charges, 1 refund": counts of distinct references by noun, most first, then alphabetical. */
function counts(entries: ReadonlyMap<string, string>): string {
  const byNoun = new Map<string, number>();
  for (const noun of entries.values()) byNoun.set(noun, (byNoun.get(noun) ?? 0) + 1);
  return [...byNoun.entries()]
    .sort(([na, a], [nb, b]) => b - a || cmp(na, nb))
    .map(([noun, n]) => plural(n, noun))
    .join(', ');
}

const KIND_TITLES: Record<BookingKind, string> = {
  revenue: '',
  refund: 'Refunds',
  dispute: 'Disputes',
  adjustment: 'Stripe adjustments',
  processingFee: 'Stripe processing fees',
  platformFee: 'Platform fees',
};

function describe(group: LineGroup): string {
  const refs = new Map<string, string>(); // reference → noun
  let text: string;
  if (group.kind === 'processingFee' || group.kind === 'platformFee') {
    for (const item of group.items) refs.set(item.transactionId, 'transaction');
    text = `${KIND_TITLES[group.kind]}: ${refList(refs)}`;
  } else if (group.kind === 'adjustment') {
    for (const item of group.items) refs.set(item.transactionId, nounOf(item));
    const ids = [...refs.entries()].sort(([a], [b]) => cmp(a, b));
    const body =
      ids.length <= MAX_DESCRIPTION_IDS ? ids.map(([id, noun]) => `${noun} ${id}`).join(', ') : counts(refs);
    text = `${KIND_TITLES.adjustment}: ${body}`;
  } else {
    const categories = new Set<string>();
    for (const item of group.items) {
      refs.set(item.reference, nounOf(item));
      if (item.category !== undefined) categories.add(categoryLabel(item.category));
    }
    const labels = distinctLabels(categories.keys());
    const named =
      labels.length <= MAX_DESCRIPTION_IDS ? labels.join(', ') : plural(labels.length, 'category');
    const title = KIND_TITLES[group.kind];
    text = `${title === '' ? '' : `${title}, `}${named}: ${refList(refs)}`;
  }
  if (group.transactionId !== undefined && !text.includes(group.transactionId)) {
    text = `${text} (${group.transactionId})`;
  }
  return text.length <= MAX_DESCRIPTION_LENGTH ? text : `${text.slice(0, MAX_DESCRIPTION_LENGTH - 1)}…`;
}

function refList(refs: ReadonlyMap<string, string>): string {
  if (refs.size <= MAX_DESCRIPTION_IDS) return [...refs.keys()].sort(cmp).join(', ');
  return counts(refs);
}

interface Header {
  TxnDate: string;
  CurrencyRef?: { value: string };
  PrivateNote: string;
}

function depositBody(
  header: Header,
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

function journalBody(
  header: Header,
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

// ------------------------------------------------------------------------------------------------ reversal

const RefSchema = z
  .object({ value: z.union([z.string(), z.number()]).transform(String), name: z.string().optional() })
  .loose();

const EntityRefSchema = z.object({ value: z.string().nullable(), name: z.string().optional() }).loose();

const PostedDepositSchema = z
  .object({
    Id: z.union([z.string(), z.number()]).optional(),
    DepositToAccountRef: RefSchema,
    CurrencyRef: RefSchema.optional(),
    Line: z.array(
      z
        .object({
          Amount: z.number(),
          Description: z.string().optional(),
          DepositLineDetail: z
            .object({
              AccountRef: RefSchema,
              ClassRef: RefSchema.optional(),
              Entity: EntityRefSchema.optional(),
            })
            .loose(),
        })
        .loose(),
    ),
  })
  .loose();

const PostedJournalSchema = z
  .object({
    Id: z.union([z.string(), z.number()]).optional(),
    CurrencyRef: RefSchema.optional(),
    Line: z.array(
      z
        .object({
          Amount: z.number(),
          Description: z.string().optional(),
          JournalEntryLineDetail: z
            .object({
              PostingType: z.enum(['Debit', 'Credit']),
              AccountRef: RefSchema,
              ClassRef: RefSchema.optional(),
              Entity: z
                .object({ Type: z.string().optional(), EntityRef: EntityRefSchema })
                .loose()
                .optional(),
            })
            .loose(),
        })
        .loose(),
    ),
  })
  .loose();

/** Amounts with up to 3 decimals (every currency), summed exactly. */
const SCALE = 3;

function plainRef(ref: { value: string; name?: string | undefined }): { value: string; name?: string } {
  return ref.name === undefined ? { value: ref.value } : { value: ref.value, name: ref.name };
}

function entityJson(entity: { value: string | null; name?: string | undefined }): Record<string, unknown> {
  const ref: Record<string, unknown> = { value: entity.value };
  if (entity.name !== undefined) ref.name = entity.name;
  return { Type: 'Customer', EntityRef: ref };
}

/**
 * A JournalEntry that exactly reverses a posted Deposit (deposit account credited with the total, each line's
 * account debited for positive lines and credited for negative ones) or JournalEntry (posting types swapped).
 * Throws an Error naming the problem when `posted` is not a body this builder could have written.
 */
export function buildReversalEntry(posted: QboEntry, payoutId: string, txnDate: string): QboEntry {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(txnDate)) throw new Error(`txnDate must be YYYY-MM-DD, got "${txnDate}"`);
  const lines: Record<string, unknown>[] = [];
  let postedId: string | undefined;
  let currencyRef: { value: string; name?: string } | undefined;
  if (posted.type === 'Deposit') {
    const parsed = PostedDepositSchema.safeParse(posted.body);
    if (!parsed.success) {
      throw new Error(`cannot reverse the posted Deposit: ${z.prettifyError(parsed.error)}`);
    }
    const body = parsed.data;
    postedId = body.Id === undefined ? undefined : String(body.Id);
    currencyRef = body.CurrencyRef === undefined ? undefined : plainRef(body.CurrencyRef);
    let total = 0;
    const reversed: Record<string, unknown>[] = [];
    for (const line of body.Line) {
      const scaled = decimalToScaled(line.Amount, SCALE);
      if (scaled === 0) continue;
      total += scaled;
      const d = line.DepositLineDetail;
      const detail: Record<string, unknown> = {
        PostingType: scaled > 0 ? 'Debit' : 'Credit',
        AccountRef: plainRef(d.AccountRef),
      };
      if (d.ClassRef !== undefined) detail.ClassRef = plainRef(d.ClassRef);
      if (d.Entity !== undefined) detail.Entity = entityJson(d.Entity);
      reversed.push({
        Amount: Number(scaledToDecimalString(Math.abs(scaled), SCALE)),
        DetailType: 'JournalEntryLineDetail',
        Description: line.Description ?? '',
        JournalEntryLineDetail: detail,
      });
    }
    if (total !== 0) {
      lines.push({
        Amount: Number(scaledToDecimalString(Math.abs(total), SCALE)),
        DetailType: 'JournalEntryLineDetail',
        Description: `${reversalNotePrefix(payoutId)}: deposit reversed`,
        JournalEntryLineDetail: {
          PostingType: total > 0 ? 'Credit' : 'Debit',
          AccountRef: plainRef(body.DepositToAccountRef),
        },
      });
    }
    lines.push(...reversed);
  } else {
    const parsed = PostedJournalSchema.safeParse(posted.body);
    if (!parsed.success) {
      throw new Error(`cannot reverse the posted JournalEntry: ${z.prettifyError(parsed.error)}`);
    }
    const body = parsed.data;
    postedId = body.Id === undefined ? undefined : String(body.Id);
    currencyRef = body.CurrencyRef === undefined ? undefined : plainRef(body.CurrencyRef);
    let balance = 0;
    for (const line of body.Line) {
      const scaled = decimalToScaled(line.Amount, SCALE);
      if (scaled === 0) continue;
      const d = line.JournalEntryLineDetail;
      balance += d.PostingType === 'Debit' ? scaled : -scaled;
      const detail: Record<string, unknown> = {
        PostingType: d.PostingType === 'Debit' ? 'Credit' : 'Debit',
        AccountRef: plainRef(d.AccountRef),
      };
      if (d.ClassRef !== undefined) detail.ClassRef = plainRef(d.ClassRef);
      if (d.Entity !== undefined) detail.Entity = entityJson(d.Entity.EntityRef);
      lines.push({
        Amount: line.Amount,
        DetailType: 'JournalEntryLineDetail',
        Description: line.Description ?? '',
        JournalEntryLineDetail: detail,
      });
    }
    if (balance !== 0)
      throw new Error('cannot reverse the posted JournalEntry: its debits and credits differ');
  }
  if (lines.length === 0)
    throw new Error(`cannot reverse the posted ${posted.type}: it has no lines with an amount`);
  return {
    type: 'JournalEntry',
    body: {
      TxnDate: txnDate,
      ...(currencyRef === undefined ? {} : { CurrencyRef: currencyRef }),
      PrivateNote: `${reversalNotePrefix(payoutId)} · reverses ${posted.type}${postedId === undefined ? '' : ` ${postedId}`}`,
      Line: lines,
    },
  };
}
