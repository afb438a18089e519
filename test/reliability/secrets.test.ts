/**
 * Secrets stay secret (CONTRACT §7: "Secrets and tokens never reach logs; emails in logs are masked").
 *
 * A representative run with the real Powertools loggers at DEBUG — webhooks (accepted, badly signed, unknown
 * account), the worker posting with new customers and a token refresh, HELD (unmapped category; revoked
 * connection), FAILED (retries exhausted), a poison message — with everything written to stdout and stderr
 * captured, then searched: no Stripe key, webhook secret, QuickBooks client secret, access or refresh token, and
 * no email in clear.
 */
import { depositBuilderDepsFromRuntime, makeDepositBuilderHandler } from '../../lambdas/deposit-builder.js';
import { makeWebhookHandler } from '../../lambdas/webhook.js';
import { SecretsTokenStore } from '../../src/adapters/aws/token-store.js';
import type { QboTokens } from '../../src/app/ports.js';
import { syncPayout } from '../../src/app/sync-payout.js';
import { collectMembers } from '../../src/domain/members.js';
import { buildWebhookDeps } from '../../src/runtime-base.js';
import { generatePayout, makePayoutEvent, signWebhook } from '../../standins/stripe/index.js';
import {
  captureOutput,
  type Harness,
  lambdaContext,
  OTHER_REALM,
  REALM,
  STRIPE_KEY,
  sqsRecord,
  startHarness,
  startWorker,
  tenantConfig,
  WEBHOOK_SECRET,
  webhookEvent,
} from './helpers.js';

let h: Harness;
const REVOKED = 'acct_1RevokedStudio0001';
const savedLevel = process.env.POWERTOOLS_LOG_LEVEL;

beforeAll(async () => {
  h = await startHarness('secrets', { companies: [REALM, OTHER_REALM] });
  await h.addTenant(tenantConfig());
  await h.addTenant(
    tenantConfig({ id: 'revoked-studio', stripeAccount: REVOKED, quickbooks: { realmId: OTHER_REALM } }),
  );
});

afterAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = savedLevel;
  await h?.close();
});

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

it('a representative run at DEBUG logs no secret, no token and no email in clear', async () => {
  // Prepare: every token the run stores is remembered (the real store is called through)
  const tokens: QboTokens[] = [];
  const put = SecretsTokenStore.prototype.put;
  const spy = jest.spyOn(SecretsTokenStore.prototype, 'put').mockImplementation(async function (
    this: SecretsTokenStore,
    t,
  ) {
    tokens.push(t);
    return put.call(this, t);
  });
  const paid = generatePayout({ seed: 31, transactions: 12, members: { existing: [], newCount: 5 } });
  const unmapped = generatePayout({ seed: 32, transactions: 6, categories: [{ category: 'Retail' }] });
  const failing = generatePayout({ seed: 33, transactions: 6 });
  const revoked = generatePayout({ seed: 34, transactions: 6, account: REVOKED });
  const refused = generatePayout({ seed: 35, transactions: 6, members: { existing: [], newCount: 2 } });
  for (const g of [paid, unmapped, failing, refused]) h.addPayout(g.payout, g.transactions);
  h.addPayout(revoked.payout, revoked.transactions, REVOKED);
  const emails = [paid, unmapped, failing, revoked, refused].flatMap((g) =>
    collectMembers(g.transactions).map((m) => m.email),
  );
  // The token in the store is expired: the worker refreshes it.
  await h.runtime.tokens.put({
    realmId: REALM,
    accessToken: 'expired-access-token-0001',
    refreshToken: h.qbo.issueRefreshToken(REALM),
    accessTokenExpiresAt: 0,
    updatedAt: new Date().toISOString(),
  });
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  const capture = captureOutput();

  try {
    // Act: the webhook (its own logger, built from the environment as in the Lambda)
    const webhook = makeWebhookHandler(() => buildWebhookDeps(h.env));
    const body = JSON.stringify(makePayoutEvent('payout.paid', paid.payout));
    const stranger = JSON.stringify(
      makePayoutEvent('payout.paid', paid.payout, { account: 'acct_1NobodyKnows' }),
    );
    await webhook(webhookEvent(body, { 'Stripe-Signature': signWebhook(body, WEBHOOK_SECRET) }));
    await webhook(webhookEvent(body, { 'Stripe-Signature': signWebhook(body, 'whsec_wrong_secret_value') }));
    await webhook(webhookEvent(stranger, { 'Stripe-Signature': signWebhook(stranger, WEBHOOK_SECRET) }));

    // … the worker with the real logger: posted (customers created, token refreshed), HELD, FAILED, poison
    const worker = await startWorker(h, { realLogger: true, serviceName: 'qbo-sync-deposit-builder' });
    const handler = makeDepositBuilderHandler(depositBuilderDepsFromRuntime(worker));
    const record = (b: string, receiveCount = 1) =>
      sqsRecord({ body: b, groupId: 'downtown-yoga', receiveCount });
    await handler({ Records: [record(JSON.stringify(h.message(paid.payout.id)))] }, lambdaContext());
    await handler({ Records: [record(JSON.stringify(h.message(unmapped.payout.id)))] }, lambdaContext());
    h.qbo.injectFault({ status: 503, count: 4, path: '/deposit' });
    await handler(
      { Records: [record(JSON.stringify(h.message(failing.payout.id)), 5)] },
      lambdaContext(),
    ).catch(() => undefined);
    await handler({ Records: [record(`{"payoutId":"po_1","member":"${emails[0]}"`)] }, lambdaContext());
    // QuickBooks refuses a customer lookup, quoting the member's email in its fault (HELD, reason masked)
    const quoted = collectMembers(refused.transactions)[0]?.email ?? '';
    h.qbo.injectFault({
      status: 400,
      count: 1,
      path: '/batch',
      body: JSON.stringify({
        Fault: {
          Error: [
            {
              Message: 'Invalid email',
              Detail: `Email Address ${quoted} is not valid`,
              code: '2010',
              element: 'PrimaryEmailAddr',
            },
          ],
          type: 'ValidationFault',
        },
        time: new Date().toISOString(),
      }),
    });
    await handler({ Records: [record(JSON.stringify(h.message(refused.payout.id)))] }, lambdaContext());
    h.qbo.revokeAll(OTHER_REALM);
    await syncPayout(worker.syncDeps(), {
      message: h.message(revoked.payout.id, 'payout.paid', 'revoked-studio', REVOKED),
    });
  } finally {
    capture.restore();
    spy.mockRestore();
    process.env.POWERTOOLS_LOG_LEVEL = savedLevel;
  }
  const text = capture.text();

  // Assess: the run did what it should, and logged it
  expect((await h.runtime.ledger.get(paid.payout.id))?.status).toBe('POSTED');
  expect((await h.runtime.ledger.get(unmapped.payout.id))?.status).toBe('HELD');
  expect((await h.runtime.ledger.get(failing.payout.id))?.status).toBe('FAILED');
  expect((await h.runtime.ledger.get(revoked.payout.id))?.status).toBe('HELD');
  expect((await h.runtime.ledger.get(refused.payout.id))?.reason).toMatch(/\*\*\*@example\.org is not valid/);
  expect(text).toMatch(/\*\*\*@example\.org is not valid/); // the email was logged, masked
  for (const line of [
    'payout event queued',
    'signature',
    'payout posted to QuickBooks',
    'access token refreshed',
    'held',
    'retries exhausted',
    'malformed queue message',
  ]) {
    expect(text).toContain(line);
  }
  expect(text).toMatch(/"level":"DEBUG"/);
  expect(tokens.length).toBeGreaterThanOrEqual(2);

  // … and nothing secret
  const secrets = [
    STRIPE_KEY,
    WEBHOOK_SECRET,
    'whsec_wrong_secret_value',
    h.qbo.clientSecret,
    ...tokens.flatMap((t) => [t.accessToken, t.refreshToken]),
  ];
  const leaked = secrets.filter((s) => text.includes(s));
  expect(leaked).toEqual([]);
  expect(text).not.toMatch(/Bearer\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]{8,}/);
  expect(text).not.toMatch(/v1=[0-9a-f]{64}/);
  const clear = emails.filter((e) => text.includes(e));
  expect(clear).toEqual([]);
  const unmasked = (text.match(EMAIL) ?? []).filter((e) => !/^[A-Za-z0-9._%+-]\*\*\*@/.test(e));
  expect(unmasked).toEqual([]);
});
