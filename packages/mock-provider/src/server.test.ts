import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './server.ts';

let mock: MockProvider;
beforeAll(async () => {
  mock = await startMockProvider({ apiKey: 'sk-ant-mock' });
});
afterAll(() => mock.close());

const anthropicHeaders = {
  'content-type': 'application/json',
  'x-api-key': 'sk-ant-mock',
  'anthropic-version': '2023-06-01',
};
const messages = (body: unknown, headers: Record<string, string> = anthropicHeaders, path = '/v1/messages') =>
  fetch(`${mock.origin}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
const hello = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

/** The `event:`/`data:` pairs of an SSE body, each frame checked to be exactly those two lines. */
function readFrames(text: string): { event: string; data: { type: string } & Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((frame) => frame !== '')
    .map((frame) => {
      const [eventLine, dataLine, ...rest] = frame.split('\n');
      expect(rest).toEqual([]);
      expect(eventLine).toMatch(/^event: /);
      expect(dataLine).toMatch(/^data: /);
      return {
        event: eventLine!.slice('event: '.length),
        data: JSON.parse(dataLine!.slice('data: '.length)),
      };
    });
}

describe('mock Anthropic /v1/messages over HTTP', () => {
  it('answers a non-stream request and records it like the OpenAI route', async () => {
    const res = await messages(hello);
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({
      type: 'message',
      model: 'claude-sonnet-4-5',
      stop_reason: 'end_turn',
    });
    expect(mock.requests.at(-1)).toMatchObject({ path: '/v1/messages', body: hello });
    expect(mock.requests.at(-1)!.headers['anthropic-version']).toBe('2023-06-01');
  });

  it('serves /messages as well as /v1/messages', async () => {
    expect((await messages(hello, anthropicHeaders, '/messages')).status).toBe(200);
  });

  it('accepts the key as a Bearer token', async () => {
    const { 'x-api-key': _, ...rest } = anthropicHeaders;
    const res = await messages(hello, { ...rest, authorization: 'Bearer sk-ant-mock' });
    expect(res.status).toBe(200);
  });

  it('rejects a missing or wrong key with 401 authentication_error', async () => {
    const { 'x-api-key': _, ...rest } = anthropicHeaders;
    for (const headers of [rest, { ...anthropicHeaders, 'x-api-key': 'sk-wrong' }]) {
      const res = await messages(hello, headers);
      expect(res.status).toBe(401);
      const body = (await res.json()) as { request_id: string };
      expect(body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
      expect(body.request_id).toMatch(/^req_/);
    }
  });

  it('requires the anthropic-version header', async () => {
    const { 'anthropic-version': _, ...rest } = anthropicHeaders;
    const res = await messages(hello, rest);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining('anthropic-version') },
    });
  });

  it('rejects a request without max_tokens with 400 "max_tokens: Field required"', async () => {
    const { max_tokens: _, ...body } = hello;
    const res = await messages(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
  });

  it('answers error directives with the status, the Anthropic type and retry-after on 429 and 529', async () => {
    for (const [status, type] of [
      [429, 'rate_limit_error'],
      [529, 'overloaded_error'],
    ] as const) {
      const res = await messages({
        ...hello,
        messages: [{ role: 'user', content: `x [mock:error=${status}]` }],
      });
      expect(res.status).toBe(status);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(await res.json()).toMatchObject({ type: 'error', error: { type } });
    }
  });

  it('streams event/data pairs with a text/event-stream content type', async () => {
    const res = await messages({
      ...hello,
      stream: true,
      messages: [{ role: 'user', content: 'hi [mock:reply_tokens=2]' }],
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = readFrames(await res.text());
    expect(frames.map((f) => f.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const frame of frames) expect(frame.data.type).toBe(frame.event);
  });

  it('sends an error event mid-stream and then ends', async () => {
    const res = await messages({
      ...hello,
      stream: true,
      messages: [{ role: 'user', content: 'x [mock:stream_error_after=1]' }],
    });
    expect(res.status).toBe(200);
    const frames = readFrames(await res.text());
    expect(frames.at(-1)).toEqual({
      event: 'error',
      data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    });
  });

  it('drops the connection after N tokens for cut_after', async () => {
    const res = await messages({
      ...hello,
      stream: true,
      messages: [{ role: 'user', content: 'x [mock:cut_after=2]' }],
    });
    await expect(res.text()).rejects.toThrow();
  });
});

describe('mock OpenAI route over HTTP', () => {
  it('still answers chat completions with the Bearer key', async () => {
    const res = await fetch(`${mock.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-ant-mock' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req_mock');
    expect(await res.json()).toMatchObject({
      object: 'chat.completion',
      choices: [{ finish_reason: 'stop' }],
    });
  });
});
