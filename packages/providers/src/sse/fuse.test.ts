import type { Transformer } from 'node:stream/web';
import { describe, expect, it } from 'vitest';
import { collector, fuse } from './fuse.ts';
import { sseMessages } from './parse-sse.ts';

async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

function bytesOf(...parts: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(typeof part === 'string' ? encoder.encode(part) : part);
      controller.close();
    },
  });
}

describe('sseMessages', () => {
  it('parses events split anywhere, including inside a multi-byte character', async () => {
    const euro = new TextEncoder().encode('data: {"t":"€"}\n\n');
    // "€" is three bytes: cut between its first and second.
    const cut = euro.indexOf(0xe2) + 1;
    const stream = bytesOf(
      ': OPENROUTER PROCESSING\n\nevent: ping\nda',
      'ta: 1\n\n',
      euro.slice(0, cut),
      euro.slice(cut),
      'data: [DONE]\n\n',
    );
    const messages = await collect(stream.pipeThrough(new TransformStream(sseMessages())));
    expect(messages.map((m) => [m.event, m.data])).toEqual([
      ['ping', '1'],
      [undefined, '{"t":"€"}'],
      [undefined, '[DONE]'],
    ]);
  });
});

describe('fuse', () => {
  it('runs each step in order, with their flushes, as one stream', async () => {
    const log: string[] = [];
    const upper: Transformer<string, string> = {
      transform: (text, controller) => controller.enqueue(text.toUpperCase()),
      flush: (controller) => {
        log.push('upper flush');
        controller.enqueue('!');
      },
    };
    const framed: Transformer<string, string> = {
      start: (controller) => controller.enqueue('<'),
      transform: (text, controller) => controller.enqueue(`[${text}]`),
      flush: (controller) => {
        log.push('framed flush');
        controller.enqueue('>');
      },
    };
    const source = new ReadableStream<string>({
      start(controller) {
        controller.enqueue('a');
        controller.enqueue('b');
        controller.close();
      },
    });
    const texts = await collect(source.pipeThrough(new TransformStream(fuse(upper, framed))));
    expect(texts.join('')).toBe('<[A][B][!]>');
    expect(log).toEqual(['upper flush', 'framed flush']);
  });

  it('refuses an asynchronous step', async () => {
    const source = new ReadableStream<string>({
      start(controller) {
        controller.enqueue('a');
        controller.close();
      },
    });
    const asyncStep: Transformer<string, string> = { transform: async () => {} };
    await expect(
      collect(source.pipeThrough(new TransformStream(fuse(asyncStep, { transform() {} })))),
    ).rejects.toThrow(/synchronous/);
  });
});

describe('collector', () => {
  it('keeps what a transformer enqueues until taken, and throws what it errors with', () => {
    const out = collector<string>();
    const step = fuse<string, string, string>(
      { transform: (text, controller) => controller.enqueue(text) },
      {
        transform: (text, controller) => {
          if (text === 'bad') controller.error(new Error('bad input'));
          controller.enqueue(`${text}!`);
        },
      },
    );
    step.start?.(out.controller);
    step.transform?.('a', out.controller);
    step.transform?.('b', out.controller);
    expect(out.pending()).toBe(2);
    expect(out.take()).toEqual(['a!', 'b!']);
    expect(out.take()).toEqual([]);
    expect(() => step.transform?.('bad', out.controller)).toThrow('bad input');
  });
});
