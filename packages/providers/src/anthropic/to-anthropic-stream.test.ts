import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../canonical.ts';
import { toAnthropicStream } from './to-anthropic-stream.ts';

async function render(events: StreamEvent[]): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const source = new ReadableStream<StreamEvent>({
    start(controller) {
      for (const e of events) controller.enqueue(e);
      controller.close();
    },
  });
  let text = '';
  for await (const part of source.pipeThrough(
    toAnthropicStream({ model: 'm', renderError: (e) => ({ e }) }),
  )) {
    text += part;
  }
  return text
    .trim()
    .split('\n\n')
    .map((frame) => {
      const [eventLine, dataLine] = frame.split('\n');
      return {
        event: eventLine!.slice('event: '.length),
        data: JSON.parse(dataLine!.slice('data: '.length)),
      };
    });
}

describe('toAnthropicStream', () => {
  it('keeps one tool_use block per call even when the upstream repeats the id on every fragment', async () => {
    const frames = await render([
      { type: 'start', id: 'c1', model: 'm', created: 1 },
      { type: 'text-delta', choice: 0, text: 'Checking.' },
      { type: 'tool-call-delta', choice: 0, index: 0, id: 'call_1', name: 'f', argumentsDelta: '' },
      { type: 'tool-call-delta', choice: 0, index: 0, id: 'call_1', argumentsDelta: '{"a"' },
      { type: 'tool-call-delta', choice: 0, index: 0, id: 'call_1', argumentsDelta: ':1}' },
      { type: 'finish', choice: 0, finishReason: 'tool_calls' },
      { type: 'usage', usage: { inputTokens: 10, outputTokens: 4, cacheReadTokens: 6 } },
    ]);
    expect(frames.map((f) => f.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(frames[4]!.data).toMatchObject({
      index: 1,
      content_block: { type: 'tool_use', id: 'call_1', name: 'f' },
    });
    expect(frames[8]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 4, output_tokens: 4, cache_read_input_tokens: 6 },
    });
  });
});
