import { Readable } from 'node:stream';
import type { Transformer } from 'node:stream/web';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../canonical.ts';
import { fromOpenAIStreamTransformer } from '../openai/from-openai-stream.ts';
import { fuse } from '../sse/fuse.ts';
import { sseMessages } from '../sse/parse-sse.ts';
import { upstreamEvents } from './upstream-events.ts';

const encoder = new TextEncoder();
const frame = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
const head = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini' };
const delta = (content: string) =>
  frame({ ...head, choices: [{ index: 0, delta: { content }, finish_reason: null }] });
const stop = frame({ ...head, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });

/** An upstream body that yields these chunks, then ends or fails. */
function body(chunks: string[], failWith?: Error): Dispatcher.ResponseData['body'] & Readable {
  async function* read() {
    for (const chunk of chunks) yield Buffer.from(encoder.encode(chunk));
    if (failWith) throw failWith;
  }
  return Readable.from(read(), { objectMode: false }) as unknown as Dispatcher.ResponseData['body'] &
    Readable;
}

const openAI = () => fuse(sseMessages(), fromOpenAIStreamTransformer('openai'));
const toError = (cause: unknown) => ({
  kind: 'upstream_error' as const,
  provider: 'openai',
  status: 502,
  message: `read failed: ${(cause as Error).message}`,
  retryable: true,
});

async function batchesOf(stream: ReadableStream<StreamEvent[]>): Promise<string[][]> {
  const batches: string[][] = [];
  for await (const batch of stream) batches.push(batch.map((event) => event.type));
  return batches;
}

describe('upstreamEvents', () => {
  it('enqueues what each read yields as one batch, reading on past a chunk that ends mid-event', async () => {
    const events = upstreamEvents(
      body([delta('Hel') + delta('lo'), delta(' wor').slice(0, 20), delta(' wor').slice(20), stop]),
      openAI(),
      toError,
    );
    expect(await batchesOf(events)).toEqual([
      // The first event of the first read alone, so that its first byte does not wait for the rest.
      ['start', 'text-delta'],
      ['text-delta'],
      ['text-delta'],
      ['finish'],
    ]);
  });

  it('ends with an error event after what came before when the body fails mid-stream', async () => {
    const events = upstreamEvents(body([delta('Hi')], new Error('socket reset')), openAI(), toError);
    const all: StreamEvent[] = [];
    for await (const batch of events) all.push(...batch);
    expect(all.map((event) => event.type)).toEqual(['start', 'text-delta', 'error']);
    expect(all.at(-1)).toMatchObject({ error: { message: 'read failed: socket reset' } });
  });

  it('turns a translation step that throws into an error event and destroys the body', async () => {
    const source = body([delta('Hi'), delta('there')]);
    let seen = 0;
    const throwing: Transformer<Uint8Array, StreamEvent> = {
      transform() {
        seen += 1;
        if (seen === 2) throw new Error('bad step');
      },
    };
    expect(await batchesOf(upstreamEvents(source, throwing, toError))).toEqual([['error']]);
    expect(source.destroyed).toBe(true);
  });

  it('destroys the body when the reader cancels (the client went away)', async () => {
    const source = body([delta('Hi'), delta('there'), stop]);
    const reader = upstreamEvents(source, openAI(), toError).getReader();
    await reader.read();
    await reader.cancel();
    expect(source.destroyed).toBe(true);
  });

  it("runs the steps' flush at the end: a stream cut before it finished ends with an error", async () => {
    const all: StreamEvent[] = [];
    for await (const batch of upstreamEvents(body([delta('Hi')]), openAI(), toError)) all.push(...batch);
    expect(all.at(-1)).toMatchObject({
      type: 'error',
      error: { message: 'openai ended the stream before it finished' },
    });
  });
});
