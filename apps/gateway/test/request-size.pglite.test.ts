import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const LIMIT = 4 * 1024;

/**
 * `general_settings.max_request_size_mb`: a model call whose body is over the limit is refused
 * with 413 in the caller's dialect, whether it declares its length or sends it chunked, and the
 * upstream never sees it; the admin API and the pass-through keep to the same limit.
 */
describe('request size limit', () => {
  let t: TestGateway;
  let key: string;
  beforeAll(async () => {
    t = await startTestGateway('pglite', { maxRequestBytes: LIMIT });
    key = await t.createKey();
  });
  afterAll(async () => {
    await t?.close();
  });

  const big = 'x'.repeat(LIMIT);

  it('refuses an OpenAI-format body over the limit with 413 and still answers one under it', async () => {
    const openai = new OpenAI({ apiKey: key, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
    const before = t.mock.requests.length;
    await expect(
      openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: big }] }),
    ).rejects.toMatchObject({
      status: 413,
      error: {
        type: 'invalid_request_error',
        code: '413',
        message: expect.stringContaining('max_request_size_mb'),
      },
    });
    expect(t.mock.requests.length).toBe(before);
    const answer = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'small' }],
    });
    expect(answer.choices[0]?.message.content).toBeTruthy();
  });

  it('refuses an Anthropic-format body over the limit with request_too_large', async () => {
    const anthropic = new Anthropic({ apiKey: key, baseURL: t.gateway.url, maxRetries: 0 });
    await expect(
      anthropic.messages.create({
        model: 'claude-sonnet',
        max_tokens: 16,
        messages: [{ role: 'user', content: big }],
      }),
    ).rejects.toMatchObject({ status: 413, error: { type: 'error', error: { type: 'request_too_large' } } });
  });

  it('applies to the native /anthropic pass-through too', async () => {
    const response = await fetch(`${t.gateway.url}/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: big }],
      }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('request_too_large');
  });

  /** A body sent in 1 KB chunks without a content-length. */
  const chunked = (payload: unknown) => {
    const encoded = new TextEncoder().encode(JSON.stringify(payload));
    return new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < encoded.length; i += 1024) controller.enqueue(encoded.slice(i, i + 1024));
        controller.close();
      },
    });
  };

  it('refuses a chunked body (no content-length) once it passes the limit', async () => {
    const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: chunked({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: big }] }),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('413');
  });

  it('refuses a chunked body over the limit on the pass-through', async () => {
    const before = t.mock.requests.length;
    const response = await fetch(`${t.gateway.url}/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: chunked({
        model: 'claude-sonnet-4-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: big }],
      }),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('request_too_large');
    expect(t.mock.requests.length).toBe(before);
  });

  it('applies to the admin API too', async () => {
    const generate = (metadata: Record<string, string>) =>
      fetch(`${t.gateway.url}/key/generate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ metadata }),
      });
    const refused = await generate({ pad: big });
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      'max_request_size_mb',
    );
    expect((await generate({ pad: 'small' })).status).toBe(200);
  });
});

describe('slow request bodies', () => {
  let t: TestGateway;
  let key: string;
  beforeAll(async () => {
    t = await startTestGateway('pglite', { requestTimeoutMs: 1_000 });
    key = await t.createKey();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('cuts a request whose body trickles in past REQUEST_TIMEOUT_SECONDS with a 408', async () => {
    const { createConnection } = await import('node:net');
    const url = new URL(t.gateway.url);
    const socket = createConnection({ host: url.hostname, port: Number(url.port) });
    const started = Date.now();
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`,
    );
    // A byte now and then, never the whole body.
    const drip = setInterval(() => socket.write(' '), 200);
    await closed;
    clearInterval(drip);
    const tookMs = Date.now() - started;
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThan(3_000);
  });
});
