import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../canonical.ts';
import { fromOpenAIChatRequest } from '../openai/from-openai-request.ts';
import { fromOpenAIChatResponse } from '../openai/from-openai-response.ts';
import { fromOpenAIStream } from '../openai/from-openai-stream.ts';
import { toOpenAIChatRequest } from '../openai/to-openai-request.ts';
import { openAIChatRequestSchema, openAIChatResponseSchema } from '../openai/wire.ts';
import { parseSse } from '../sse/parse-sse.ts';
import { adjustOpenRouterBody } from './adjust-openrouter-body.ts';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

describe('OpenRouter (wire formats §8)', () => {
  it("passes OpenRouter's own fields through and asks for usage accounting", () => {
    const request = fromOpenAIChatRequest(
      openAIChatRequestSchema.parse({
        model: 'openai/gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
        transforms: ['middle-out'],
        models: ['anthropic/claude-3.5-sonnet'],
        route: 'fallback',
        provider: { order: ['OpenAI'], allow_fallbacks: true },
      }),
    );
    const body = toOpenAIChatRequest(request, { maxTokensField: 'max_tokens' });
    adjustOpenRouterBody(body);
    expect(body).toEqual({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      transforms: ['middle-out'],
      models: ['anthropic/claude-3.5-sonnet'],
      route: 'fallback',
      provider: { order: ['OpenAI'], allow_fallbacks: true },
      usage: { include: true },
    });
  });

  it('keeps cache_control for model families that cache through OpenRouter, and only for those', () => {
    const openai = openAIChatRequestSchema.parse({
      model: 'x',
      messages: [
        { role: 'system', content: 'Long rules', cache_control: { type: 'ephemeral' } },
        { role: 'user', content: 'hi' },
      ],
    });
    const forModel = (model: string) => {
      const request = { ...fromOpenAIChatRequest(openai), model };
      const body = toOpenAIChatRequest(request, { maxTokensField: 'max_tokens' });
      adjustOpenRouterBody(body, request);
      return body.messages;
    };
    expect(forModel('anthropic/claude-sonnet-4.5')).toEqual([
      {
        role: 'system',
        content: [{ type: 'text', text: 'Long rules', cache_control: { type: 'ephemeral' } }],
      },
      { role: 'user', content: 'hi' },
    ]);
    expect(forModel('openai/gpt-4o')).toEqual([
      { role: 'system', content: 'Long rules' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('reads the reported cost and cache writes from usage', () => {
    const result = fromOpenAIChatResponse(
      openAIChatResponseSchema.parse(JSON.parse(fixture('chat-response.json'))),
    );
    expect(result.usage).toEqual({
      inputTokens: 194,
      outputTokens: 2,
      cacheReadTokens: 0,
      cacheWriteTokens: 100,
      reasoningTokens: 0,
      providerCostUsd: '0.00095',
    });
  });

  it('ignores processing comments and turns an in-chunk error into an error event', async () => {
    const bytes = new Blob([fixture('stream-error.txt')]).stream() as ReadableStream<Uint8Array>;
    const events: StreamEvent[] = [];
    for await (const event of parseSse(bytes).pipeThrough(fromOpenAIStream('openrouter'))) events.push(event);
    expect(events.map((e) => e.type)).toEqual(['start', 'text-delta', 'error']);
    expect(events.at(-1)).toMatchObject({
      error: { kind: 'upstream_error', provider: 'openrouter', vendorCode: 'server_error' },
    });
  });
});
