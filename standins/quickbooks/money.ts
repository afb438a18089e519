/**
 * Amounts inside the stand-in are integers in minor units, so totals and debit/credit balances are exact.
 * QuickBooks JSON carries decimals; a value with more decimals than its currency allows is refused.
 */
const ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'ISK',
  'JPY',
  'KMF',
  'KRW',
  'PYG',
  'RWF',
  'UGX',
  'UYI',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
const THREE_DECIMAL = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

const CURRENCY_NAMES: Record<string, string> = {
  USD: 'United States Dollar',
  CAD: 'Canadian Dollar',
  EUR: 'Euro',
  GBP: 'British Pound Sterling',
  AUD: 'Australian Dollar',
  NZD: 'New Zealand Dollar',
  JPY: 'Japanese Yen',
  KWD: 'Kuwaiti Dinar',
  CHF: 'Swiss Franc',
  MXN: 'Mexican Peso',
  INR: 'Indian Rupee',
};

export function currencyDecimals(currency: string): number {
  const c = currency.toUpperCase();
  if (ZERO_DECIMAL.has(c)) return 0;
  if (THREE_DECIMAL.has(c)) return 3;
  return 2;
}

export function currencyName(currency: string): string {
  return CURRENCY_NAMES[currency.toUpperCase()] ?? currency.toUpperCase();
}

export type AmountResult = { ok: true; minor: number } | { ok: false; reason: string };

/**
 * Converts a JSON amount to minor units. Accepts a number or a plain decimal string (Jackson, which QuickBooks
 * uses, coerces those); refuses exponents, NaN and more decimals than the currency has.
 */
export function toMinor(value: number | string, currency: string): AmountResult {
  const decimals = currencyDecimals(currency);
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (typeof value === 'number' && !Number.isFinite(value))
    return { ok: false, reason: 'is not a finite number' };
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return { ok: false, reason: `"${text}" is not a plain decimal number` };
  const [, sign, whole = '0', fraction = ''] = m;
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > decimals) {
    return {
      ok: false,
      reason: `${text} has ${trimmed.length} decimal places; ${currency.toUpperCase()} allows ${decimals}`,
    };
  }
  const minor = Number(whole) * 10 ** decimals + (trimmed ? Number(trimmed.padEnd(decimals, '0')) : 0);
  if (!Number.isSafeInteger(minor)) return { ok: false, reason: `${text} is too large` };
  return { ok: true, minor: sign === '-' && minor !== 0 ? -minor : minor };
}

/** Minor units back to the JSON number QuickBooks shows. */
export function fromMinor(minor: number, currency: string): number {
  const decimals = currencyDecimals(currency);
  return Number((minor / 10 ** decimals).toFixed(decimals));
}
