import { describe, expect, it } from 'vitest';
import { toNdjsonLine, toSseComment, toSseData, toStreamFrames } from './mock-answer.ts';

const parts = { head: ['h'], tokens: ['t0', 't1', 't2'], tail: ['finish', 'done'], errorFrames: ['err'] };

describe('mock stream frames', () => {
  it('writes head, tokens and tail when no stream directive is given', () => {
    expect(toStreamFrames(parts, {})).toEqual({
      frames: ['h', 't0', 't1', 't2', 'finish', 'done'],
      dropConnection: false,
    });
  });

  it('replaces the rest with the error frames after N tokens and ends normally', () => {
    expect(toStreamFrames(parts, { streamErrorAfter: 1 })).toEqual({
      frames: ['h', 't0', 'err'],
      dropConnection: false,
    });
  });

  it('stops after N tokens and asks for the connection to be dropped for cut_after', () => {
    expect(toStreamFrames(parts, { cutAfter: 2 })).toEqual({
      frames: ['h', 't0', 't1'],
      dropConnection: true,
    });
  });

  it('fires before the tail when the answer has fewer tokens than N', () => {
    expect(toStreamFrames(parts, { streamErrorAfter: 10 }).frames).toEqual(['h', 't0', 't1', 't2', 'err']);
    expect(toStreamFrames(parts, { cutAfter: 10 })).toEqual({
      frames: ['h', 't0', 't1', 't2'],
      dropConnection: true,
    });
  });

  it('lets the earlier directive win, the error on a tie', () => {
    expect(toStreamFrames(parts, { cutAfter: 1, streamErrorAfter: 2 }).dropConnection).toBe(true);
    expect(toStreamFrames(parts, { cutAfter: 2, streamErrorAfter: 2 }).frames.at(-1)).toBe('err');
  });

  it('frames SSE data, SSE comments and NDJSON lines', () => {
    expect(toSseData({ a: 1 })).toBe('data: {"a":1}\n\n');
    expect(toSseData('[DONE]')).toBe('data: [DONE]\n\n');
    expect(toSseComment('keep-alive')).toBe(': keep-alive\n\n');
    expect(toNdjsonLine({ done: true })).toBe('{"done":true}\n');
  });
});
