import { describe, expect, it } from 'vitest';
import { countPromptTokens } from '../reply.ts';
import {
  type MessageStreamEvent,
  MOCK_THINKING_SIGNATURE,
  type MockMessagesRequest,
  mockMessagesRequestSchema,
  planMessage,
  toAnthropicErrorBody,
  toInvalidRequestMessage,
  toMessageBody,
  toMessageStreamEvents,
  toSseFrame,
} from './messages.ts';

const request = (content: string, extra: Partial<MockMessagesRequest> = {}): MockMessagesRequest => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content }],
  ...extra,
});

const weatherTool = {
  name: 'get_weather',
  description: 'Get weather',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
    required: ['city'],
  },
};

const names = (events: MessageStreamEvent[]) => events.map((e) => e.event);
const dataOf = (events: MessageStreamEvent[], name: string) =>
  events.filter((e) => e.event === name).map((e) => e.data);

describe('mock Anthropic request schema', () => {
  it('rejects a body without max_tokens with an Anthropic-worded message', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const parsed = mockMessagesRequestSchema.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(toInvalidRequestMessage(parsed.error!.issues, body)).toBe('max_tokens: Field required');
  });

  it('accepts system as blocks, custom-typed and untyped tools and unknown fields', () => {
    const parsed = mockMessagesRequestSchema.safeParse({
      ...request('hi'),
      system: [{ type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } }],
      tools: [weatherTool, { ...weatherTool, name: 'other', type: 'custom' }],
      metadata: { user_id: 'u' },
      temperature: 0.5,
    });
    expect(parsed.success).toBe(true);
  });

  it('rejects an empty messages list', () => {
    expect(mockMessagesRequestSchema.safeParse({ ...request('x'), messages: [] }).success).toBe(false);
  });
});

describe('mock Anthropic answers', () => {
  it('returns a §2.3 message body with the request model and end_turn', () => {
    const body = toMessageBody(planMessage(request('hello [mock:reply_tokens=3]')));
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'This is a' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        output_tokens: 3,
      },
    });
    expect(body.id).toMatch(/^msg_[A-Za-z0-9]{24}$/);
  });

  it('replies with 20 tokens by default and stops at max_tokens with stop_reason max_tokens', () => {
    expect(planMessage(request('hi')).usage.output_tokens).toBe(20);
    const capped = planMessage(request('hi', { max_tokens: 4 }));
    expect(capped.usage.output_tokens).toBe(4);
    expect(capped.stopReason).toBe('max_tokens');
  });

  it('counts system and every text block, including tool results, in the prompt', () => {
    const plan = planMessage(
      request('', {
        system: [{ type: 'text', text: 'Be terse.' }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'What is the weather?' }] },
          {
            role: 'assistant',
            content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }],
          },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18C sunny' }] },
        ],
      }),
    );
    expect(plan.usage.input_tokens).toBe(
      countPromptTokens(['Be terse.', 'What is the weather?', '18C sunny']),
    );
  });

  it('reports cache reads and 5m/1h writes exactly, with input_tokens the uncached remainder', () => {
    const text = 'x'.repeat(400);
    const total = countPromptTokens([
      `${text} [mock:cached_tokens=40] [mock:cache_write_tokens=30] [mock:cache_write_1h_tokens=20]`,
    ]);
    const plan = planMessage(
      request(`${text} [mock:cached_tokens=40] [mock:cache_write_tokens=30] [mock:cache_write_1h_tokens=20]`),
    );
    expect(plan.usage).toMatchObject({
      input_tokens: total - 90,
      cache_read_input_tokens: 40,
      cache_creation_input_tokens: 50,
      cache_creation: { ephemeral_5m_input_tokens: 30, ephemeral_1h_input_tokens: 20 },
    });
  });

  it('never reports negative input_tokens when the cache outgrows the prompt', () => {
    const plan = planMessage(request('short [mock:cached_tokens=1800] [mock:cache_write_tokens=300]'));
    expect(plan.usage).toMatchObject({
      input_tokens: 0,
      cache_read_input_tokens: 1800,
      cache_creation_input_tokens: 300,
    });
  });

  it('maps error directives to the §2.5 error types', () => {
    expect(planMessage(request('x [mock:error=529]')).errorStatus).toBe(529);
    expect(toAnthropicErrorBody(529).error.type).toBe('overloaded_error');
    expect(toAnthropicErrorBody(429).error.type).toBe('rate_limit_error');
    expect(toAnthropicErrorBody(401).error.type).toBe('authentication_error');
    expect(toAnthropicErrorBody(404).error.type).toBe('not_found_error');
    expect(toAnthropicErrorBody(422).error.type).toBe('invalid_request_error');
    expect(toAnthropicErrorBody(503).error.type).toBe('api_error');
    const body = toAnthropicErrorBody(400, 'max_tokens: Field required');
    expect(body).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
    expect(body.request_id).toMatch(/^req_/);
  });
});

describe('mock Anthropic thinking', () => {
  it('puts a signed thinking block before the text and counts it in output_tokens', () => {
    const plan = planMessage(
      request('hi [mock:reply_tokens=2]', { thinking: { type: 'enabled', budget_tokens: 2048 } }),
    );
    const body = toMessageBody(plan);
    expect(body.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect(body.content[0]).toMatchObject({
      thinking: expect.any(String),
      signature: MOCK_THINKING_SIGNATURE,
    });
    expect(MOCK_THINKING_SIGNATURE).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(plan.usage.output_tokens).toBe(plan.blocks[0]!.deltas.length + 2);
  });

  it('streams thinking_delta pieces, then one signature_delta, then closes the block', () => {
    const events = toMessageStreamEvents(
      planMessage(
        request('hi [mock:reply_tokens=1]', { thinking: { type: 'enabled', budget_tokens: 2048 } }),
      ),
    );
    const block0 = events.filter((e) => e.data.index === 0).map((e) => e.data);
    expect(block0[0]).toMatchObject({
      type: 'content_block_start',
      content_block: { type: 'thinking', thinking: '' },
    });
    const deltas = block0.slice(1, -1).map((d) => (d.delta as { type: string }).type);
    expect(deltas.at(-1)).toBe('signature_delta');
    expect(new Set(deltas.slice(0, -1))).toEqual(new Set(['thinking_delta']));
    expect(block0.at(-1)).toEqual({ type: 'content_block_stop', index: 0 });
    expect(dataOf(events, 'content_block_start')[1]).toMatchObject({
      index: 1,
      content_block: { type: 'text' },
    });
  });

  it('leaves thinking out unless it is enabled', () => {
    const plan = planMessage(request('hi', { thinking: { type: 'disabled' } }));
    expect(plan.blocks.map((b) => b.type)).toEqual(['text']);
  });
});

describe('mock Anthropic streaming', () => {
  it('sends §2.4 events in order with input usage up front and cumulative output at the end', () => {
    const events = toMessageStreamEvents(
      planMessage(request('hi [mock:reply_tokens=3] [mock:cached_tokens=7]')),
    );
    expect(names(events)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const event of events) expect(event.data.type).toBe(event.event);
    expect(events[0]!.data).toMatchObject({
      message: {
        content: [],
        stop_reason: null,
        usage: {
          cache_read_input_tokens: 7,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
          output_tokens: 1,
        },
      },
    });
    const [messageDelta] = dataOf(events, 'message_delta');
    expect(messageDelta).toMatchObject({
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 3, cache_read_input_tokens: 7 },
    });
    // The TTL split is only in message_start, as upstream.
    expect(messageDelta!.usage).not.toHaveProperty('cache_creation');
    const text = dataOf(events, 'content_block_delta')
      .map((d) => (d.delta as { text: string }).text)
      .join('');
    expect(text).toBe('This is a');
  });

  it('frames each event as an event line and a data line', () => {
    expect(toSseFrame({ event: 'ping', data: { type: 'ping' } })).toBe(
      'event: ping\ndata: {"type":"ping"}\n\n',
    );
  });

  it('ends with an overloaded error event after N tokens for stream_error_after', () => {
    const events = toMessageStreamEvents(planMessage(request('x [mock:stream_error_after=2]')));
    expect(dataOf(events, 'content_block_delta')).toHaveLength(2);
    expect(events.at(-1)).toEqual({
      event: 'error',
      data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    });
    expect(names(events)).not.toContain('message_delta');
  });

  it('stops after N tokens without finishing for cut_after', () => {
    const events = toMessageStreamEvents(planMessage(request('x [mock:cut_after=3]')));
    expect(dataOf(events, 'content_block_delta')).toHaveLength(3);
    expect(names(events)).not.toContain('message_delta');
    expect(names(events)).not.toContain('error');
  });

  it('still never finishes when the answer is shorter than cut_after', () => {
    const events = toMessageStreamEvents(planMessage(request('x [mock:reply_tokens=2] [mock:cut_after=5]')));
    expect(names(events).at(-1)).toBe('content_block_stop');
  });
});

describe('mock Anthropic tool use', () => {
  const toolRequest = (extra: Partial<MockMessagesRequest> = {}) =>
    request('Weather in Paris? [mock:tool_call=get_weather]', { tools: [weatherTool], ...extra });

  it('answers a tool_call directive with a sentence, then a tool_use block, stop_reason tool_use', () => {
    const plan = planMessage(toolRequest());
    const body = toMessageBody(plan);
    expect(body.stop_reason).toBe('tool_use');
    expect(body.content).toEqual([
      { type: 'text', text: 'I will call get_weather.' },
      {
        type: 'tool_use',
        id: expect.stringMatching(/^toolu_/),
        name: 'get_weather',
        input: { city: 'mock' },
      },
    ]);
    expect(plan.usage.output_tokens).toBe(plan.blocks.reduce((n, b) => n + b.deltas.length, 0));
  });

  it('streams the tool input as input_json_delta fragments after an empty input', () => {
    const events = toMessageStreamEvents(planMessage(toolRequest()));
    const start = dataOf(events, 'content_block_start')[1];
    expect(start).toMatchObject({
      index: 1,
      content_block: { type: 'tool_use', name: 'get_weather', input: {} },
    });
    const fragments = dataOf(events, 'content_block_delta')
      .filter((d) => d.index === 1)
      .map((d) => d.delta as { type: string; partial_json: string });
    expect(fragments.every((f) => f.type === 'input_json_delta')).toBe(true);
    expect(fragments.filter((f) => f.partial_json !== '').length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(fragments.map((f) => f.partial_json).join(''))).toEqual({ city: 'mock' });
    expect(dataOf(events, 'message_delta')[0]).toMatchObject({ delta: { stop_reason: 'tool_use' } });
    expect(names(events).slice(-4)).toEqual([
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('accepts a custom-typed tool and a tool with thinking first', () => {
    const plan = planMessage(
      toolRequest({
        tools: [{ ...weatherTool, type: 'custom' }],
        thinking: { type: 'enabled', budget_tokens: 1024 },
      }),
    );
    expect(plan.blocks.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
  });

  it('answers in text once the last turn carries the tool result', () => {
    const plan = planMessage(
      toolRequest({
        messages: [
          { role: 'user', content: 'Weather in Paris? [mock:tool_call=get_weather]' },
          {
            role: 'assistant',
            content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'mock' } }],
          },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18C sunny' }] },
        ],
      }),
    );
    expect(plan.stopReason).toBe('end_turn');
    expect(plan.blocks.map((b) => b.type)).toEqual(['text']);
  });

  it('is a 400 when the named tool is not among the request tools', () => {
    const plan = planMessage(request('x [mock:tool_call=get_weather]'));
    expect(plan.errorStatus).toBe(400);
    expect(plan.errorMessage).toContain('get_weather');
  });

  it('drops the tool call rather than sending half of it when max_tokens runs out', () => {
    const plan = planMessage(toolRequest({ max_tokens: 5 }));
    expect(plan.stopReason).toBe('max_tokens');
    expect(plan.blocks.map((b) => b.type)).toEqual(['text']);
    expect(plan.usage.output_tokens).toBeLessThanOrEqual(5);
  });
});
