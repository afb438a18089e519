/**
 * `config suggest`'s matching (pure): which income account a revenue category clearly belongs to, by name.
 *
 * A category is matched to an account when their names carry the same words once the words every income account
 * or category name may carry are set aside ("revenue", "income", "sales", "fees"…) and plurals are made singular:
 * "Class Packs" → "Class Pack Revenue", "Classes / Virtual" → "Virtual Class Revenue", "Memberships" →
 * "Membership Income". Only when exactly one active Income or Other Income account matches is it "clearly right";
 * otherwise the category is left TODO, with the closest accounts as candidates.
 */
import { type CategoryKey, categoryLabel, NO_CATEGORY } from './categories.js';
import type { Minor, QboAccount, QboChart } from './types.js';

/** One revenue category as found on recent charges. */
export interface FoundCategory extends CategoryKey {
  /** Charges (or revenue_split parts) in this category. */
  charges: number;
  /** Their settled total, in minor units of `currency`. */
  total: Minor;
  currency: string;
}

export interface CategorySuggestion {
  found: FoundCategory;
  /** The clearly matching account (its FullyQualifiedName), when there is exactly one. */
  account?: string;
  /** The closest income accounts otherwise, best first (at most three). */
  candidates: string[];
}

const INCOME_TYPES = new Set(['income', 'other income']);
/** Words that say "this is revenue" rather than which revenue. */
const GENERIC = new Set([
  'revenue',
  'revenues',
  'income',
  'sales',
  'sale',
  'fees',
  'fee',
  'and',
  'of',
  'the',
  '&',
]);

function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && /(ss|sh|ch|x)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** The distinguishing words of a name, singular, lower case ("In-person Class Revenue" → in, person, class). */
export function nameWords(name: string): Set<string> {
  const words = name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '' && !GENERIC.has(w))
    .map(singular);
  return new Set(words);
}

const sameWords = (a: Set<string>, b: Set<string>) =>
  a.size > 0 && a.size === b.size && [...a].every((w) => b.has(w));

/** Shared words over all words (0…1): how close two names are. */
function overlap(a: Set<string>, b: Set<string>): number {
  const union = new Set([...a, ...b]);
  if (union.size === 0) return 0;
  return [...a].filter((w) => b.has(w)).length / union.size;
}

/** The company's active Income and Other Income accounts, by FullyQualifiedName. */
export function incomeAccounts(chart: QboChart): QboAccount[] {
  return chart.accounts
    .filter((a) => a.active && INCOME_TYPES.has(a.accountType.trim().toLowerCase()))
    .sort((a, b) => a.fullyQualifiedName.localeCompare(b.fullyQualifiedName));
}

/** Suggests an account for each category found (most revenue first). */
export function suggestMappings(found: readonly FoundCategory[], chart: QboChart): CategorySuggestion[] {
  const accounts = incomeAccounts(chart).map((a) => ({ a, words: nameWords(a.name) }));
  return [...found]
    .sort((x, y) => y.total - x.total || categoryLabel(x).localeCompare(categoryLabel(y)))
    .map((f): CategorySuggestion => {
      const words =
        f.category === NO_CATEGORY ? new Set<string>() : nameWords(`${f.category} ${f.subcategory ?? ''}`);
      const exact = accounts.filter((x) => sameWords(words, x.words));
      if (exact.length === 1 && exact[0])
        return { found: f, account: exact[0].a.fullyQualifiedName, candidates: [] };
      const ranked = accounts
        .map((x) => ({ name: x.a.fullyQualifiedName, score: overlap(words, x.words) }))
        .filter((x) => x.score > 0)
        .sort((x, y) => y.score - x.score || x.name.localeCompare(y.name))
        .map((x) => x.name);
      const fallback = accounts.map((x) => x.a.fullyQualifiedName);
      return { found: f, candidates: (ranked.length > 0 ? ranked : fallback).slice(0, 3) };
    });
}
