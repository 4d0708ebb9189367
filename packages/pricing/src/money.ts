import { decimal, plain, plus } from './decimal.ts';

/** Adds exact decimal USD amounts given as strings; returns a plain decimal string. */
export function addUsd(...amounts: string[]): string {
  return plain(amounts.map((amount) => decimal(amount, false)).reduce(plus, decimal('0')));
}
