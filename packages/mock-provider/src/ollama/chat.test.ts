import { describe, expect, it } from 'vitest';
import { countPromptTokens } from '../reply.ts';
import {
  answerOllamaChat,
  type MockOllamaChatRequest,
  planOllamaChat,
  toOllamaChatBody,
  toOllamaChatStreamParts,
} from './chat.ts';
import { toOllamaDoneFields } from './done-fields.ts';

const request = (content: string, extra: Partial<MockOllamaChatRequest> = {}): MockOllamaChatRequest => ({
  model: 'llama3.1',
  messages: [{ role: 'user', content }],
  ...extra,
});
const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];
const lines = (frames: string[]) =>
  frames
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

describe('mock Ollama durations', () => {
  it('are deterministic nanoseconds: 1 ms load, 0.25 ms per prompt token, 20 ms per output token', () => {
    expect(toOllamaDoneFields(26, 3)).toEqual({
      total_duration: 1_000_000 + 6_500_000 + 60_000_000,
      load_duration: 1_000_000,
      prompt_eval_count: 26,
      prompt_eval_duration: 6_500_000,
      eval_count: 3,
      eval_duration: 60_000_000,
    });
  });
});

describe('mock Ollama /api/chat', () => {
  it('answers a §7.1 body with done fields', () => {
    const plan = planOllamaChat(request('hi [mock:reply_tokens=3]'));
    expect(toOllamaChatBody(plan)).toEqual({
      model: 'llama3.1',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      message: { role: 'assistant', content: 'This is a' },
      done_reason: 'stop',
      done: true,
      ...toOllamaDoneFields(countPromptTokens(['hi [mock:reply_tokens=3]']), 3),
    });
  });

  it('stops at options.num_predict with done_reason length', () => {
    const body = toOllamaChatBody(planOllamaChat(request('hi', { options: { num_predict: 2 } })));
    expect(body).toMatchObject({ message: { content: 'This is' }, done_reason: 'length', eval_count: 2 });
  });

  it('thinks with think: true, counting the thinking as output', () => {
    const body = toOllamaChatBody(planOllamaChat(request('hi [mock:reply_tokens=1]', { think: true })));
    expect(body).toMatchObject({
      message: { content: 'This', thinking: 'Reasoning about the request before the mock replies.' },
      eval_count: 9,
    });
  });

  it('calls a tool with arguments as an object, and answers in text after a tool message', () => {
    const plan = planOllamaChat(request('Paris? [mock:tool_call=get_weather]', { tools }));
    expect(toOllamaChatBody(plan).message).toEqual({
      role: 'assistant',
      content: '',
      tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'mock' } } }],
    });
    const after = planOllamaChat({
      ...request('Paris? [mock:tool_call=get_weather]', { tools }),
      messages: [
        { role: 'user', content: 'Paris? [mock:tool_call=get_weather]' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }],
        },
        { role: 'tool', content: '18C sunny', tool_name: 'get_weather' },
      ],
    });
    expect(after.output.toolCall).toBeUndefined();
    expect(after.output.content.length).toBeGreaterThan(0);
  });

  it('refuses tool_calls arguments sent as a JSON string, as Ollama does', () => {
    const answer = answerOllamaChat({
      model: 'llama3.1',
      messages: [
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: '{}' } }] },
      ],
    });
    expect(answer).toMatchObject({ kind: 'error', status: 400 });
  });

  it('streams done:false lines, thinking first, then one done:true line', () => {
    const parts = toOllamaChatStreamParts(
      planOllamaChat(request('hi [mock:reply_tokens=2]', { think: 'high' })),
    );
    const all = lines([...parts.head, ...parts.tokens, ...parts.tail]);
    expect(all).toHaveLength(11);
    expect(
      all.slice(0, 8).every((l) => l.done === false && l.message.content === '' && l.message.thinking),
    ).toBe(true);
    expect(all.slice(8, 10).map((l) => l.message.content)).toEqual(['This', ' is']);
    expect(all[10]).toMatchObject({
      done: true,
      done_reason: 'stop',
      message: { content: '' },
      eval_count: 10,
    });
  });

  it('streams a tool call whole in one line', () => {
    const parts = toOllamaChatStreamParts(
      planOllamaChat(request('x [mock:tool_call=get_weather]', { tools })),
    );
    expect(parts.tokens).toHaveLength(1);
    expect(lines(parts.tokens)[0].message.tool_calls).toEqual([
      { function: { name: 'get_weather', arguments: { city: 'mock' } } },
    ]);
  });

  it('streams by default and sends an {"error"} line for stream_error_after', () => {
    const answer = answerOllamaChat(request('x [mock:stream_error_after=1]'));
    if (answer.kind !== 'stream') throw new Error(`expected a stream, got ${answer.kind}`);
    expect(answer.format).toBe('ndjson');
    const all = lines(answer.frames);
    expect(all).toHaveLength(2);
    expect(all[1]).toEqual({ error: 'an error was encountered while running the model: unexpected EOF' });
  });

  it('answers error directives with a text error, 404 naming the model', () => {
    expect(answerOllamaChat(request('x [mock:error=404]'))).toEqual({
      kind: 'error',
      status: 404,
      message: 'model "llama3.1" not found, try pulling it first',
    });
    expect(answerOllamaChat(request('x [mock:tool_call=nope]', { tools }))).toMatchObject({
      kind: 'error',
      status: 400,
    });
  });

  it('only loads the model for empty messages', () => {
    const body = toOllamaChatBody(planOllamaChat({ model: 'llama3.1', messages: [] }));
    expect(body).toMatchObject({ done: true, done_reason: 'load', message: { content: '' } });
    expect(body).not.toHaveProperty('eval_count');
  });
});
