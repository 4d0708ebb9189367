import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AnthropicUsageTap } from './usage-tap.ts';

const transcript = readFileSync(new URL('./__fixtures__/message-stream.txt', import.meta.url), 'utf8');

describe('AnthropicUsageTap', () => {
  it('reads usage from a relayed stream fed in arbitrary pieces', () => {
    const tap = new AnthropicUsageTap();
    const bytes = new TextEncoder().encode(transcript);
    for (let i = 0; i < bytes.length; i += 37) tap.feed(bytes.subarray(i, i + 37));
    expect(tap).toMatchObject({ id: 'msg_01XF', model: 'claude-3-5-sonnet-20240620', finished: true });
    expect(tap.usage).toEqual({
      inputTokens: 2512,
      outputTokens: 57,
      cacheReadTokens: 1800,
      cacheWriteTokens: 300,
      cacheWrite1hTokens: 0,
    });
  });

  it('knows the input side of a stream cut before message_delta', () => {
    const tap = new AnthropicUsageTap();
    tap.feed(new TextEncoder().encode(transcript.split('event: message_delta')[0]));
    expect(tap.finished).toBe(false);
    expect(tap.usage).toEqual({
      inputTokens: 2512,
      cacheReadTokens: 1800,
      cacheWriteTokens: 300,
      cacheWrite1hTokens: 0,
    });
  });
});
