import { QboTransientError } from '../../src/adapters/quickbooks/faults.js';
import {
  backgroundShare,
  type LimiterClock,
  RateLimiter,
  SharedAdmission,
  WINDOW_MARGIN_MS,
} from '../../src/adapters/quickbooks/limiter.js';

/** A manual clock: time only moves when the test says so. */
class FakeClock implements LimiterClock {
  time = 0;
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  now(): number {
    return this.time;
  }
  schedule(fn: () => void, delayMs: number): () => void {
    const timer = { at: this.time + delayMs, fn, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }
  /** Advances to `to`, firing due timers in order. */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.time = Math.max(this.time, due.at);
      due.cancelled = true;
      due.fn();
      await flush();
    }
    this.time = to;
    await flush();
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('RateLimiter', () => {
  it('never has more than maxInFlight requests running at once', async () => {
    // Prepare
    const clock = new FakeClock();
    const limiter = new RateLimiter({ maxInFlight: 10, perMinute: 1000, clock });
    let running = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const task = () =>
      limiter.run(1, async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running -= 1;
      });

    // Act
    const all = Array.from({ length: 35 }, task);
    await flush();
    const startedAtOnce = running;
    while (gates.length > 0) {
      gates.shift()?.();
      await flush();
    }
    await Promise.all(all);

    // Assess
    expect(startedAtOnce).toBe(10);
    expect(peak).toBe(10);
    expect(limiter.stats()).toMatchObject({ peakInFlight: 10, started: 35, inFlight: 0, queued: 0 });
    expect(limiter.stats().waited).toBe(25);
  });

  it('starts at most perMinute units in any rolling 60 s window, counting a batch as its items', async () => {
    // Prepare
    const clock = new FakeClock();
    const limiter = new RateLimiter({ maxInFlight: 100, perMinute: 100, marginMs: 0, clock });
    const starts: Array<{ at: number; units: number }> = [];
    const units = [40, 40, 40, 40, 10, 30];

    // Act
    const all = units.map((u) => limiter.run(u, async () => void starts.push({ at: clock.now(), units: u })));
    await flush();
    const startedAtZero = starts.length;
    await clock.advanceTo(59_999);
    const startedBeforeAMinute = starts.length;
    await clock.advanceTo(60_000);
    await clock.advanceTo(120_000);
    await Promise.all(all);

    // Assess: 40+40 fit at t=0; the third batch waits until they leave the window (FIFO keeps the rest behind
    // it); at 60 s 40+40+10 start, and the last 30 would make 120, so it waits for the next minute.
    expect(startedAtZero).toBe(2);
    expect(startedBeforeAMinute).toBe(2);
    expect(starts.map((s) => s.at)).toEqual([0, 0, 60_000, 60_000, 60_000, 120_000]);
    for (const s of starts) {
      const inWindow = starts
        .filter((o) => o.at > s.at - 60_000 && o.at <= s.at)
        .reduce((n, o) => n + o.units, 0);
      expect(inWindow).toBeLessThanOrEqual(100);
    }
    expect(limiter.stats().peakUnitsInWindow).toBeLessThanOrEqual(100);
  });

  it('keeps a steady stream within the limit (500 a minute, 10 in flight) over several minutes', async () => {
    // Prepare
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock });
    const starts: number[] = [];

    // Act: 1,600 single requests of 200 ms each
    const all = Array.from({ length: 1600 }, () =>
      limiter.run(1, async () => {
        starts.push(clock.now());
        await new Promise<void>((resolve) => clock.schedule(resolve, 200));
      }),
    );
    for (let t = 0; t <= 5 * 60_000; t += 100) await clock.advanceTo(t);
    await Promise.all(all);

    // Assess
    expect(starts).toHaveLength(1600);
    let i = 0;
    for (let j = 0; j < starts.length; j++) {
      while ((starts[i] as number) <= (starts[j] as number) - 60_000) i++;
      expect(j - i + 1).toBeLessThanOrEqual(500);
    }
    expect(limiter.stats().peakInFlight).toBeLessThanOrEqual(10);
    expect(limiter.stats().peakUnitsInWindow).toBe(500);
    // The 1,600th request cannot start before 3 full windows have passed.
    expect(starts[1599]).toBeGreaterThanOrEqual(180_000);
  });

  it('gives up with a transient error when no slot frees before the deadline', async () => {
    // Prepare
    const clock = new FakeClock();
    const limiter = new RateLimiter({ maxInFlight: 10, perMinute: 5, clock });
    for (let i = 0; i < 5; i++) await limiter.run(1, async () => undefined);

    // Act
    const late = limiter.acquire(1, { giveUpAt: 10_000 });
    const outcome = late.then(
      () => 'started',
      (e: unknown) => e,
    );
    await clock.advanceTo(10_000);

    // Assess
    expect(await outcome).toBeInstanceOf(QboTransientError);
    expect(limiter.stats().queued).toBe(0);
  });

  it('charges a request larger than the window the whole window instead of blocking forever', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perMinute: 20, clock });
    await expect(limiter.run(30, async () => 'ran')).resolves.toBe('ran');
  });
});

describe('RateLimiter: Intuit batch and throttle limits', () => {
  it('starts at most 40 batch requests a minute, besides the units; single calls pass meanwhile', async () => {
    // Prepare: units are plentiful, so only the batch limit can hold a batch back
    const clock = new FakeClock();
    const limiter = new RateLimiter({ maxInFlight: 100, perMinute: 10_000, marginMs: 0, clock });
    const started: number[] = [];
    const batch = () =>
      limiter.acquire(2, { batch: true }).then((release) => {
        started.push(clock.now());
        release();
      });

    // Act
    const batches = Array.from({ length: 45 }, batch);
    await flush();
    const inFirstMinute = started.length;
    const single = await limiter.acquire(1).then((release) => {
      release();
      return clock.now();
    });
    await clock.advanceTo(60_000);
    await Promise.all(batches);

    // Assess
    expect(inFirstMinute).toBe(40);
    expect(single).toBe(0);
    expect(started.slice(40)).toEqual([60_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('counts each start for the window plus a margin, so a start one window after a slow-arriving one is not early', async () => {
    // Prepare: the defaults (60 s window, 2 s margin), 2 batch requests a minute
    const clock = new FakeClock();
    const limiter = new RateLimiter({ maxInFlight: 10, perMinute: 500, batchesPerMinute: 2, clock });
    const started: number[] = [];
    const batch = () =>
      limiter.acquire(30, { batch: true }).then((release) => {
        started.push(clock.now());
        release();
      });

    // Act
    const all = [batch(), batch(), batch()];
    await flush();
    await clock.advanceTo(60_000);
    const atOneMinute = started.length;
    await clock.advanceTo(60_000 + WINDOW_MARGIN_MS);
    await Promise.all(all);

    // Assess: QuickBooks counts the first batch from its arrival, a little after its start; the third waits the margin
    expect(WINDOW_MARGIN_MS).toBe(2_000);
    expect(atOneMinute).toBe(2);
    expect(started).toEqual([0, 0, 60_000 + WINDOW_MARGIN_MS]);
  });

  it('after pause(t) nothing starts before t, then everything waiting starts in order', async () => {
    // Prepare
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock });
    const order: string[] = [];
    limiter.pause(60_000);

    // Act
    const a = limiter.acquire(1).then((r) => {
      order.push(`a@${clock.now()}`);
      r();
    });
    const b = limiter.acquire(30, { batch: true }).then((r) => {
      order.push(`b@${clock.now()}`);
      r();
    });
    await clock.advanceTo(59_999);
    const beforeEnd = [...order];
    await clock.advanceTo(60_000);
    await Promise.all([a, b]);

    // Assess
    expect(beforeEnd).toEqual([]);
    expect(order).toEqual(['a@60000', 'b@60000']);
    expect(limiter.pausedUntilMs()).toBe(0);
  });

  it('a waiter whose deadline falls inside the pause gives up with a TransientError at its deadline', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.pause(60_000);
    const waiting = limiter.acquire(1, { giveUpAt: 10_000 }).then(
      () => 'started',
      (e: unknown) => e,
    );
    await clock.advanceTo(10_000);
    expect(await waiting).toBeInstanceOf(QboTransientError);
  });
});

describe('background work’s share', () => {
  it('keeps a fifth of the units and 4 of the 10 slots free for a payout posted meanwhile', async () => {
    // Prepare: the realm's limiter (500 a minute, 10 in flight) and background work's share of it.
    const clock = new FakeClock();
    const realm = new RateLimiter({ perMinute: 500, maxInFlight: 10, clock });
    const share = new RateLimiter({ ...backgroundShare({ perMinute: 500, maxInFlight: 10 }), clock });
    const background = new SharedAdmission(share, realm);
    expect([share.perWindow, share.maxInFlight]).toEqual([400, 6]);

    // Act: background batches of 30 units, as many as will start; then a payout's single request.
    const inFlight: (() => void)[] = [];
    let startedCount = 0;
    for (let i = 0; i < 20; i++)
      void background.acquire(30).then((release) => {
        startedCount++;
        inFlight.push(release);
      });
    await flush();
    const entry = await Promise.race([realm.acquire(1), clock.advanceTo(0).then(() => undefined)]);

    // Assess: 6 background requests in flight (of 10), the payout's request started at once.
    expect(startedCount).toBe(6);
    expect(entry).toBeInstanceOf(Function);
    // As they finish, the background work goes on up to 400 units within the minute (13 batches), no further.
    for (let round = 0; round < 6; round++) {
      for (const release of inFlight.splice(0)) release();
      await flush();
    }
    expect(startedCount).toBe(13);
    expect(share.stats().unitsInWindow).toBe(390);
    expect(realm.stats().unitsInWindow).toBe(391);
    // A minute (and the margin) later the next ones start.
    await clock.advanceTo(60_000 + WINDOW_MARGIN_MS + 1);
    expect(startedCount).toBeGreaterThan(13);
  });
});
