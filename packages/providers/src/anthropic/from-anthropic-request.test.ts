import { describe, expect, it } from 'vitest';
import { toOpenAIChatRequest } from '../openai/to-openai-request.ts';
import { fromAnthropicRequest } from './from-anthropic-request.ts';
import { anthropicRequestSchema } from './wire.ts';

/** An Anthropic body as a client sends it, translated; the test fails on a refusal. */
function translate(body: Record<string, unknown>) {
  const result = fromAnthropicRequest(anthropicRequestSchema.parse({ model: 'm', max_tokens: 100, ...body }));
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

function refusal(body: Record<string, unknown>) {
  const result = fromAnthropicRequest(anthropicRequestSchema.parse({ model: 'm', max_tokens: 100, ...body }));
  if (result.ok) throw new Error('translated what it should refuse');
  return result.error;
}

const openai = (body: Record<string, unknown>) =>
  toOpenAIChatRequest(translate(body).request, { maxTokensField: 'max_completion_tokens' });

describe('Anthropic request -> canonical, as current clients send it', () => {
  it('keeps a system entry inside messages as a system message at its place', () => {
    const body = openai({
      system: 'Be terse.',
      messages: [
        { role: 'user', content: 'List the files.' },
        { role: 'system', content: 'The working directory changed to /work.' },
        { role: 'assistant', content: [{ type: 'text', text: 'README.md' }] },
        { role: 'system', content: [{ type: 'text', text: 'Tools changed.' }] },
        { role: 'user', content: 'Thanks.' },
      ],
    });
    expect(body.messages).toEqual([
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'List the files.' },
      { role: 'system', content: 'The working directory changed to /work.' },
      { role: 'assistant', content: 'README.md' },
      { role: 'system', content: 'Tools changed.' },
      { role: 'user', content: 'Thanks.' },
    ]);
  });

  it.each([
    ['low', 'low'],
    ['medium', 'medium'],
    ['high', 'high'],
    ['xhigh', 'xhigh'],
    ['max', 'xhigh'],
  ])('maps adaptive thinking with output_config.effort %s to reasoning_effort %s', (effort, expected) => {
    const body = openai({
      messages: [{ role: 'user', content: 'hi' }],
      thinking: { type: 'adaptive', display: 'omitted' },
      output_config: { effort },
    });
    expect(body.reasoning_effort).toBe(expected);
    expect(body).not.toHaveProperty('output_config');
    expect(body).not.toHaveProperty('thinking');
  });

  it('maps adaptive thinking without an effort to medium, as LiteLLM does', () => {
    expect(
      openai({ messages: [{ role: 'user', content: 'hi' }], thinking: { type: 'adaptive' } }),
    ).toMatchObject({ reasoning_effort: 'medium' });
  });

  it('leaves context_management and unknown settings to the adapter to report as dropped', () => {
    const { request, dropped } = translate({
      messages: [{ role: 'user', content: 'hi' }],
      context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
      output_config: { effort: 'high', task_budget: 1000 },
      tools: [{ name: 'Bash', input_schema: { type: 'object' }, defer_loading: true }],
    });
    expect(Object.keys(request.anthropicExtras ?? {})).toEqual(['context_management']);
    expect(dropped.sort()).toEqual(['output_config.task_budget', 'tools.defer_loading']);
    expect(request.tools).toEqual([{ name: 'Bash', parameters: { type: 'object' } }]);
  });

  it('turns output_config.format into strict structured output', () => {
    const body = openai({
      messages: [{ role: 'user', content: 'hi' }],
      output_config: {
        format: {
          type: 'json_schema',
          schema: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              tags: { type: 'array', items: { type: 'object', properties: { v: { type: 'string' } } } },
            },
          },
        },
      },
    });
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: {
        name: 'structured_output',
        strict: true,
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'tags'],
          properties: {
            name: { type: 'string' },
            tags: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['v'],
                properties: { v: { type: 'string' } },
              },
            },
          },
        },
      },
    });
  });

  it('moves images out of a tool result into the user message after it, and names referenced tools', () => {
    const body = openai({
      messages: [
        { role: 'user', content: 'Look at the chart.' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: { path: 'chart.png' } }],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [
                { type: 'text', text: 'chart.png' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
                { type: 'tool_reference', tool_name: 'WebFetch' },
              ],
            },
            { type: 'text', text: 'What does it show?' },
          ],
        },
      ],
    });
    expect((body.messages as unknown[]).slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: 'chart.png\nWebFetch' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
          { type: 'text', text: 'What does it show?' },
        ],
      },
    ]);
  });

  it.each([
    [
      'a server_tool_use block',
      {
        messages: [
          { role: 'user', content: 'Search.' },
          {
            role: 'assistant',
            content: [{ type: 'server_tool_use', id: 's1', name: 'web_search', input: {} }],
          },
        ],
      },
      'messages.1.content.0',
    ],
    [
      'a search_result block',
      {
        messages: [
          { role: 'user', content: [{ type: 'search_result', source: 'x', title: 't', content: [] }] },
        ],
      },
      'messages.0.content.0',
    ],
    [
      'an image block in a system entry',
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'system', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] },
        ],
      },
      'messages.1.content.0',
    ],
    [
      'a hosted tool',
      {
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
      },
      'tools.0.type',
    ],
    [
      'a text output format',
      { messages: [{ role: 'user', content: 'hi' }], output_config: { format: { type: 'grammar' } } },
      'output_config.format.type',
    ],
  ])('refuses %s, naming where it is', (_what, body, param) => {
    const error = refusal(body);
    expect(error).toMatchObject({ kind: 'invalid_request', param });
    expect(error.kind === 'invalid_request' && error.message).toContain(param);
  });
});
