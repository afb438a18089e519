/**
 * QuickBooks fault shapes (external-apis.md §6): the JSON `{"Fault":{"Error":[…],"type"},"time"}` body, the XML
 * 3001 throttle body, and a `QboFault` error the handlers throw to answer with one.
 */
import { qboTime } from './clock.js';
import type { FaultEnvelope } from './types.js';

export type FaultType =
  | 'ValidationFault'
  | 'SERVICE'
  | 'AUTHENTICATION'
  | 'AuthorizationFault'
  | 'SystemFault'
  | 'QueryValidationError';

export interface FaultError {
  Message: string;
  Detail: string;
  code: string;
  element: string;
}

/** Thrown inside request handling; the server turns it into the HTTP status and JSON fault body. */
export class QboFault extends Error {
  override readonly name = 'QboFault';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly shortMessage: string,
    readonly detail: string,
    readonly element = '',
    readonly type: FaultType = 'ValidationFault',
  ) {
    super(`${code} ${shortMessage}: ${detail}`);
  }

  toFault(): { Error: FaultError[]; type: FaultType } {
    return {
      Error: [{ Message: this.shortMessage, Detail: this.detail, code: this.code, element: this.element }],
      type: this.type,
    };
  }
}

export function faultBody(fault: QboFault, nowMs: number): string {
  return JSON.stringify({ Fault: fault.toFault(), time: qboTime(nowMs) });
}

// ----------------------------------------------------------------------------------- envelopes (docs/standins.md)

/** One of the concrete forms; `real` picks per status. */
export type ConcreteEnvelope = Exclude<FaultEnvelope, 'real'>;

/**
 * The form a fault takes. `real`: 401 and 403 come in the lower-case envelope real companies return
 * (node-quickbooks#154 and oauth-jsclient#2: 403 3100; python-quickbooks#250 and #118: 401 3200), everything
 * else in the capital form of Intuit's "Fix common errors" page.
 */
export function concreteEnvelope(envelope: FaultEnvelope, status: number): ConcreteEnvelope {
  if (envelope !== 'real') return envelope;
  return status === 401 || status === 403 ? 'lowercase' : 'capital';
}

const orNull = (v: string): string | null => (v === '' ? null : v);

/** The `Fault` object of a batch item in this form (batch answers are JSON, so `xml` renders as `nulls`). */
export function faultObject(fault: QboFault, envelope: ConcreteEnvelope): Record<string, unknown> {
  if (envelope === 'capital') return { Fault: fault.toFault() };
  if (envelope === 'lowercase') {
    return {
      fault: {
        error: [
          {
            message: fault.shortMessage,
            detail: orNull(fault.detail),
            code: fault.code,
            element: orNull(fault.element),
          },
        ],
        type: fault.type,
      },
    };
  }
  return {
    Fault: {
      Error: [
        {
          Message: fault.shortMessage,
          Detail: orNull(fault.detail),
          code: fault.code,
          element: orNull(fault.element),
        },
      ],
      type: fault.type,
    },
  };
}

const xmlEscape = (v: string) =>
  v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A whole fault response body in this form. */
export function renderFault(
  fault: QboFault,
  nowMs: number,
  envelope: ConcreteEnvelope,
): { body: string; contentType: string } {
  if (envelope === 'xml') {
    const element = fault.element ? ` element="${xmlEscape(fault.element)}"` : '';
    return {
      body:
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
        `<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="${qboTime(nowMs)}">` +
        `<Fault type="${xmlEscape(fault.type)}"><Error code="${xmlEscape(fault.code)}"${element}>` +
        `<Message>${xmlEscape(fault.shortMessage)}</Message><Detail>${xmlEscape(fault.detail)}</Detail>` +
        '</Error></Fault></IntuitResponse>',
      contentType: 'application/xml',
    };
  }
  if (envelope === 'lowercase') {
    // The whole envelope as oauth-jsclient#2 and python-quickbooks#250 quote it: the serializer's null fields
    // around `fault`, and `time` in epoch milliseconds.
    return {
      body: JSON.stringify({
        warnings: null,
        intuitObject: null,
        ...faultObject(fault, 'lowercase'),
        report: null,
        queryResponse: null,
        batchItemResponse: [],
        attachableResponse: [],
        syncErrorResponse: null,
        requestId: null,
        time: nowMs,
        status: null,
        cdcresponse: [],
      }),
      contentType: 'application/json',
    };
  }
  return {
    body: JSON.stringify({ ...faultObject(fault, envelope), time: qboTime(nowMs) }),
    contentType: 'application/json',
  };
}

// ----------------------------------------------------------------------------------- the codes we use

/** 2010: an unknown property, or a value of the wrong type. */
export const invalidProperty = (detail: string, element = ''): QboFault =>
  new QboFault(400, '2010', 'Request has invalid or unsupported property', detail, element);

/** 2020: a required parameter is missing. */
export const requiredMissing = (detail: string, element = ''): QboFault =>
  new QboFault(
    400,
    '2020',
    'Required param missing, need to supply the required value for the API',
    detail,
    element,
  );

/** 2050: a string is too long. */
export const invalidLength = (detail: string, element = ''): QboFault =>
  new QboFault(
    400,
    '2050',
    'String length is either shorter or longer than supported by specification',
    detail,
    element,
  );

/** 2170: a value outside an enumeration. */
export const invalidEnum = (detail: string, element = ''): QboFault =>
  new QboFault(400, '2170', 'Invalid Enumeration', detail, element);

/** 2500: a reference to an Id that does not exist. */
export const invalidReference = (detail: string, element = ''): QboFault =>
  new QboFault(400, '2500', 'Invalid Reference Id', `Invalid Reference Id : ${detail}`, element);

/** 610: the object is unknown/deleted (GET, delete) or a referenced object is inactive. */
export const objectNotFound = (detail: string, element = ''): QboFault =>
  new QboFault(400, '610', 'Object Not Found', `Object Not Found : ${detail}`, element);

export const inactiveReference = (what: string, element = ''): QboFault =>
  objectNotFound(
    `Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. (${what})`,
    element,
  );

/** 6000: a business rule. */
export const businessValidation = (detail: string, element = ''): QboFault =>
  new QboFault(
    400,
    '6000',
    'A business validation error has occurred while processing your request',
    `Business Validation Error: ${detail}`,
    element,
  );

/** 6210: the books are closed for that date. */
export const periodClosed = (txnDate: string, closedBefore: string): QboFault =>
  new QboFault(
    400,
    '6210',
    'Account Period Closed',
    `The account period has closed and the books are locked: ${txnDate} is before the closing date ${closedBefore}. ` +
      'Use a date on or after the closing date, or change the closing date in the company settings.',
    'TxnDate',
  );

export const duplicateName = (): QboFault =>
  new QboFault(
    400,
    '6240',
    'Duplicate Name Exists Error',
    'The name supplied already exists. : Another customer, vendor or employee is already using this name. Please use a different name.',
  );

export const staleObject = (id: string, sent: string, current: string): QboFault =>
  new QboFault(
    400,
    '5010',
    'Stale Object Error',
    `Stale Object Error : You and another user were working on this at the same time (Id ${id}: SyncToken ${sent} sent, ` +
      `${current} is current). Read the object again and resend with its latest SyncToken.`,
  );

export const unsupportedOperation = (detail: string): QboFault =>
  new QboFault(400, '500', 'Unsupported Operation', `Operation ${detail} is not supported.`);

export const invalidQuery = (detail: string): QboFault =>
  new QboFault(400, '4001', 'Invalid query', `QueryValidationError: ${detail}`);

export const queryParseError = (detail: string): QboFault =>
  new QboFault(400, '4000', 'Error parsing query', `QueryParserError: ${detail}`);

export const authenticationFailed = (detail: string): QboFault =>
  new QboFault(
    401,
    '3200',
    'message=AuthenticationFailed; errorCode=003200; statusCode=401',
    detail,
    '',
    'AUTHENTICATION',
  );

export const authorizationFailed = (detail: string): QboFault =>
  new QboFault(
    403,
    '3100',
    'message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403',
    detail,
    '',
    // Real 403 3100 bodies say "SERVICE" (oauth-jsclient#2, node-quickbooks#154, frappe/erpnext#29161).
    'SERVICE',
  );

export const batchTooLarge = (items: number): QboFault =>
  new QboFault(
    400,
    '1040',
    'Batch size exceeds allowed limit',
    `The batch has ${items} items; at most 30 BatchItemRequest entries are allowed per request.`,
  );

export const systemFault = (status: number): QboFault =>
  new QboFault(
    status,
    status === 503 ? '503' : '10000',
    status === 503
      ? 'Service Unavailable'
      : 'An application error has occurred while processing your request',
    status === 503
      ? 'The service is temporarily unavailable. Try again later.'
      : 'System Failure Error: injected fault',
    '',
    'SystemFault',
  );

/** The 429 body QuickBooks sends (XML, even to `Accept: application/json`). */
export function throttleXml(nowMs: number): string {
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
    `<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="${qboTime(nowMs)}">` +
    '<Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>' +
    '<Detail>The request limit was reached.  Try again later</Detail></Error></Fault></IntuitResponse>'
  );
}

/** Default body of an injected fault of this status. */
export function defaultFaultResponse(
  status: number,
  nowMs: number,
  envelope: FaultEnvelope = 'real',
): { body: string; contentType: string } {
  if (status === 429) return { body: throttleXml(nowMs), contentType: 'application/xml' };
  let fault: QboFault;
  if (status === 401) fault = authenticationFailed('Token expired (injected fault)');
  else if (status === 403) fault = authorizationFailed('Forbidden (injected fault)');
  else if (status === 400) fault = businessValidation('injected fault');
  else fault = systemFault(status);
  return renderFault(fault, nowMs, concreteEnvelope(envelope, status));
}
