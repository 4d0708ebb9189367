import { describe, expect, it } from 'vitest';
import { planCompletion, toCompletionBody, toErrorBody, toStreamPayloads } from './chat-completions.ts';

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

describe('mock OpenAI tool calls', () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ];
  const toolRequest = (messages: { role: string; content: unknown }[]) => ({
    model: 'gpt-4o-mini',
    messages,
    tools,
  });

  it('answers a tool_call directive with tool_calls, null content and finish_reason tool_calls', () => {
    const plan = planCompletion(
      toolRequest([{ role: 'user', content: 'Paris? [mock:tool_call=get_weather]' }]),
    );
    const body = toCompletionBody(plan);
    expect(body.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather' } },
        ],
      },
    });
    const args = body.choices[0]!.message.tool_calls![0]!.function.arguments;
    expect(JSON.parse(args)).toEqual({ city: 'mock' });
    expect(plan.usage.completion_tokens).toBe(plan.toolCall!.fragments.length);
  });

  it('streams the call header first, then argument fragments keyed by index', () => {
    const plan = planCompletion(
      toolRequest([{ role: 'user', content: 'Paris? [mock:tool_call=get_weather]' }]),
    );
    const chunks = toStreamPayloads(plan, true)
      .slice(0, -1)
      .map((p) => JSON.parse(p));
    expect(chunks[0].choices[0].delta).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          index: 0,
          id: plan.toolCall!.id,
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        },
      ],
    });
    const fragments = chunks
      .slice(1)
      .filter((c) => c.choices[0]?.delta.tool_calls)
      .map((c) => c.choices[0].delta.tool_calls[0]);
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    for (const fragment of fragments) expect(Object.keys(fragment).sort()).toEqual(['function', 'index']);
    expect(JSON.parse(fragments.map((f) => f.function.arguments).join(''))).toEqual({ city: 'mock' });
    expect(chunks.at(-2).choices[0]).toMatchObject({ delta: {}, finish_reason: 'tool_calls' });
  });

  it('answers in text once the last message is the tool result', () => {
    const plan = planCompletion(
      toolRequest([
        { role: 'user', content: 'Paris? [mock:tool_call=get_weather]' },
        { role: 'assistant', content: null },
        { role: 'tool', content: '18C sunny' },
      ]),
    );
    expect(plan.toolCall).toBeUndefined();
    expect(toCompletionBody(plan).choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { content: expect.any(String) },
    });
  });

  it('is a 400 with a clear message when the tool is not in the request', () => {
    const plan = planCompletion({
      model: 'm',
      messages: [{ role: 'user', content: 'x [mock:tool_call=nope]' }],
    });
    expect(plan.errorStatus).toBe(400);
    expect(toErrorBody(400, plan.errorMessage).error.message).toContain('nope');
  });
});
