import Big from 'big.js';

/**
 * An exact decimal as a whole number of units of 10^-scale: `{ units: 165n, scale: 6 }` is
 * 0.000165. Pricing needs only sums, products with whole token counts and division by powers of
 * ten, which integers do exactly; this runs on every call, where a general decimal library
 * (big.js) allocated about a tenth of the gateway's garbage per call.
 */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

const PLAIN = /^(-?)(\d+)(?:\.(\d+))?$/;
const TRAILING_ZEROS = /0+$/;
// The same few prices are read on every call; the cap only guards against a surprise.
const MAX_MEMO = 10_000;
const memo = new Map<string, Decimal>();

/**
 * Reads a decimal string (`"0.15"`, `"-2"`; exponent forms such as `"1.5e-7"` too). Prices are
 * a small set read on every call and are kept; one-off amounts (running totals, a provider's
 * reported cost) pass `remember: false` so that they do not crowd the prices out.
 */
export function decimal(text: string, remember = true): Decimal {
  let value = memo.get(text);
  if (value === undefined) {
    const match = PLAIN.exec(text) ?? PLAIN.exec(new Big(text).toFixed());
    if (!match) throw new Error(`not a decimal number: ${text}`);
    const fraction = match[3] ?? '';
    value = { units: BigInt(`${match[1]}${match[2]}${fraction}`), scale: fraction.length };
    if (remember && memo.size < MAX_MEMO) memo.set(text, value);
  }
  return value;
}

/** `value` times a whole count (of tokens, requests, searches). */
export function times(value: Decimal, count: number): Decimal {
  if (!Number.isSafeInteger(count)) throw new Error(`not a whole count: ${count}`);
  return { units: value.units * BigInt(count), scale: value.scale };
}

export function plus(a: Decimal, b: Decimal): Decimal {
  if (a.scale === b.scale) return { units: a.units + b.units, scale: a.scale };
  const [fine, coarse] = a.scale > b.scale ? [a, b] : [b, a];
  return { units: fine.units + coarse.units * 10n ** BigInt(fine.scale - coarse.scale), scale: fine.scale };
}

/**
 * `value` divided by 10^digits, rounded half away from zero to at most `places` decimal places:
 * what big.js's `div` gave (20 places by default), so that costs read as they always have (a
 * price such as 0.08333333333333334 per million tokens has more places than that).
 */
export function divided(value: Decimal, digits: number, places = 20): Decimal {
  const scale = value.scale + digits;
  if (scale <= places) return { units: value.units, scale };
  const unit = 10n ** BigInt(scale - places);
  const negative = value.units < 0n;
  const magnitude = negative ? -value.units : value.units;
  let units = magnitude / unit;
  if ((magnitude % unit) * 2n >= unit) units += 1n;
  return { units: negative ? -units : units, scale: places };
}

/** Plain notation without trailing zeros, as big.js's `toFixed()`: `"0.000165"`, `"2"`, `"-0.5"`. */
export function plain(value: Decimal): string {
  const negative = value.units < 0n;
  let digits = (negative ? -value.units : value.units).toString();
  if (value.scale > 0) {
    digits = digits.padStart(value.scale + 1, '0');
    const whole = digits.slice(0, -value.scale);
    const fraction = digits.slice(-value.scale).replace(TRAILING_ZEROS, '');
    digits = fraction.length > 0 ? `${whole}.${fraction}` : whole;
  }
  return negative && digits !== '0' ? `-${digits}` : digits;
}
