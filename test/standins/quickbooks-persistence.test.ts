import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startQuickBooksStandIn } from '../../standins/quickbooks/index.js';
import { DEMO_REALM, idOf, makeApi, tokenRequest } from './quickbooks-helpers.js';

describe('QuickBooks stand-in: statePath persistence', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qbo-standin-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps companies, entities, tokens and requestid replays across a restart', async () => {
    // Prepare: a first run creates things and rotates tokens.
    const statePath = join(dir, 'state', 'quickbooks.json');
    const first = await startQuickBooksStandIn({ statePath });
    const grant = await tokenRequest(first, {
      grant_type: 'refresh_token',
      refresh_token: first.issueRefreshToken(DEMO_REALM),
    });
    const api1 = makeApi(first, DEMO_REALM, grant.json.access_token);
    const created = await api1.post('/customer', { DisplayName: 'Persisted Member' });
    const deposit = {
      DepositToAccountRef: { value: idOf(first, DEMO_REALM, 'Account', 'Checking') },
      TxnDate: '2025-02-03',
      Line: [
        {
          Amount: 9.99,
          DetailType: 'DepositLineDetail',
          DepositLineDetail: { AccountRef: { value: idOf(first, DEMO_REALM, 'Account', 'Sales') } },
        },
      ],
    };
    const posted = await api1.post('/deposit', deposit, { requestid: 'persist-1' });
    first.setCompany(DEMO_REALM, { closedBefore: '2024-01-01' });
    await first.close();

    // Act: a second run on the same file.
    const second = await startQuickBooksStandIn({ statePath });
    try {
      const api2 = makeApi(second, DEMO_REALM, grant.json.access_token);
      const customer = await api2.get(`/customer/${created.json.Customer.Id}`);
      const replay = await api2.post('/deposit', deposit, { requestid: 'persist-1' });
      const refreshed = await tokenRequest(second, {
        grant_type: 'refresh_token',
        refresh_token: grant.json.refresh_token,
      });
      const another = await api2.post('/customer', { DisplayName: 'After Restart' });
      const prefs = await api2.get('/preferences');

      // Assess
      expect(customer.status).toBe(200);
      expect(customer.json.Customer.DisplayName).toBe('Persisted Member');
      expect(replay.text).toBe(posted.text);
      expect(second.entities(DEMO_REALM, 'Deposit')).toHaveLength(1);
      expect(refreshed.status).toBe(200);
      expect(Number(another.json.Customer.Id)).toBeGreaterThan(Number(posted.json.Deposit.Id));
      expect(prefs.json.Preferences.AccountingInfoPrefs.BookCloseDate).toBe('2023-12-31');
    } finally {
      await second.close();
    }
  });

  it('refuses a state file that is not one, naming it', async () => {
    const statePath = join(dir, 'broken.json');
    writeFileSync(statePath, '{"version":2}');
    await expect(startQuickBooksStandIn({ statePath })).rejects.toThrow(/broken\.json/);
  });
});
