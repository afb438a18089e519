/**
 * The benchmark's lower bounds (CONTRACT §10) and QuickBooks' metering floor: pure arithmetic on the shape of a
 * payout's work, so the report and its smoke test share one definition.
 *
 *   N transactions (the payout's own included), E distinct member emails, M of them missing from the mapping table,
 *   C customers to create (M minus those a QuickBooks lookup finds), K customers in the QuickBooks company.
 *
 *   Stripe      1 payout read + ⌈N/100⌉ list pages (100 a page, sources expanded)
 *   DynamoDB    ⌈E/100⌉ BatchGetItem + ⌈M/25⌉ BatchWriteItem + 3 ledger writes
 *   QuickBooks  min(⌈M/30⌉ lookup batches, ⌈K/1000⌉ customer pages) + ⌈C/30⌉ create batches + 1 entry
 *               (+ 1 token refresh when one is due)
 *
 * On DynamoDB mapping writes: the contract writes ⌈C/25⌉, which equals ⌈M/25⌉ when every missing customer is
 * created. When M > C, the M − C customers a lookup finds must be mapped too (CONTRACT §5), so no correct builder
 * can write fewer than ⌈M/25⌉ batches; that is the bound used. The contract's literal figure is reported beside it.
 */

/** QuickBooks meters 500 request units a minute per company; each batch item is one unit (CONTRACT §7). */
export const QBO_UNITS_PER_MINUTE = 500;
export const QBO_WINDOW_MS = 60_000;

export interface WorkShape {
  /** Balance transactions listed for the payout, its own `type: payout` transaction included. */
  transactions: number;
  /** Distinct (normalised) member emails on the payout's charges. */
  distinctEmails: number;
  /** Emails not in the mapping table when the payout is processed. */
  missingFromMap: number;
  /** Customers that have to be created in QuickBooks. */
  toCreate: number;
  /** Active customers in the QuickBooks company before the payout is processed. */
  companyCustomers: number;
  /** Whether the QuickBooks access token has to be refreshed during the run. */
  tokenRefreshDue: boolean;
}

export interface Bound {
  total: number;
  /** Each term of the formula, by name. */
  terms: Record<string, number>;
  formula: string;
}

const ceilDiv = (a: number, b: number): number => {
  if (!Number.isInteger(a) || a < 0) throw new RangeError(`expected a whole number ≥ 0, got ${a}`);
  return Math.ceil(a / b);
};

const sum = (terms: Record<string, number>): number => Object.values(terms).reduce((a, b) => a + b, 0);

export function stripeLowerBound(w: Pick<WorkShape, 'transactions'>): Bound {
  const terms = { payout: 1, pages: ceilDiv(w.transactions, 100) };
  return { total: sum(terms), terms, formula: '1 + ⌈N/100⌉' };
}

export function dynamodbLowerBound(w: Pick<WorkShape, 'distinctEmails' | 'missingFromMap'>): Bound {
  const terms = {
    mappingReads: ceilDiv(w.distinctEmails, 100),
    mappingWrites: ceilDiv(w.missingFromMap, 25),
    ledgerWrites: 3,
  };
  return { total: sum(terms), terms, formula: '⌈E/100⌉ + ⌈M/25⌉ + 3' };
}

/** The contract's literal DynamoDB figure, ⌈E/100⌉ + ⌈C/25⌉ + 3 (see the note at the top of this file). */
export function dynamodbContractFigure(w: Pick<WorkShape, 'distinctEmails' | 'toCreate'>): number {
  return ceilDiv(w.distinctEmails, 100) + ceilDiv(w.toCreate, 25) + 3;
}

export function quickbooksLowerBound(
  w: Pick<WorkShape, 'missingFromMap' | 'toCreate' | 'companyCustomers' | 'tokenRefreshDue'>,
): Bound {
  const terms = {
    lookups: Math.min(ceilDiv(w.missingFromMap, 30), ceilDiv(w.companyCustomers, 1000)),
    createBatches: ceilDiv(w.toCreate, 30),
    entry: 1,
    tokenRefresh: w.tokenRefreshDue ? 1 : 0,
  };
  return {
    total: sum(terms),
    terms,
    formula: 'min(⌈M/30⌉, ⌈K/1000⌉) + ⌈C/30⌉ + 1 (+ 1 token refresh when due)',
  };
}

/**
 * The time QuickBooks' metering alone imposes on `units` request units (500 a minute per company, each batch item
 * one unit): the first 500 go in the first window, each further 500 waits for the next one.
 *
 *   floor = max(0, ⌈units / 500⌉ − 1) × 60 000 ms
 */
export function quickbooksFloorMs(units: number): number {
  return Math.max(0, ceilDiv(units, QBO_UNITS_PER_MINUTE) - 1) * QBO_WINDOW_MS;
}

export const QUICKBOOKS_FLOOR_FORMULA =
  'max(0, ⌈units/500⌉ − 1) × 60 000 ms, units = API requests with each batch item counted';

/** Nearest-rank percentile of `values` (p in (0, 100]); NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}
