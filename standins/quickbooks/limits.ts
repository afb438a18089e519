/**
 * QuickBooks throttling per realm (external-apis.md §6, §6b): at most `maxInFlight` concurrent requests,
 * `perMinute` requests in any rolling 60 s (each batch item counting as one request) and, besides,
 * `batchesPerMinute` batch requests in any rolling 60 s (Intuit's limits page: 40 batch requests a minute per
 * realm and app; a 2025 blog mentions 120 — the stricter figure is modelled).
 */
export interface Limits {
  maxInFlight: number;
  perMinute: number;
  /** Default 40. */
  batchesPerMinute?: number;
  /** The window the limits count in: 60 000 ms ("a minute", Intuit's limits page); tests may shorten it. */
  windowMs?: number;
}

interface RealmWindow {
  inFlight: number;
  /** (time, cost) of accepted requests, oldest first. */
  events: Array<{ at: number; cost: number }>;
  head: number;
  used: number;
  /** Times of accepted batch requests within the last 60 s. */
  batches: number[];
}

export class RealmLimiter {
  private readonly realms = new Map<string, RealmWindow>();

  constructor(
    private readonly limits: Limits | false,
    private readonly now: () => number,
  ) {}

  private window(realmId: string): RealmWindow {
    let w = this.realms.get(realmId);
    if (!w) {
      w = { inFlight: 0, events: [], head: 0, used: 0, batches: [] };
      this.realms.set(realmId, w);
    }
    return w;
  }

  /** Admits a request of `cost` units; false means answer 429. An admitted request must be `release`d. */
  admit(realmId: string, cost: number, batch = false): boolean {
    const w = this.window(realmId);
    if (this.limits === false) {
      w.inFlight++;
      return true;
    }
    const now = this.now();
    const windowMs = this.limits.windowMs ?? 60_000;
    while (w.head < w.events.length) {
      const e = w.events[w.head];
      if (!e || e.at > now - windowMs) break;
      w.used -= e.cost;
      w.head++;
    }
    if (w.head > 1024 && w.head * 2 > w.events.length) {
      w.events = w.events.slice(w.head);
      w.head = 0;
    }
    while (w.batches.length > 0 && (w.batches[0] ?? 0) <= now - windowMs) w.batches.shift();
    if (w.inFlight >= this.limits.maxInFlight) return false;
    if (w.used + cost > this.limits.perMinute) return false;
    if (batch && w.batches.length >= (this.limits.batchesPerMinute ?? 40)) return false;
    if (batch) w.batches.push(now);
    w.inFlight++;
    w.used += cost;
    w.events.push({ at: now, cost });
    return true;
  }

  release(realmId: string): void {
    const w = this.window(realmId);
    w.inFlight = Math.max(0, w.inFlight - 1);
  }
}
