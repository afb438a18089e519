/**
 * Every error form QuickBooks sends (CONTRACT §7), from bodies real companies returned
 * (test/fixtures/quickbooks-error-bodies.ts): the client reads the code in each, and the hint follows the code.
 * Writes: a fault is a definite refusal (the intent may go); a 2xx whose body cannot be read is "written, id
 * unknown" (the intent stays).
 */
import { QuickBooksClientFactory } from '../../src/adapters/quickbooks/client.js';
import { QboTransientError, QboValidationFault } from '../../src/adapters/quickbooks/faults.js';
import {
  isRefusedWrite,
  PermanentError,
  ReconnectRequiredError,
  WrittenIdUnknownError,
} from '../../src/app/errors.js';
import type { TokenStore } from '../../src/app/ports.js';
import type { QboEntry } from '../../src/domain/types.js';
import { type QuickBooksStandIn, startQuickBooksStandIn } from '../../standins/quickbooks/index.js';
import {
  batchWithNullFaults,
  type ErrorMeaning,
  QUICKBOOKS_ERROR_BODIES,
} from '../fixtures/quickbooks-error-bodies.js';
import { FAST_RETRY, REALM, seedTokens, tokenStoreForTest } from './quickbooks-helpers.js';

let qbo: QuickBooksStandIn;
let store: TokenStore;
let factory: QuickBooksClientFactory;

beforeAll(async () => {
  qbo = await startQuickBooksStandIn();
  ({ store } = await tokenStoreForTest('errforms'));
  await seedTokens(store, qbo, REALM);
  factory = new QuickBooksClientFactory({
    tokens: store,
    clientId: qbo.clientId,
    clientSecret: qbo.clientSecret,
    apiBase: qbo.url,
    tokenUrl: qbo.tokenUrl,
    retry: { ...FAST_RETRY, maxAttempts: 1 },
    throttlePauseMs: 20,
    limits: { maxInFlight: 10, perMinute: 500 },
  });
});

afterAll(async () => {
  await qbo?.close();
});

const accountId = (name: string) => String(qbo.entities(REALM, 'Account').find((a) => a.Name === name)?.Id);

function deposit(note: string): QboEntry {
  return {
    type: 'Deposit',
    body: {
      DepositToAccountRef: { value: accountId('Checking') },
      TxnDate: '2024-05-01',
      PrivateNote: note,
      Line: [
        {
          Amount: 10,
          DetailType: 'DepositLineDetail',
          DepositLineDetail: { AccountRef: { value: accountId('Sales') } },
        },
      ],
    },
  };
}

const HINTS: Record<ErrorMeaning, RegExp> = {
  reconnect: /reconnect QuickBooks.*connect --tenant/i,
  'closed-books': /period is closed/i,
  'duplicate-name': /already uses this name/i,
  gone: /gone from QuickBooks/i,
  throttled: /./,
  refused: /./,
};

describe('QuickBooks error bodies as real companies return them', () => {
  it.each(QUICKBOOKS_ERROR_BODIES.map((f) => [f.name, f] as const))('%s', async (_name, fixture) => {
    // Prepare
    qbo.injectFault({ status: fixture.status, path: '/deposit', body: fixture.body, count: 1 });
    const books = factory.forRealm(REALM, { tenantId: 'fixture-studio' });

    // Act
    const error = await books
      .createEntry(deposit('Stripe payout po_fixture'), `req-${fixture.expect.code}-${Date.now()}`)
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    // Assess
    expect(error).toBeInstanceOf(Error);
    const text = `${(error as Error).message} ${(error as PermanentError).hint ?? ''}`;
    expect(text).not.toMatch(/HTTP \d{3}: no fault|unexpected shape/);
    if (fixture.expect.meaning === 'throttled') {
      expect(error).toBeInstanceOf(QboTransientError);
      expect((error as QboTransientError).code).toBe(fixture.expect.code);
      return;
    }
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).hint).toMatch(HINTS[fixture.expect.meaning]);
    if (fixture.expect.meaning === 'reconnect') {
      expect(error).toBeInstanceOf(ReconnectRequiredError);
      expect((error as Error).message).toContain(fixture.expect.code);
      expect((error as PermanentError).hint).toContain('connect --tenant fixture-studio');
      // Refused at the door, but not the definite answer of the write: the intent is kept.
      expect(isRefusedWrite(error)).toBe(false);
    } else {
      expect(error).toBeInstanceOf(QboValidationFault);
      expect((error as QboValidationFault).code).toBe(fixture.expect.code);
      expect(isRefusedWrite(error)).toBe(true);
    }
  });
});

describe('batch items with null fields', () => {
  it('reads each item: a duplicate name retried under another name, a created customer kept, a refusal reported', async () => {
    // Prepare: the first creation batch is answered with the real-shaped body; the retry goes to the stand-in
    qbo.injectFault({
      status: 200,
      path: '/batch',
      count: 1,
      body: batchWithNullFaults({ Id: '9901', DisplayName: 'Jo Two', email: 'jo.two@example.com' }),
    });
    const books = factory.forRealm(REALM);
    const members = [
      { email: 'jo.one@example.com', displayName: 'Jo One' },
      { email: 'jo.two@example.com', displayName: 'Jo Two' },
      { email: 'jo.three@example.com', displayName: 'Jo Three' },
    ];

    // Act
    const error = await books.createCustomers(members).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(QboValidationFault);
    expect((error as QboValidationFault).code).toBe('2010');
    const created = (error as { createdCustomers?: Map<string, { id: string }> }).createdCustomers;
    expect(created?.get('jo.two@example.com')?.id).toBe('9901');
    // The duplicate name (null Detail) was retried as "Jo One (jo.one@example.com)" against the stand-in.
    expect(created?.get('jo.one@example.com')).toBeDefined();
  });
});

describe('a 2xx to a write whose body cannot be read', () => {
  it.each([
    ['not JSON', '<html>upstream proxy page</html>'],
    ['JSON without the entity', '{"time":"2026-12-01T09:00:00.000-08:00"}'],
  ])('%s: written, id unknown (no retry, intent kept)', async (_name, body) => {
    // Prepare: QuickBooks commits the deposit; the answer that comes back cannot be read
    qbo.injectFault({ status: 200, path: '/deposit', body, contentType: 'text/html', afterProcessing: true });
    const books = factory.forRealm(REALM);
    const note = `Stripe payout po_unreadable_${Date.now()}`;
    const requestId = `req-unreadable-${Date.now()}`;

    // Act
    const error = await books.createEntry(deposit(note), requestId).then(
      () => undefined,
      (e: unknown) => e,
    );
    const replayed = await books.createEntry(deposit(note), requestId);

    // Assess
    expect(error).toBeInstanceOf(WrittenIdUnknownError);
    expect(isRefusedWrite(error)).toBe(false);
    expect((error as PermanentError).hint).toMatch(/replays the same request/);
    const live = qbo.entities(REALM, 'Deposit').filter((d) => d.PrivateNote === note);
    expect(live).toHaveLength(1);
    expect(replayed.id).toBe(String(live[0]?.Id));
  });
});
