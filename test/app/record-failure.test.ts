/**
 * What a queue message that could not be processed leaves in the ledger (for `dlq list`), on the real DynamoDB ledger:
 * the payout's row turns FAILED only while nothing was decided for the payout yet.
 */
import { randomBytes } from 'node:crypto';
import { awsClients } from '../../src/adapters/aws/clients.js';
import { DynamoLedger } from '../../src/adapters/aws/ledger.js';
import { provisionLocalResources } from '../../src/adapters/aws/provision.js';
import { messageLedgerKey, recordUnprocessedMessage } from '../../src/app/record-failure.js';
import type { LedgerStatus } from '../../src/domain/types.js';

let ledger: DynamoLedger;

beforeAll(async () => {
  const clients = awsClients();
  const resources = await provisionLocalResources(clients, {
    prefix: `recfail-${randomBytes(3).toString('hex')}`,
  });
  ledger = new DynamoLedger({ doc: clients.doc, tableName: resources.ledgerTable });
});

async function payoutIn(status: LedgerStatus): Promise<string> {
  const payoutId = `po_${status.toLowerCase()}${randomBytes(4).toString('hex')}`;
  const row = await ledger.ensure(payoutId, 'downtown-yoga', 'evt_first');
  if (status !== 'RECEIVED') await ledger.update(payoutId, row.version, { status, reason: `was ${status}` });
  return payoutId;
}

const failure = (messageId: string, payoutId: string) => ({
  messageId,
  partial: { payoutId, tenantId: 'downtown-yoga', eventId: 'evt_bad' },
  reason: 'the message body is not a payout message: eventType is missing',
  hint: 'fix the producer, then dlq replay',
});

it.each<LedgerStatus>(['RECEIVED', 'WAITING_FOR_RECONCILIATION', 'FAILED'])(
  'a payout still %s becomes FAILED with the message reason',
  async (status) => {
    // Prepare
    const payoutId = await payoutIn(status);

    // Act
    await recordUnprocessedMessage(ledger, failure('msg-1', payoutId));

    // Assess
    expect(await ledger.get(payoutId)).toMatchObject({
      status: 'FAILED',
      reason: expect.stringMatching(/not a payout/),
    });
  },
);

it.each<LedgerStatus>(['POSTING', 'POSTED', 'HELD', 'SKIPPED', 'REVERSED'])(
  'a payout %s keeps its row; the reason goes to the message row',
  async (status) => {
    // Prepare
    const payoutId = await payoutIn(status);
    const messageId = `msg-${randomBytes(4).toString('hex')}`;

    // Act
    await recordUnprocessedMessage(ledger, failure(messageId, payoutId));

    // Assess
    expect(await ledger.get(payoutId)).toMatchObject({ status, reason: `was ${status}` });
    expect(await ledger.get(messageLedgerKey(messageId))).toMatchObject({
      status: 'FAILED',
      reason: expect.stringMatching(/not a payout/),
    });
  },
);

it('a message naming no valid payout is recorded on its message row', async () => {
  // Act
  await recordUnprocessedMessage(ledger, {
    messageId: 'msg-garbage',
    partial: { payoutId: 'not a payout' },
    reason: 'the body is not JSON',
    hint: 'fix the producer',
  });

  // Assess
  expect(await ledger.get(messageLedgerKey('msg-garbage'))).toMatchObject({
    status: 'FAILED',
    tenantId: 'unknown',
  });
});
