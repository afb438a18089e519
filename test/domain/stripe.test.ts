import {
  BalanceTransactionSchema,
  ChargeSchema,
  isCharge,
  isDispute,
  isRefund,
  PayoutSchema,
  payoutBalanceTransactionId,
  StripeEventSchema,
  sourceId,
} from '../../src/domain/stripe.js';

const basePayout = {
  id: 'po_1',
  object: 'payout',
  amount: 1234,
  currency: 'usd',
  arrival_date: 1710504000,
  created: 1710400000,
  automatic: true,
  balance_transaction: 'txn_p',
  status: 'paid',
  livemode: false,
  metadata: {},
};

const baseTxn = {
  id: 'txn_1',
  object: 'balance_transaction',
  amount: 1000,
  currency: 'usd',
  net: 941,
  fee: 59,
  fee_details: [{ amount: 59, currency: 'usd', type: 'stripe_fee', description: 'Stripe processing fees' }],
  type: 'charge',
  created: 1710400000,
};

describe('PayoutSchema', () => {
  it('keeps unknown fields and lower-cases the currency', () => {
    const p = PayoutSchema.parse({ ...basePayout, currency: 'USD', trace_id: { status: 'supported' } });
    expect(p.currency).toBe('usd');
    expect((p as Record<string, unknown>).trace_id).toEqual({ status: 'supported' });
  });

  it.each([
    ['txn_p', 'txn_p'],
    [{ id: 'txn_x', object: 'balance_transaction' }, 'txn_x'],
    [null, undefined],
  ])('reads balance_transaction %j', (bt, id) => {
    expect(payoutBalanceTransactionId(PayoutSchema.parse({ ...basePayout, balance_transaction: bt }))).toBe(
      id,
    );
  });

  it.each([
    [{ id: 'tr_1' }, 'payout id must start with "po_"'],
    [{ amount: 12.5 }, 'payout amount must be a whole number of minor units'],
    [{ automatic: 'yes' }, 'automatic must be true or false'],
    [{ currency: 'dollars' }, 'three-letter ISO code'],
  ])('rejects %j with a clear message', (override, message) => {
    const result = PayoutSchema.safeParse({ ...basePayout, ...override });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')).toContain(
      message,
    );
  });

  it('accepts a status Stripe may add later', () => {
    expect(PayoutSchema.parse({ ...basePayout, status: 'held_for_review' }).status).toBe('held_for_review');
  });

  // stripe 23.1.0 Payouts.d.ts: `reconciliation_status: Payout.ReconciliationStatus` = 'completed' | … | OtherString.
  it('accepts a reconciliation_status Stripe may add later (not completed: the worker waits)', () => {
    expect(PayoutSchema.parse({ ...basePayout, reconciliation_status: 'paused' }).reconciliation_status).toBe(
      'paused',
    );
  });

  // stripe 23.1.0 Payouts.d.ts: `metadata: Metadata | null`, and every `| null` field below.
  it('reads a payout whose metadata and every other nullable field are null', () => {
    const p = PayoutSchema.parse({
      ...basePayout,
      metadata: null,
      application_fee: null,
      application_fee_amount: null,
      balance_transaction: null,
      description: null,
      destination: null,
      failure_balance_transaction: null,
      failure_code: null,
      failure_message: null,
      original_payout: null,
      payout_method: null,
      reversed_by: null,
      statement_descriptor: null,
      trace_id: null,
    });
    expect(p.metadata).toEqual({});
    expect(payoutBalanceTransactionId(p)).toBeUndefined();
  });
});

describe('BalanceTransactionSchema', () => {
  it('accepts an expanded charge source with fields it does not read, and keeps only those it reads', () => {
    const bt = BalanceTransactionSchema.parse({
      ...baseTxn,
      source: {
        id: 'ch_1',
        object: 'charge',
        amount: 1000,
        currency: 'usd',
        metadata: { revenue_category: 'Classes' },
        billing_details: { email: 'a@b.c', name: null, address: null },
        receipt_email: null,
        outcome: { risk_level: 'normal' },
      },
    });
    expect(isCharge(bt.source)).toBe(true);
    expect(sourceId(bt.source)).toBe('ch_1');
    // Read by the thousand: only the fields the product reads are copied (zod's strip), the rest is accepted.
    expect(bt.source).toEqual({
      id: 'ch_1',
      object: 'charge',
      amount: 1000,
      currency: 'usd',
      metadata: { revenue_category: 'Classes' },
      billing_details: { email: 'a@b.c', name: null },
      receipt_email: null,
    });
  });

  it('accepts refunds and disputes with an id or an expanded charge', () => {
    const refund = BalanceTransactionSchema.parse({
      ...baseTxn,
      type: 'refund',
      source: { id: 're_1', object: 'refund', amount: 500, currency: 'usd', charge: 'ch_1' },
    });
    expect(isRefund(refund.source)).toBe(true);
    const dispute = BalanceTransactionSchema.parse({
      ...baseTxn,
      type: 'adjustment',
      source: {
        id: 'du_1',
        object: 'dispute',
        amount: 500,
        currency: 'usd',
        charge: { id: 'py_1', object: 'charge', amount: 500, currency: 'eur', metadata: {} },
      },
    });
    expect(isDispute(dispute.source)).toBe(true);
  });

  it.each([
    ['transfer', { id: 'tr_1', object: 'transfer', amount: 5 }, { id: 'tr_1', object: 'transfer' }],
    [
      'a future object',
      { id: 'zz_1', object: 'quantum_settlement' },
      { id: 'zz_1', object: 'quantum_settlement' },
    ],
    ['a bare id', 'ch_1', 'ch_1'],
    ['null', null, null],
  ])('never rejects an unknown or bare source: %s', (_label, source, read) => {
    expect(BalanceTransactionSchema.parse({ ...baseTxn, type: 'mystery_type', source }).source).toEqual(read);
  });

  // stripe 23.1.0 BalanceTransactions.d.ts / Refunds.d.ts: description, exchange_rate, source, FeeDetail.description
  // and application, Refund.metadata, charge, status, reason … are `| null`.
  it('reads a refund source whose metadata, charge and status are null, and null transaction fields', () => {
    const bt = BalanceTransactionSchema.parse({
      ...baseTxn,
      type: 'refund',
      reporting_category: 'refund',
      amount: -500,
      fee: 0,
      net: -500,
      fee_details: [],
      description: null,
      exchange_rate: null,
      source: {
        id: 're_1',
        object: 'refund',
        amount: 500,
        currency: 'usd',
        charge: null,
        metadata: null,
        status: null,
        reason: null,
        balance_transaction: null,
        payment_intent: null,
      },
    });
    expect(isRefund(bt.source)).toBe(true);
    expect(isRefund(bt.source) && bt.source.metadata).toEqual({});
    const withNullDetail = BalanceTransactionSchema.parse({
      ...baseTxn,
      fee_details: [
        { amount: 59, currency: 'usd', type: 'stripe_fee', description: null, application: null },
      ],
    });
    expect(withNullDetail.fee_details[0]?.description).toBeNull();
  });

  it('keeps a reporting_category it does not know', () => {
    expect(
      BalanceTransactionSchema.parse({ ...baseTxn, reporting_category: 'moon_dust' }).reporting_category,
    ).toBe('moon_dust');
  });

  it('defaults a missing source to null and missing fee_details to []', () => {
    const { fee_details: _f, ...rest } = baseTxn;
    const bt = BalanceTransactionSchema.parse({ ...rest, fee: 0, net: 1000 });
    expect(bt.source).toBeNull();
    expect(bt.fee_details).toEqual([]);
  });

  it('reports a malformed charge source with its path and id', () => {
    const result = BalanceTransactionSchema.safeParse({
      ...baseTxn,
      source: { id: 'ch_9', object: 'charge' },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['source', 'amount']);
    expect(result.error?.issues[0]?.message).toContain('charge ch_9');
  });

  it('rejects fractional amounts', () => {
    expect(BalanceTransactionSchema.safeParse({ ...baseTxn, net: 9.5 }).success).toBe(false);
  });
});

describe('ChargeSchema', () => {
  it('accepts ch_ and py_ ids, defaults metadata, rejects other ids', () => {
    expect(ChargeSchema.parse({ id: 'py_1', object: 'charge', amount: 1, currency: 'usd' }).metadata).toEqual(
      {},
    );
    expect(ChargeSchema.safeParse({ id: 'pi_1', object: 'charge', amount: 1, currency: 'usd' }).success).toBe(
      false,
    );
  });
});

describe('StripeEventSchema', () => {
  it('parses the envelope and leaves data.object to the consumer', () => {
    const event = StripeEventSchema.parse({
      id: 'evt_1',
      object: 'event',
      type: 'payout.paid',
      account: 'acct_1',
      livemode: false,
      created: 1710504000,
      api_version: '2024-06-20',
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: basePayout },
    });
    expect(PayoutSchema.parse(event.data.object).id).toBe('po_1');
    expect(
      StripeEventSchema.safeParse({ id: 'evt_2', object: 'event', type: 'x', livemode: false }).success,
    ).toBe(false);
  });
});

it('reads an amount of -0 (valid JSON) as 0, so exact comparisons and sums never see a negative zero', () => {
  // Act
  const parsed = BalanceTransactionSchema.parse(
    JSON.parse(
      '{"id":"txn_z","object":"balance_transaction","amount":-0,"net":-0,"fee":0,"currency":"usd","type":"payment_failure_refund","created":1700000000}',
    ),
  );

  // Assess
  expect(Object.is(parsed.amount, 0)).toBe(true);
  expect(Object.is(parsed.net, 0)).toBe(true);
});
