// Logging: emails masked, secrets removed, in redact() and in every line the logger writes.
import { createLogger, isSecretKey, maskEmail, redact } from '../../src/adapters/logging.js';

describe('maskEmail', () => {
  it('keeps the first character and the domain', () => {
    expect(maskEmail('jane.doe@example.com')).toBe('j***@example.com');
    expect(maskEmail('customer a@b.co and Bob.Smith+yoga@studio.example.org')).toBe(
      'customer a***@b.co and B***@studio.example.org',
    );
    expect(maskEmail('no email here')).toBe('no email here');
  });
});

describe('redact', () => {
  it('removes secret keys, masks emails and inline credentials, keeps the rest', () => {
    // Prepare
    const input = {
      payoutId: 'po_1',
      accessToken: 'at-123',
      refresh_token: 'rt-456',
      clientSecret: 'cs',
      headers: {
        Authorization: 'Bearer abc',
        'Stripe-Signature': 't=1,v1=x',
        'content-type': 'application/json',
      },
      tokens: { realmId: '1', accessTokenExpiresAt: 5 },
      secretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
      members: [{ email: 'jane.doe@example.com', name: 'Jane' }],
      note: 'key sk_live_abc123 and whsec_zzz, header Bearer eyJhbGciOi.x.y',
      when: new Date('2026-11-01T00:00:00.000Z'),
      byEmail: new Map([['bob@example.com', '42']]),
      error: new Error('failed for jane.doe@example.com'),
    };

    // Act
    const out = redact(input) as Record<string, unknown>;

    // Assess
    expect(out).toMatchObject({
      payoutId: 'po_1',
      headers: { 'content-type': 'application/json' },
      secretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
      members: [{ email: 'j***@example.com', name: 'Jane' }],
      note: 'key sk_live_*** and whsec_***, header Bearer ***',
      when: '2026-11-01T00:00:00.000Z',
      byEmail: { 'b***@example.com': '42' },
      error: { name: 'Error', message: 'failed for j***@example.com' },
    });
    for (const gone of ['accessToken', 'refresh_token', 'clientSecret', 'tokens'])
      expect(out).not.toHaveProperty(gone);
    expect(out.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.stringify(out)).not.toMatch(/at-123|rt-456|abc123|eyJ/);
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redact(a)).toEqual({ name: 'a', self: '[Circular]' });
  });

  it('recognises secret keys by name, not descriptive ones', () => {
    expect(
      ['accessToken', 'REFRESH_TOKEN', 'webhookSecret', 'Authorization', 'password', 'apiKey'].every(
        isSecretKey,
      ),
    ).toBe(true);
    expect(
      ['accessTokenExpiresAt', 'STRIPE_SECRET_ARN', 'tokenSecretPrefix', 'email', 'payoutId'].some(
        isSecretKey,
      ),
    ).toBe(false);
  });
});

describe('createLogger', () => {
  it('writes JSON lines with emails masked and secret keys dropped', () => {
    // Prepare
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const dev = process.env.POWERTOOLS_DEV;
    process.env.POWERTOOLS_DEV = 'false'; // compact JSON on stdout (dev mode pretty-prints through console)
    const logger = createLogger('test-service');
    logger.setLogLevel('INFO');

    // Act
    try {
      logger.info('customer jane.doe@example.com created', {
        refreshToken: 'rt-secret',
        customer: { email: 'jane.doe@example.com', id: '7' },
      });
    } finally {
      spy.mockRestore();
      if (dev === undefined) delete process.env.POWERTOOLS_DEV;
      else process.env.POWERTOOLS_DEV = dev;
    }

    // Assess
    const out = lines.join('');
    expect(out).not.toContain('rt-secret');
    expect(out).not.toContain('jane.doe@');
    const line = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'customer j***@example.com created',
      customer: { email: 'j***@example.com', id: '7' },
    });
    expect(line.service).toBe(process.env.POWERTOOLS_SERVICE_NAME || 'test-service');
  });
});
