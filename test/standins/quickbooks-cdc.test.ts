/**
 * The stand-in's change data capture and its "edited by a person" switches (sources in standins/quickbooks/cdc.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoCompanySeed } from '../../standins/quickbooks/index.js';
import { type Connected, idOf, startConnected } from './quickbooks-helpers.js';

const DAY = 86_400_000;
const START = Date.parse('2026-11-20T12:00:00Z');

describe('QuickBooks stand-in: change data capture', () => {
  let c: Connected;
  let clock = START;
  let acct: (name: string) => string;

  beforeAll(async () => {
    c = await startConnected({
      companies: [demoCompanySeed()],
      now: () => clock,
      accessTokenTtlSeconds: 90 * 86_400,
      limits: false,
    });
    acct = (name) => idOf(c.qbo, c.realmId, 'Account', name);
  });
  afterAll(() => c.qbo.close());

  const deposit = (amount: number) => ({
    DepositToAccountRef: { value: acct('Checking') },
    TxnDate: '2026-11-18',
    PrivateNote: 'Stripe payout po_cdc',
    Line: [
      {
        Amount: amount,
        DetailType: 'DepositLineDetail',
        DepositLineDetail: { AccountRef: { value: acct('Class Pack Revenue') } },
      },
    ],
  });
  const cdc = (changedSince: string, entities = 'Deposit,JournalEntry') =>
    c.api.get('/cdc', { entities, changedSince });

  it('answers changed objects in full and deleted ones as status "Deleted", grouped by entity', async () => {
    // Prepare: three deposits; a person edits one and deletes another a day later.
    const made = [];
    for (const amount of [10, 20, 30])
      made.push((await c.api.post('/deposit', deposit(amount))).json.Deposit);
    const [kept, edited, gone] = made as { Id: string; Line: Record<string, unknown>[] }[];
    if (!kept || !edited || !gone) throw new Error('deposits not created');
    clock += DAY;
    const line = edited.Line[0] as { DepositLineDetail: Record<string, unknown> };
    const after = c.qbo.editAsPerson(c.realmId, 'Deposit', edited.Id, {
      Line: [
        { ...line, DepositLineDetail: { ...line.DepositLineDetail, AccountRef: { value: acct('Sales') } } },
      ],
      TxnDate: '2026-11-19',
    });
    c.qbo.deleteAsPerson(c.realmId, 'Deposit', gone.Id);

    // Act
    const all = await cdc(new Date(START - 1000).toISOString());
    const today = await cdc(new Date(START + DAY / 2).toISOString());

    // Assess
    expect(after).toMatchObject({ SyncToken: '1', TxnDate: '2026-11-19' });
    expect(all.status).toBe(200);
    const [group] = all.json.CDCResponse[0].QueryResponse;
    expect(group.Deposit.map((d: { Id: string }) => d.Id)).toEqual([kept.Id, edited.Id, gone.Id]);
    expect(group.Deposit[1]).toMatchObject({
      TxnDate: '2026-11-19',
      Line: [{ DepositLineDetail: { AccountRef: { value: acct('Sales') } } }],
    });
    expect(group.Deposit[2]).toEqual({
      status: 'Deleted',
      domain: 'QBO',
      Id: gone.Id,
      MetaData: { LastUpdatedTime: expect.stringMatching(/^2026-11-21T/) },
    });
    // Only what changed since the given moment: the edit and the deletion, not the untouched deposit.
    const [todays] = today.json.CDCResponse[0].QueryResponse;
    expect(todays.Deposit.map((d: { Id: string }) => d.Id)).toEqual([edited.Id, gone.Id]);
    expect(todays).toMatchObject({ startPosition: 1, maxResults: 2 });
    // A deleted deposit cannot be read any more.
    expect((await c.api.get(`/deposit/${gone.Id}`)).status).toBe(400);
  });

  it('answers [{}] when nothing changed, and refuses a look-back over 30 days or an unknown entity', async () => {
    const none = await cdc(new Date(clock + 1000).toISOString(), 'JournalEntry');
    expect(none.json.CDCResponse).toEqual([{ QueryResponse: [{}] }]);

    const old = await cdc(new Date(clock - 31 * DAY).toISOString());
    expect(old.status).toBe(400);
    expect(old.json.Fault.Error[0].Detail).toContain('at most 30 days');

    const bad = await cdc(new Date(clock - DAY).toISOString(), 'TaxRate');
    expect(bad.status).toBe(400);
    expect(bad.json.Fault.Error[0].Detail).toBe('Change data capture does not support TaxRate');

    const missing = await c.api.get('/cdc', { entities: 'Deposit' });
    expect(missing.status).toBe(400);
  });

  it('returns at most 1,000 objects in one answer', async () => {
    const since = new Date(clock).toISOString();
    clock += 1000;
    const many = Array.from({ length: 1005 }, (_, i) => ({
      bId: String(i),
      operation: 'create',
      Deposit: deposit(1 + (i % 7)),
    }));
    for (let i = 0; i < many.length; i += 30) {
      const res = await c.api.post('/batch', { BatchItemRequest: many.slice(i, i + 30) });
      expect(res.status).toBe(200);
    }
    const res = await cdc(since, 'Deposit');
    expect(res.json.CDCResponse[0].QueryResponse[0].Deposit).toHaveLength(1000);
  });

  it('keeps deletions across a restart of a persisted stand-in', async () => {
    // Prepare: a deposit made and deleted by a person in a stand-in that keeps its state in a file.
    const dir = mkdtempSync(join(tmpdir(), 'qbo-cdc-'));
    const statePath = join(dir, 'quickbooks.json');
    try {
      const first = await startConnected({ statePath, now: () => clock });
      const made = (await first.api.post('/deposit', deposit(5))).json.Deposit as { Id: string };
      first.qbo.deleteAsPerson(first.realmId, 'Deposit', made.Id);
      await first.qbo.close();

      // Act: a second run on the same file.
      const again = await startConnected({ statePath, now: () => clock });
      try {
        const res = await again.api.get('/cdc', {
          entities: 'Deposit',
          changedSince: new Date(clock - 1000).toISOString(),
        });
        // Assess
        expect(res.json.CDCResponse[0].QueryResponse[0].Deposit).toEqual([
          expect.objectContaining({ Id: made.Id, status: 'Deleted' }),
        ]);
      } finally {
        await again.qbo.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
