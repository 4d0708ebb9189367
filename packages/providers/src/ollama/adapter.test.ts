import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../canonical.ts';
import { UpstreamPools } from '../http/upstream-pools.ts';
import { createOllamaAdapter } from './adapter.ts';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

/** A fake Ollama that replays one recorded answer and keeps what it was sent. */
let reply: { status: number; contentType: string; body: string } = { status: 200, contentType: '', body: '' };
let received: { path: string; headers: Record<string, unknown>; body: unknown }[] = [];
let server: Server;
let apiBase: string;
const pools = new UpstreamPools();
const chatAdapter = createOllamaAdapter({ pools }, { mode: 'chat' });
const generateAdapter = createOllamaAdapter({ pools }, { mode: 'generate' });

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) });
      res.writeHead(reply.status, { 'content-type': reply.contentType });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  received = [];
});
afterAll(async () => {
  await pools.close();
  await new Promise((resolve) => server.close(resolve));
});

const request: ChatRequest = {
  model: 'llama3.1',
  messages: [
    { role: 'system', content: [{ type: 'text', text: 'Be terse.' }] },
    { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
  ],
  stream: false,
  maxOutputTokens: 64,
  temperature: 0.2,
  tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
  toolChoice: 'auto',
  openaiExtras: { keep_alive: '5m', logprobs: true },
};

async function collect(stream: ReadableStream<StreamEvent[]>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const batch of stream) events.push(...batch);
  return events;
}

describe('Ollama adapter', () => {
  it('posts the /api/chat body without credentials and reads the tool call', async () => {
    reply = {
      status: 200,
      contentType: 'application/json; charset=utf-8',
      body: fixture('chat-response.json'),
    };
    const result = await chatAdapter.chat(request, { apiBase });
    if (!result.ok) throw new Error(result.error.message);
    expect(chatAdapter.id).toBe('ollama_chat');
    expect(received[0]?.path).toBe('/api/chat');
    expect(received[0]?.headers).not.toHaveProperty('authorization');
    expect(received[0]?.body).toMatchSnapshot();
    expect(result.value.droppedParams).toEqual(['logprobs']);
    expect(result.value.result).toMatchObject({
      model: 'ollama_chat/llama3.1',
      choices: [
        { finishReason: 'tool_calls', toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      ],
      usage: { inputTokens: 122, outputTokens: 33 },
    });
  });

  it('sends a configured key as a bearer token', async () => {
    reply = { status: 200, contentType: 'application/json', body: fixture('chat-response.json') };
    await chatAdapter.chat(request, { apiBase: `${apiBase}/`, apiKey: 'ollama-cloud-key' });
    expect(received[0]?.headers.authorization).toBe('Bearer ollama-cloud-key');
  });

  it('posts a rendered prompt to /api/generate for ollama/ models', async () => {
    reply = { status: 200, contentType: 'application/json', body: fixture('generate-response.json') };
    const result = await generateAdapter.chat(
      { ...request, tools: undefined, toolChoice: undefined, openaiExtras: { suffix: '\n  return a\n' } },
      { apiBase },
    );
    if (!result.ok) throw new Error(result.error.message);
    expect(generateAdapter.id).toBe('ollama');
    expect(received[0]?.path).toBe('/api/generate');
    expect(received[0]?.body).toMatchSnapshot();
    expect(result.value.droppedParams).toEqual([]);
    expect(result.value.result.choices[0]?.text).toBe('\n  if a == 0:\n    return b\n');
  });

  it('asks for a stream explicitly and turns NDJSON lines into events', async () => {
    reply = { status: 200, contentType: 'application/x-ndjson', body: fixture('chat-stream.ndjson') };
    const result = await chatAdapter.chatStream({ ...request, stream: true }, { apiBase });
    if (!result.ok) throw new Error(result.error.message);
    expect(received[0]?.headers.accept).toBe('application/x-ndjson');
    expect(received[0]?.body).toMatchObject({ stream: true, keep_alive: '5m' });
    const events = await collect(result.value.events);
    expect(events.map((e) => e.type)).toEqual(['start', 'text-delta', 'text-delta', 'finish', 'usage']);
    expect(events.at(-1)).toEqual({ type: 'usage', usage: { inputTokens: 26, outputTokens: 282 } });
  });

  it('streams /api/generate', async () => {
    reply = { status: 200, contentType: 'application/x-ndjson', body: fixture('generate-stream.ndjson') };
    const result = await generateAdapter.chatStream(
      { ...request, stream: true, tools: undefined },
      { apiBase },
    );
    if (!result.ok) throw new Error(result.error.message);
    expect(received[0]?.body).toMatchObject({ stream: true });
    const events = await collect(result.value.events);
    expect(events.at(-2)).toEqual({ type: 'finish', choice: 0, finishReason: 'stop' });
  });

  it('ends a stream cut before the done line with an error event', async () => {
    reply = { status: 200, contentType: 'application/x-ndjson', body: fixture('chat-stream-cut.ndjson') };
    const result = await chatAdapter.chatStream({ ...request, stream: true }, { apiBase });
    if (!result.ok) throw new Error(result.error.message);
    const events = await collect(result.value.events);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { kind: 'upstream_error', status: 502 } });
  });

  it('keeps status and message of a 404 for a model that is not pulled', async () => {
    reply = { status: 404, contentType: 'application/json', body: fixture('error-404.json') };
    const result = await chatAdapter.chat(request, { apiBase });
    expect(result).toEqual({
      ok: false,
      error: {
        kind: 'upstream_error',
        provider: 'ollama_chat',
        status: 404,
        message: 'ollama_chat error: model "llama9" not found, try pulling it first',
        retryable: false,
      },
    });
  });

  it('reports a body of unexpected shape as a 502', async () => {
    reply = { status: 200, contentType: 'application/json', body: '{"nope":true}' };
    const result = await chatAdapter.chat(request, { apiBase });
    expect(result).toMatchObject({ ok: false, error: { status: 502, retryable: false } });
  });

  it('reports an unreachable upstream as a retryable 502', async () => {
    const result = await chatAdapter.chat(request, { apiBase: 'http://127.0.0.1:1' });
    expect(result).toMatchObject({
      ok: false,
      error: { kind: 'upstream_error', provider: 'ollama_chat', status: 502, retryable: true },
    });
  });
});
