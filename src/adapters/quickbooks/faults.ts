/**
 * QuickBooks faults → the error classes the application acts on (src/app/errors.ts).
 *
 * QuickBooks reports problems in several forms (docs/quickbooks.md, "Error forms", lists each with its source):
 * - `{"Fault":{"Error":[{Message,Detail,code,element}],"type"},"time"}` in a 400, inside a 200, or per batch item
 *   (Intuit's "Fix common errors" page);
 * - the lower-case `{"fault":{"error":[{message,detail,code,element}],"type"},…}` envelope that real 401s and 403s
 *   use, with `detail` and `element` null (node-quickbooks#154, oauth-jsclient#2, python-quickbooks#250);
 * - `Detail` / `element` null or absent in either casing, `code` a string or a number;
 * - XML (`<IntuitResponse><Fault type><Error code element><Message/><Detail/>`), which throttling sends even to
 *   `Accept: application/json` (python-quickbooks#43) and some SDK paths return, sometimes without its closing
 *   `</Error>` (QuickBooks-V3-PHP-SDK#445).
 * Every error built here keeps the `intuit_tid` response header, which Intuit support asks for.
 */
import { z } from 'zod';
import { PermanentError, ReconnectRequiredError, TransientError } from '../../app/errors.js';

export interface QboFaultItem {
  code: string;
  message: string;
  detail: string;
  element: string;
}

export interface QboFault {
  /** `ValidationFault`, `SERVICE`, `AUTHENTICATION`, `AuthorizationFault`, `SystemFault`… */
  type: string;
  errors: QboFaultItem[];
}

/** A text field QuickBooks may send as a string, a number, null, or not at all. */
const text = z.union([z.string(), z.number(), z.boolean()]).nullish().catch(undefined);

const FaultErrorSchema = z
  .object({
    Message: text,
    message: text,
    Detail: text,
    detail: text,
    code: text,
    element: text,
    Element: text,
  })
  .loose();

const errorList = z
  .union([z.array(FaultErrorSchema.nullable()), FaultErrorSchema])
  .nullish()
  .catch(undefined);

/** A `Fault` (or `fault`) object, every field optional and nullable. */
export const FaultSchema = z
  .object({
    type: text,
    Type: text,
    Error: errorList,
    error: errorList,
  })
  .loose();

export type FaultObject = z.infer<typeof FaultSchema>;

const FaultEnvelopeSchema = z
  .object({ Fault: FaultSchema.nullish(), fault: FaultSchema.nullish() })
  .loose()
  .refine((e) => !!(e.Fault ?? e.fault), 'no Fault');

const str = (v: string | number | boolean | null | undefined): string =>
  v === null || v === undefined ? '' : String(v);

/** Normalises a parsed `Fault` / `fault` object (either casing, nulls as empty strings). */
export function faultFromObject(fault: FaultObject): QboFault {
  const raw = fault.Error ?? fault.error ?? [];
  const items = (Array.isArray(raw) ? raw : [raw]).filter((e) => e !== null && e !== undefined);
  return {
    type: str(fault.type ?? fault.Type) || 'Unknown',
    errors: items.map((e) => ({
      code: str(e.code),
      message: str(e.Message ?? e.message),
      detail: str(e.Detail ?? e.detail),
      element: str(e.element ?? e.Element),
    })),
  };
}

function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

/**
 * An XML fault (`<IntuitResponse><Fault type="SERVICE"><Error code="3001">…`), also inside another element (a 200's
 * `<AttachableResponse>`) and also when an `</Error>` or `</Fault>` is missing (QuickBooks-V3-PHP-SDK#445).
 */
export function parseXmlFault(text: string): QboFault | undefined {
  const faultMatch = /<Fault\b([^>]*)>([\s\S]*?)(?:<\/Fault>|$)/i.exec(text);
  if (!faultMatch) return undefined;
  const type = /\btype\s*=\s*"([^"]*)"/i.exec(faultMatch[1] ?? '')?.[1] ?? 'Unknown';
  const errors: QboFaultItem[] = [];
  const errorRe = /<Error\b([^>]*)>([\s\S]*?)(?=<\/Error>|<Error\b|<\/Fault>|$)/gi;
  for (let m = errorRe.exec(faultMatch[2] ?? ''); m; m = errorRe.exec(faultMatch[2] ?? '')) {
    const attrs = m[1] ?? '';
    const inner = m[2] ?? '';
    errors.push({
      code: /\bcode\s*=\s*"([^"]*)"/i.exec(attrs)?.[1] ?? '',
      element: /\belement\s*=\s*"([^"]*)"/i.exec(attrs)?.[1] ?? '',
      message: decodeXml(/<Message>([\s\S]*?)<\/Message>/i.exec(inner)?.[1] ?? ''),
      detail: decodeXml(/<Detail>([\s\S]*?)<\/Detail>/i.exec(inner)?.[1] ?? ''),
    });
  }
  return { type, errors };
}

/** A Fault in a response body (JSON object, JSON text or XML text), or undefined when there is none. */
export function parseFault(body: unknown): QboFault | undefined {
  let value = body;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('<')) return parseXmlFault(text);
    // Most answers are successes: without the key there is no fault, and the body is not parsed twice.
    if (!text.startsWith('{') || !/"fault"/i.test(text)) return undefined;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  const parsed = FaultEnvelopeSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const fault = parsed.data.Fault ?? parsed.data.fault;
  return fault ? faultFromObject(fault) : undefined;
}

const HINTS: Record<string, string> = {
  '120':
    'the app is no longer authorised for this company: reconnect QuickBooks with `npx qbo-sync connect --tenant <id>`',
  '100':
    'QuickBooks could not authenticate the request: reconnect QuickBooks with `npx qbo-sync connect --tenant <id>`',
  '500':
    'QuickBooks did not accept the request format; this is a bug in qbo-sync, please report it with the intuit_tid',
  '600':
    'the request id was already used for another request; retry the payout with `npx qbo-sync payouts resync`',
  '610':
    'the object is gone from QuickBooks (deleted), or an account, class or customer it references was made inactive or deleted: reactivate it in QuickBooks or fix the mapping in the sync config (`npx qbo-sync config validate F`, then `config import F`), then resync the payout',
  '1040':
    'the batch had too many items; this is a bug in qbo-sync (batches are limited to 30), please report it',
  '2010':
    'QuickBooks rejected a field for this company (e.g. a currency without multicurrency, or a class without class tracking): check the company settings and the sync config',
  '2020': 'a required field was missing; this is a bug in qbo-sync, please report it with the intuit_tid',
  '2170':
    'a value is not one QuickBooks accepts for that field; check the sync config against the chart of accounts',
  '2500':
    'an Id in the mapping does not exist in this company: run `npx qbo-sync config validate F` and `config import F` against this company, then resync',
  '3100':
    'the app is not authorised for this company: reconnect QuickBooks with `npx qbo-sync connect --tenant <id>`',
  '3200': 'the access token was refused: reconnect QuickBooks with `npx qbo-sync connect --tenant <id>`',
  '4001': 'QuickBooks refused the query; this is a bug in qbo-sync, please report it with the intuit_tid',
  '5010': 'the object was changed in QuickBooks at the same time; retry',
  '6000': 'QuickBooks refused the transaction (see the message); check the amounts and accounts of the entry',
  '6140': 'a transaction with this document number already exists; remove or renumber it in QuickBooks',
  '6190': "the company's QuickBooks subscription has ended or is suspended: reactivate the subscription",
  '6210':
    'the accounting period is closed: reopen the period or change the closing date in QuickBooks (Settings → Account and settings → Advanced → Close the books), then resync the payout',
  '6240':
    'another customer, vendor or employee already uses this name: rename one of them in QuickBooks, or let qbo-sync pick a unique name',
  '6540':
    'the transaction was already deposited or reconciled and cannot be changed: undo the deposit or reconciliation in QuickBooks first',
};

/** "Account Period Closed" has been reported under 5010 as well as 6210 (python-quickbooks#208): read the words too. */
export function isPeriodClosed(item: Pick<QboFaultItem, 'code' | 'message' | 'detail'>): boolean {
  return (
    item.code === '6210' ||
    /period (has )?closed|books are (closed|locked)/i.test(`${item.message} ${item.detail}`)
  );
}

/** What a person should do about a QuickBooks error code (and, for 5010, its words). */
export function hintForCode(
  code: string,
  tenantId?: string,
  item?: Pick<QboFaultItem, 'message' | 'detail'>,
): string {
  const closed = item !== undefined && isPeriodClosed({ code, ...item });
  const hint =
    (closed ? HINTS['6210'] : HINTS[code]) ??
    'see the QuickBooks message; if it persists, contact Intuit support quoting the intuit_tid of the request';
  return tenantId ? hint.replaceAll('<id>', tenantId) : hint;
}

const reconnectCommand = (tenantId?: string) => `npx qbo-sync connect --tenant ${tenantId ?? '<id>'}`;

/** Emails quoted by QuickBooks in its messages, masked (`j***@example.com`): messages end up in logs. */
export function maskEmails(text: string): string {
  return text.replace(
    /([^\s@"'(<:;,]+)@([^\s@"'()<>;,]+)/g,
    (_m, local: string, domain: string) => `${local[0] ?? ''}***@${domain}`,
  );
}

function describeItem(e: QboFaultItem): string {
  const parts = [e.message, maskEmails(e.detail)].filter((p) => p !== '' && p !== undefined);
  const text = parts.join(': ') || 'no message';
  return `${e.code ? `${e.code} ` : ''}${text}${e.element ? ` (element ${e.element})` : ''}`;
}

/** QuickBooks refused the request (validation, business rule, unknown reference…): retrying will not help. */
export class QboValidationFault extends PermanentError {
  override readonly name: string = 'QboValidationFault';
  /** The first error's code, e.g. `6240`. */
  readonly code: string;
  /** QuickBooks' own `Message` of the first error. */
  readonly qboMessage: string;
  readonly detail: string;
  readonly element: string;
  readonly faultType: string;
  readonly errors: readonly QboFaultItem[];
  readonly intuitTid: string | undefined;
  /** HTTP status of the response (200 for a fault inside a 200 or a batch item). */
  readonly status: number | undefined;

  constructor(
    fault: QboFault,
    context: { intuitTid?: string; status?: number; operation?: string; tenantId?: string; cause?: unknown },
  ) {
    const first = fault.errors[0] ?? { code: '', message: '', detail: '', element: '' };
    const what = context.operation
      ? `QuickBooks refused ${context.operation}`
      : 'QuickBooks refused the request';
    const tid = context.intuitTid ? ` [intuit_tid ${context.intuitTid}]` : '';
    super(
      `${what}: ${fault.errors.map(describeItem).join('; ') || fault.type}${tid}`,
      hintForCode(first.code, context.tenantId, first),
      { cause: context.cause },
    );
    this.code = first.code;
    this.qboMessage = first.message;
    this.detail = first.detail;
    this.element = first.element;
    this.faultType = fault.type;
    this.errors = fault.errors;
    this.intuitTid = context.intuitTid;
    this.status = context.status;
  }

  /** True when any error of the fault has this code. */
  hasCode(code: string): boolean {
    return this.errors.some((e) => e.code === code);
  }
}

/** The QuickBooks connection must be re-authorised by a person (`invalid_grant`, `invalid_client`, no tokens). */
export class QboReconnectRequiredError extends ReconnectRequiredError {
  override readonly name: string = 'ReconnectRequiredError';
  readonly intuitTid: string | undefined;
  readonly realmId: string;
  /** `invalid_grant`, `invalid_client`, `no_tokens`, `unauthorized`… */
  readonly reason: string;

  constructor(
    realmId: string,
    reason: string,
    detail: string,
    context: { intuitTid?: string; tenantId?: string; cause?: unknown } = {},
  ) {
    const tid = context.intuitTid ? ` [intuit_tid ${context.intuitTid}]` : '';
    super(
      `QuickBooks connection for company ${realmId} must be renewed (${reason}): ${detail}${tid}`,
      `reconnect QuickBooks: ${reconnectCommand(context.tenantId)}`,
      { cause: context.cause },
    );
    this.realmId = realmId;
    this.reason = reason;
    this.intuitTid = context.intuitTid;
  }
}

/** Worth retrying later: throttling (429 / 3001), 5xx, network errors, timeouts. */
export class QboTransientError extends TransientError {
  override readonly name: string = 'QboTransientError';
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly intuitTid: string | undefined;

  constructor(
    message: string,
    context: {
      status?: number;
      code?: string;
      intuitTid?: string;
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    const tid = context.intuitTid ? ` [intuit_tid ${context.intuitTid}]` : '';
    super(`${message}${tid}`, context.retryAfterMs, { cause: context.cause });
    this.status = context.status;
    this.code = context.code;
    this.intuitTid = context.intuitTid;
  }
}

/** Codes that mean "try again later" even inside a 200 or a 400. */
const TRANSIENT_CODES = new Set(['3001', '3002', '3003', '10000']);

export function isThrottleFault(fault: QboFault | undefined): boolean {
  return !!fault?.errors.some((e) => e.code === '3001' || /ThrottleExceeded/i.test(e.message));
}

export function isTransientFault(fault: QboFault): boolean {
  return (
    isThrottleFault(fault) ||
    fault.errors.some((e) => TRANSIENT_CODES.has(e.code)) ||
    /^SystemFault$/i.test(fault.type)
  );
}

/** `Retry-After` (seconds or HTTP date) in ms, when present and sane. */
export function retryAfterMs(header: unknown, now: number = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 120_000);
  const at = Date.parse(header);
  if (Number.isFinite(at)) return Math.max(0, Math.min(at - now, 120_000));
  return undefined;
}

/**
 * Classifies a non-success HTTP response (or a 200 carrying a Fault). Returns the error to throw, or undefined
 * when the response is a success. 401 is left to the caller (it refreshes the token and retries once).
 */
export function errorForResponse(
  status: number,
  body: unknown,
  context: { intuitTid?: string; retryAfter?: unknown; operation?: string; tenantId?: string },
): QboValidationFault | QboTransientError | undefined {
  const fault = parseFault(body);
  const what = context.operation ?? 'the request';
  if (status === 429 || isThrottleFault(fault)) {
    return new QboTransientError(`QuickBooks throttled ${what} (HTTP ${status}, 3001 ThrottleExceeded)`, {
      status,
      code: '3001',
      intuitTid: context.intuitTid,
      retryAfterMs: retryAfterMs(context.retryAfter),
    });
  }
  if (status >= 500 || status === 408) {
    const text = fault ? `: ${fault.errors.map(describeItem).join('; ')}` : '';
    return new QboTransientError(`QuickBooks answered HTTP ${status} to ${what}${text}`, {
      status,
      code: fault?.errors[0]?.code,
      intuitTid: context.intuitTid,
      retryAfterMs: retryAfterMs(context.retryAfter),
    });
  }
  if (fault) {
    if (isTransientFault(fault)) {
      return new QboTransientError(
        `QuickBooks failed ${what}: ${fault.errors.map(describeItem).join('; ')}`,
        {
          status,
          code: fault.errors[0]?.code,
          intuitTid: context.intuitTid,
        },
      );
    }
    return new QboValidationFault(fault, {
      intuitTid: context.intuitTid,
      status,
      operation: context.operation,
      tenantId: context.tenantId,
    });
  }
  if (status >= 200 && status < 300) return undefined;
  const snippet = typeof body === 'string' ? body.slice(0, 200) : '';
  return new QboValidationFault(
    {
      type: 'HTTP',
      errors: [
        {
          code: String(status),
          message: `HTTP ${status}`,
          detail: snippet || 'no fault in the body',
          element: '',
        },
      ],
    },
    { intuitTid: context.intuitTid, status, operation: context.operation, tenantId: context.tenantId },
  );
}
