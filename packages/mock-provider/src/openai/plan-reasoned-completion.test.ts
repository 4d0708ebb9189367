import { describe, expect, it } from 'vitest';
import { planReasonedCompletion } from './plan-reasoned-completion.ts';

const request = (content: string, extra = {}) => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('mock reasoned completions', () => {
  it('adds the 8 reasoning tokens to completion and reasoning tokens', () => {
    const plan = planReasonedCompletion(request('hi [mock:reply_tokens=3]'), true);
    expect(plan.reasoning).toHaveLength(8);
    expect(plan.tokens).toHaveLength(3);
    expect(plan.usage).toMatchObject({
      completion_tokens: 11,
      total_tokens: plan.usage.prompt_tokens + 11,
      completion_tokens_details: { reasoning_tokens: 8 },
    });
  });

  it('caps reasoning and answer together with max_tokens', () => {
    const capped = planReasonedCompletion(request('hi', { max_tokens: 10 }), true);
    expect([capped.reasoning.length, capped.tokens.length, capped.finishReason]).toEqual([8, 2, 'length']);
    const cut = planReasonedCompletion(request('hi [mock:reply_tokens=0]', { max_tokens: 5 }), true);
    expect([cut.reasoning.length, cut.tokens.length, cut.finishReason]).toEqual([5, 0, 'length']);
  });

  it('is the plain plan without reasoning', () => {
    const plan = planReasonedCompletion(request('hi [mock:reply_tokens=3]'), false);
    expect(plan.reasoning).toEqual([]);
    expect(plan.usage.completion_tokens).toBe(3);
  });
});
