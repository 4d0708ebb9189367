import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './server.ts';

// The official SDK as the caller: if it accepts the mock's bodies and streams, so will the gateway's
// clients.
let mock: MockProvider;
let client: Anthropic;
beforeAll(async () => {
  mock = await startMockProvider({ apiKey: 'sk-ant-mock' });
  client = new Anthropic({ apiKey: 'sk-ant-mock', baseURL: mock.anthropicBaseUrl, maxRetries: 0 });
});
afterAll(() => mock.close());

const tools = [
  {
    name: 'get_weather',
    description: 'Get weather',
    input_schema: {
      type: 'object' as const,
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
];

describe('mock /v1/messages with @anthropic-ai/sdk', () => {
  it('non-stream create returns the message with cache usage', async () => {
    const message = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      system: 'Be terse.',
      messages: [
        {
          role: 'user',
          content: 'hi [mock:reply_tokens=4] [mock:cached_tokens=1800] [mock:cache_write_1h_tokens=10]',
        },
      ],
    });
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [{ type: 'text', text: 'This is a deterministic' }],
      stop_reason: 'end_turn',
      usage: {
        input_tokens: 0,
        cache_read_input_tokens: 1800,
        cache_creation_input_tokens: 10,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 10 },
        output_tokens: 4,
      },
    });
    // SDK 1.x presents `apiKey` as a Bearer token; the mock takes that as well as `x-api-key`.
    const { headers } = mock.requests.at(-1)!;
    expect(headers['x-api-key'] ?? headers.authorization).toMatch(/^(Bearer )?sk-ant-mock$/);
    expect(headers['anthropic-version']).toBeDefined();
  });

  it('stream accumulates thinking and text into the final message', async () => {
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-6',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'hi [mock:reply_tokens=3]' }],
    });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const message = await stream.finalMessage();
    expect(text).toBe('This is a');
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect(message.content[0]).toMatchObject({ type: 'thinking', signature: expect.any(String) });
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBeGreaterThan(3);
  });

  it('streams a tool call the SDK parses, and answers the tool result in text', async () => {
    const first = await client.messages
      .stream({
        model: 'claude-sonnet-4-6',
        max_tokens: 256,
        tools,
        messages: [{ role: 'user', content: 'Weather in Paris? [mock:tool_call=get_weather]' }],
      })
      .finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const toolUse = first.content.find((b) => b.type === 'tool_use');
    expect(toolUse).toMatchObject({ name: 'get_weather', input: { city: 'mock' } });

    const second = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris? [mock:tool_call=get_weather]' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse!.id, content: '18C sunny' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content.map((b) => b.type)).toEqual(['text']);
  });

  it('surfaces 529 as an overloaded error and a mid-stream error as a thrown error', async () => {
    await expect(
      client.messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'x [mock:error=529]' }],
      }),
    ).rejects.toMatchObject({ status: 529 });
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'x [mock:stream_error_after=2]' }],
    });
    await expect(stream.finalMessage()).rejects.toThrow(/Overloaded/);
  });
});
