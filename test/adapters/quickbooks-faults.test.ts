import {
  errorForResponse,
  hintForCode,
  parseFault,
  QboTransientError,
  QboValidationFault,
} from '../../src/adapters/quickbooks/faults.js';
import { PermanentError, TransientError } from '../../src/app/errors.js';

const THROTTLE_XML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<IntuitResponse time="2024-05-01T10:00:00.000-07:00" xmlns="http://schema.intuit.com/finance/v3">
  <Fault type="SERVICE">
    <Error code="3001" element="">
      <Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>
      <Detail>The request limit was reached.  Try again later</Detail>
    </Error>
  </Fault>
</IntuitResponse>`;

const duplicateName = {
  Fault: {
    Error: [
      {
        Message: 'Duplicate Name Exists Error',
        Detail:
          'The name supplied already exists. : Another customer, vendor or employee is already using this name.',
        code: '6240',
        element: '',
      },
    ],
    type: 'ValidationFault',
  },
  time: '2017-09-29T09:17:31.892-07:00',
};

describe('parseFault', () => {
  it('reads a JSON fault from an object or from text', () => {
    expect(parseFault(duplicateName)).toEqual({
      type: 'ValidationFault',
      errors: [expect.objectContaining({ code: '6240', message: 'Duplicate Name Exists Error' })],
    });
    expect(parseFault(JSON.stringify(duplicateName))?.errors[0]?.code).toBe('6240');
  });

  it('reads the XML throttle body', () => {
    expect(parseFault(THROTTLE_XML)).toEqual({
      type: 'SERVICE',
      errors: [
        {
          code: '3001',
          element: '',
          message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
          detail: 'The request limit was reached.  Try again later',
        },
      ],
    });
  });

  it('finds nothing in a success body or in garbage', () => {
    expect(parseFault({ QueryResponse: {} })).toBeUndefined();
    expect(parseFault('not json')).toBeUndefined();
    expect(parseFault('')).toBeUndefined();
  });
});

describe('errorForResponse', () => {
  it('turns a 429 (JSON or XML) into a transient error keeping the intuit_tid', () => {
    const e = errorForResponse(429, THROTTLE_XML, { intuitTid: 'tid-1', retryAfter: '2' });
    expect(e).toBeInstanceOf(QboTransientError);
    expect(e).toBeInstanceOf(TransientError);
    expect(e).toMatchObject({ status: 429, code: '3001', intuitTid: 'tid-1', retryAfterMs: 2000 });
  });

  it('treats the old 403 throttle and a 3001 inside a 200 as throttling', () => {
    expect(errorForResponse(403, THROTTLE_XML, {})).toBeInstanceOf(QboTransientError);
    expect(
      errorForResponse(
        200,
        { Fault: { type: 'SERVICE', Error: [{ code: '3001', Message: 'ThrottleExceeded' }] } },
        {},
      ),
    ).toBeInstanceOf(QboTransientError);
  });

  it.each([500, 502, 503, 504])('treats HTTP %i as transient', (status) => {
    expect(errorForResponse(status, '', { intuitTid: 't' })).toBeInstanceOf(QboTransientError);
  });

  it('turns a validation fault (in a 400 or a 200) into a permanent error with a hint and the intuit_tid', () => {
    for (const status of [400, 200]) {
      const e = errorForResponse(status, duplicateName, { intuitTid: 'tid-9', operation: 'the customer' });
      expect(e).toBeInstanceOf(QboValidationFault);
      expect(e).toBeInstanceOf(PermanentError);
      const fault = e as QboValidationFault;
      expect(fault).toMatchObject({
        code: '6240',
        qboMessage: 'Duplicate Name Exists Error',
        intuitTid: 'tid-9',
        status,
      });
      expect(fault.message).toContain('6240');
      expect(fault.message).toContain('tid-9');
      expect(fault.hint).toMatch(/already uses this name/);
    }
  });

  it('returns nothing for a success', () => {
    expect(errorForResponse(200, '{"QueryResponse":{}}', {})).toBeUndefined();
  });
});

describe('hintForCode', () => {
  it.each([
    ['6210', /reopen the period or change the closing date/],
    ['610', /fix the mapping/],
    ['6240', /name/],
    ['2500', /config import/],
    ['6540', /deposited/],
  ])('explains %s', (code, pattern) => {
    expect(hintForCode(code)).toMatch(pattern);
  });

  it('names the tenant in reconnect hints', () => {
    expect(hintForCode('3200', 'downtown-yoga')).toContain('npx qbo-sync connect --tenant downtown-yoga');
  });
});
