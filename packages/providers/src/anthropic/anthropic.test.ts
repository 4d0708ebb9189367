import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../canonical.ts';
import { fromOpenAIChatRequest } from '../openai/from-openai-request.ts';
import { openAIChatRequestSchema } from '../openai/wire.ts';
import type { EventSourceMessage } from '../sse/parse-sse.ts';
import { parseSse } from '../sse/parse-sse.ts';
import { fromAnthropicMessage } from './from-anthropic-response.ts';
import { fromAnthropicStream } from './from-anthropic-stream.ts';
import { toAnthropicRequest } from './to-anthropic-request.ts';
import { anthropicMessageSchema } from './wire.ts';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

async function streamEvents(transcript: string, jsonToolName?: string): Promise<StreamEvent[]> {
  const bytes = new Blob([transcript]).stream() as ReadableStream<Uint8Array>;
  const events: StreamEvent[] = [];
  const messages: ReadableStream<EventSourceMessage> = parseSse(bytes);
  for await (const event of messages.pipeThrough(fromAnthropicStream(jsonToolName))) events.push(event);
  return events;
}

describe('OpenAI request -> Anthropic', () => {
  it('translates the worked example of the reference field for field (wire formats §3.1)', () => {
    const openai = openAIChatRequestSchema.parse({
      model: 'anthropic/claude-3-5-sonnet-20240620',
      messages: [
        { role: 'system', content: 'Be terse.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0...' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'toolu_01',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01', content: '18C sunny' },
        { role: 'user', content: 'Thanks, and tomorrow?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Get weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      max_completion_tokens: 512,
      temperature: 0.2,
      stop: 'END',
      user: 'user-123',
    });
    const plan = toAnthropicRequest({
      ...fromOpenAIChatRequest(openai),
      model: 'claude-3-5-sonnet-20240620',
    });
    expect(plan.warnings).toEqual([]);
    expect(plan.body).toEqual({
      model: 'claude-3-5-sonnet-20240620',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0...' } },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_01', content: '18C sunny' },
            { type: 'text', text: 'Thanks, and tomorrow?' },
          ],
        },
      ],
      system: [{ type: 'text', text: 'Be terse.' }],
      tools: [
        {
          name: 'get_weather',
          type: 'custom',
          description: 'Get weather',
          input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      max_tokens: 512,
      temperature: 0.2,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-123' },
    });
  });

  it('keeps cache_control, maps reasoning_effort to a thinking budget and defaults max_tokens', () => {
    const openai = openAIChatRequestSchema.parse({
      model: 'claude',
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: 'Long rules', cache_control: { type: 'ephemeral', ttl: '1h' } }],
        },
        { role: 'user', content: 'hi', cache_control: { type: 'ephemeral' } },
      ],
      reasoning_effort: 'medium',
      user: 'someone@example.com',
      seed: 3,
    });
    const plan = toAnthropicRequest({ ...fromOpenAIChatRequest(openai), model: 'claude-sonnet-4-5' });
    expect(plan.body.system).toEqual([
      { type: 'text', text: 'Long rules', cache_control: { type: 'ephemeral', ttl: '1h' } },
    ]);
    expect(plan.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] },
    ]);
    expect(plan.body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(plan.body.max_tokens).toBe(2048 + 4096);
    // An email is not passed on as metadata.user_id; seed has no Anthropic equivalent.
    expect(plan.body).not.toHaveProperty('metadata');
    expect(plan.warnings).toEqual(['seed']);
  });

  it('passes Anthropic-native document blocks and hosted tools through unchanged', () => {
    const document = {
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data: 'The grass is green.' },
      title: 'Facts',
      citations: { enabled: true },
    };
    const webSearch = { type: 'web_search_20250305', name: 'web_search', max_uses: 3 };
    const openai = openAIChatRequestSchema.parse({
      model: 'claude',
      messages: [{ role: 'user', content: [document, { type: 'text', text: 'What colour is the grass?' }] }],
      tools: [webSearch],
    });
    const plan = toAnthropicRequest({ ...fromOpenAIChatRequest(openai), model: 'claude-sonnet-4-5' });
    expect(plan.body.messages).toEqual([
      { role: 'user', content: [document, { type: 'text', text: 'What colour is the grass?' }] },
    ]);
    expect(plan.body.tools).toEqual([webSearch]);
  });

  it('maps OpenAI mcp tools to mcp_servers and context_management compaction, adding their betas', () => {
    const openai = openAIChatRequestSchema.parse({
      model: 'claude',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [
        {
          type: 'mcp',
          server_url: 'https://mcp.example.com/sse',
          server_label: 'docs',
          allowed_tools: ['search'],
          headers: { Authorization: 'Bearer tok' },
        },
      ],
      context_management: [{ type: 'compaction', compact_threshold: 100000 }],
    });
    const plan = toAnthropicRequest({ ...fromOpenAIChatRequest(openai), model: 'claude-sonnet-4-5' });
    expect(plan.body.mcp_servers).toEqual([
      {
        type: 'url',
        url: 'https://mcp.example.com/sse',
        name: 'docs',
        tool_configuration: { allowed_tools: ['search'] },
        authorization_token: 'tok',
      },
    ]);
    expect(plan.body).not.toHaveProperty('tools');
    expect(plan.body.context_management).toEqual({
      edits: [{ type: 'compact_20260112', trigger: { type: 'input_tokens', value: 100000 } }],
    });
    expect(plan.betas.sort()).toEqual(['compact-2026-01-12', 'mcp-client-2025-04-04']);
    expect(plan.warnings).toEqual([]);
  });

  it('uses native structured outputs with their beta on models that have them', () => {
    const openai = openAIChatRequestSchema.parse({
      model: 'claude',
      messages: [{ role: 'user', content: 'give json' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'a',
          schema: {
            type: 'object',
            properties: { tags: { type: 'array', items: { $ref: '#/$defs/tag' }, maxItems: 3 } },
            $defs: { tag: { type: 'string', minLength: 2 } },
          },
        },
      },
    });
    const plan = toAnthropicRequest({
      ...fromOpenAIChatRequest(openai),
      model: 'claude-sonnet-4-5-20250929',
    });
    expect(plan.jsonToolName).toBeUndefined();
    expect(plan.betas).toContain('structured-outputs-2025-11-13');
    expect(plan.body.output_format).toEqual({
      type: 'json_schema',
      schema: {
        type: 'object',
        additionalProperties: false,
        properties: {
          tags: {
            type: 'array',
            items: { type: 'string', description: '(constraints: minLength=2)' },
            description: '(constraints: maxItems=3)',
          },
        },
      },
    });
  });

  it('turns a JSON-schema response_format into a forced tool', () => {
    const openai = openAIChatRequestSchema.parse({
      model: 'claude',
      messages: [{ role: 'user', content: 'give json' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'a', schema: { properties: { x: { type: 'number' } } } },
      },
    });
    const plan = toAnthropicRequest({ ...fromOpenAIChatRequest(openai), model: 'claude-3-5-haiku' });
    expect(plan.jsonToolName).toBe('json_tool_call');
    expect(plan.body.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
  });
});

describe('Anthropic response -> canonical', () => {
  it('reads text, tool_use, thinking and every usage bucket (wire formats §2.3, §4.1)', () => {
    const result = fromAnthropicMessage(
      anthropicMessageSchema.parse(JSON.parse(fixture('message-response.json'))),
    );
    expect(result.choices[0]).toMatchObject({
      text: 'Let me check.',
      finishReason: 'tool_calls',
      toolCalls: [{ id: 'toolu_01B', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      reasoning: 'The user wants weather.',
      thinkingBlocks: [{ type: 'thinking', thinking: 'The user wants weather.', signature: 'EqQBCkgI...' }],
    });
    // prompt = input + cache writes + cache reads = 412 + 300 + 1800
    expect(result.usage).toEqual({
      inputTokens: 2512,
      outputTokens: 57,
      cacheReadTokens: 1800,
      cacheWriteTokens: 300,
      cacheWrite1hTokens: 0,
    });
  });

  it('lists server tool calls with the tool calls and keeps their results and search count', () => {
    const message = anthropicMessageSchema.parse({
      id: 'msg_ws',
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [
        { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'grass colour' } },
        {
          type: 'web_search_tool_result',
          tool_use_id: 'srvtoolu_1',
          content: [{ type: 'web_search_result', url: 'https://x' }],
        },
        { type: 'text', text: 'Green.' },
      ],
      stop_reason: 'end_turn',
      usage: { input_tokens: 5, output_tokens: 2, server_tool_use: { web_search_requests: 1 } },
    });
    const result = fromAnthropicMessage(message);
    expect(result.choices[0]).toMatchObject({
      toolCalls: [{ id: 'srvtoolu_1', name: 'web_search', arguments: '{"query":"grass colour"}' }],
      serverToolResults: [{ type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1' }],
      finishReason: 'stop',
    });
    expect(result.usage.webSearchRequests).toBe(1);
  });

  it('keeps citations with the text they support', () => {
    const citation = { type: 'char_location', cited_text: 'The grass is green.', document_index: 0 };
    const message = anthropicMessageSchema.parse({
      id: 'msg_c',
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [{ type: 'text', text: 'Green.', citations: [citation] }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 5, output_tokens: 2 },
    });
    expect(fromAnthropicMessage(message).choices[0]?.citations).toEqual([
      [{ ...citation, supported_text: 'Green.' }],
    ]);
  });

  it('reads a forced structured-output tool call back as text', () => {
    const message = anthropicMessageSchema.parse({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'json_tool_call', input: { x: 1 } }],
      stop_reason: 'tool_use',
      usage: { input_tokens: 5, output_tokens: 3 },
    });
    expect(fromAnthropicMessage(message, 'json_tool_call').choices[0]).toMatchObject({
      text: '{"x":1}',
      toolCalls: [],
      finishReason: 'stop',
    });
  });
});

describe('Anthropic stream -> canonical events', () => {
  it('numbers tool calls per stream and reports usage once, input side from message_start', async () => {
    const events = await streamEvents(fixture('message-stream.txt'));
    expect(events).toEqual([
      { type: 'start', id: 'msg_01XF', model: 'claude-3-5-sonnet-20240620', created: expect.any(Number) },
      {
        type: 'usage',
        usage: { inputTokens: 2512, cacheReadTokens: 1800, cacheWriteTokens: 300, cacheWrite1hTokens: 0 },
      },
      { type: 'reasoning-delta', choice: 0, text: 'The user wants weather.' },
      { type: 'reasoning-signature', choice: 0, signature: 'EqQBCkgI...' },
      { type: 'text-delta', choice: 0, text: 'Let me check.' },
      {
        type: 'tool-call-delta',
        choice: 0,
        index: 0,
        id: 'toolu_01B',
        name: 'get_weather',
        argumentsDelta: '',
      },
      { type: 'tool-call-delta', choice: 0, index: 0, argumentsDelta: '{"city": "Paris"}' },
      { type: 'finish', choice: 0, finishReason: 'tool_calls' },
      {
        type: 'usage',
        usage: {
          inputTokens: 2512,
          outputTokens: 57,
          cacheReadTokens: 1800,
          cacheWriteTokens: 300,
          cacheWrite1hTokens: 0,
        },
      },
    ]);
  });

  it('ends with an error event carrying the status of a mid-stream overloaded_error', async () => {
    const events = await streamEvents(fixture('overloaded-stream.txt'));
    expect(events.at(-1)).toEqual({
      type: 'error',
      error: expect.objectContaining({ kind: 'upstream_error', status: 529, vendorType: 'overloaded_error' }),
    });
  });

  it('ends a stream cut before message_delta with an error, the input usage already reported', async () => {
    const cut = fixture('message-stream.txt').split('event: message_delta')[0]!;
    const events = await streamEvents(cut);
    expect(events[1]).toEqual({
      type: 'usage',
      usage: { inputTokens: 2512, cacheReadTokens: 1800, cacheWriteTokens: 300, cacheWrite1hTokens: 0 },
    });
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { status: 502 } });
  });
});
