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
 * Time to the books (`postedFloorMs`): the least time the latencies and QuickBooks' limits allow for the calls the
 * entry itself needs — see `postedFloorMs` below.
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

// ------------------------------------------------------------------------------------------------ time floors

/** QuickBooks' limits per company (CONTRACT §7): 10 in flight, 500 units and 40 batch requests a rolling minute. */
export interface QuickBooksLimits {
  maxInFlight: number;
  perMinute: number;
  batchesPerMinute: number;
}

export const QUICKBOOKS_LIMITS: QuickBooksLimits = { maxInFlight: 10, perMinute: 500, batchesPerMinute: 40 };

/**
 * The share of those limits the product gives work that can wait — customers created after their payout was
 * posted (src/adapters/quickbooks/limiter.ts, `backgroundShare`): 80 % of the units, 6 of the 10 in flight.
 */
export const BACKGROUND_LIMITS: QuickBooksLimits = { maxInFlight: 6, perMinute: 400, batchesPerMinute: 40 };

/** One QuickBooks request: its metered units (a batch counts its items) and whether it is a batch request. */
export interface MeteredRequest {
  units: number;
  batch: boolean;
}

/**
 * The earliest time (ms) at which every request is answered, when each takes `latencyMs`, the phases run one after
 * the other (a phase needs the previous one's answers) and the requests of a phase go as soon as the limits allow:
 * at most `maxInFlight` at once, `perMinute` units and `batchesPerMinute` batch requests started in any rolling
 * minute. Greedy, in order: for requests of equal cost this is the optimum.
 */
export function meteredScheduleMs(
  phases: readonly (readonly MeteredRequest[])[],
  latencyMs: number,
  limits: QuickBooksLimits = QUICKBOOKS_LIMITS,
): number {
  const started: { at: number; units: number; batch: boolean }[] = [];
  let phaseStart = 0;
  for (const phase of phases) {
    const ends: number[] = [];
    for (const request of phase) {
      if (request.units > limits.perMinute)
        throw new RangeError('a request costs more units than a minute allows');
      let t = phaseStart;
      for (;;) {
        const inWindow = started.filter((s) => s.at > t - QBO_WINDOW_MS && s.at <= t);
        const units = inWindow.reduce((n, s) => n + s.units, 0);
        const batches = inWindow.filter((s) => s.batch).length;
        const inFlight = started.filter((s) => s.at <= t && s.at + latencyMs > t).length;
        const candidates: number[] = [];
        if (inFlight >= limits.maxInFlight) {
          const endings = started
            .filter((s) => s.at <= t && s.at + latencyMs > t)
            .map((s) => s.at + latencyMs);
          candidates.push(Math.min(...endings));
        }
        if (units + request.units > limits.perMinute) {
          // Wait until enough of the window's units have aged out.
          let freed = units + request.units - limits.perMinute;
          for (const s of inWindow) {
            freed -= s.units;
            if (freed <= 0) {
              candidates.push(s.at + QBO_WINDOW_MS);
              break;
            }
          }
        }
        if (request.batch && batches >= limits.batchesPerMinute) {
          const batchStarts = inWindow.filter((s) => s.batch);
          const oldest = batchStarts[batches - limits.batchesPerMinute];
          if (oldest) candidates.push(oldest.at + QBO_WINDOW_MS);
        }
        if (candidates.length === 0) break;
        t = Math.max(t, Math.max(...candidates));
      }
      started.push({ at: t, units: request.units, batch: request.batch });
      started.sort((a, b) => a.at - b.at);
      ends.push(t + latencyMs);
    }
    phaseStart = ends.length > 0 ? Math.max(...ends) : phaseStart;
  }
  return phaseStart;
}

/** `units` items in batches of at most 30 (the last one smaller). */
export function batchesOf(units: number, size = 30): MeteredRequest[] {
  const out: MeteredRequest[] = [];
  for (let left = units; left > 0; left -= size) out.push({ units: Math.min(size, left), batch: true });
  return out;
}

export interface Pace {
  quickbooksMs: number;
  stripeMs: number;
}

/** The customer lookups the lower bound counts: the cheaper of lookup batches and paging the company. */
function lookupChoices(w: Pick<WorkShape, 'missingFromMap' | 'companyCustomers'>): MeteredRequest[][] {
  if (w.missingFromMap === 0) return [[]];
  const pages = Array.from({ length: ceilDiv(w.companyCustomers, 1000) }, () => ({ units: 1, batch: false }));
  return [batchesOf(w.missingFromMap), pages];
}

/** The customers' QuickBooks work: lookups, then creation (phases). */
function customerPhases(
  w: Pick<WorkShape, 'missingFromMap' | 'toCreate' | 'companyCustomers'>,
  lookups: MeteredRequest[],
): MeteredRequest[][] {
  return [lookups, batchesOf(w.toCreate)].filter((p) => p.length > 0);
}

/**
 * `postedFloorMs` (CONTRACT §10): the least time from the message to POSTED that the latencies and QuickBooks'
 * limits allow for the calls the entry itself needs — the payout and its ⌈N/100⌉ pages from Stripe, one after the
 * other (each page needs the previous one's cursor); then, only when the entry references customers, the lookups
 * and the creations; then the entry (+ a token refresh when due). Customers an entry does not reference (category
 * lines, or a payout folded to them) are not needed before it.
 */
export function postedFloorMs(
  w: Pick<WorkShape, 'transactions' | 'missingFromMap' | 'toCreate' | 'companyCustomers' | 'tokenRefreshDue'>,
  pace: Pace,
  entryReferencesCustomers: boolean,
): number {
  const stripe = (1 + ceilDiv(w.transactions, 100)) * pace.stripeMs;
  const entry: MeteredRequest[] = [{ units: 1, batch: false }];
  const refresh = w.tokenRefreshDue ? pace.quickbooksMs : 0;
  if (!entryReferencesCustomers) return stripe + refresh + meteredScheduleMs([entry], pace.quickbooksMs);
  const best = Math.min(
    ...lookupChoices(w).map((lookups) =>
      meteredScheduleMs([...customerPhases(w, lookups), entry], pace.quickbooksMs),
    ),
  );
  return stripe + refresh + best;
}

/**
 * The least time the customer work takes when it runs after the entry, within background work's share of
 * QuickBooks' limits (`BACKGROUND_LIMITS`).
 */
export function customersAfterFloorMs(
  w: Pick<WorkShape, 'missingFromMap' | 'toCreate' | 'companyCustomers'>,
  pace: Pace,
  limits: QuickBooksLimits = BACKGROUND_LIMITS,
): number {
  return Math.min(
    ...lookupChoices(w).map((lookups) =>
      meteredScheduleMs(customerPhases(w, lookups), pace.quickbooksMs, limits),
    ),
  );
}
