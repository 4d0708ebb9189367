import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../canonical.ts';
import { toOpenAIStream } from './to-openai-stream.ts';

async function render(events: StreamEvent[], includeUsage: boolean): Promise<string[]> {
  const source = new ReadableStream<StreamEvent>({
    start(controller) {
      for (const e of events) controller.enqueue(e);
      controller.close();
    },
  });
  const out: string[] = [];
  const stream = source.pipeThrough(
    toOpenAIStream({ includeUsage, renderError: (e) => ({ error: { message: e.message } }) }),
  );
  for await (const text of stream) out.push(text);
  return out;
}

const answer: StreamEvent[] = [
  { type: 'start', id: 'chatcmpl-1', model: 'gpt-4o-mini', created: 1 },
  { type: 'text-delta', choice: 0, text: 'Hi' },
  { type: 'finish', choice: 0, finishReason: 'stop' },
  { type: 'usage', usage: { inputTokens: 5, outputTokens: 1, cacheReadTokens: 0 } },
];

describe('toOpenAIStream', () => {
  it('sends the usage chunk only when the client asked for it', async () => {
    const withUsage = await render(answer, true);
    const usageChunk = JSON.parse(withUsage.at(-2)!.slice('data: '.length));
    expect(usageChunk).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    });
    const without = await render(answer, false);
    expect(without.some((line) => line.includes('"usage"'))).toBe(false);
    expect(without.at(-1)).toBe('data: [DONE]\n\n');
  });

  it('ends with an error event and no [DONE] when the upstream failed', async () => {
    const out = await render(
      [answer[0]!, { type: 'error', error: { kind: 'internal', message: 'boom' } }],
      true,
    );
    expect(out.at(-1)).toBe('data: {"error":{"message":"boom"}}\n\n');
    expect(out).not.toContain('data: [DONE]\n\n');
  });
});

describe('toOpenAIStream passthrough fields', () => {
  it('keeps logprobs on content deltas and renders refusals and thinking signatures', async () => {
    const out = await render(
      [
        answer[0]!,
        {
          type: 'text-delta',
          choice: 0,
          text: 'Hi',
          logprobs: { content: [{ token: 'Hi', logprob: -0.1 }] },
        },
        { type: 'refusal-delta', choice: 0, text: 'I cannot' },
        { type: 'reasoning-signature', choice: 0, signature: 'sig' },
        answer[2]!,
      ],
      false,
    );
    const chunks = out.filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)));
    expect(chunks[1].choices[0].logprobs).toEqual({ content: [{ token: 'Hi', logprob: -0.1 }] });
    expect(chunks[2].choices[0].delta).toEqual({ refusal: 'I cannot' });
    expect(chunks[3].choices[0].delta.thinking_blocks).toEqual([
      { type: 'thinking', thinking: '', signature: 'sig' },
    ]);
  });
});
