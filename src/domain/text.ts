/** Text read from Stripe metadata and names, tidied the one way the domain compares and shows it. */

/** Any whitespace other than single spaces (what `tidyText` collapses). */
const UNTIDY_SPACE = /\s\s|[^\S ]/;

/**
 * Trimmed, with every run of whitespace collapsed to one space; `undefined` when nothing is left. Most text is tidy
 * already, so it is tested first: replacing would copy every string (this runs for every charge of a payout).
 */
export function tidyText(text: string | null | undefined): string | undefined {
  if (text === null || text === undefined) return undefined;
  let t = text.trim();
  if (UNTIDY_SPACE.test(t)) t = t.replace(/\s+/g, ' ');
  return t === '' ? undefined : t;
}
