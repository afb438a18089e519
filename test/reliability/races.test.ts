/**
 * Races between workers (CONTRACT §7): several messages for one payout processed at the same moment by different
 * workers — resyncs, a person's sync, Stripe events, a failure — in random mixes (fast-check). Losers of a race
 * are retried, as the queue would. Whatever the interleaving: one live entry for a paid payout, none for a failed
 * one. And work that outlasts an invocation continues in the next without creating a customer twice.
 */
import fc from 'fast-check';
import type { PayoutMessage, QuickBooksBooks } from '../../src/app/ports.js';
import { type SyncPayoutDeps, syncPayout } from '../../src/app/sync-payout.js';
import { generatePayout } from '../../standins/stripe/index.js';
import {
  CrashSwitch,
  crashingSyncDeps,
  duplicateCustomers,
  type Harness,
  liveEntries,
  postedProblems,
  purgeQueues,
  REALM,
  startHarness,
  tenantConfig,
} from './helpers.js';

let h: Harness;
let seed = 9900;
let seededDuplicates: Map<string, string[]>;

beforeAll(async () => {
  h = await startHarness('races');
  await h.addTenant(tenantConfig());
  seededDuplicates = duplicateCustomers(h.qbo, REALM);
});

afterAll(async () => {
  await h?.close();
});

function newPayout(newCount = 3, transactions = 8) {
  const generated = generatePayout({ seed: seed++, transactions, members: { existing: [], newCount } });
  h.addPayout(generated.payout, generated.transactions);
  return generated.payout;
}

/**
 * Runs every message at once; each loser is delivered again until it completes (at most 6 deliveries), as the queue
 * would: a redelivery comes after the visibility timeout, which the product makes grow, so it is modelled as a
 * growing, jittered wait (20, 40, 80 … 400 ms here). With a fixed 0–20 ms wait, three resyncs kept colliding on a
 * loaded machine until one ran out of deliveries: a test artefact, not a lost payout.
 */
async function race(messages: PayoutMessage[]): Promise<void> {
  await Promise.all(
    messages.map(async (message) => {
      for (let receiveCount = 1; ; receiveCount++) {
        try {
          await syncPayout(h.runtime.syncDeps(), {
            message,
            receiveCount,
            maxReceiveCount: 10,
          });
          return;
        } catch (error) {
          if (receiveCount >= 6) throw error;
          const waitMs = Math.min(400, 10 * 2 ** receiveCount);
          await new Promise((r) => setTimeout(r, waitMs / 2 + Math.random() * (waitMs / 2)));
        }
      }
    }),
  );
}

const kinds = ['payout.paid', 'payout.reconciliation_completed', 'sync', 'resync'] as const;

it('random mixes of resyncs, syncs and Stripe events at once on a posted payout: always one live entry', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...kinds), { minLength: 2, maxLength: 6 }), async (mix) => {
      // Prepare
      const payout = newPayout();
      await race([h.message(payout.id)]);

      // Act
      await race(mix.map((type) => h.message(payout.id, type)));

      // Assess
      const row = await h.runtime.ledger.get(payout.id);
      expect(postedProblems(h.qbo, REALM, payout.id, row)).toEqual([]);
      if (mix.includes('resync')) expect(row?.generation).toBeGreaterThanOrEqual(1);
    }),
    { numRuns: 12, seed: 42 },
  );
  expect(duplicateCustomers(h.qbo, REALM)).toEqual(seededDuplicates);
});

it('a failure racing resyncs and Stripe events (first post included): REVERSED or SKIPPED, nothing live', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.boolean(),
      fc.array(fc.constantFrom(...kinds, 'payout.failed'), { minLength: 1, maxLength: 5 }),
      async (postedFirst, mix) => {
        // Prepare: posted or not yet; Stripe now says failed; the failure event is among the racers
        const payout = newPayout();
        if (postedFirst) await race([h.message(payout.id)]);
        h.stripe.updatePayout('platform', payout.id, { status: 'failed', failure_code: 'account_frozen' });

        // Act
        await race([h.message(payout.id, 'payout.failed'), ...mix.map((type) => h.message(payout.id, type))]);

        // Assess
        const row = await h.runtime.ledger.get(payout.id);
        expect(row?.status).toBe(postedFirst ? 'REVERSED' : 'SKIPPED');
        expect(liveEntries(h.qbo, REALM, payout.id)).toHaveLength(0);
      },
    ),
    { numRuns: 12, seed: 43 },
  );
});

describe('work that outlasts an invocation', () => {
  beforeEach(async () => {
    await purgeQueues(h.runtime);
  });

  /** `syncPayout` deps whose invocation runs out of time once `createCustomers` has been called `after` times. */
  function outOfTimeAfter(after: number, base: SyncPayoutDeps = h.runtime.syncDeps()): SyncPayoutDeps {
    let creates = 0;
    return {
      ...base,
      quickbooks: (realmId, ctx) => {
        const books = base.quickbooks(realmId, ctx);
        const counted: QuickBooksBooks = Object.create(books) as QuickBooksBooks;
        counted.createCustomers = async (members) => {
          creates += 1;
          return books.createCustomers(members);
        };
        return counted;
      },
      isOutOfTime: () => creates >= after,
    };
  }

  it('continues in the next invocation (a `continue` message), creating each customer once', async () => {
    // Prepare: 100 new members → 4 create batches; time runs out after the first
    const payout = newPayout(100, 160);

    // Act
    const first = await syncPayout(outOfTimeAfter(1), { message: h.message(payout.id) });
    const queued = await h.takeQueue();
    const continued = queued[0];
    if (continued === undefined) throw new Error('no continue message');
    const second = await syncPayout(h.runtime.syncDeps(), { message: continued });

    // Assess
    expect(first.outcome).toBe('continued');
    expect(first.status).toBe('POSTING');
    expect(queued).toEqual([expect.objectContaining({ eventType: 'continue', payoutId: payout.id })]);
    expect(second.outcome).toBe('posted');
    expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
    expect(duplicateCustomers(h.qbo, REALM)).toEqual(seededDuplicates);
  });

  it('a crash right after the `continue` message was queued, then both messages delivered: one entry', async () => {
    // Prepare
    const payout = newPayout(60, 100);
    const message = h.message(payout.id);
    const sw = new CrashSwitch((call) => call.name === 'queue.enqueue');

    // Act: out of time → `continue` queued → the process dies before anything else
    const crashed = await syncPayout(crashingSyncDeps(outOfTimeAfter(1), sw), { message }).then(
      () => 'completed',
      (e: unknown) => String(e),
    );
    const [continued] = await h.takeQueue();
    if (continued === undefined) throw new Error('no continue message');
    await race([message, continued]);

    // Assess
    expect(crashed).toMatch(/SimulatedCrash|crashed/);
    expect(postedProblems(h.qbo, REALM, payout.id, await h.runtime.ledger.get(payout.id))).toEqual([]);
    expect(duplicateCustomers(h.qbo, REALM)).toEqual(seededDuplicates);
  });
});
