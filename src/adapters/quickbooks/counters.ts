/** Counts of the calls made to QuickBooks, per realm (the benchmark and tests read them). */

/** Calls made to QuickBooks for one realm (the benchmark reports them). */
export interface QboRealmCalls {
  /** HTTP requests to the API, retries included. */
  requests: number;
  batchRequests: number;
  batchItems: number;
  /** Request units (a batch of n items counts n). */
  units: number;
  /** Requests that were attempts after a failure. */
  retries: number;
  /** 429 / 3001 answers. */
  throttled: number;
  /** Calls to the token endpoint that refreshed the access token. */
  tokenRefreshes: number;
}

const emptyCalls = (): QboRealmCalls => ({
  requests: 0,
  batchRequests: 0,
  batchItems: 0,
  units: 0,
  retries: 0,
  throttled: 0,
  tokenRefreshes: 0,
});

export class QboCallCounters {
  private readonly byRealm = new Map<string, QboRealmCalls>();
  /** Token refreshes already made at the last `reset()`. */
  private readonly refreshBaseline = new Map<string, number>();
  constructor(private readonly refreshes: (realmId: string) => number) {}

  /** @internal The live counters of a realm, updated by its client. */
  mutable(realmId: string): QboRealmCalls {
    let calls = this.byRealm.get(realmId);
    if (!calls) {
      calls = emptyCalls();
      this.byRealm.set(realmId, calls);
    }
    return calls;
  }

  forRealm(realmId: string): QboRealmCalls {
    const tokenRefreshes = this.refreshes(realmId) - (this.refreshBaseline.get(realmId) ?? 0);
    return { ...(this.byRealm.get(realmId) ?? emptyCalls()), tokenRefreshes };
  }

  realms(): string[] {
    return [...this.byRealm.keys()];
  }

  total(): QboRealmCalls {
    const sum = emptyCalls();
    for (const realm of this.byRealm.keys()) {
      const c = this.forRealm(realm);
      for (const k of Object.keys(sum) as (keyof QboRealmCalls)[]) sum[k] += c[k];
    }
    return sum;
  }

  /** Zeroes every counter (the benchmark measures one run at a time). */
  reset(): void {
    for (const [realm, calls] of this.byRealm) {
      Object.assign(calls, emptyCalls());
      this.refreshBaseline.set(realm, this.refreshes(realm));
    }
  }
}
