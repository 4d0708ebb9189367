import { type AddressInfo, connect } from 'node:net';
import type { Transformer } from 'node:stream/web';
import type { StreamEvent } from '@gateway/providers';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEnv } from '../app-env.ts';
import { sseResponse } from './sse-response.ts';

/** Text deltas as `data: <text>`, usage held back, `[DONE]` at the end. */
const render = (): Transformer<StreamEvent, string> => ({
  transform(event, controller) {
    if (event.type === 'text-delta') controller.enqueue(`data: ${event.text}\n\n`);
  },
  flush(controller) {
    controller.enqueue('data: [DONE]\n\n');
  },
});

const text = (value: string): StreamEvent => ({ type: 'text-delta', choice: 0, text: value });
const usage: StreamEvent = { type: 'usage', usage: { inputTokens: 1, outputTokens: 2 } };

/** A source that hands out each batch after its delay (ms), and records a cancel. */
function source(batches: [number, StreamEvent[]][], endless = false) {
  const seen = { cancelled: false };
  let i = 0;
  const events = new ReadableStream<StreamEvent[]>({
    async pull(controller) {
      const next = batches[i++];
      if (!next) {
        if (endless) return new Promise<void>(() => {});
        controller.close();
        return;
      }
      if (next[0] > 0) await new Promise((resolve) => setTimeout(resolve, next[0]));
      controller.enqueue(next[1]);
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { events, seen };
}

function appFor(events: ReadableStream<StreamEvent[]>) {
  const app = new Hono<AppEnv>();
  app.get('/s', (c) => sseResponse(c, events.getReader(), render(), { 'x-litellm-call-id': 'call-1' }));
  return app;
}

let server: ServerType | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function served(events: ReadableStream<StreamEvent[]>): Promise<string> {
  const app = appFor(events);
  server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/s`;
}

describe('sseResponse served by Node', () => {
  it('writes every batch, the end text and the call headers', async () => {
    const { events } = source([
      [0, [text('a'), text('b')]],
      [0, [usage]],
      [5, [text('c')]],
    ]);
    const response = await fetch(await served(events));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-litellm-call-id')).toBe('call-1');
    expect(await response.text()).toBe('data: a\n\ndata: b\n\ndata: c\n\ndata: [DONE]\n\n');
  });

  it('sends the headers at once when the first token is slow, and each chunk as it comes', async () => {
    const { events } = source([
      [800, [text('late')]],
      [800, [text('later')]],
    ]);
    const started = Date.now();
    const response = await fetch(await served(events));
    expect(Date.now() - started).toBeLessThan(600);
    const reader = response.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    expect(new TextDecoder().decode(first.value)).toBe('data: late\n\n');
    // before the second batch exists (1,600 ms)
    expect(firstAt).toBeLessThan(1_400);
    let rest = '';
    for (let next = await reader.read(); !next.done; next = await reader.read())
      rest += new TextDecoder().decode(next.value);
    expect(rest).toBe('data: later\n\ndata: [DONE]\n\n');
  });

  it('stops reading events while the client does not read, and sends them all once it does', async () => {
    const piece = 'x'.repeat(64 * 1024);
    let pulled = 0;
    const total = 400; // 25 MB: more than the socket buffers hold
    const events = new ReadableStream<StreamEvent[]>({
      pull(controller) {
        if (pulled === total) controller.close();
        else {
          pulled += 1;
          controller.enqueue([text(piece)]);
        }
      },
    });
    const url = new URL(await served(events));
    const socket = connect(Number(url.port), url.hostname);
    socket.write(`GET /s HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
    socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pulled).toBeLessThan(total / 2);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    await expect.poll(() => pulled, { timeout: 10_000 }).toBe(total);
    await expect.poll(() => received, { timeout: 10_000 }).toBeGreaterThan(total * (piece.length + 8));
    socket.destroy();
  });

  it('hands headers Node refuses to the error handler and ends the call', async () => {
    const { events, seen } = source([[0, [text('a')]]], true);
    const app = new Hono<AppEnv>();
    app.get('/s', (c) => sseResponse(c, events.getReader(), render(), { 'x-bad': 'model \u4e2d' }));
    // The app's error handler answers it, as for any failing route (in the caller's dialect).
    app.onError((error, c) => c.json({ handledBy: 'onError', message: error.message }, 500));
    server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
    });
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/s`);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ handledBy: 'onError' });
    await expect.poll(() => seen.cancelled, { timeout: 2_000 }).toBe(true);
  });

  it('stops reading the events when the client goes away', async () => {
    const { events, seen } = source([[0, [text('a')]]], true);
    const aborted = new AbortController();
    const response = await fetch(await served(events), { signal: aborted.signal });
    const reader = response.body!.getReader();
    await reader.read();
    aborted.abort();
    await expect.poll(() => seen.cancelled, { timeout: 2_000 }).toBe(true);
  });
});

describe('sseResponse without Node (app.request)', () => {
  it('renders the same text as a web stream, skipping batches that render to nothing', async () => {
    const { events } = source([
      [0, [text('a')]],
      [0, [usage]],
      [0, [text('b')]],
    ]);
    const response = await appFor(events).request('/s');
    expect(response.headers.get('x-litellm-call-id')).toBe('call-1');
    const chunks: string[] = [];
    for await (const chunk of response.body!) chunks.push(new TextDecoder().decode(chunk));
    expect(chunks).toEqual(['data: a\n\n', 'data: b\n\n', 'data: [DONE]\n\n']);
  });
});
