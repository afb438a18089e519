/**
 * Prints a posted QuickBooks entry (Deposit, or the JournalEntry of a negative payout) as a readable table:
 * account, customer, class, description, amount, and the total, which equals the payout amount.
 */
import { fromQboAmount, toDecimalString } from '../domain/money.js';
import type { Minor } from '../domain/types.js';

export interface DepositRow {
  account: string;
  customer: string;
  class: string;
  description: string;
  /** Signed, in minor units, as the line counts toward the payout (fees negative). */
  amount: Minor;
}

export interface NameLookup {
  accounts: ReadonlyMap<string, string>;
  classes: ReadonlyMap<string, string>;
  customers: ReadonlyMap<string, string>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function refName(ref: unknown, names: ReadonlyMap<string, string>): string {
  if (!isObject(ref)) return '';
  const value = typeof ref.value === 'string' ? ref.value : '';
  if (typeof ref.name === 'string' && ref.name) return ref.name;
  return names.get(value) ?? (value ? `#${value}` : '');
}

function refValue(ref: unknown): string | undefined {
  return isObject(ref) && typeof ref.value === 'string' ? ref.value : undefined;
}

/** Ids of every account, class and customer an entry body refers to (to look their names up). */
export function referencedIds(body: Json): {
  accounts: Set<string>;
  classes: Set<string>;
  customers: Set<string>;
} {
  const out = { accounts: new Set<string>(), classes: new Set<string>(), customers: new Set<string>() };
  const add = (set: Set<string>, ref: unknown) => {
    const v = refValue(ref);
    if (v) set.add(v);
  };
  add(out.accounts, body.DepositToAccountRef);
  for (const line of Array.isArray(body.Line) ? body.Line : []) {
    if (!isObject(line)) continue;
    const detail = isObject(line.DepositLineDetail)
      ? line.DepositLineDetail
      : isObject(line.JournalEntryLineDetail)
        ? line.JournalEntryLineDetail
        : undefined;
    if (!detail) continue;
    add(out.accounts, detail.AccountRef);
    add(out.classes, detail.ClassRef);
    const entity =
      isObject(detail.Entity) && isObject(detail.Entity.EntityRef) ? detail.Entity.EntityRef : detail.Entity;
    add(out.customers, entity);
  }
  return out;
}

/**
 * The rows of a Deposit or JournalEntry body. For a JournalEntry, credits count positive and debits negative,
 * and the deposit account's own line (crediting it by the payout's |amount|) is left out, so the rows read
 * like a deposit's and sum to the (negative) payout amount.
 */
export function entryRows(
  type: 'Deposit' | 'JournalEntry',
  body: Json,
  currency: string,
  names: NameLookup,
  depositAccountId?: string,
): DepositRow[] {
  const rows: DepositRow[] = [];
  let depositLineSkipped = false;
  for (const line of Array.isArray(body.Line) ? body.Line : []) {
    if (!isObject(line) || typeof line.Amount !== 'number') continue;
    const amount = fromQboAmount(line.Amount, currency);
    if (type === 'Deposit') {
      const d = isObject(line.DepositLineDetail) ? line.DepositLineDetail : {};
      rows.push({
        account: refName(d.AccountRef, names.accounts),
        customer: refName(d.Entity, names.customers),
        class: refName(d.ClassRef, names.classes),
        description: typeof line.Description === 'string' ? line.Description : '',
        amount,
      });
      continue;
    }
    const d = isObject(line.JournalEntryLineDetail) ? line.JournalEntryLineDetail : {};
    const credit = d.PostingType === 'Credit';
    if (!depositLineSkipped && credit && depositAccountId && refValue(d.AccountRef) === depositAccountId) {
      depositLineSkipped = true;
      continue;
    }
    const entity = isObject(d.Entity) ? d.Entity.EntityRef : undefined;
    rows.push({
      account: refName(d.AccountRef, names.accounts),
      customer: refName(entity, names.customers),
      class: refName(d.ClassRef, names.classes),
      description: typeof line.Description === 'string' ? line.Description : '',
      amount: credit ? amount : -amount,
    });
  }
  return rows;
}

function clip(text: string, width: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= width ? oneLine : `${oneLine.slice(0, width - 1)}…`;
}

function grouped(minor: Minor, currency: string): string {
  const decimal = toDecimalString(minor, currency);
  const negative = decimal.startsWith('-');
  const [whole = '0', fraction] = (negative ? decimal.slice(1) : decimal).split('.');
  const withCommas = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${withCommas}${fraction === undefined ? '' : `.${fraction}`}`;
}

export interface TableHeading {
  title: string;
  /** Extra `key: value` lines printed under the table. */
  facts: Array<[string, string]>;
}

/** A plain-text table (no colours), one row per line, with a total row. */
export function renderDepositTable(rows: DepositRow[], currency: string, heading: TableHeading): string {
  const columns = ['Account', 'Customer', 'Class', 'Description', 'Amount'] as const;
  const cells = rows.map((r) => [
    clip(r.account, 28),
    clip(r.customer, 26),
    clip(r.class, 14),
    clip(r.description, 48),
    grouped(r.amount, currency),
  ]);
  const total = rows.reduce((sum, r) => sum + r.amount, 0);
  const totalCells = [
    'Total',
    '',
    '',
    `${rows.length} line${rows.length === 1 ? '' : 's'}`,
    grouped(total, currency),
  ];
  const widths = columns.map((c, i) =>
    Math.max(c.length, ...[...cells, totalCells].map((row) => row[i]?.length ?? 0)),
  );
  const fmt = (row: readonly string[]) =>
    row
      .map((cell, i) =>
        i === columns.length - 1 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const lines = [heading.title, '', fmt(columns), rule, ...cells.map(fmt), rule, fmt(totalCells), ''];
  const keyWidth = Math.max(0, ...heading.facts.map(([k]) => k.length));
  for (const [key, value] of heading.facts) lines.push(`${`${key}:`.padEnd(keyWidth + 1)} ${value}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The rows of a dry run's entry (`payouts preview` and the console's preview): account and class names from the
 * entry's own refs, customers by the preview's labels (DisplayNames, or the emails of customers to be created).
 */
export function previewRows(
  entry: { type: 'Deposit' | 'JournalEntry'; body: Json },
  currency: string,
  customerLabels: Readonly<Record<string, string>>,
): DepositRow[] {
  const empty = new Map<string, string>();
  return entryRows(
    entry.type,
    entry.body,
    currency,
    { accounts: empty, classes: empty, customers: new Map(Object.entries(customerLabels)) },
    refValue(entry.body.DepositToAccountRef),
  );
}
