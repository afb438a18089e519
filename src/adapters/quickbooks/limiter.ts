/**
 * Per-realm request limiter, with Intuit's limits per company and app (docs/quickbooks.md, "Limits"): 10 requests
 * in flight, 500 requests a minute (each batch item counts as one) and, besides, 40 batch requests a minute
 * (developer.intuit.com, "limits and throttles"). After QuickBooks throttles (429 / 3001), `pause` stops every
 * start for the realm until the given time (Intuit asks for 60 s). Callers wait for a slot instead of failing;
 * waiters are served first come, first served, so a 30-item batch is never starved by single calls.
 *
 * The windows are rolling: a start at time t consumes its units (and, for a batch, its batch slot) until
 * t + windowMs + marginMs. The margin (2 s by default) is for the clock QuickBooks counts by: it sees a request when it
 * arrives, which is later than the start by the time to get a token, write the body and cross the network, and by
 * more for some requests than for others. Without it, a request started exactly one window after another whose
 * arrival was slower lands inside QuickBooks' window and is throttled, which then stops the realm for 60 s (the
 * benchmark saw 10 such 429s in 155 batch requests at 40 a minute).
 */
import { QboTransientError } from './faults.js';

/** How much longer than the window a start is counted (see above). */
export const WINDOW_MARGIN_MS = 2_000;

export interface LimiterClock {
  now(): number;
  /** Calls `fn` after `delayMs`; returns a cancel function. */
  schedule(fn: () => void, delayMs: number): () => void;
}

export const systemClock: LimiterClock = {
  now: () => Date.now(),
  schedule: (fn, delayMs) => {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref?.();
    return () => clearTimeout(t);
  },
};

export interface LimiterOptions {
  /** Requests in flight at once (QuickBooks: 10). */
  maxInFlight?: number;
  /** Request units per rolling window (QuickBooks: 500 a minute). */
  perMinute?: number;
  /** Batch requests per rolling window (QuickBooks: 40 a minute), besides their items' units. */
  batchesPerMinute?: number;
  /** Window length, 60 000 ms unless a test shortens it. */
  windowMs?: number;
  /** Added to the window for each start (`WINDOW_MARGIN_MS` unless given). */
  marginMs?: number;
  clock?: LimiterClock;
}

export interface LimiterStats {
  inFlight: number;
  /** Highest number of requests in flight seen. */
  peakInFlight: number;
  /** Units started within the current window. */
  unitsInWindow: number;
  /** Highest number of units seen within any window. */
  peakUnitsInWindow: number;
  /** Requests started. */
  started: number;
  /** Units started. */
  units: number;
  /** Requests that had to wait for a slot. */
  waited: number;
  /** Requests waiting now. */
  queued: number;
}

interface Waiter {
  units: number;
  batch: boolean;
  giveUpAt: number | undefined;
  resolve: (release: () => void) => void;
  reject: (e: Error) => void;
  waited: boolean;
}

export class RateLimiter {
  readonly maxInFlight: number;
  readonly perWindow: number;
  readonly batchesPerWindow: number;
  /** The window plus its margin: how long a start is counted. */
  readonly windowMs: number;
  private readonly clock: LimiterClock;
  private inFlight = 0;
  /** Starts within the window, oldest first. */
  private readonly window: Array<{ at: number; units: number }> = [];
  private windowUnits = 0;
  /** Start times of batch requests within the window, oldest first. */
  private readonly batchWindow: number[] = [];
  /** No request starts before this clock time (after a 429). */
  private pausedUntil = 0;
  private readonly queue: Waiter[] = [];
  private wake: { at: number; cancel: () => void } | undefined;
  private counters = { peakInFlight: 0, peakUnitsInWindow: 0, started: 0, units: 0, waited: 0 };

  constructor(opts: LimiterOptions = {}) {
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 10);
    this.perWindow = Math.max(1, opts.perMinute ?? 500);
    this.batchesPerWindow = Math.max(1, opts.batchesPerMinute ?? 40);
    this.windowMs = Math.max(1, opts.windowMs ?? 60_000) + Math.max(0, opts.marginMs ?? WINDOW_MARGIN_MS);
    this.clock = opts.clock ?? systemClock;
  }

  /** Runs `fn` once a slot and `units` are free. */
  async run<T>(units: number, fn: () => Promise<T>, opts: { giveUpAt?: number } = {}): Promise<T> {
    const release = await this.acquire(units, opts);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Waits for a slot; resolves with the function that frees it. With `giveUpAt` (clock ms), rejects with a
   * `QboTransientError` when no slot can be had by then.
   */
  acquire(units: number, opts: { giveUpAt?: number; batch?: boolean } = {}): Promise<() => void> {
    // A request larger than the whole window could never start: it is charged the whole window instead.
    const cost = Math.min(Math.max(1, Math.ceil(units)), this.perWindow);
    return new Promise<() => void>((resolve, reject) => {
      this.queue.push({
        units: cost,
        batch: opts.batch === true,
        giveUpAt: opts.giveUpAt,
        resolve,
        reject,
        waited: false,
      });
      this.pump();
    });
  }

  /** No request of the realm starts before `until` (clock ms): QuickBooks throttled it. */
  pause(until: number): void {
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    this.pump();
  }

  /** Clock time before which nothing starts (0 when not paused). */
  pausedUntilMs(): number {
    return this.pausedUntil > this.clock.now() ? this.pausedUntil : 0;
  }

  stats(): LimiterStats {
    this.prune(this.clock.now());
    return {
      inFlight: this.inFlight,
      peakInFlight: this.counters.peakInFlight,
      unitsInWindow: this.windowUnits,
      peakUnitsInWindow: this.counters.peakUnitsInWindow,
      started: this.counters.started,
      units: this.counters.units,
      waited: this.counters.waited,
      queued: this.queue.length,
    };
  }

  private prune(now: number): void {
    while (this.window.length > 0 && (this.window[0]?.at ?? 0) + this.windowMs <= now) {
      this.windowUnits -= this.window.shift()?.units ?? 0;
    }
    while (this.batchWindow.length > 0 && (this.batchWindow[0] ?? 0) + this.windowMs <= now) {
      this.batchWindow.shift();
    }
  }

  private pump(): void {
    const now = this.clock.now();
    this.prune(now);
    this.expire(now);
    if (this.queue.length > 0 && now < this.pausedUntil) {
      this.markWaiting();
      this.scheduleWakeAt(now, this.pausedUntil);
      return;
    }
    const batchesFull = () => this.batchWindow.length >= this.batchesPerWindow;
    while (this.queue.length > 0) {
      // Batches held back by the batch limit do not hold back single requests behind them (another limit).
      const index = batchesFull() ? this.queue.findIndex((w) => !w.batch) : 0;
      if (index < 0) {
        this.markWaiting();
        this.scheduleWakeAt(now, (this.batchWindow[0] ?? now) + this.windowMs);
        return;
      }
      const next = this.queue[index] as Waiter;
      if (this.inFlight >= this.maxInFlight) {
        // A release will pump again; only a deadline (or the batch window) needs a timer.
        this.markWaiting();
        this.scheduleWakeAt(
          now,
          batchesFull() ? (this.batchWindow[0] ?? now) + this.windowMs : Number.POSITIVE_INFINITY,
        );
        return;
      }
      if (this.windowUnits + next.units > this.perWindow) {
        this.markWaiting();
        this.scheduleWake(now, next.units);
        return;
      }
      this.queue.splice(index, 1);
      this.start(now, next);
    }
  }

  private start(now: number, waiter: Waiter): void {
    this.inFlight += 1;
    this.window.push({ at: now, units: waiter.units });
    if (waiter.batch) this.batchWindow.push(now);
    this.windowUnits += waiter.units;
    const c = this.counters;
    c.started += 1;
    c.units += waiter.units;
    c.peakInFlight = Math.max(c.peakInFlight, this.inFlight);
    c.peakUnitsInWindow = Math.max(c.peakUnitsInWindow, this.windowUnits);
    let released = false;
    waiter.resolve(() => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      this.pump();
    });
  }

  private markWaiting(): void {
    for (const w of this.queue) {
      if (!w.waited) {
        w.waited = true;
        this.counters.waited += 1;
      }
    }
  }

  /** Rejects waiters whose deadline has passed or cannot be met by the rolling window. */
  private expire(now: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const w = this.queue[i] as Waiter;
      if (w.giveUpAt !== undefined && now >= w.giveUpAt) {
        this.queue.splice(i, 1);
        w.reject(
          new QboTransientError(
            'QuickBooks request limit for this company (requests a minute / in flight) left no slot before the time ran out',
            { code: 'LOCAL_LIMIT' },
          ),
        );
      }
    }
  }

  /**
   * Schedules a pump for when `needed` units fit in the window again (undefined: blocked by requests in flight),
   * or for the earliest waiter's deadline when that comes first.
   */
  private scheduleWake(now: number, needed: number | undefined): void {
    let at = Number.POSITIVE_INFINITY;
    if (needed !== undefined) {
      let units = this.windowUnits;
      at = now;
      for (const entry of this.window) {
        if (units + needed <= this.perWindow) break;
        units -= entry.units;
        at = entry.at + this.windowMs;
      }
    }
    this.scheduleWakeAt(now, at);
  }

  /** Schedules a pump at `at`, or at the earliest waiter's deadline when that comes first. */
  private scheduleWakeAt(now: number, wakeAt: number): void {
    let at = wakeAt;
    for (const w of this.queue) if (w.giveUpAt !== undefined) at = Math.min(at, w.giveUpAt);
    if (!Number.isFinite(at)) return;
    if (this.wake && this.wake.at <= at) return;
    this.wake?.cancel();
    const cancel = this.clock.schedule(
      () => {
        this.wake = undefined;
        this.pump();
      },
      Math.max(0, at - now),
    );
    this.wake = { at, cancel };
  }
}

/** One limiter per realm. The process-wide registry is shared by every client of the process. */
export class LimiterRegistry {
  private readonly limiters = new Map<string, RateLimiter>();
  constructor(private readonly options: LimiterOptions = {}) {}

  forRealm(realmId: string): RateLimiter {
    let limiter = this.limiters.get(realmId);
    if (!limiter) {
      limiter = new RateLimiter(this.options);
      this.limiters.set(realmId, limiter);
    }
    return limiter;
  }

  realms(): string[] {
    return [...this.limiters.keys()];
  }
}

/** Shared by every QuickBooks client of this process that does not ask for its own limits. */
export const processLimiters = new LimiterRegistry();

/** What a request needs from a limiter. */
export interface Admission {
  acquire(units: number, opts?: { giveUpAt?: number; batch?: boolean }): Promise<() => void>;
  /** QuickBooks throttled the realm: nothing starts before `until` (clock ms). */
  pause(until: number): void;
}

/**
 * Background work's share of a realm's limits: at most 80 % of the units a minute and 6 of the 10 requests in
 * flight, so work that can wait (customers created after their payout was posted) never takes the whole budget,
 * and a payout posted meanwhile — from this process or another one — still finds room.
 */
export function backgroundShare(limits: LimiterOptions = {}): LimiterOptions {
  return {
    ...limits,
    perMinute: Math.max(1, Math.floor((limits.perMinute ?? 500) * 0.8)),
    maxInFlight: Math.max(1, Math.floor((limits.maxInFlight ?? 10) * 0.6)),
  };
}

/** Admission by `share` first, then by the realm's own limiter; the release frees both. */
export class SharedAdmission implements Admission {
  constructor(
    private readonly share: RateLimiter,
    private readonly realm: RateLimiter,
  ) {}

  pause(until: number): void {
    this.realm.pause(until);
    this.share.pause(until);
  }

  async acquire(units: number, opts: { giveUpAt?: number; batch?: boolean } = {}): Promise<() => void> {
    const releaseShare = await this.share.acquire(units, opts);
    try {
      const releaseRealm = await this.realm.acquire(units, opts);
      return () => {
        releaseRealm();
        releaseShare();
      };
    } catch (error) {
      releaseShare();
      throw error;
    }
  }
}
