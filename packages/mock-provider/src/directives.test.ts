import { describe, expect, it } from 'vitest';
import { readDirectives } from './directives.ts';

describe('mock directives', () => {
  it('reads numeric directives, cache writes and a tool name across texts', () => {
    expect(
      readDirectives([
        'a [mock:cached_tokens=5] [mock:cache_write_tokens=30]',
        '[mock:cache_write_1h_tokens=20] [mock:tool_call=get_weather] [mock:error=529]',
        '[mock:prompt_tokens=1500]',
      ]),
    ).toEqual({
      promptTokens: 1500,
      cachedTokens: 5,
      cacheWriteTokens: 30,
      cacheWrite1hTokens: 20,
      toolCall: 'get_weather',
      errorStatus: 529,
    });
  });

  it('ignores unknown and malformed directives', () => {
    expect(readDirectives(['[mock:nope=1] [mock:reply_tokens=x] [mock:tool_call=]'])).toEqual({});
  });
});
