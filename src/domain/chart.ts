/**
 * The chart resolver (CONTRACT §2): a tenant of the sync config, its accounts and classes named by Id, `Name` or
 * `FullyQualifiedName`, resolved to QuickBooks ids against the company's chart of accounts. PURE: the chart is read
 * by the QuickBooks adapter and passed in.
 *
 * Every problem is reported at once, one per config entry (`quickbooks.depositAccount`, `revenue[2]`,
 * `revenue[2].class`…), each message naming the value, what is wrong with it and how to fix it.
 */
import type { TenantConfig } from './config.js';
import type {
  QboAccount,
  QboChart,
  QboClass,
  QboCustomer,
  Ref,
  RevenueMapping,
  TenantBooks,
} from './types.js';

export interface ChartProblem {
  /** The config path: `quickbooks.depositAccount`, `revenue[2]`, `revenue[2].class`. */
  entry: string;
  message: string;
}

export type ResolveTenantBooksResult =
  | { ok: true; books: TenantBooks }
  | { ok: false; problems: ChartProblem[] };

/** Compares QuickBooks type names whatever their spelling (`Other Current Liability`, `OtherCurrentLiability`). */
const typeKey = (t: string | undefined) => (t ?? '').toLowerCase().replace(/[^a-z]/g, '');
const nameKey = (n: string) => n.trim().toLowerCase();

const BANK = typeKey('Bank');
const OTHER_CURRENT_ASSET = typeKey('Other Current Asset');
const INCOME = typeKey('Income');
const OTHER_INCOME = typeKey('Other Income');
const UNDEPOSITED_FUNDS = typeKey('UndepositedFunds');

/** Accounts that can never receive a payout's lines: holding and liability accounts (CONTRACT §2). */
const FORBIDDEN: ReadonlyMap<string, string> = new Map([
  [typeKey('Other Current Liability'), 'a liability account'],
  [typeKey('Long Term Liability'), 'a liability account'],
  [typeKey('Accounts Payable'), 'a liability (payables) account'],
  [typeKey('Credit Card'), 'a liability (credit card) account'],
  [typeKey('Accounts Receivable'), 'a holding (receivables) account'],
  [typeKey('Equity'), 'an equity account'],
  [typeKey('Non-Posting'), 'a non-posting account'],
]);

type Role = 'deposit' | 'revenue' | 'fees' | 'disputes' | 'adjustments' | 'uncategorized';

/** What each role can receive, and the account types to suggest for it. */
const ROLE: Record<Role, { what: string; suggest: string[]; examples: string }> = {
  deposit: {
    what: 'the payout deposits',
    suggest: ['Bank', 'Other Current Asset'],
    examples: 'a Bank or Other Current Asset account (e.g. your checking account), not Undeposited Funds',
  },
  revenue: {
    what: 'revenue',
    suggest: ['Income', 'Other Income'],
    examples: 'an Income or Other Income account',
  },
  fees: {
    what: 'Stripe fees',
    suggest: ['Expense', 'Other Expense', 'Cost of Goods Sold'],
    examples: 'an Expense account (e.g. bank or merchant fees)',
  },
  disputes: {
    what: 'disputes',
    suggest: ['Expense', 'Other Expense', 'Income'],
    examples: 'an Expense or Income account',
  },
  adjustments: {
    what: 'Stripe adjustments',
    suggest: ['Expense', 'Other Expense', 'Other Current Asset'],
    examples: 'an Expense or Other Current Asset account',
  },
  uncategorized: {
    what: 'uncategorized revenue',
    suggest: ['Income', 'Other Income'],
    examples: 'an Income or Other Income account',
  },
};

function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

interface Named {
  id: string;
  name: string;
  fullyQualifiedName: string;
  active: boolean;
}

/** Up to three names close to `value` (typos, case, a missing parent), active ones first. */
function closeNames<T extends Named>(
  value: string,
  items: readonly T[],
  accept: (item: T) => boolean,
): string[] {
  const v = nameKey(value);
  const scored: Array<{ label: string; score: number; active: boolean }> = [];
  for (const item of items) {
    if (!accept(item)) continue;
    const keys = [nameKey(item.name), nameKey(item.fullyQualifiedName)];
    const distance = Math.min(...keys.map((k) => levenshtein(v, k)));
    const contains = keys.some((k) => k.length >= 3 && v.length >= 3 && (k.includes(v) || v.includes(k)));
    const limit = Math.max(2, Math.floor(v.length / 4));
    if (distance <= limit || contains) {
      scored.push({
        label: item.fullyQualifiedName,
        score: contains ? Math.min(distance, limit) : distance,
        active: item.active,
      });
    }
  }
  scored.sort(
    (a, b) => Number(b.active) - Number(a.active) || a.score - b.score || a.label.localeCompare(b.label),
  );
  return [...new Set(scored.map((s) => s.label))].slice(0, 3);
}

const quoteList = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');

type Lookup<T> = { ok: true; item: T } | { ok: false; message: string };

/** Finds an account or class by Id, FullyQualifiedName or Name (case-insensitive, trimmed). */
function find<T extends Named>(value: string, items: readonly T[], kind: string): Lookup<T> | undefined {
  const v = value.trim();
  const byId = items.find((i) => i.id === v);
  if (byId) return { ok: true, item: byId };
  const key = nameKey(v);
  const byFqn = items.filter((i) => nameKey(i.fullyQualifiedName) === key);
  const pool = byFqn.length > 0 ? byFqn : items.filter((i) => nameKey(i.name) === key);
  if (pool.length === 0) return undefined;
  if (pool.length === 1) return { ok: true, item: pool[0] as T };
  const active = pool.filter((i) => i.active);
  if (active.length === 1) return { ok: true, item: active[0] as T };
  return {
    ok: false,
    message: `"${v}" matches several ${kind}s (${quoteList(pool.map((i) => i.fullyQualifiedName))}); name it by its FullyQualifiedName (Parent:Child) or its Id`,
  };
}

class Problems {
  private readonly byEntry = new Map<string, string[]>();
  add(entry: string, message: string): void {
    const list = this.byEntry.get(entry) ?? [];
    list.push(message);
    this.byEntry.set(entry, list);
  }
  get size(): number {
    return this.byEntry.size;
  }
  list(): ChartProblem[] {
    return [...this.byEntry].map(([entry, messages]) => ({ entry, message: messages.join('; also, ') }));
  }
}

export function resolveTenantBooks(
  tenant: TenantConfig,
  chart: QboChart,
  opts: { walkInCustomer?: QboCustomer } = {},
): ResolveTenantBooksResult {
  const problems = new Problems();
  const q = tenant.quickbooks;

  const suggestionsFor = (role: Role, value: string): string => {
    const allowedTypes = new Set(ROLE[role].suggest.map(typeKey));
    const usable = (a: QboAccount) => a.active && isUsable(role, a);
    const close = closeNames(value, chart.accounts, usable);
    if (close.length > 0) return `; did you mean ${quoteList(close)}?`;
    const some = chart.accounts
      .filter((a) => usable(a) && allowedTypes.has(typeKey(a.accountType)))
      .map((a) => a.fullyQualifiedName)
      .slice(0, 5);
    return some.length > 0 ? `; accounts that would fit: ${quoteList(some)}` : '';
  };

  const account = (entry: string, field: string, value: string, role: Role): Ref | undefined => {
    const found = find(value, chart.accounts, 'account');
    if (!found) {
      problems.add(
        entry,
        `${field} "${value.trim()}" is not an account in this QuickBooks company; name an account by its Name, FullyQualifiedName (Parent:Child) or Id${suggestionsFor(role, value)}`,
      );
      return undefined;
    }
    if (!found.ok) {
      problems.add(entry, `${field} ${found.message}`);
      return undefined;
    }
    const a = found.item;
    const label = `${field} "${value.trim()}"${nameKey(a.fullyQualifiedName) !== nameKey(value) ? ` (${a.fullyQualifiedName})` : ''}`;
    if (!a.active) {
      problems.add(
        entry,
        `${label} is inactive in QuickBooks; reactivate it (Chart of accounts → include inactive → Make active) or name an active account${suggestionsFor(role, value)}`,
      );
      return undefined;
    }
    const why = refusal(role, a);
    if (why) {
      const choose = why.wrongType ? '' : `; choose ${ROLE[role].examples}`;
      problems.add(entry, `${label} ${why.text}${choose}${suggestionsFor(role, value)}`);
      return undefined;
    }
    return { value: a.id, name: a.fullyQualifiedName };
  };

  const deposit = account('quickbooks.depositAccount', 'depositAccount', q.depositAccount, 'deposit');
  const processing = account(
    'quickbooks.processingFeesAccount',
    'processingFeesAccount',
    q.processingFeesAccount,
    'fees',
  );
  const platform =
    q.platformFeesAccount !== undefined
      ? account('quickbooks.platformFeesAccount', 'platformFeesAccount', q.platformFeesAccount, 'fees')
      : processing;
  const disputes =
    q.disputesAccount !== undefined
      ? account('quickbooks.disputesAccount', 'disputesAccount', q.disputesAccount, 'disputes')
      : undefined;
  const adjustments = account(
    'quickbooks.adjustmentsAccount',
    'adjustmentsAccount',
    q.adjustmentsAccount,
    'adjustments',
  );
  const uncategorized =
    q.uncategorizedAccount !== undefined
      ? account(
          'quickbooks.uncategorizedAccount',
          'uncategorizedAccount',
          q.uncategorizedAccount,
          'uncategorized',
        )
      : undefined;

  const depositCurrency = chart.accounts.find((a) => a.id === deposit?.value)?.currency;
  const walkIn =
    q.walkInCustomer !== undefined
      ? resolveWalkIn(q.walkInCustomer, chart, { ...opts, depositCurrency }, problems)
      : undefined;

  const revenue: RevenueMapping[] = [];
  const seen = new Map<string, number>();
  tenant.revenue.forEach((r, i) => {
    const entry = `revenue[${i}]`;
    const key = `${nameKey(r.category)}\u0000${nameKey(r.subcategory ?? '')}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.add(
        entry,
        `category "${r.category}"${r.subcategory !== undefined ? ` / subcategory "${r.subcategory}"` : ''} is already mapped by revenue[${first}]; remove one of the two`,
      );
    } else seen.set(key, i);
    const acct = account(entry, 'account', r.account, 'revenue');
    let cls: Ref | undefined;
    if (r.class !== undefined) cls = resolveClass(`${entry}.class`, r.class, chart, problems);
    if (acct) {
      revenue.push({
        category: r.category.trim(),
        ...(r.subcategory !== undefined ? { subcategory: r.subcategory.trim() } : {}),
        account: acct,
        ...(cls ? { class: cls } : {}),
      });
    }
  });

  if (problems.size > 0 || !deposit || !processing || !platform || !adjustments) {
    return { ok: false, problems: problems.list() };
  }
  const depositAccount = chart.accounts.find((a) => a.id === deposit.value);
  return {
    ok: true,
    books: {
      tenantId: tenant.id,
      stripeAccount: tenant.stripeAccount,
      realmId: q.realmId,
      depositAccount: {
        ...deposit,
        ...(depositAccount?.currency !== undefined
          ? { currency: depositAccount.currency.toUpperCase() }
          : {}),
      },
      processingFeesAccount: processing,
      platformFeesAccount: platform,
      ...(disputes ? { disputesAccount: disputes } : {}),
      adjustmentsAccount: adjustments,
      ...(uncategorized ? { uncategorizedAccount: uncategorized } : {}),
      ...(walkIn ? { walkInCustomer: walkIn } : {}),
      lineDetail: q.lineDetail ?? 'customer',
      maxDepositLines: q.maxDepositLines ?? 1000,
      closedPeriod: q.closedPeriod ?? 'hold',
      revenue,
      company: {
        homeCurrency: chart.company.homeCurrency.toUpperCase(),
        multicurrency: chart.company.multicurrency,
        classTrackingPerTxnLine: chart.company.classTrackingPerTxnLine,
      },
    },
  };
}

/** Why an account cannot serve `role`, or undefined when it can. */
function refusal(role: Role, a: QboAccount): { text: string; wrongType: boolean } | undefined {
  const type = typeKey(a.accountType);
  if (typeKey(a.accountSubType) === UNDEPOSITED_FUNDS) {
    return {
      text: `is Undeposited Funds (detail type UndepositedFunds), a holding account for payments not yet deposited, and cannot receive ${ROLE[role].what}`,
      wrongType: false,
    };
  }
  const forbidden = FORBIDDEN.get(type);
  if (forbidden) {
    return {
      text: `is ${forbidden} (${a.accountType}) and cannot receive ${ROLE[role].what}`,
      wrongType: false,
    };
  }
  if (role === 'deposit' && type !== BANK && type !== OTHER_CURRENT_ASSET) {
    return {
      text: `is ${article(a.accountType)} ${a.accountType} account; the deposit account must be a Bank or Other Current Asset account`,
      wrongType: true,
    };
  }
  if (role === 'revenue' && type !== INCOME && type !== OTHER_INCOME) {
    return {
      text: `is ${article(a.accountType)} ${a.accountType} account; a revenue account must be an Income or Other Income account`,
      wrongType: true,
    };
  }
  return undefined;
}

const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

function isUsable(role: Role, a: QboAccount): boolean {
  return refusal(role, a) === undefined;
}

function resolveClass(entry: string, value: string, chart: QboChart, problems: Problems): Ref | undefined {
  if (!chart.company.classTrackingPerTxnLine) {
    problems.add(
      entry,
      `class "${value.trim()}" cannot be used: this QuickBooks company does not track classes per transaction line (Preferences ClassTrackingPerTxnLine is off). Turn on class tracking with "one to each row in transaction" (Settings → Account and settings → Advanced → Categories), or remove the class`,
    );
    return undefined;
  }
  const found = find<QboClass>(value, chart.classes, 'class');
  if (!found) {
    const close = closeNames(value, chart.classes, (c) => c.active);
    problems.add(
      entry,
      `class "${value.trim()}" is not a class in this QuickBooks company${close.length > 0 ? `; did you mean ${quoteList(close)}?` : ''}. Name a class by its Name, FullyQualifiedName or Id, or create it in QuickBooks`,
    );
    return undefined;
  }
  if (!found.ok) {
    problems.add(entry, `class ${found.message}`);
    return undefined;
  }
  if (!found.item.active) {
    problems.add(
      entry,
      `class "${value.trim()}" is inactive in QuickBooks; reactivate it (Settings → All lists → Classes) or name an active class`,
    );
    return undefined;
  }
  return { value: found.item.id, name: found.item.fullyQualifiedName };
}

function resolveWalkIn(
  value: string,
  chart: QboChart,
  opts: { walkInCustomer?: QboCustomer; depositCurrency?: string | undefined },
  problems: Problems,
): Ref | undefined {
  const entry = 'quickbooks.walkInCustomer';
  const v = value.trim();
  const customer =
    opts.walkInCustomer ??
    chart.customers?.find((c) => c.id === v) ??
    chart.customers?.find((c) => nameKey(c.displayName) === nameKey(v));
  if (!customer) {
    problems.add(
      entry,
      `walkInCustomer "${v}" is not a customer in this QuickBooks company; create a customer with that DisplayName in QuickBooks, fix the name, or remove walkInCustomer`,
    );
    return undefined;
  }
  if (!customer.active) {
    problems.add(
      entry,
      `walkInCustomer "${v}" is inactive in QuickBooks; reactivate the customer or name an active one`,
    );
    return undefined;
  }
  // The tenant's entries are in the deposit account's currency; a line may name a customer only in that or the home
  // currency (CONTRACT §4), else QuickBooks refuses every entry that uses the walk-in customer.
  const home = chart.company.homeCurrency.toUpperCase();
  const usable = [...new Set([home, (opts.depositCurrency ?? home).toUpperCase()])];
  const currency = customer.currency?.toUpperCase();
  if (chart.company.multicurrency && currency !== undefined && !usable.includes(currency)) {
    problems.add(
      entry,
      `walkInCustomer "${v}" is in ${currency}; this tenant's entries can name only ${usable.join(' or ')} customers; name a customer in ${home}`,
    );
    return undefined;
  }
  return { value: customer.id, name: customer.displayName };
}
