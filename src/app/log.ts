/**
 * The logger the use cases write to. The Powertools logger of `src/adapters/logging.ts` satisfies it;
 * tests may pass `silentLog`. Never pass a secret, a token or an unmasked email in `extra`.
 */
export interface AppLog {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** A logger that drops everything. */
export const silentLog: AppLog = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** A short, single-line description of any thrown value, for logs and ledger reasons. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;

/** Masks every email in a text (`jane@example.com` → `j***@example.com`), for reasons that may quote input. */
export function maskEmailsIn(text: string): string {
  return text.replace(EMAIL, '$1***@$2');
}
