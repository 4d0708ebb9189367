import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './server.ts';
import { readSse } from './test-support.ts';

let mock: MockProvider;
beforeAll(async () => {
  mock = await startMockProvider({ apiKey: 'sk-or-mock' });
});
afterAll(() => mock.close());

const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-or-mock' };
const post = (path: string, body: unknown, init: { headers?: Record<string, string> } = {}) =>
  fetch(`${mock.openrouterBaseUrl}${path}`, {
    method: 'POST',
    headers: init.headers ?? headers,
    body: JSON.stringify(body),
  });
const hello = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'openai/gpt-4o',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('mock OpenRouter over HTTP', () => {
  it('answers chat with a gen- id (also in x-generation-id), provider and usage with cost', async () => {
    expect(mock.openrouterBaseUrl).toBe(`${mock.origin}/openrouter/api/v1`);
    const body = hello('hi [mock:reply_tokens=3]', { usage: { include: true } });
    const res = await post('/chat/completions', body);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { id: string; usage: { prompt_tokens: number; cost: number } };
    expect(answer.id).toMatch(/^gen-/);
    expect(res.headers.get('x-generation-id')).toBe(answer.id);
    expect(answer).toMatchObject({ provider: 'OpenAI', usage: { completion_tokens: 3, is_byok: false } });
    expect(answer.usage.cost).toBe((answer.usage.prompt_tokens + 2 * 3) / 1e6);
    expect(mock.requests.at(-1)).toMatchObject({ path: '/openrouter/api/v1/chat/completions', body });
  });

  it('streams the processing comment first and usage with cost before [DONE] without include_usage', async () => {
    const res = await post('/chat/completions', hello('hi [mock:reply_tokens=2]', { stream: true }));
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { frames, payloads, chunks } = readSse(await res.text());
    expect(frames[0]).toBe(': OPENROUTER PROCESSING');
    expect(payloads.at(-1)).toBe('[DONE]');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { completion_tokens: 2, cost: expect.any(Number) },
    });
    expect(
      chunks
        .slice(0, -1)
        .map((c) => c.choices[0].delta.content)
        .join(''),
    ).toBe('This is');
  });

  it('streams delta.reasoning when reasoning is asked for', async () => {
    const res = await post(
      '/chat/completions',
      hello('hi [mock:reply_tokens=1]', { stream: true, reasoning: { effort: 'low' } }),
    );
    const { chunks } = readSse(await res.text());
    expect(chunks.filter((c) => c.choices[0]?.delta.reasoning).length).toBe(8);
  });

  it("sends OpenRouter's mid-stream error chunk, then ends without [DONE]", async () => {
    const res = await post('/chat/completions', hello('x [mock:stream_error_after=1]', { stream: true }));
    expect(res.status).toBe(200);
    const { payloads, chunks } = readSse(await res.text());
    expect(payloads).not.toContain('[DONE]');
    expect(chunks.at(-1)).toMatchObject({
      error: { code: 'server_error' },
      choices: [{ finish_reason: 'error' }],
    });
  });

  it('answers errors as {error: {code, message}} with the HTTP status as code', async () => {
    const res = await post('/chat/completions', hello('x [mock:error=402]'));
    expect(res.status).toBe(402);
    expect(await res.json()).toEqual({
      error: { code: 402, message: 'Insufficient credits. Add more using https://openrouter.ai/credits' },
    });
    const unauthenticated = await post('/chat/completions', hello('x'), {
      headers: { 'content-type': 'application/json' },
    });
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ error: { code: 401 } });
  });

  it('serves OpenAI-shaped embeddings', async () => {
    const res = await post('/embeddings', { model: 'openai/text-embedding-3-small', input: ['a', 'b'] });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      object: 'list',
      data: [{ index: 0 }, { index: 1 }],
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
  });
});
