/** The CLI's own errors: a usage problem exits 2, a failure exits 1; both print their message, never a stack. */

/** Bad usage (a missing or malformed argument or option): exit 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** A failure the person can act on: exit 1, printed with its hint. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly hint?: string,
    /** Extra keys for the `--json` error document. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The hint of any error that carries one (`PermanentError`, `CliError`). */
export function hintOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const hint = (error as { hint?: unknown }).hint;
  return typeof hint === 'string' && hint !== '' ? hint : undefined;
}
