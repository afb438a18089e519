// The FIFO payout queue and the DLQ tools, against fauxqs.
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { AwsResourceNames } from '../../src/adapters/aws/provision.js';
import {
  moveDlqMessages,
  parsePayoutMessage,
  receiveDlq,
  SqsPayoutQueue,
} from '../../src/adapters/aws/queue.js';
import type { PayoutMessage } from '../../src/app/ports.js';
import { provisioned } from './aws-test-helpers.js';

const msg = (eventId: string, payoutId: string, tenantId = 'studio-a'): PayoutMessage => ({
  eventId,
  eventType: 'payout.paid',
  tenantId,
  stripeAccount: 'acct_1Test',
  payoutId,
  receivedAt: '2026-11-01T00:00:00.000Z',
});

async function receive(
  clients: AwsClients,
  QueueUrl: string,
  VisibilityTimeout?: number,
): Promise<Message[]> {
  const { Messages = [] } = await clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      ...(VisibilityTimeout !== undefined ? { VisibilityTimeout } : {}),
    }),
  );
  return Messages;
}

async function depth(clients: AwsClients, QueueUrl: string): Promise<number> {
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

describe('SqsPayoutQueue', () => {
  let clients: AwsClients;
  let res: AwsResourceNames;
  beforeAll(async () => {
    ({ clients, res } = await provisioned('queue'));
  });

  it('enqueues FIFO messages grouped by tenant, deduplicated by event id', async () => {
    // Act
    const queue = new SqsPayoutQueue({ sqs: clients.sqs, queueUrl: res.queueUrl });
    await queue.enqueue(msg('evt_1', 'po_1'));
    await queue.enqueue(msg('evt_1', 'po_1'));
    await queue.enqueue(msg('evt_2', 'po_2'));

    // Assess
    expect(await depth(clients, res.queueUrl)).toBe(2);
    const [first] = await receive(clients, res.queueUrl);
    expect(first?.Attributes?.MessageGroupId).toBe('studio-a');
    expect(first?.Attributes?.MessageDeduplicationId).toBe('evt_1');
    expect(parsePayoutMessage(first?.Body ?? '')).toEqual(msg('evt_1', 'po_1'));
  });

  it('refuses a malformed message before sending it', async () => {
    const queue = new SqsPayoutQueue({ sqs: clients.sqs, queueUrl: res.queueUrl });
    await expect(queue.enqueue({ ...msg('evt_x', 'po_x'), tenantId: '' })).rejects.toThrow(/tenantId/);
    expect(() => parsePayoutMessage('{"eventId":"e"}')).toThrow(/not a payout message/);
    expect(() => parsePayoutMessage('nope')).toThrow('queue message body is not JSON');
  });
});

describe('DLQ', () => {
  it('receives a message maxReceiveCount times, then it lands in the DLQ; replay brings it back', async () => {
    // Prepare
    const { clients, res } = await provisioned('redrive', { maxReceiveCount: 2 });
    const queue = new SqsPayoutQueue({ sqs: clients.sqs, queueUrl: res.queueUrl });
    await queue.enqueue(msg('evt_poison', 'po_poison'));

    // Act: two failed receives (visible again at once), the third finds it gone to the DLQ.
    expect(await receive(clients, res.queueUrl, 0)).toHaveLength(1);
    expect(await receive(clients, res.queueUrl, 0)).toHaveLength(1);
    expect(await receive(clients, res.queueUrl, 0)).toHaveLength(0);
    const inDlq = await receiveDlq({ sqs: clients.sqs, dlqUrl: res.dlqUrl, waitSeconds: 0 });

    // Assess
    expect(inDlq).toHaveLength(1);
    expect(inDlq[0]).toMatchObject({ groupId: 'studio-a', message: msg('evt_poison', 'po_poison') });
    expect(inDlq[0]?.receiveCount).toBeGreaterThanOrEqual(2);

    // Act: replay it (within the 5-minute dedup window of the original event id).
    const { moved, remaining } = await moveDlqMessages({
      sqs: clients.sqs,
      dlqUrl: res.dlqUrl,
      queueUrl: res.queueUrl,
      waitSeconds: 0,
    });

    // Assess
    expect(moved.map((m) => m.message?.payoutId)).toEqual(['po_poison']);
    expect(remaining).toEqual([]);
    expect(await depth(clients, res.dlqUrl)).toBe(0);
    const back = await receive(clients, res.queueUrl);
    expect(back.map((m) => parsePayoutMessage(m.Body ?? '').payoutId)).toEqual(['po_poison']);
    expect(back[0]?.Attributes?.MessageGroupId).toBe('studio-a');
  });

  it('lists every DLQ message, several per tenant group, without removing any, stably', async () => {
    // Prepare: three failed payouts of one tenant and one of another, straight into the DLQ.
    const { clients, res } = await provisioned('dlqlist');
    const dead = [msg('e1', 'po_a1'), msg('e2', 'po_a2'), msg('e3', 'po_b1', 'studio-b'), msg('e4', 'po_a3')];
    for (const m of dead) {
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: res.dlqUrl,
          MessageBody: JSON.stringify(m),
          MessageGroupId: m.tenantId,
          MessageDeduplicationId: m.eventId,
        }),
      );
      await new Promise((r) => setTimeout(r, 2)); // distinct send times
    }

    // Act
    const first = await receiveDlq({ sqs: clients.sqs, dlqUrl: res.dlqUrl, waitSeconds: 0 });
    const second = await receiveDlq({ sqs: clients.sqs, dlqUrl: res.dlqUrl, waitSeconds: 0 });

    // Assess
    expect(first.map((m) => m.message?.payoutId)).toEqual(['po_a1', 'po_a2', 'po_b1', 'po_a3']);
    expect(second.map((m) => [m.messageId, m.receiveCount, m.sentAt])).toEqual(
      first.map((m) => [m.messageId, m.receiveCount, m.sentAt]),
    );
    expect(await depth(clients, res.dlqUrl)).toBe(4);
    // Nothing is left in flight: a consumer can receive the group heads at once.
    expect(await receive(clients, res.dlqUrl)).toHaveLength(2);
  });

  it('moves back only the matching message, even behind another of its group, and keeps the rest', async () => {
    // Prepare
    const { clients, res } = await provisioned('dlqpick');
    for (const m of [msg('e1', 'po_1'), msg('e2', 'po_2'), msg('e3', 'po_3')]) {
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: res.dlqUrl,
          MessageBody: JSON.stringify(m),
          MessageGroupId: m.tenantId,
          MessageDeduplicationId: m.eventId,
        }),
      );
    }
    const before = await receiveDlq({ sqs: clients.sqs, dlqUrl: res.dlqUrl, waitSeconds: 0 });

    // Act
    const { moved, remaining } = await moveDlqMessages({
      sqs: clients.sqs,
      dlqUrl: res.dlqUrl,
      queueUrl: res.queueUrl,
      waitSeconds: 0,
      match: (m) => m.message?.payoutId === 'po_2',
    });

    // Assess
    expect(moved.map((m) => m.message?.payoutId)).toEqual(['po_2']);
    expect(moved[0]?.messageId).toBe(before[1]?.messageId);
    expect(remaining.map((m) => m.message?.payoutId)).toEqual(['po_1', 'po_3']);
    expect(
      (await receiveDlq({ sqs: clients.sqs, dlqUrl: res.dlqUrl, waitSeconds: 0 })).map((m) => m.messageId),
    ).toEqual([before[0]?.messageId, before[2]?.messageId]);
    const main = await receive(clients, res.queueUrl);
    expect(main.map((m) => parsePayoutMessage(m.Body ?? '').payoutId)).toEqual(['po_2']);
  });
});
