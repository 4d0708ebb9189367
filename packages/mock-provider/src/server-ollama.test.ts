import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toMockEmbedding } from './embedding-vector.ts';
import { type MockProvider, startMockProvider } from './server.ts';
import { readNdjson } from './test-support.ts';

// A key is configured for the other vendors; Ollama routes must still take requests without one.
let mock: MockProvider;
beforeAll(async () => {
  mock = await startMockProvider({ apiKey: 'sk-other-vendors' });
});
afterAll(() => mock.close());

const post = (path: string, body: unknown) =>
  fetch(`${mock.ollamaBaseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'llama3.1',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('mock Ollama over HTTP', () => {
  it('streams /api/chat as NDJSON by default, without a key, and records the body', async () => {
    expect(mock.ollamaBaseUrl).toBe(mock.origin);
    const body = chat('hi [mock:reply_tokens=3]');
    const res = await post('/api/chat', body);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = readNdjson(await res.text());
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).every((l) => l.done === false)).toBe(true);
    expect(
      lines
        .slice(0, 3)
        .map((l) => l.message.content)
        .join(''),
    ).toBe('This is a');
    expect(lines[3]).toMatchObject({
      done: true,
      done_reason: 'stop',
      eval_count: 3,
      eval_duration: 60_000_000,
      load_duration: 1_000_000,
      prompt_eval_count: expect.any(Number),
      prompt_eval_duration: expect.any(Number),
      total_duration: expect.any(Number),
    });
    expect(mock.requests.at(-1)).toMatchObject({ path: '/api/chat', body });
  });

  it('answers stream: false with one JSON body, thinking and tool calls as objects', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    const res = await post(
      '/api/chat',
      chat('Paris? [mock:tool_call=get_weather]', { stream: false, think: true, tools }),
    );
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({
      message: {
        role: 'assistant',
        content: '',
        thinking: 'Reasoning about the request before the mock replies.',
        tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'mock' } } }],
      },
      done: true,
    });
  });

  it('answers /api/generate with a fill-in for suffix and streams it line by line', async () => {
    const once = await post('/api/generate', {
      model: 'codellama:code',
      prompt: 'def f(',
      suffix: 'return 1',
      stream: false,
      options: { num_predict: 2 },
    });
    expect(await once.json()).toMatchObject({
      response: '[fill-in before "return 1"] is',
      done_reason: 'length',
      context: expect.any(Array),
    });
    const streamed = readNdjson(
      await (await post('/api/generate', { model: 'm', prompt: 'x [mock:reply_tokens=2]' })).text(),
    );
    expect(streamed.map((l) => l.response).join('')).toBe('This is');
    expect(streamed.at(-1)).toMatchObject({ done: true, done_reason: 'stop', eval_count: 2 });
  });

  it('answers /api/embed with embeddings and prompt_eval_count', async () => {
    const res = await post('/api/embed', {
      model: 'nomic-embed-text',
      input: ['hello', 'world'],
      dimensions: 4,
    });
    expect(await res.json()).toMatchObject({
      model: 'nomic-embed-text',
      embeddings: [toMockEmbedding('hello', 4), toMockEmbedding('world', 4)],
      prompt_eval_count: 4,
    });
  });

  it('answers errors as {"error": "..."} with the directive status, and 400 for bad JSON', async () => {
    const missing = await post('/api/chat', chat('x [mock:error=404]', { model: 'llama9' }));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'model "llama9" not found, try pulling it first' });
    const bad = await post('/api/generate', '{not json');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.any(String) });
  });

  it('ends a stream with an {"error"} line for stream_error_after and drops it for cut_after', async () => {
    const failing = readNdjson(await (await post('/api/chat', chat('x [mock:stream_error_after=2]'))).text());
    expect(failing).toHaveLength(3);
    expect(failing.at(-1)).toEqual({
      error: 'an error was encountered while running the model: unexpected EOF',
    });
    const cut = await post('/api/generate', { model: 'm', prompt: 'x [mock:cut_after=1]' });
    await expect(cut.text()).rejects.toThrow();
  });

  it('waits latency_ms before answering and chunk_delay_ms between lines', async () => {
    const started = Date.now();
    const res = await post(
      '/api/chat',
      chat('x [mock:latency_ms=60] [mock:chunk_delay_ms=30] [mock:reply_tokens=2]'),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    readNdjson(await res.text());
    // Three lines (two tokens and the done line), each followed by a 30 ms pause.
    expect(Date.now() - started).toBeGreaterThanOrEqual(55 + 85);
  });
});
