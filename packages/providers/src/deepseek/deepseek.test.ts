import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../canonical.ts';
import { fromOpenAIChatResponse } from '../openai/from-openai-response.ts';
import { fromOpenAIStream } from '../openai/from-openai-stream.ts';
import { toOpenAIChatRequest } from '../openai/to-openai-request.ts';
import { openAIChatResponseSchema } from '../openai/wire.ts';
import { parseSse } from '../sse/parse-sse.ts';
import { adjustDeepSeekBody } from './adjust-deepseek-body.ts';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

const base: ChatRequest = {
  model: 'deepseek-chat',
  stream: false,
  openaiExtras: {},
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ],
    },
    {
      role: 'assistant',
      content: [],
      reasoning: 'I should call the tool.',
      toolCalls: [{ id: 'call_1', name: 'calc', arguments: '{"expr":"2+2"}' }],
    },
    { role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: '4' }] },
  ],
};

function deepseekBody(request: ChatRequest) {
  const body = toOpenAIChatRequest(request, { maxTokensField: 'max_tokens' });
  const dropped = adjustDeepSeekBody(body, request);
  return { body, dropped };
}

describe('DeepSeek request (wire formats §6.2)', () => {
  it('flattens content lists and passes reasoning_content back on tool-call turns', () => {
    const { body } = deepseekBody(base);
    const messages = body.messages as Record<string, unknown>[];
    expect(messages[0]).toEqual({ role: 'user', content: 'ab' });
    expect(messages[1]).toMatchObject({ role: 'assistant', reasoning_content: 'I should call the tool.' });
  });

  it('turns reasoning_effort into thinking enabled and never sends reasoning_effort', () => {
    const { body } = deepseekBody({ ...base, reasoningEffort: 'low' });
    expect(body.thinking).toEqual({ type: 'enabled' });
    expect(body).not.toHaveProperty('reasoning_effort');
    expect(
      deepseekBody({ ...base, thinking: { type: 'enabled', budgetTokens: 4000 } }).body.thinking,
    ).toEqual({
      type: 'enabled',
    });
    expect(deepseekBody({ ...base, reasoningEffort: 'none' }).body).not.toHaveProperty('thinking');
  });
});

describe('DeepSeek response and stream (wire formats §6.3, §6.4)', () => {
  it('reads reasoning_content and the prompt cache hits as cache reads', () => {
    const result = fromOpenAIChatResponse(
      openAIChatResponseSchema.parse(JSON.parse(fixture('reasoner-response.json'))),
    );
    expect(result.choices[0]).toMatchObject({ text: '4', reasoning: 'Add them.' });
    expect(result.usage).toEqual({
      inputTokens: 76,
      outputTokens: 9,
      cacheReadTokens: 64,
      reasoningTokens: 5,
    });
  });

  it('streams reasoning before content, skips keep-alive comments, reports usage', async () => {
    const bytes = new Blob([fixture('reasoner-stream.txt')]).stream() as ReadableStream<Uint8Array>;
    const events: StreamEvent[] = [];
    for await (const event of parseSse(bytes).pipeThrough(fromOpenAIStream('deepseek'))) events.push(event);
    expect(events.map((e) => e.type)).toEqual(['start', 'reasoning-delta', 'text-delta', 'finish', 'usage']);
    expect(events.at(-1)).toEqual({
      type: 'usage',
      usage: { inputTokens: 76, outputTokens: 9, cacheReadTokens: 64, reasoningTokens: 5 },
    });
  });
});
