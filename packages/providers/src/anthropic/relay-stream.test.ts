import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../canonical.ts';
import { collector, fuse } from '../sse/fuse.ts';
import { sseMessages } from '../sse/parse-sse.ts';
import { fromAnthropicRelayTransformer } from './relay-stream.ts';

const transcript = readFileSync(new URL('./__fixtures__/message-stream.txt', import.meta.url), 'utf8');

/** Feeds `text` in pieces of `size` bytes through the relay transformer; every event it yields. */
function relay(text: string, size = 37): StreamEvent[] {
  const steps = fuse(sseMessages(), fromAnthropicRelayTransformer());
  const out = collector<StreamEvent>();
  steps.start?.(out.controller);
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) steps.transform?.(bytes.subarray(i, i + size), out.controller);
  steps.flush?.(out.controller);
  return out.take();
}

const rawText = (events: StreamEvent[]) =>
  events.map((event) => (event.type === 'raw' ? event.text : '')).join('');

describe('an Anthropic stream relayed to an Anthropic client', () => {
  it('passes every event on as it came, fed in arbitrary pieces, and meters the usage beside it', () => {
    const events = relay(transcript);
    expect(rawText(events)).toBe(transcript);
    expect(events).toContainEqual({
      type: 'start',
      id: 'msg_01XF',
      model: 'claude-3-5-sonnet-20240620',
      created: expect.any(Number),
    });
    expect(events.filter((e) => e.type === 'usage').at(-1)).toEqual({
      type: 'usage',
      usage: {
        inputTokens: 2512,
        outputTokens: 57,
        cacheReadTokens: 1800,
        cacheWriteTokens: 300,
        cacheWrite1hTokens: 0,
      },
    });
    expect(events.some((e) => e.type === 'error')).toBe(false);
  });

  it('relays an event type it does not know without failing the stream', () => {
    const unknown = 'event: future_event\ndata: {"type":"future_event","x":1}\n\n';
    const [head, tail] = transcript.split(/(?=event: message_delta)/);
    const events = relay(`${head}${unknown}${tail}`);
    expect(rawText(events)).toBe(`${head}${unknown}${tail}`);
    expect(events.some((e) => e.type === 'error')).toBe(false);
  });

  it('ends a stream cut before message_delta with an error, after billing its input side', () => {
    const events = relay(transcript.split('event: message_delta')[0]!);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { status: 502, retryable: true } });
    expect(events.find((e) => e.type === 'usage')).toMatchObject({ usage: { inputTokens: 2512 } });
  });

  it('turns an upstream error event into an error for the gateway to render, not relayed as is', () => {
    const error =
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const events = relay(transcript.split('event: content_block_delta')[0] + error);
    expect(rawText(events)).not.toContain('overloaded_error');
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { status: 529 } });
  });
});
