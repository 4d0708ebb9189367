import { describe, expect, it } from 'vitest';
import {
  answerDeepSeekChat,
  isDeepSeekThinking,
  type MockDeepSeekChatRequest,
  planDeepSeekCompletion,
  toDeepSeekCompletionBody,
  toDeepSeekErrorBody,
  toDeepSeekStreamParts,
} from './chat-completions.ts';

const request = (content: string, extra: Partial<MockDeepSeekChatRequest> = {}): MockDeepSeekChatRequest => ({
  model: 'deepseek-chat',
  messages: [{ role: 'user', content }],
  ...extra,
});

/** The JSON payloads of SSE frames; comments and `[DONE]` are returned as they are. */
const payloads = (frames: string[]) =>
  frames
    .flatMap((frame) => frame.split('\n\n').filter((f) => f !== ''))
    .map((f) => (f.startsWith('data: {') ? JSON.parse(f.slice('data: '.length)) : f));

describe('mock DeepSeek usage', () => {
  it('reports cache hits and misses that add up to the prompt, hits also as cached_tokens', () => {
    const plan = planDeepSeekCompletion(request('a long enough prompt here [mock:cached_tokens=5]'));
    const { usage } = plan;
    expect(usage.prompt_cache_hit_tokens).toBe(5);
    expect(usage.prompt_tokens_details).toEqual({ cached_tokens: 5 });
    expect(usage.prompt_cache_hit_tokens + usage.prompt_cache_miss_tokens).toBe(usage.prompt_tokens);
    expect(usage.completion_tokens_details).toEqual({ reasoning_tokens: 0 });
  });

  it('caps cache hits at the prompt size', () => {
    const { usage } = planDeepSeekCompletion(request('x [mock:cached_tokens=100000]'));
    expect(usage.prompt_cache_hit_tokens).toBe(usage.prompt_tokens);
    expect(usage.prompt_cache_miss_tokens).toBe(0);
  });
});

describe('mock DeepSeek thinking', () => {
  it('thinks for reasoner models and for thinking enabled, not otherwise', () => {
    expect(isDeepSeekThinking(request('x', { model: 'deepseek-reasoner' }))).toBe(true);
    expect(isDeepSeekThinking(request('x', { thinking: { type: 'enabled' } }))).toBe(true);
    expect(isDeepSeekThinking(request('x', { thinking: { type: 'disabled' } }))).toBe(false);
    expect(isDeepSeekThinking(request('x'))).toBe(false);
  });

  it('answers a §6.3 body with reasoning_content counted as reasoning tokens', () => {
    const plan = planDeepSeekCompletion(request('hi [mock:reply_tokens=3]', { model: 'deepseek-reasoner' }));
    const body = toDeepSeekCompletionBody(plan);
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'deepseek-reasoner',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'This is a',
            reasoning_content: 'Reasoning about the request before the mock replies.',
          },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { completion_tokens: 11, completion_tokens_details: { reasoning_tokens: 8 } },
    });
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('leaves reasoning_content out of a non-thinking answer', () => {
    const body = toDeepSeekCompletionBody(planDeepSeekCompletion(request('hi')));
    expect(body.choices[0]!.message).not.toHaveProperty('reasoning_content');
  });

  it('streams keep-alive, the role chunk, reasoning deltas before content, finish, usage, [DONE]', () => {
    const plan = planDeepSeekCompletion(request('hi [mock:reply_tokens=2]', { model: 'deepseek-reasoner' }));
    const parts = toDeepSeekStreamParts(plan, true);
    const all = payloads([...parts.head, ...parts.tokens, ...parts.tail]);
    expect(all[0]).toBe(': keep-alive');
    expect(all[1].choices[0].delta).toEqual({ role: 'assistant', content: null, reasoning_content: '' });
    const deltas = all.slice(2, -3).map((c) => c.choices[0].delta);
    expect(
      deltas.slice(0, 8).every((d) => d.content === null && typeof d.reasoning_content === 'string'),
    ).toBe(true);
    expect(deltas.slice(8)).toEqual([
      { content: 'This', reasoning_content: null },
      { content: ' is', reasoning_content: null },
    ]);
    expect(all.at(-3).choices[0]).toMatchObject({ delta: { content: '' }, finish_reason: 'stop' });
    expect(all.at(-2)).toMatchObject({
      choices: [],
      usage: {
        completion_tokens: 10,
        prompt_cache_hit_tokens: 0,
        completion_tokens_details: { reasoning_tokens: 8 },
      },
    });
    expect(all.at(-1)).toBe('data: [DONE]');
  });

  it('sends the usage chunk only when include_usage is asked', () => {
    const parts = toDeepSeekStreamParts(planDeepSeekCompletion(request('hi')), false);
    expect(parts.tail.some((f) => f.includes('"usage"'))).toBe(false);
  });

  it('streams a tool call header glued to the first arguments fragment', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    const plan = planDeepSeekCompletion(request('Paris? [mock:tool_call=get_weather]', { tools }));
    const parts = toDeepSeekStreamParts(plan, false);
    const [header, first] = payloads([parts.tokens[0]!]);
    expect(header.choices[0].delta.tool_calls[0]).toMatchObject({
      index: 0,
      id: plan.toolCall!.id,
      function: { name: 'get_weather', arguments: '' },
    });
    const fragments = [first, ...payloads(parts.tokens.slice(1))].map(
      (c) => c.choices[0].delta.tool_calls[0].function.arguments,
    );
    expect(JSON.parse(fragments.join(''))).toEqual({ city: 'mock' });
    expect(toDeepSeekCompletionBody(plan).choices[0]!.message).toMatchObject({
      content: '',
      tool_calls: [{ type: 'function' }],
    });
  });
});

describe('mock DeepSeek answers', () => {
  it('ends a stream with an OpenAI-shaped error payload for stream_error_after', () => {
    const answer = answerDeepSeekChat({ ...request('x [mock:stream_error_after=1]'), stream: true });
    expect(answer.kind).toBe('stream');
    if (answer.kind !== 'stream') return;
    expect(answer.frames.at(-1)).toBe(`data: ${JSON.stringify(toDeepSeekErrorBody(500))}\n\n`);
  });

  it('answers error directives with the status and 400 for a body without messages', () => {
    expect(answerDeepSeekChat(request('x [mock:error=402]'))).toEqual({ kind: 'error', status: 402 });
    expect(toDeepSeekErrorBody(402).error.message).toBe('Insufficient Balance');
    expect(answerDeepSeekChat({ model: 'deepseek-chat' })).toMatchObject({ kind: 'error', status: 400 });
  });
});
