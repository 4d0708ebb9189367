import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './server.ts';
import { readSse } from './test-support.ts';

let mock: MockProvider;
beforeAll(async () => {
  mock = await startMockProvider({ apiKey: 'sk-deepseek-mock' });
});
afterAll(() => mock.close());

const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-deepseek-mock' };
const chat = (body: unknown, path = '/chat/completions', init: { headers?: Record<string, string> } = {}) =>
  fetch(`${mock.deepseekBaseUrl}${path}`, {
    method: 'POST',
    headers: init.headers ?? headers,
    body: JSON.stringify(body),
  });
const hello = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'deepseek-chat',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('mock DeepSeek over HTTP', () => {
  it('serves /chat/completions under /deepseek, /deepseek/beta and /deepseek/v1 and records the body', async () => {
    expect(mock.deepseekBaseUrl).toBe(`${mock.origin}/deepseek`);
    for (const prefix of ['', '/beta', '/v1']) {
      const body = hello(`hi ${prefix}`);
      const res = await chat(body, `${prefix}/chat/completions`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        object: 'chat.completion',
        choices: [{ finish_reason: 'stop' }],
      });
      expect(mock.requests.at(-1)).toMatchObject({ path: `/deepseek${prefix}/chat/completions`, body });
    }
  });

  it('answers a reasoner with reasoning_content and cache hit/miss usage', async () => {
    const res = await chat(
      hello('hi [mock:reply_tokens=2] [mock:cached_tokens=4]', { model: 'deepseek-reasoner' }),
    );
    const body = (await res.json()) as { usage: Record<string, number>; choices: { message: unknown }[] };
    expect(body.choices[0]!.message).toEqual({
      role: 'assistant',
      content: 'This is',
      reasoning_content: 'Reasoning about the request before the mock replies.',
    });
    expect(body.usage).toMatchObject({
      completion_tokens: 10,
      prompt_cache_hit_tokens: 4,
      prompt_cache_miss_tokens: body.usage.prompt_tokens! - 4,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 8 },
    });
  });

  it('rejects a missing or wrong key with 401 in the OpenAI envelope', async () => {
    for (const authorization of [undefined, 'Bearer sk-wrong']) {
      const res = await chat(hello('hi'), '/chat/completions', {
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { type: 'authentication_error', param: null } });
    }
  });

  it('streams a keep-alive comment first, reasoning deltas before content, usage and [DONE]', async () => {
    const res = await chat(
      hello('hi [mock:reply_tokens=2]', {
        thinking: { type: 'enabled' },
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { frames, payloads, chunks } = readSse(await res.text());
    expect(frames[0]).toBe(': keep-alive');
    expect(payloads.at(-1)).toBe('[DONE]');
    const deltas = chunks.filter((c) => c.choices.length > 0).map((c) => c.choices[0].delta);
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe(
      'Reasoning about the request before the mock replies.',
    );
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('This is');
    const lastReasoning = deltas.findLastIndex((d) => d.reasoning_content);
    expect(lastReasoning).toBeLessThan(deltas.findIndex((d) => d.content));
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_cache_miss_tokens: expect.any(Number) },
    });
  });

  it('sends an error payload mid-stream and drops the connection for cut_after', async () => {
    const failing = await chat(hello('x [mock:stream_error_after=1]', { stream: true }));
    expect(readSse(await failing.text()).chunks.at(-1)).toMatchObject({ error: { type: 'server_error' } });
    const cut = await chat(hello('x [mock:cut_after=2]', { stream: true }));
    await expect(cut.text()).rejects.toThrow();
  });

  it('answers error directives in the OpenAI envelope, with retry-after on 429', async () => {
    const res = await chat(hello('x [mock:error=429]'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toMatchObject({ error: { type: 'rate_limit_error' } });
  });
});
