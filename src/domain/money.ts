/**
 * Money: integers in minor units (`Minor`) everywhere, turned into a decimal only at the QuickBooks edge,
 * by string arithmetic on the currency's exponent (never by dividing floats).
 */
import type { Minor } from './types.js';

/** Currencies without minor units (Stripe's zero-decimal list). */
export const ZERO_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);

/** Currencies with three decimals (Stripe's three-decimal list). */
export const THREE_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/** The number of decimals of an ISO currency code (any case): 0, 2 or 3. */
export function currencyExponent(code: string): 0 | 2 | 3 {
  const upper = code.trim().toUpperCase();
  if (ZERO_DECIMAL_CURRENCIES.has(upper)) return 0;
  if (THREE_DECIMAL_CURRENCIES.has(upper)) return 3;
  return 2;
}

/** Throws unless `n` is a safe integer (a valid number of minor units). Returns it, typed. */
export function assertMinor(n: number, what = 'amount'): Minor {
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(
      `${what} must be a whole number of minor units within ±${Number.MAX_SAFE_INTEGER}, got ${n}`,
    );
  }
  return n;
}

/** `scaled` (an integer of 10^-exponent units) as an exact decimal string: (123456, 2) → "1234.56". */
export function scaledToDecimalString(scaled: number, exponent: number): string {
  assertMinor(scaled);
  const sign = scaled < 0 ? '-' : '';
  const digits = String(Math.abs(scaled));
  if (exponent === 0) return `${sign}${digits}`;
  const padded = digits.padStart(exponent + 1, '0');
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/** `minor` as an exact decimal string by the currency's exponent: 123456 USD → "1234.56", -5 KWD → "-0.005". */
export function toDecimalString(minor: Minor, currency: string): string {
  return scaledToDecimalString(minor, currencyExponent(currency));
}

/** The QuickBooks `Amount`: the exact decimal as a JSON number (123456 USD → 1234.56, JPY 1500 → 1500). */
export function toQboAmount(minor: Minor, currency: string): number {
  return Number(toDecimalString(minor, currency));
}

/**
 * A decimal number (as QuickBooks sends it) as an integer of 10^-exponent units, by string arithmetic.
 * Throws when it has more decimals than `exponent`.
 */
export function decimalToScaled(amount: number, exponent: number): number {
  if (!Number.isFinite(amount)) throw new RangeError(`amount ${amount} is not a finite number`);
  // String() gives the shortest decimal that reads back as the same number: exactly what was sent.
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(amount));
  if (match === null) {
    throw new RangeError(
      Math.abs(amount) < 1
        ? `amount ${amount} has more than ${exponent} decimals`
        : `amount ${amount} is too large`,
    );
  }
  const sign = match[1] ?? '';
  const whole = match[2] ?? '0';
  const fraction = match[3] ?? '';
  if (fraction.length > exponent) {
    throw new RangeError(`amount ${amount} has more than ${exponent} decimals`);
  }
  const value = Number(`${whole}${fraction.padEnd(exponent, '0')}`);
  return assertMinor(sign === '-' && value !== 0 ? -value : value);
}

/** The inverse of `toQboAmount`: 1234.56 USD → 123456. Throws when the amount has too many decimals. */
export function fromQboAmount(amount: number, currency: string): Minor {
  return decimalToScaled(amount, currencyExponent(currency));
}

/** For people: "1,234.56 USD", "-0.005 KWD", "1,500 JPY". */
export function formatMinor(minor: Minor, currency: string): string {
  const decimal = toDecimalString(minor, currency);
  const negative = decimal.startsWith('-');
  const unsigned = negative ? decimal.slice(1) : decimal;
  const [whole = '0', fraction] = unsigned.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`} ${currency.toUpperCase()}`;
}

/**
 * Splits `total` in proportion to `weights` (non-negative integers) so the parts sum exactly to `total`
 * (largest-remainder method). Works for negative totals (the split of −T is the negation of the split of T).
 * Ties in remainder go to the earlier index. All-zero weights split evenly. Exact for any safe integers
 * (BigInt arithmetic).
 */
export function splitLargestRemainder(total: Minor, weights: readonly Minor[]): Minor[] {
  assertMinor(total, 'total');
  if (weights.length === 0) {
    if (total === 0) return [];
    throw new RangeError(`cannot split ${total} over no parts`);
  }
  for (const [i, w] of weights.entries()) {
    assertMinor(w, `weight ${i}`);
    if (w < 0) throw new RangeError(`weights must not be negative (weight ${i} is ${w})`);
  }
  const allZero = weights.every((w) => w === 0);
  const ws = weights.map((w) => BigInt(allZero ? 1 : w));
  const sum = ws.reduce((a, b) => a + b, 0n);
  const magnitude = BigInt(Math.abs(total));
  const quotients = ws.map((w) => (magnitude * w) / sum);
  const remainders = ws.map((w) => (magnitude * w) % sum);
  let left = magnitude - quotients.reduce((a, b) => a + b, 0n);
  const order = remainders
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1))
    .map((x) => x.i);
  for (const i of order) {
    if (left === 0n) break;
    quotients[i] = (quotients[i] ?? 0n) + 1n;
    left -= 1n;
  }
  const sign = total < 0 ? -1 : 1;
  return quotients.map((q) => {
    const n = Number(q) * sign;
    return n === 0 ? 0 : n; // never -0
  });
}

/** Σ of minor amounts, checked to stay a safe integer. */
export function sumMinor(values: Iterable<Minor>): Minor {
  let total = 0;
  for (const v of values) total += v;
  return assertMinor(total, 'sum');
}
