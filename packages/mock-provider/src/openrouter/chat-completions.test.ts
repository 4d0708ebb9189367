import { describe, expect, it } from 'vitest';
import {
  answerOpenRouterChat,
  type MockOpenRouterChatRequest,
  planOpenRouterCompletion,
  toOpenRouterCompletionBody,
  toOpenRouterCost,
  toOpenRouterErrorBody,
  toOpenRouterStreamParts,
} from './chat-completions.ts';

const request = (
  content: string,
  extra: Partial<MockOpenRouterChatRequest> = {},
): MockOpenRouterChatRequest => ({
  model: 'openai/gpt-4o',
  messages: [{ role: 'user', content }],
  ...extra,
});

const payloads = (frames: string[]) =>
  frames
    .flatMap((frame) => frame.split('\n\n').filter((f) => f !== ''))
    .map((f) => (f.startsWith('data: {') ? JSON.parse(f.slice('data: '.length)) : f));

describe('mock OpenRouter cost', () => {
  it('charges 1e-6 USD per prompt token and 2e-6 per completion token, split in cost_details', () => {
    expect(toOpenRouterCost(194, 2)).toEqual({
      cost: 0.000198,
      is_byok: false,
      cost_details: {
        upstream_inference_cost: null,
        upstream_inference_prompt_cost: 0.000194,
        upstream_inference_completions_cost: 0.000004,
      },
    });
    expect(toOpenRouterCost(1_234_567, 7_654_321).cost).toBe(16.543209);
  });
});

describe('mock OpenRouter answers', () => {
  it('answers a §8.3 body with gen- id, provider and usage with cost', () => {
    const plan = planOpenRouterCompletion(
      request('hi [mock:reply_tokens=3] [mock:cached_tokens=2] [mock:cache_write_tokens=4]'),
    );
    const body = toOpenRouterCompletionBody(plan);
    expect(body.id).toMatch(/^gen-\d+-[A-Za-z0-9]{20}$/);
    expect(body).toMatchObject({
      provider: 'OpenAI',
      model: 'openai/gpt-4o',
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          logprobs: null,
          finish_reason: 'stop',
          native_finish_reason: 'stop',
          message: { role: 'assistant', content: 'This is a', refusal: null, reasoning: null },
        },
      ],
      usage: {
        completion_tokens: 3,
        prompt_tokens_details: { cached_tokens: 2, cache_write_tokens: 4, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, image_tokens: 0 },
        ...toOpenRouterCost(plan.usage.prompt_tokens, 3),
      },
    });
  });

  it('reasons when asked, bills the reasoning, and withholds its text for exclude', () => {
    const shown = planOpenRouterCompletion(
      request('hi [mock:reply_tokens=1]', { reasoning: { effort: 'high' } }),
    );
    expect(toOpenRouterCompletionBody(shown).choices[0]!.message).toMatchObject({
      reasoning: 'Reasoning about the request before the mock replies.',
      reasoning_details: [{ type: 'reasoning.text' }],
    });
    expect(shown.usage.completion_tokens_details.reasoning_tokens).toBe(8);
    const hidden = planOpenRouterCompletion(request('hi', { reasoning: { effort: 'high', exclude: true } }));
    expect(toOpenRouterCompletionBody(hidden).choices[0]!.message.reasoning).toBeNull();
    expect(hidden.usage.completion_tokens_details.reasoning_tokens).toBe(8);
    expect(planOpenRouterCompletion(request('hi', { reasoning_effort: 'none' })).reasoning).toEqual([]);
  });

  it('streams the processing comment first, delta.reasoning, content, and usage with cost without include_usage', () => {
    const plan = planOpenRouterCompletion(request('hi [mock:reply_tokens=2]', { include_reasoning: true }));
    const parts = toOpenRouterStreamParts(plan);
    const all = payloads([...parts.head, ...parts.tokens, ...parts.tail]);
    expect(all[0]).toBe(': OPENROUTER PROCESSING');
    const deltas = all.slice(1, -3).map((c) => c.choices[0].delta);
    expect(deltas.map((d) => d.reasoning ?? d.content).join('')).toBe(
      'Reasoning about the request before the mock replies.This is',
    );
    expect(all.at(-3).choices[0]).toMatchObject({ finish_reason: 'stop', native_finish_reason: 'stop' });
    expect(all.at(-2)).toMatchObject({ provider: 'OpenAI', choices: [], usage: { cost: plan.usage.cost } });
    expect(all.at(-1)).toBe('data: [DONE]');
  });

  it("ends a failing stream with OpenRouter's error chunk and no [DONE]", () => {
    const answer = answerOpenRouterChat({ ...request('x [mock:stream_error_after=2]'), stream: true });
    if (answer.kind !== 'stream') throw new Error(`expected a stream, got ${answer.kind}`);
    const last = payloads(answer.frames).at(-1);
    expect(last).toMatchObject({
      object: 'chat.completion.chunk',
      provider: 'OpenAI',
      error: { code: 'server_error', message: 'Provider disconnected unexpectedly' },
      choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
    });
    expect(answer.frames.some((f) => f.includes('[DONE]'))).toBe(false);
    expect(answer.headers?.['x-generation-id']).toMatch(/^gen-/);
  });

  it('renders errors as {error: {code, message}} with the status as code', () => {
    expect(answerOpenRouterChat(request('x [mock:error=402]'))).toEqual({ kind: 'error', status: 402 });
    expect(toOpenRouterErrorBody(402)).toEqual({
      error: { code: 402, message: 'Insufficient credits. Add more using https://openrouter.ai/credits' },
    });
  });

  it('names the provider from the vendor prefix, Mock for unknown ones', () => {
    expect(planOpenRouterCompletion(request('x', { model: 'anthropic/claude-3.5-sonnet' })).provider).toBe(
      'Anthropic',
    );
    expect(planOpenRouterCompletion(request('x', { model: 'openrouter/auto' })).provider).toBe('Mock');
  });
});
