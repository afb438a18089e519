import { SignatureError, verifyStripeSignature } from '../../src/adapters/stripe/index.js';
import { generatePayout, makePayoutEvent, signWebhook } from '../../standins/stripe/index.js';

const SECRET = 'whsec_signature_suite';
const { payout } = generatePayout({ seed: 51, transactions: 3 });
const event = makePayoutEvent('payout.paid', payout, { id: 'evt_1Signature', account: 'acct_1Sig' });
const body = JSON.stringify(event);

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SignatureError);
    return (error as SignatureError).reason;
  }
  throw new Error('expected a SignatureError');
}

describe('verifyStripeSignature', () => {
  it('returns the parsed event for a good signature, from a string or the raw bytes', () => {
    const header = signWebhook(body, SECRET);

    expect(verifyStripeSignature(body, header, SECRET)).toEqual(event);
    expect(verifyStripeSignature(Buffer.from(body, 'utf8'), header, SECRET)).toEqual(event);
  });

  it('refuses a tampered body', () => {
    const header = signWebhook(body, SECRET);
    const tampered = body.replace(`"amount":${payout.amount}`, `"amount":${payout.amount + 1}`);
    expect(tampered).not.toBe(body);

    expect(reasonOf(() => verifyStripeSignature(tampered, header, SECRET))).toBe('bad-signature');
  });

  it('refuses a re-serialised body', () => {
    const header = signWebhook(body, SECRET);

    expect(reasonOf(() => verifyStripeSignature(JSON.stringify(event, null, 2), header, SECRET))).toBe(
      'bad-signature',
    );
  });

  it('refuses another secret', () => {
    const header = signWebhook(body, 'whsec_other');

    expect(reasonOf(() => verifyStripeSignature(body, header, SECRET))).toBe('bad-signature');
  });

  it('refuses a timestamp older than the tolerance, and accepts one just inside it', () => {
    const signedAt = 1_800_000_000;
    const header = signWebhook(body, SECRET, signedAt);

    expect(verifyStripeSignature(body, header, SECRET, 300, signedAt + 299)).toEqual(event);
    expect(reasonOf(() => verifyStripeSignature(body, header, SECRET, 300, signedAt + 301))).toBe(
      'stale-timestamp',
    );
  });

  it('refuses a stale timestamp against the real clock, saying how old it is', () => {
    const header = signWebhook(body, SECRET, Math.floor(Date.now() / 1000) - 600);

    expect(() => verifyStripeSignature(body, header, SECRET)).toThrow(
      /older than 300 s \(signed 60\d s ago\)/,
    );
  });

  it.each([
    [undefined, 'missing-header'],
    ['', 'missing-header'],
    ['garbage', 'malformed-header'],
    ['t=1800000000,v0=abc', 'malformed-header'],
  ])('refuses header %p as %s', (header, reason) => {
    expect(reasonOf(() => verifyStripeSignature(body, header, SECRET))).toBe(reason);
  });

  it('refuses a missing secret and an empty body', () => {
    const header = signWebhook(body, SECRET);

    expect(reasonOf(() => verifyStripeSignature(body, header, ''))).toBe('missing-secret');
    expect(reasonOf(() => verifyStripeSignature('', header, SECRET))).toBe('empty-body');
  });

  it('says when a correctly signed body is not JSON', () => {
    const text = 'not json';
    const header = signWebhook(text, SECRET);

    expect(reasonOf(() => verifyStripeSignature(text, header, SECRET))).toBe('invalid-json');
  });
});
