// The ledger's record of people's requests (`noteAction`) against dynalite-plus: appended without moving the row's
// version (the worker's conditional updates keep working), kept to the latest MAX_LEDGER_ACTIONS, ignored for an
// unknown payout.
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import { DynamoLedger } from '../../src/adapters/aws/ledger.js';
import type { AwsResourceNames } from '../../src/adapters/aws/provision.js';
import { type LedgerAction, MAX_LEDGER_ACTIONS } from '../../src/app/ports.js';
import { provisioned } from './aws-test-helpers.js';

let clients: AwsClients;
let res: AwsResourceNames;
let ledger: DynamoLedger;

beforeAll(async () => {
  ({ clients, res } = await provisioned('ledger-actions'));
  ledger = new DynamoLedger({ doc: clients.doc, tableName: res.ledgerTable });
});

const action = (n: number, by = 'sam@support.example'): LedgerAction => ({
  action: n % 2 === 0 ? 'sync' : 'preview',
  by,
  via: 'console',
  at: new Date(Date.UTC(2026, 10, 1, 0, 0, n)).toISOString(),
});

it('appends without touching the status, version or updatedAt, so the worker’s next update still applies', async () => {
  // Prepare
  const row = await ledger.ensure('po_noted', 'studio');
  // Act
  await ledger.noteAction('po_noted', action(1));
  await ledger.noteAction('po_noted', { ...action(2, 'root'), via: 'cli' });
  // Assess
  const noted = await ledger.get('po_noted');
  expect(noted?.actions).toEqual([action(1), { ...action(2, 'root'), via: 'cli' }]);
  expect(noted).toMatchObject({ status: 'RECEIVED', version: row.version, updatedAt: row.updatedAt });
  const posted = await ledger.update('po_noted', row.version, { status: 'POSTED' });
  expect(posted?.actions).toHaveLength(2);
});

it(`keeps the latest ${MAX_LEDGER_ACTIONS}, oldest first`, async () => {
  await ledger.ensure('po_busy', 'studio');
  for (let n = 0; n < MAX_LEDGER_ACTIONS + 3; n++) await ledger.noteAction('po_busy', action(n));
  const actions = (await ledger.get('po_busy'))?.actions ?? [];
  expect(actions).toHaveLength(MAX_LEDGER_ACTIONS);
  expect(actions[0]).toEqual(action(3));
  expect(actions.at(-1)).toEqual(action(MAX_LEDGER_ACTIONS + 2));
});

it('does not create a row for a payout the ledger does not know', async () => {
  await ledger.noteAction('po_unknown', action(1));
  expect(await ledger.get('po_unknown')).toBeUndefined();
});
