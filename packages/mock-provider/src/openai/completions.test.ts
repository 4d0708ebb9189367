import { describe, expect, it } from 'vitest';
import {
  answerTextCompletion,
  type MockTextCompletionRequest,
  planTextCompletion,
  toTextCompletionBody,
  toTextCompletionStreamParts,
} from './completions.ts';

const request = (extra: Partial<MockTextCompletionRequest> = {}): MockTextCompletionRequest => ({
  model: 'gpt-3.5-turbo-instruct',
  prompt: 'Say hello',
  ...extra,
});

describe('mock OpenAI legacy completions', () => {
  it('answers a §1.5 text_completion body', () => {
    const plan = planTextCompletion(request({ prompt: 'Say [mock:reply_tokens=3]' }));
    const body = toTextCompletionBody(plan);
    expect(body).toEqual({
      id: expect.stringMatching(/^cmpl-/),
      object: 'text_completion',
      created: expect.any(Number),
      model: 'gpt-3.5-turbo-instruct',
      choices: [{ text: 'This is a', index: 0, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
  });

  it('stops at 16 tokens with finish_reason length when max_tokens is absent, as OpenAI does', () => {
    const plan = planTextCompletion(request());
    expect(plan.choices[0]!.tokens).toHaveLength(16);
    expect(plan.choices[0]!.finishReason).toBe('length');
    expect(planTextCompletion(request({ max_tokens: 100 })).choices[0]!.finishReason).toBe('stop');
  });

  it('answers a suffix with a fill-in and counts the suffix as prompt', () => {
    const plan = planTextCompletion(request({ prompt: 'def f(', suffix: 'return 1', max_tokens: 2 }));
    expect(toTextCompletionBody(plan).choices[0]!.text).toBe('[fill-in before "return 1"] is');
    expect(plan.usage.prompt_tokens).toBe(2 + 2);
  });

  it('answers one choice per prompt of a prompt list', () => {
    const body = toTextCompletionBody(planTextCompletion(request({ prompt: ['a', 'b'], max_tokens: 2 })));
    expect(body.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(body.usage.completion_tokens).toBe(4);
  });

  it('streams text chunks, a finish chunk, the usage chunk only when asked, then [DONE]', () => {
    const plan = planTextCompletion(request({ prompt: 'x [mock:reply_tokens=2]' }));
    const withUsage = toTextCompletionStreamParts(plan, true);
    const frames = [...withUsage.head, ...withUsage.tokens, ...withUsage.tail];
    expect(frames.every((f) => f.startsWith('data: ') && f.endsWith('\n\n'))).toBe(true);
    const payloads = frames.map((f) => f.slice('data: '.length, -2));
    expect(payloads.at(-1)).toBe('[DONE]');
    const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p));
    expect(chunks.map((c) => c.choices[0]?.text)).toEqual(['This', ' is', '', undefined]);
    expect(chunks[2].choices[0].finish_reason).toBe('stop');
    expect(chunks[3]).toMatchObject({
      object: 'text_completion',
      choices: [],
      usage: { completion_tokens: 2 },
    });
    const without = toTextCompletionStreamParts(plan, false);
    expect([...without.tokens, ...without.tail].some((f) => f.includes('usage'))).toBe(false);
  });

  it('is a 400 without a prompt', () => {
    expect(answerTextCompletion({ model: 'm' })).toMatchObject({ kind: 'error', status: 400 });
  });
});
