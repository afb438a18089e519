/**
 * A customer QuickBooks refuses to create for a reason other than a duplicate name does not hold the payout
 * (CONTRACT §5): the member's lines go to the walk-in customer, the payout is POSTED once, and the ledger lists the
 * member (email masked) with QuickBooks' words.
 */
import { syncPayout } from '../../src/app/sync-payout.js';
import { generatePayout } from '../../standins/stripe/index.js';
import { type Harness, postedProblems, REALM, startHarness, tenantConfig } from './helpers.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('custrefused');
  await h.addTenant(tenantConfig());
});

afterAll(async () => {
  await h?.close();
});

it('one member refused (6000, lower-case batch item fault): POSTED, its lines on Walk-in, the ledger lists it', async () => {
  // Prepare: one new member; QuickBooks refuses its creation
  const generated = generatePayout({ seed: 12_001, transactions: 4, members: { existing: [], newCount: 1 } });
  h.addPayout(generated.payout, generated.transactions, 'platform');
  h.qbo.injectFault({
    status: 200,
    path: /\/batch\?.*requestid=/,
    body: JSON.stringify({
      BatchItemResponse: [
        {
          bId: '0',
          fault: {
            error: [{ message: 'Invalid Email Address', detail: null, code: '6000', element: null }],
            type: 'ValidationFault',
          },
        },
      ],
    }),
  });

  // Act
  const result = await syncPayout(h.runtime.syncDeps(), { message: h.message(generated.payout.id) });

  // Assess
  const row = await h.runtime.ledger.get(generated.payout.id);
  expect(result.status).toBe('POSTED');
  expect(postedProblems(h.qbo, REALM, generated.payout.id, row)).toEqual([]);
  expect(row?.reason).toMatch(
    /1 member without a QuickBooks customer, their lines on the walk-in customer Walk-in/,
  );
  expect(row?.reason).toMatch(/6000 Invalid Email Address/);
  expect(row?.reason).toMatch(/\w\*\*\*@/); // the email masked
  expect(row?.reason).not.toMatch(/[\w.-]{2}@/); // never in full
  const walkIn = h.qbo.entities(REALM, 'Customer').find((c) => c.DisplayName === 'Walk-in');
  const deposit = h.qbo.entities(REALM, 'Deposit').find((d) => String(d.Id) === row?.quickbooks?.id);
  const entities = ((deposit?.Line ?? []) as { DepositLineDetail?: { Entity?: { value?: string } } }[])
    .map((l) => l.DepositLineDetail?.Entity?.value)
    .filter((v) => v !== undefined);
  expect(entities.length).toBeGreaterThan(0);
  expect(new Set(entities)).toEqual(new Set([String(walkIn?.Id)]));
});
