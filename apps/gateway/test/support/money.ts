/** Exact USD decimal string -> integer nano-USD; refuses anything finer than 1e-9. */
export function toNanoUsd(usd: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(usd);
  if (!match) throw new Error(`not a plain decimal: ${usd}`);
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  if (fraction.length > 9) throw new Error(`${usd} is finer than 1e-9 USD`);
  const nanos = BigInt(match[2]!) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
  return match[1] ? -nanos : nanos;
}
