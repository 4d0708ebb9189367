import { describe, expect, it } from 'vitest';
import { planCompletion, toStreamPayloads } from './chat-completions.ts';

describe('mock OpenAI chat completions', () => {
  const request = (content: string, extra = {}) => ({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content }],
    ...extra,
  });

  it('reports directive-chosen cached tokens inside prompt_tokens', () => {
    const plan = planCompletion(request('a long enough prompt [mock:cached_tokens=5]'));
    expect(plan.usage.prompt_tokens_details.cached_tokens).toBe(5);
    expect(plan.usage.prompt_tokens).toBeGreaterThanOrEqual(5);
    expect(plan.usage.total_tokens).toBe(plan.usage.prompt_tokens + plan.usage.completion_tokens);
  });

  it('stops at max_tokens with finish_reason length', () => {
    const plan = planCompletion(request('hi', { max_tokens: 3 }));
    expect(plan.tokens).toHaveLength(3);
    expect(plan.finishReason).toBe('length');
  });

  it('streams one chunk per token and a usage chunk only when asked', () => {
    const plan = planCompletion(request('hi [mock:reply_tokens=4]'));
    const withUsage = toStreamPayloads(plan, true);
    // role chunk + 4 tokens + finish + usage + [DONE]
    expect(withUsage).toHaveLength(8);
    expect(JSON.parse(withUsage[6]!)).toMatchObject({ choices: [], usage: { completion_tokens: 4 } });
    expect(withUsage.at(-1)).toBe('[DONE]');
    const without = toStreamPayloads(plan, false);
    expect(without).toHaveLength(7);
    expect(without.some((p) => p.includes('usage'))).toBe(false);
  });
});

describe('mock mid-stream failures', () => {
  it('replaces the rest of the stream with an error payload after N tokens', () => {
    const plan = planCompletion({
      model: 'm',
      messages: [{ role: 'user', content: 'x [mock:stream_error_after=2]' }],
    });
    const payloads = toStreamPayloads(plan, true);
    expect(payloads).toHaveLength(4);
    expect(JSON.parse(payloads.at(-1)!)).toMatchObject({ error: { type: 'server_error' } });
  });
});
