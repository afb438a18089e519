/** Customer rules independent of HTTP: query quoting, which customer wins an email, DisplayName candidates, masking. */
import type { QboCustomer } from '../../app/ports.js';
import { sanitizeDisplayName } from '../../app/resolve-customers.js';

/** A QuickBooks query string literal: `'` escaped as `\'` (and `\` as `\\`). */
export function qboQuoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const createdAt = (c: QboCustomer) => {
  const t = c.createTime ? Date.parse(c.createTime) : Number.NaN;
  return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
};

/**
 * Orders customers sharing an email: active before inactive, then the oldest (`MetaData.CreateTime`), then the
 * lowest Id. The first one is the winner.
 */
export function rankCustomers(customers: readonly QboCustomer[]): QboCustomer[] {
  return [...customers].sort(
    (a, b) =>
      Number(b.active) - Number(a.active) ||
      createdAt(a) - createdAt(b) ||
      Number(a.id) - Number(b.id) ||
      a.id.localeCompare(b.id),
  );
}

/** The DisplayName to try for a member after `attempt` duplicate-name refusals. */
export function displayNameCandidate(displayName: string, email: string, attempt: number): string {
  const base = sanitizeDisplayName(displayName) || sanitizeDisplayName(email);
  const named = base.toLowerCase() !== email.toLowerCase();
  let suffix = '';
  if (attempt >= 1) {
    if (named) suffix = attempt === 1 ? ` (${email})` : ` (${email}) ${attempt}`;
    else suffix = ` (${attempt + 1})`;
  }
  const room = 500 - suffix.length;
  return sanitizeDisplayName(`${base.slice(0, Math.max(1, room)).trimEnd()}${suffix}`);
}

/** `j***@example.com`: emails never reach logs in full. */
export function maskEmail(email: string): string {
  const at = email.indexOf('@');
  return at <= 0 ? '***' : `${email[0]}***${email.slice(at)}`;
}
