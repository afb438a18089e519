import fc from 'fast-check';
import {
  assertMinor,
  currencyExponent,
  decimalToScaled,
  formatMinor,
  fromQboAmount,
  splitLargestRemainder,
  sumMinor,
  toDecimalString,
  toQboAmount,
} from '../../src/domain/money.js';

describe('currencyExponent', () => {
  it.each([
    ['usd', 2],
    ['EUR', 2],
    ['jpy', 0],
    ['KRW', 0],
    ['xpf', 0],
    ['kwd', 3],
    ['BHD', 3],
    ['tnd', 3],
    ['ZZZ', 2],
  ])('%s has %i decimals', (code, exponent) => {
    expect(currencyExponent(code)).toBe(exponent);
  });
});

describe('toQboAmount / toDecimalString', () => {
  it.each([
    [123456, 'usd', '1234.56', 1234.56],
    [-123456, 'usd', '-1234.56', -1234.56],
    [5, 'usd', '0.05', 0.05],
    [-5, 'kwd', '-0.005', -0.005],
    [1234567, 'KWD', '1234.567', 1234.567],
    [1500, 'jpy', '1500', 1500],
    [-1500, 'JPY', '-1500', -1500],
    [0, 'usd', '0.00', 0],
    [100, 'usd', '1.00', 1],
    [9007199254740991, 'usd', '90071992547409.91', 90071992547409.91],
  ])('%i %s → %s', (minor, currency, decimal, amount) => {
    expect(toDecimalString(minor, currency)).toBe(decimal);
    expect(toQboAmount(minor, currency)).toBe(amount);
  });

  it('refuses amounts that are not safe integers', () => {
    expect(() => toQboAmount(1.5, 'usd')).toThrow(/whole number of minor units/);
    expect(() => toQboAmount(2 ** 53, 'usd')).toThrow(RangeError);
  });

  it('round-trips through fromQboAmount for every currency class (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e13, max: 1e13 }),
        fc.constantFrom('usd', 'jpy', 'kwd', 'eur'),
        (minor, currency) => fromQboAmount(toQboAmount(minor, currency), currency) === minor,
      ),
      { numRuns: 1000 },
    );
  });

  it('fromQboAmount refuses extra decimals', () => {
    expect(() => fromQboAmount(0.001, 'usd')).toThrow(/more than 2 decimals/);
    expect(() => fromQboAmount(1.5, 'jpy')).toThrow(/more than 0 decimals/);
    expect(decimalToScaled(-0.005, 3)).toBe(-5);
  });
});

describe('formatMinor', () => {
  it.each([
    [123456, 'usd', '1,234.56 USD'],
    [-123456789, 'usd', '-1,234,567.89 USD'],
    [5, 'kwd', '0.005 KWD'],
    [1500000, 'jpy', '1,500,000 JPY'],
    [0, 'eur', '0.00 EUR'],
    [99999, 'usd', '999.99 USD'],
  ])('%i %s → %s', (minor, currency, text) => {
    expect(formatMinor(minor, currency)).toBe(text);
  });
});

describe('assertMinor / sumMinor', () => {
  it('accepts safe integers and rejects the rest', () => {
    expect(assertMinor(-42)).toBe(-42);
    expect(() => assertMinor(0.1, 'fee')).toThrow(/fee must be a whole number/);
    expect(() => assertMinor(Number.NaN)).toThrow(RangeError);
    expect(sumMinor([1, 2, -3, 10])).toBe(10);
  });
});

describe('splitLargestRemainder', () => {
  it.each([
    [100, [1, 1, 1], [34, 33, 33]],
    [-100, [1, 1, 1], [-34, -33, -33]],
    [7, [3, 0, 4], [3, 0, 4]],
    [10, [0, 0], [5, 5]],
    [1, [1, 1], [1, 0]],
    [-1, [1, 1], [-1, 0]],
    [0, [5, 7], [0, 0]],
    [999, [2000, 3000, 5000], [200, 300, 499]],
    [-850, [2000, 3000, 5000], [-170, -255, -425]],
    [101, [50, 50, 1], [50, 50, 1]],
  ])('splits %i over %j as %j', (total, weights, parts) => {
    expect(splitLargestRemainder(total, weights)).toEqual(parts);
  });

  it('is exact for very large safe integers', () => {
    const parts = splitLargestRemainder(Number.MAX_SAFE_INTEGER, [Number.MAX_SAFE_INTEGER - 1, 1, 1]);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses negative weights and empty weights with a total', () => {
    expect(() => splitLargestRemainder(10, [1, -1])).toThrow(/must not be negative/);
    expect(() => splitLargestRemainder(10, [])).toThrow(/no parts/);
    expect(splitLargestRemainder(0, [])).toEqual([]);
  });

  it('always sums exactly, keeps signs, stays within one unit of the exact share (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 12 }),
        (total, weights) => {
          const parts = splitLargestRemainder(total, weights);
          const sum = weights.reduce((a, b) => a + b, 0);
          expect(parts).toHaveLength(weights.length);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
          parts.forEach((p, i) => {
            expect(Number.isSafeInteger(p)).toBe(true);
            const exact = sum === 0 ? total / weights.length : (total * (weights[i] ?? 0)) / sum;
            expect(Math.abs(p - exact)).toBeLessThan(1 + 1e-6 * Math.abs(exact) + 1e-9);
            if (p !== 0) expect(Math.sign(p)).toBe(Math.sign(total));
          });
          // Symmetric: the split of −T is the negation of the split of T.
          expect(splitLargestRemainder(-total, weights)).toEqual(parts.map((p) => (p === 0 ? 0 : -p)));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
