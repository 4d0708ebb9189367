import Big from 'big.js';

/** Adds exact decimal USD amounts given as strings; returns a plain decimal string. */
export function addUsd(...amounts: string[]): string {
  return amounts.reduce((sum, amount) => sum.plus(amount), new Big(0)).toFixed();
}
