import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import { decimal, divided, plain, plus, times } from './decimal.ts';

describe('decimal', () => {
  it('reads and writes plain and exponent forms as big.js does', () => {
    for (const text of ['0', '2', '-2', '0.15', '0.000165', '1.50', '-0.5', '1.5e-7', '3e-6', '100', '0.0'])
      expect(plain(decimal(text))).toBe(new Big(text).toFixed());
    expect(() => decimal('abc')).toThrow();
  });

  it('agrees with big.js on sums, products with counts and divisions by powers of ten', () => {
    // A fixed pseudo-random sequence: the same cases on every run.
    let seed = 7;
    const next = () => {
      seed = (seed * 48271) % 2147483647;
      return seed;
    };
    // Up to 17 decimal places, so that divisions pass big.js's 20 and must round as it does.
    const priceOf = () => (next() % 10_000_000) / 10 ** (next() % 18);
    for (let i = 0; i < 2_000; i++) {
      const prices = [String(priceOf()), String(priceOf()), String(-priceOf())];
      const counts = [next() % 2_000_000, next() % 50_000, next() % 3];
      const digits = next() % 9;
      const ours = plain(
        divided(
          prices.map((price, j) => times(decimal(price), counts[j]!)).reduce((sum, term) => plus(sum, term)),
          digits,
        ),
      );
      const theirs = prices
        .map((price, j) => new Big(price).times(counts[j]!))
        .reduce((sum, term) => sum.plus(term))
        .div(new Big(10).pow(digits))
        .toFixed();
      expect(ours).toBe(theirs);
    }
  });

  it("rounds a quotient past 20 places half away from zero, as big.js's div did", () => {
    // A real catalog price (OpenRouter gemini-2.5-flash cache writes), per million tokens.
    const price = '0.08333333333333334';
    for (const count of [1, 3, 7, 12_345])
      expect(plain(divided(times(decimal(price), count), 6))).toBe(
        new Big(price).times(count).div(1_000_000).toFixed(),
      );
    expect(plain(divided(decimal('-0.000000000000000000015'), 0))).toBe('-0.00000000000000000002');
    expect(plain(divided(decimal('0.000000000000000000014'), 0))).toBe('0.00000000000000000001');
  });

  it('refuses a count that is not whole', () => {
    expect(() => times(decimal('1'), 1.5)).toThrow();
  });
});
