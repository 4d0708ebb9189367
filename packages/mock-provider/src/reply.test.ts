import { describe, expect, it } from 'vitest';
import { countTextTokens, reasoningTokens, replyTokens, toFillInTokens } from './reply.ts';

describe('mock reply helpers', () => {
  it('reasons in the same 8 tokens every time', () => {
    expect(reasoningTokens()).toHaveLength(8);
    expect(reasoningTokens().join('')).toBe('Reasoning about the request before the mock replies.');
  });

  it('counts raw text at four characters a token, at least one', () => {
    expect(countTextTokens('')).toBe(1);
    expect(countTextTokens('hello')).toBe(2);
    expect(countTextTokens('12345678')).toBe(2);
  });

  it('marks a fill-in by replacing the first token with the quoted suffix', () => {
    expect(toFillInTokens(replyTokens(3), 'END\n').join('')).toBe('[fill-in before "END\\n"] is a');
    expect(toFillInTokens([], 'x')).toEqual([]);
  });
});
