import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toMockEmbedding } from './embedding-vector.ts';
import { type MockProvider, startMockProvider } from './server.ts';
import { readSse } from './test-support.ts';

let mock: MockProvider;
beforeAll(async () => {
  mock = await startMockProvider({ apiKey: 'sk-openai-mock' });
});
afterAll(() => mock.close());

const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-openai-mock' };
const post = (url: string, body: unknown, init: { headers?: Record<string, string> } = {}) =>
  fetch(url, { method: 'POST', headers: init.headers ?? headers, body: JSON.stringify(body) });

describe('mock OpenAI embeddings over HTTP', () => {
  it('serves /v1/embeddings and /embeddings with deterministic vectors', async () => {
    for (const url of [`${mock.openaiBaseUrl}/embeddings`, `${mock.origin}/embeddings`]) {
      const res = await post(url, { model: 'text-embedding-3-small', input: 'hello', dimensions: 5 });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: toMockEmbedding('hello', 5) }],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 2, total_tokens: 2 },
      });
    }
    expect(mock.requests.at(-1)).toMatchObject({ path: '/embeddings' });
  });

  it('answers base64 and rejects a missing key with 401', async () => {
    const res = await post(`${mock.openaiBaseUrl}/embeddings`, {
      model: 'm',
      input: ['a'],
      encoding_format: 'base64',
    });
    const body = (await res.json()) as { data: { embedding: string }[] };
    expect(Buffer.from(body.data[0]!.embedding, 'base64')).toHaveLength(32);
    const unauthenticated = await post(
      `${mock.openaiBaseUrl}/embeddings`,
      { model: 'm', input: 'a' },
      {
        headers: { 'content-type': 'application/json' },
      },
    );
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
  });
});

describe('mock OpenAI legacy completions over HTTP', () => {
  it('answers a text_completion on /v1/completions and /completions', async () => {
    for (const url of [`${mock.openaiBaseUrl}/completions`, `${mock.origin}/completions`]) {
      const res = await post(url, { model: 'gpt-3.5-turbo-instruct', prompt: 'Say [mock:reply_tokens=2]' });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        object: 'text_completion',
        choices: [{ text: 'This is', index: 0, logprobs: null, finish_reason: 'stop' }],
        usage: { completion_tokens: 2 },
      });
    }
  });

  it('streams data: chunks with choices[].text, the usage chunk when asked, then [DONE]', async () => {
    const res = await post(`${mock.openaiBaseUrl}/completions`, {
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say [mock:reply_tokens=3]',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { comments, payloads, chunks } = readSse(await res.text());
    expect(comments).toEqual([]);
    expect(payloads.at(-1)).toBe('[DONE]');
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(
      chunks
        .slice(0, -1)
        .map((c) => c.choices[0].text)
        .join(''),
    ).toBe('This is a');
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 3 } });
  });
});
