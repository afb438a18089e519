/**
 * Error classes the use cases act on. Adapters throw subclasses of these so the application can tell
 * what to do without importing an adapter: a `PermanentError` is HELD (or sent to the DLQ) at once with its
 * reason and hint and never burns retries; a `TransientError` is retried with backoff (by the adapter, then by
 * the queue).
 */
export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';
  /**
   * True when this error is the service's definite refusal of a write sent under a request id (nothing was
   * created under it): only then may the write intent be dropped (CONTRACT §7). Set by the adapter.
   */
  refusedWrite = false;
  constructor(
    message: string,
    /** What a person should do about it, e.g. "reconnect QuickBooks: npx qbo-sync connect --tenant T". */
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** QuickBooks said `invalid_grant` (or `invalid_client`): the connection must be re-authorised by a person. */
export class ReconnectRequiredError extends PermanentError {
  override readonly name: string = 'ReconnectRequiredError';
}

export class TransientError extends Error {
  override readonly name: string = 'TransientError';
  constructor(
    message: string,
    /** Suggested wait before retrying, when the service said so. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The work of one payout did not fit in this invocation (e.g. thousands of customers to create at 500 requests
 * a minute). Progress is saved; the worker re-enqueues a `continue` message. Not a failure toward the DLQ.
 */
export class OutOfTimeError extends Error {
  override readonly name: string = 'OutOfTimeError';
}

/**
 * The service accepted a write but its answer cannot be read (a 2xx whose body does not parse): the object exists,
 * its id is unknown. The intent is kept; the row is HELD until the object is found (CONTRACT §7).
 */
export class WrittenIdUnknownError extends PermanentError {
  override readonly name: string = 'WrittenIdUnknownError';
}

/** True when `error` is a definite refusal of a write (the intent of that write may be dropped). */
export function isRefusedWrite(error: unknown): boolean {
  return error instanceof PermanentError && error.refusedWrite;
}
