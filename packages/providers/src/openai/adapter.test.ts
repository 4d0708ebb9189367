import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../canonical.ts';
import { UpstreamPools } from '../http/upstream-pools.ts';
import { createOpenAICompatibleAdapter } from './adapter.ts';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

/** A fake upstream that replays one recorded answer and keeps what it was sent. */
let reply: { status: number; contentType: string; body: string } = { status: 200, contentType: '', body: '' };
let received: { path: string; headers: Record<string, unknown>; body: unknown }[] = [];
let server: Server;
let apiBase: string;
const pools = new UpstreamPools();
const adapter = createOpenAICompatibleAdapter({ pools });

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
  apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterEach(() => {
  received = [];
});
afterAll(async () => {
  await pools.close();
  await new Promise((resolve) => server.close(resolve));
});

const request: ChatRequest = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: [{ type: 'text', text: 'Be terse.' }] },
    { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
  ],
  stream: false,
  maxOutputTokens: 64,
  temperature: 0.2,
  tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
  toolChoice: 'auto',
  user: 'user-123',
  openaiExtras: { logprobs: false },
};

async function collect(stream: ReadableStream<StreamEvent[]>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const batch of stream) events.push(...batch);
  return events;
}

describe('OpenAI-compatible adapter', () => {
  it('sends the OpenAI body with the key as a bearer token', async () => {
    reply = { status: 200, contentType: 'application/json', body: fixture('chat-response.json') };
    const result = await adapter.chat(request, { apiBase, apiKey: 'sk-upstream' });
    expect(result.ok).toBe(true);
    expect(received[0]?.path).toBe('/v1/chat/completions');
    expect(received[0]?.headers.authorization).toBe('Bearer sk-upstream');
    expect(received[0]?.body).toMatchSnapshot();
  });

  it('reads tool calls and every usage bucket from a response', async () => {
    reply = { status: 200, contentType: 'application/json', body: fixture('chat-response.json') };
    const result = await adapter.chat(request, { apiBase });
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.result.choices[0]).toMatchObject({
      finishReason: 'tool_calls',
      toolCalls: [{ id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}' }],
    });
    expect(result.value.result.usage).toEqual({
      inputTokens: 2006,
      outputTokens: 300,
      cacheReadTokens: 1920,
      reasoningTokens: 128,
    });
  });

  it('asks a streaming upstream for usage and turns chunks into events', async () => {
    reply = { status: 200, contentType: 'text/event-stream', body: fixture('chat-stream.txt') };
    const result = await adapter.chatStream({ ...request, stream: true }, { apiBase });
    if (!result.ok) throw new Error(result.error.message);
    expect(received[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(await collect(result.value.events)).toEqual([
      {
        type: 'start',
        id: 'chatcmpl-9x1',
        model: 'gpt-4o-mini',
        created: 1718000000,
        systemFingerprint: 'fp_1',
      },
      { type: 'text-delta', choice: 0, text: 'Hel' },
      { type: 'finish', choice: 0, finishReason: 'stop' },
      { type: 'usage', usage: { inputTokens: 12, outputTokens: 3, cacheReadTokens: 0, reasoningTokens: 0 } },
    ]);
  });

  it('streams tool-call fragments keyed by their index', async () => {
    reply = { status: 200, contentType: 'text/event-stream', body: fixture('chat-stream-tool-calls.txt') };
    const result = await adapter.chatStream({ ...request, stream: true }, { apiBase });
    if (!result.ok) throw new Error(result.error.message);
    const events = await collect(result.value.events);
    const args = events
      .filter((e) => e.type === 'tool-call-delta')
      .map((e) => (e.type === 'tool-call-delta' ? e.argumentsDelta : ''))
      .join('');
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(events.at(-1)).toEqual({ type: 'finish', choice: 0, finishReason: 'tool_calls' });
  });

  it('ends a stream cut before finish_reason with an error event', async () => {
    reply = { status: 200, contentType: 'text/event-stream', body: fixture('chat-stream-cut.txt') };
    const result = await adapter.chatStream({ ...request, stream: true }, { apiBase });
    if (!result.ok) throw new Error(result.error.message);
    const events = await collect(result.value.events);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { kind: 'upstream_error', status: 502 } });
  });

  it('keeps status, retryability and vendor code of an upstream 429', async () => {
    reply = { status: 429, contentType: 'application/json', body: fixture('error-429.json') };
    const result = await adapter.chat(request, { apiBase });
    expect(result).toEqual({
      ok: false,
      error: {
        kind: 'upstream_error',
        provider: 'openai',
        status: 429,
        message: 'openai error: Rate limit reached for requests',
        retryable: true,
        vendorType: 'requests',
        vendorCode: 'rate_limit_exceeded',
      },
    });
  });

  it('reports an unreachable upstream as a retryable 502', async () => {
    const result = await adapter.chat(request, { apiBase: 'http://127.0.0.1:1/v1' });
    expect(result).toMatchObject({
      ok: false,
      error: { kind: 'upstream_error', status: 502, retryable: true },
    });
  });
});
