/**
 * Poison input on the queue (CONTRACT §7 "no payout lost", §8 `dlq list`): bodies that are not JSON or not a payout
 * message go to the DLQ with their reason recorded, without burning retries and without holding up the other
 * messages of their batch — of their own tenant or another.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { listDeadLetters } from '../../src/app/dead-letters.js';
import { messageLedgerKey } from '../../src/app/record-failure.js';
import { syncPayout } from '../../src/app/sync-payout.js';
import { generatePayout } from '../../standins/stripe/index.js';
import {
  deadLetterQueue,
  drainQueue,
  type Harness,
  OTHER_REALM,
  postedProblems,
  purgeQueues,
  REALM,
  startHarness,
  tenantConfig,
} from './helpers.js';

let h: Harness;
let seed = 9700;
const OTHER = 'acct_1PoisonOtherStudio';

beforeAll(async () => {
  h = await startHarness('poison', { maxReceiveCount: 2, companies: [REALM, OTHER_REALM] });
  await h.addTenant(tenantConfig());
  await h.addTenant(
    tenantConfig({ id: 'other-studio', stripeAccount: OTHER, quickbooks: { realmId: OTHER_REALM } }),
  );
});

afterAll(async () => {
  await h?.close();
});

beforeEach(async () => {
  await purgeQueues(h.runtime);
});

function newPayout(account = 'platform') {
  const generated = generatePayout({ seed: seed++, transactions: 6, account });
  h.addPayout(generated.payout, generated.transactions, account);
  return generated.payout;
}

async function send(body: string, groupId: string) {
  const { MessageId } = await h.runtime.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: h.runtime.resources.queueUrl,
      MessageBody: body,
      MessageGroupId: groupId,
      MessageDeduplicationId: `${Date.now()}-${Math.random().toString(36).slice(2)}`,
    }),
  );
  return MessageId ?? '';
}

it('malformed messages go to the DLQ with their reason; every valid message of the batch is processed', async () => {
  // Prepare: poison first in its group, valid messages after it and in another group
  const posted = newPayout();
  await syncPayout(h.runtime.syncDeps(), { message: h.message(posted.id) });
  const mine = [newPayout(), newPayout()];
  const theirs = newPayout(OTHER);
  const notJson = await send('{"eventId": "evt_1", oops', 'downtown-yoga');
  const notSchema = await send(
    JSON.stringify({ eventId: 'evt_2', eventType: 'charge.succeeded', hello: 'world' }),
    'downtown-yoga',
  );
  const wrongTypes = await send(
    JSON.stringify({ ...h.message(posted.id), tenantId: 42, receivedAt: 'yesterday' }),
    'downtown-yoga',
  );
  const arrayBody = await send('[1,2,3]', 'other-studio');
  for (const p of mine) await h.runtime.queue.enqueue(h.message(p.id));
  await h.runtime.queue.enqueue(h.message(theirs.id, 'payout.paid', 'other-studio', OTHER));
  const handler = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(h.runtime));

  // Act
  const drained = await drainQueue(h, handler);
  const letters = await listDeadLetters({ dlq: deadLetterQueue(h.runtime), ledger: h.runtime.ledger });

  // Assess: nothing retried, the valid ones posted
  expect(drained).toMatchObject({ processed: 7, failures: 0 });
  for (const p of mine)
    expect(postedProblems(h.qbo, REALM, p.id, await h.runtime.ledger.get(p.id))).toEqual([]);
  expect(postedProblems(h.qbo, OTHER_REALM, theirs.id, await h.runtime.ledger.get(theirs.id))).toEqual([]);
  // … the already-posted payout named by a corrupted message stays POSTED
  expect((await h.runtime.ledger.get(posted.id))?.status).toBe('POSTED');
  // … and each poison message is in the DLQ with its reason
  const byId = new Map(letters.map((l) => [l.messageId, l]));
  expect([...byId.keys()].sort()).toEqual([notJson, notSchema, wrongTypes, arrayBody].sort());
  expect(byId.get(notJson)?.reason).toMatch(/not JSON/);
  expect(byId.get(notSchema)?.reason).toMatch(/not a payout message.*eventType/);
  expect(byId.get(wrongTypes)?.reason).toMatch(/tenantId|receivedAt/);
  expect(byId.get(arrayBody)?.reason).toMatch(/not a payout message/);
  const row = await h.runtime.ledger.get(messageLedgerKey(notJson));
  expect(row).toMatchObject({ status: 'FAILED', attempts: 1 });
  expect(row?.hint).toMatch(/can never be processed/);
});

it('without the immediate DLQ move, a poison message still ends in the DLQ and its tenant’s messages go on', async () => {
  // Prepare
  const payouts = [newPayout(), newPayout()];
  const poison = await send('definitely not json', 'downtown-yoga');
  for (const p of payouts) await h.runtime.queue.enqueue(h.message(p.id));
  const { deadLetter: _immediate, ...deps } = depositBuilderDepsFromRuntime(h.runtime);
  const handler = makeDepositBuilderHandler(deps);

  // Act
  const drained = await drainQueue(h, handler);
  const letters = await listDeadLetters({ dlq: deadLetterQueue(h.runtime), ledger: h.runtime.ledger });

  // Assess
  expect(drained.failures).toBeGreaterThan(0);
  for (const p of payouts)
    expect(postedProblems(h.qbo, REALM, p.id, await h.runtime.ledger.get(p.id))).toEqual([]);
  expect(letters.map((l) => l.messageId)).toEqual([poison]);
  expect(letters[0]?.reason).toMatch(/not JSON/);
});
