/**
 * Drift (issue 16): what the ledger posted to QuickBooks, remembered as a small canonical snapshot, and the
 * comparison of that snapshot with the entry QuickBooks has now (read through change data capture).
 *
 * A snapshot keeps what a bookkeeper's books depend on: the date, the total, the deposit account, and every
 * line's amount, account, class, customer (and, for a journal entry, debit or credit). Descriptions and the
 * memo are not compared: editing them changes no figure. Lines are compared as a multiset (their order in
 * QuickBooks is not meaningful). Pure: no I/O.
 */
import { z } from 'zod';
import { currencyExponent, decimalToScaled, scaledToDecimalString } from './money.js';
import type { EntryType, QboEntry } from './types.js';

/** One line: `amount|posting|account|class|customer` (empty parts for none). Sortable, compact in storage. */
export type SnapshotLine = string;

export interface EntrySnapshot {
  type: EntryType;
  /** `TxnDate`, YYYY-MM-DD. */
  txnDate: string;
  /** The entry's currency (upper case), which sets the amounts' decimals. */
  currency: string;
  /** Deposit: the total deposited; journal entry: the sum of its debits. Exact decimal, e.g. "120.00". */
  total: string;
  /** Deposit: `DepositToAccountRef` id; journal entry: null. */
  depositAccount: string | null;
  /** Sorted. */
  lines: SnapshotLine[];
  /** Names of the accounts and classes the snapshot names (id → name), for messages. */
  names: Record<string, string>;
}

export type DriftKind = 'deleted' | 'changed' | 'redated';

/** What the audit found on a live entry, kept on its ledger row until a resync or `payouts accept`. */
export interface DriftRecord {
  finding: DriftKind;
  detail: string;
  /** ISO time of the audit that found it. */
  foundAt: string;
  /** The entry as QuickBooks had it (null when deleted): what `payouts accept` takes as the new reference. */
  found: EntrySnapshot | null;
}

/** A finding a person accepted as intended (`payouts accept`). */
export interface AcceptedDrift {
  finding: DriftKind;
  detail: string;
  /** ISO time of the acceptance. */
  at: string;
  /** The entry it was about. */
  ref: { type: EntryType; id: string };
}

export interface DriftComparison {
  finding: Exclude<DriftKind, 'deleted'>;
  /** What differs, for a person: "line 45.00: account Class Pack Revenue (90) → Sales (79); total …". */
  detail: string;
}

const IdSchema = z.union([z.string(), z.number()]).transform(String);
const RefSchema = z.object({ value: IdSchema.nullable().optional(), name: z.string().optional() }).loose();

const LineSchema = z
  .object({
    Amount: z.union([z.number(), z.string().transform(Number)]).optional(),
    DepositLineDetail: z
      .object({
        AccountRef: RefSchema.optional(),
        ClassRef: RefSchema.optional(),
        Entity: RefSchema.optional(),
      })
      .loose()
      .optional(),
    JournalEntryLineDetail: z
      .object({
        PostingType: z.string().optional(),
        AccountRef: RefSchema.optional(),
        ClassRef: RefSchema.optional(),
        Entity: z.object({ EntityRef: RefSchema.optional() }).loose().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

/** An entry as QuickBooks sends it (or as the product posts it): read leniently, every field optional. */
const EntryBodySchema = z
  .object({
    TxnDate: z.string().optional(),
    TotalAmt: z.union([z.number(), z.string().transform(Number)]).optional(),
    CurrencyRef: RefSchema.optional(),
    DepositToAccountRef: RefSchema.optional(),
    Line: z.array(LineSchema).optional(),
  })
  .loose();

/** An amount as an exact decimal string with the currency's decimals ("45" USD → "45.00"). */
function decimalOf(amount: number | undefined, currency: string): string {
  if (amount === undefined || !Number.isFinite(amount)) return '?';
  const exponent = currencyExponent(currency);
  try {
    return scaledToDecimalString(decimalToScaled(amount, exponent), exponent);
  } catch {
    // More decimals than the currency has (not something QuickBooks stores): compared as written.
    return String(amount);
  }
}

function refId(ref: z.infer<typeof RefSchema> | undefined): string {
  return ref?.value ?? '';
}

function sumDecimals(values: readonly string[], currency: string): string {
  if (values.some((v) => !Number.isFinite(Number(v)))) return '?';
  const scale = Math.max(currencyExponent(currency), ...values.map((v) => (v.split('.')[1] ?? '').length));
  const total = values.reduce((sum, v) => sum + decimalToScaled(Number(v), scale), 0);
  return scaledToDecimalString(total, scale);
}

/**
 * The snapshot of an entry body: the request body the product posts, or the object QuickBooks returns.
 * `currency` is the payout's currency (the body's `CurrencyRef` wins when present).
 */
export function snapshotOf(entry: QboEntry, currency: string): EntrySnapshot {
  const body = EntryBodySchema.parse(entry.body);
  const cur = (body.CurrencyRef?.value ?? currency).toUpperCase();
  const names: Record<string, string> = {};
  const remember = (ref: z.infer<typeof RefSchema> | undefined) => {
    if (ref?.value && ref.name !== undefined) names[ref.value] = ref.name;
  };
  const lines: SnapshotLine[] = [];
  const debits: string[] = [];
  const amounts: string[] = [];
  for (const line of body.Line ?? []) {
    const amount = decimalOf(line.Amount, cur);
    if (entry.type === 'Deposit') {
      // Subtotal lines and the like carry no DepositLineDetail and no account: not lines of ours.
      const d = line.DepositLineDetail;
      if (d === undefined && line.Amount === undefined) continue;
      remember(d?.AccountRef);
      remember(d?.ClassRef);
      amounts.push(amount);
      lines.push([amount, '', refId(d?.AccountRef), refId(d?.ClassRef), refId(d?.Entity)].join('|'));
    } else {
      const d = line.JournalEntryLineDetail;
      if (d === undefined && line.Amount === undefined) continue;
      remember(d?.AccountRef);
      remember(d?.ClassRef);
      const posting = d?.PostingType ?? '';
      if (posting === 'Debit') debits.push(amount);
      lines.push(
        [amount, posting, refId(d?.AccountRef), refId(d?.ClassRef), refId(d?.Entity?.EntityRef)].join('|'),
      );
    }
  }
  lines.sort();
  let total: string;
  if (entry.type === 'Deposit') {
    // QuickBooks' TotalAmt (Σ lines − CashBack) where it sends one; the lines' sum for a request body.
    total = body.TotalAmt !== undefined ? decimalOf(body.TotalAmt, cur) : sumDecimals(amounts, cur);
    remember(body.DepositToAccountRef);
  } else {
    total = sumDecimals(debits, cur);
  }
  return {
    type: entry.type,
    txnDate: body.TxnDate ?? '',
    currency: cur,
    total,
    depositAccount: entry.type === 'Deposit' ? refId(body.DepositToAccountRef) || null : null,
    lines,
    names,
  };
}

interface Parsed {
  amount: string;
  posting: string;
  account: string;
  cls: string;
  customer: string;
}

function parseLine(line: SnapshotLine): Parsed {
  const [amount = '', posting = '', account = '', cls = '', customer = ''] = line.split('|');
  return { amount, posting, account, cls, customer };
}

function named(id: string, names: Record<string, string>, more: Record<string, string>): string {
  if (id === '') return 'none';
  const name = names[id] ?? more[id];
  return name === undefined ? id : `${name} (${id})`;
}

/** Removes one occurrence of each of `b` from `a` (multiset difference). */
function minus(a: readonly SnapshotLine[], b: readonly SnapshotLine[]): SnapshotLine[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  const out: SnapshotLine[] = [];
  for (const x of a) {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    else out.push(x);
  }
  return out;
}

const MAX_DIFFERENCES = 6;

/**
 * Compares what the ledger expects live in QuickBooks with what QuickBooks has. Undefined when they agree;
 * `redated` when only the date moved; `changed` otherwise (the detail names every difference, the date included).
 */
export function compareSnapshots(expected: EntrySnapshot, found: EntrySnapshot): DriftComparison | undefined {
  const n = (id: string) => named(id, expected.names, found.names);
  const nf = (id: string) => named(id, found.names, expected.names);
  const money = (amount: string) => `${amount} ${expected.currency}`;
  const differences: string[] = [];
  const dateMoved = expected.txnDate !== found.txnDate;

  if (expected.depositAccount !== found.depositAccount) {
    differences.push(
      `deposit account ${n(expected.depositAccount ?? '')} → ${nf(found.depositAccount ?? '')}`,
    );
  }
  if (expected.total !== found.total) {
    differences.push(`total ${money(expected.total)} → ${money(found.total)}`);
  }
  const removed = minus(expected.lines, found.lines).map(parseLine);
  const added = minus(found.lines, expected.lines).map(parseLine);
  const describePair = (was: Parsed, now: Parsed): string => {
    const parts: string[] = [];
    if (was.amount !== now.amount) parts.push(`amount ${money(was.amount)} → ${money(now.amount)}`);
    if (was.posting !== now.posting) parts.push(`${was.posting || 'none'} → ${now.posting || 'none'}`);
    if (was.account !== now.account) parts.push(`account ${n(was.account)} → ${nf(now.account)}`);
    if (was.cls !== now.cls) parts.push(`class ${n(was.cls)} → ${nf(now.cls)}`);
    if (was.customer !== now.customer) {
      parts.push(`customer ${was.customer || 'none'} → ${now.customer || 'none'}`);
    }
    // The line is named by its amount, and by its account unless the account is what changed.
    const where = was.account !== now.account ? '' : ` (${n(was.account)})`;
    return `line ${money(was.amount)}${was.posting ? ` ${was.posting.toLowerCase()}` : ''}${where}: ${parts.join(', ')}`;
  };
  // Pair a removed line with an added one: first same amount (an account, class or customer re-pointed),
  // then same account, class and customer (an amount edited).
  const pairBy = (key: (p: Parsed) => string) => {
    for (let i = 0; i < removed.length; ) {
      const was = removed[i] as Parsed;
      const j = added.findIndex((now) => key(now) === key(was));
      if (j >= 0) {
        differences.push(describePair(was, added[j] as Parsed));
        removed.splice(i, 1);
        added.splice(j, 1);
      } else i++;
    }
  };
  pairBy((p) => `${p.amount}|${p.posting}`);
  pairBy((p) => `${p.posting}|${p.account}|${p.cls}|${p.customer}`);
  for (const was of removed) differences.push(`line ${money(was.amount)} (${n(was.account)}) removed`);
  for (const now of added) differences.push(`line ${money(now.amount)} (${nf(now.account)}) added`);

  if (differences.length === 0 && !dateMoved) return undefined;
  if (differences.length === 0) {
    return { finding: 'redated', detail: `date ${expected.txnDate} → ${found.txnDate}` };
  }
  const shown = differences.slice(0, MAX_DIFFERENCES);
  if (differences.length > MAX_DIFFERENCES) shown.push(`and ${differences.length - MAX_DIFFERENCES} more`);
  if (dateMoved) shown.unshift(`date ${expected.txnDate} → ${found.txnDate}`);
  return { finding: 'changed', detail: shown.join('; ') };
}

/**
 * The fixes offered with a finding (CONTRACT §8 `payouts audit`). `reversal`: the finding is on the reversing
 * JournalEntry of a payout that failed in Stripe (a REVERSED row), whose resync reverses the entry again.
 */
export function driftHint(payoutId: string, finding: DriftKind, reversal = false): string {
  const resync = reversal
    ? `\`npx qbo-sync payouts resync ${payoutId}\` reverses the failed payout's entry again`
    : `\`npx qbo-sync payouts resync ${payoutId}\` posts the computed entry again`;
  const accept =
    finding === 'deleted'
      ? `\`npx qbo-sync payouts accept ${payoutId}\` records that the deletion was intended`
      : `\`npx qbo-sync payouts accept ${payoutId}\` keeps QuickBooks' version as intended`;
  return `${resync}; ${accept}`;
}

/**
 * The fixes offered with a finding on a reversing JournalEntry a resync posted for the entry it replaced (the
 * replaced entry stays in QuickBooks, its deletion refused; only the JournalEntry keeps it out of the books). No
 * resync can help: it replaces the live entry, not the earlier one. `reverses`, `reversal`: "Deposit 12".
 */
export function earlierReversalHint(
  payoutId: string,
  finding: DriftKind,
  reverses: string,
  reversal: string,
): string {
  const accept = `\`npx qbo-sync payouts accept ${payoutId}\``;
  if (finding === 'deleted') {
    return `in QuickBooks, delete ${reverses} where its period is open, or enter a JournalEntry that reverses it again; then ${accept} (also if the deletion was intended)`;
  }
  return `undo the edit of ${reversal} in QuickBooks (the detail says what changed); ${accept} keeps QuickBooks' version as intended`;
}
