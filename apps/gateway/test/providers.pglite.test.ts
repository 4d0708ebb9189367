import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { toNanoUsd } from './support/money.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

// Claude Sonnet 4.5 in the catalog, nano-USD per token: input $3/M, 5-minute cache write
// $3.75/M, 1-hour write $6/M, cache read $0.30/M, output $15/M.
const SONNET = { input: 3000n, write5m: 3750n, write1h: 6000n, read: 300n, output: 15000n };

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

let t: TestGateway;
let key: string;

beforeAll(async () => {
  t = await startTestGateway('pglite');
  key = await t.createKey();
});
afterAll(async () => {
  await t?.close();
});

const openai = () => new OpenAI({ apiKey: key, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: key, baseURL: t.gateway.url, maxRetries: 0 });

interface Row {
  spend: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cache_read_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
  cache_creation_1h_input_tokens: number | null;
  call_type: string;
  custom_llm_provider: string;
  status: string;
}

/** The spend row of the request whose response carried this call id. */
const rowOf = (callId: string | null) => t.spendRow<Row>(callId);

describe('OpenAI clients calling an Anthropic model', () => {
  it('prices every Anthropic usage bucket, 5-minute and 1-hour cache writes apart', async () => {
    const { data, response } = await openai()
      .chat.completions.create({
        model: 'claude-sonnet',
        messages: [
          { role: 'system', content: 'You are a careful assistant with a long cached preamble.' },
          {
            role: 'user',
            content:
              'Hi [mock:cached_tokens=100] [mock:cache_write_tokens=50] [mock:cache_write_1h_tokens=20]',
          },
        ],
      })
      .withResponse();
    expect(data.choices[0]?.message.content).toBeTruthy();
    const usage = data.usage!;
    expect(usage.prompt_tokens_details?.cached_tokens).toBe(100);

    const upstream = t.mock.requests.at(-1)!;
    expect(upstream.path).toBe('/v1/messages');
    expect(upstream.headers['x-api-key']).toBe('sk-upstream-secret');
    expect(upstream.headers['anthropic-version']).toBe('2023-06-01');
    expect(upstream.body).toMatchObject({ model: 'claude-sonnet-4-5-20250929', max_tokens: 4096 });

    const row = await rowOf(response.headers.get('x-litellm-call-id'));
    expect(row).toMatchObject({
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 70,
      cache_creation_1h_input_tokens: 20,
      custom_llm_provider: 'anthropic',
    });
    const uncached = BigInt(usage.prompt_tokens - 100 - 70);
    expect(toNanoUsd(row.spend!)).toBe(
      uncached * SONNET.input +
        100n * SONNET.read +
        50n * SONNET.write5m +
        20n * SONNET.write1h +
        BigInt(usage.completion_tokens) * SONNET.output,
    );
  });

  it('streams a tool call with OpenAI tool-call indexes and valid JSON arguments', async () => {
    const stream = await openai().chat.completions.create({
      model: 'claude-sonnet',
      stream: true,
      stream_options: { include_usage: true },
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather in Paris? [mock:tool_call=get_weather]' }],
    });
    const args: string[] = [];
    let name: string | undefined;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        expect(call.index).toBe(0);
        name ??= call.function?.name;
        args.push(call.function?.arguments ?? '');
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(args.join(''))).toEqual({ city: 'mock' });
    expect(finish).toBe('tool_calls');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(t.mock.requests.at(-1)!.body).toMatchObject({
      stream: true,
      tools: [{ name: 'get_weather', input_schema: weatherTool.function.parameters }],
    });
  });

  it("an Anthropic mid-stream overloaded_error fails the OpenAI client's stream", async () => {
    const stream = await openai().chat.completions.create({
      model: 'claude-sonnet',
      stream: true,
      messages: [{ role: 'user', content: 'go [mock:stream_error_after=2]' }],
    });
    await expect(
      (async () => {
        for await (const _ of stream) {
        }
      })(),
    ).rejects.toThrow(/overloaded_error/);
  });
});

describe('Anthropic clients on /v1/messages', () => {
  for (const model of ['claude-sonnet', 'gpt-4o-mini']) {
    describe(`with ${model} behind it`, () => {
      it('answers a message and records its usage', async () => {
        const { data, response } = await anthropic()
          .messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'Hello there' }] })
          .withResponse();
        expect(data.type).toBe('message');
        // Claude deployments are forwarded natively, so Anthropic's own model id comes back.
        expect(data.model).toBe(model === 'claude-sonnet' ? 'claude-sonnet-4-5-20250929' : model);
        expect(data.content[0]).toMatchObject({ type: 'text' });
        expect(data.stop_reason).toBe('end_turn');
        const row = await rowOf(response.headers.get('x-litellm-call-id'));
        expect(row).toMatchObject({ call_type: 'anthropic_messages', status: 'success' });
        expect(row.completion_tokens).toBe(data.usage.output_tokens);
        expect(row.prompt_tokens).toBe(
          data.usage.input_tokens +
            (data.usage.cache_read_input_tokens ?? 0) +
            (data.usage.cache_creation_input_tokens ?? 0),
        );
        expect(row.spend).not.toBeNull();
      });

      it('streams events the SDK assembles into the final message', async () => {
        const stream = anthropic().messages.stream({
          model,
          max_tokens: 64,
          messages: [{ role: 'user', content: 'Stream please [mock:reply_tokens=6]' }],
        });
        const types: string[] = [];
        stream.on('streamEvent', (event) => types.push(event.type));
        const final = await stream.finalMessage();
        expect(types[0]).toBe('message_start');
        expect(types.at(-1)).toBe('message_stop');
        expect(types).toContain('message_delta');
        expect(final.content[0]).toMatchObject({ type: 'text', text: 'This is a deterministic reply from' });
        expect(final.usage.output_tokens).toBe(6);
      });

      it('completes a tool-use round trip', async () => {
        const tools = [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            input_schema: {
              type: 'object' as const,
              properties: { city: { type: 'string' } },
              required: ['city'],
            },
          },
        ];
        const first = await anthropic().messages.create({
          model,
          max_tokens: 128,
          tools,
          messages: [{ role: 'user', content: 'Weather in Paris? [mock:tool_call=get_weather]' }],
        });
        expect(first.stop_reason).toBe('tool_use');
        const toolUse = first.content.find((block) => block.type === 'tool_use');
        expect(toolUse).toMatchObject({ name: 'get_weather', input: { city: 'mock' } });
        const second = await anthropic().messages.create({
          model,
          max_tokens: 128,
          tools,
          messages: [
            { role: 'user', content: 'Weather in Paris? [mock:tool_call=get_weather]' },
            { role: 'assistant', content: first.content },
            {
              role: 'user',
              content: [
                {
                  type: 'tool_result',
                  tool_use_id: toolUse!.type === 'tool_use' ? toolUse!.id : '',
                  content: '18C sunny',
                },
              ],
            },
          ],
        });
        expect(second.stop_reason).toBe('end_turn');
        expect(second.content.some((block) => block.type === 'text')).toBe(true);
      });
    });
  }

  it('forwards a Claude deployment natively: hosted tools and unknown fields reach Anthropic as sent', async () => {
    const webSearch = { type: 'web_search_20250305', name: 'web_search', max_uses: 2 };
    await anthropic().messages.create({
      model: 'claude-sonnet',
      max_tokens: 32,
      tools: [webSearch],
      messages: [{ role: 'user', content: 'search please' }],
      litellm_metadata: { tags: ['native'] },
    } as never);
    const upstream = t.mock.requests.at(-1)!;
    expect(upstream.body).toMatchObject({ model: 'claude-sonnet-4-5-20250929', tools: [webSearch] });
    expect(upstream.body).not.toHaveProperty('litellm_metadata');
    expect(upstream.headers['x-api-key']).toBe('sk-upstream-secret');
  });

  it('retries a retryable Anthropic answer num_retries times on the native path', async () => {
    const before = t.mock.requests.length;
    await expect(
      anthropic().messages.create({
        model: 'claude-retried',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'busy [mock:error=503]' }],
      }),
    ).rejects.toMatchObject({ status: 503 });
    expect(t.mock.requests.length - before).toBe(3);
  });

  it('refuses a body without max_tokens in the Anthropic error shape', async () => {
    const response = await fetch(`${t.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') },
    });
  });

  it('refuses an unknown key in the Anthropic error shape', async () => {
    const unknown = 'sk-not-a-gateway-key-000000';
    await expect(
      new Anthropic({ apiKey: unknown, baseURL: t.gateway.url, maxRetries: 0 }).messages.create({
        model: 'claude-sonnet',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ).rejects.toMatchObject({
      status: 401,
      error: { type: 'error', error: { type: 'authentication_error' } },
    });
    expect(hashKey(unknown)).toHaveLength(64);
  });
});

describe('the native /anthropic pass-through', () => {
  const passthrough = () =>
    new Anthropic({ apiKey: key, baseURL: `${t.gateway.url}/anthropic`, maxRetries: 0 });

  it('relays a message with the gateway key, strips litellm_metadata and records usage and end user', async () => {
    const params = {
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 64,
      messages: [{ role: 'user' as const, content: 'Hi [mock:cached_tokens=10]' }],
      litellm_metadata: { user: 'end-user-pt', tags: ['pt'] },
    };
    const { data, response } = await passthrough().messages.create(params).withResponse();
    expect(data.usage.cache_read_input_tokens).toBe(10);
    const upstream = t.mock.requests.at(-1)!;
    expect(upstream.headers['x-api-key']).toBe('sk-upstream-secret');
    expect(upstream.headers.authorization).toBeUndefined();
    expect(upstream.body).not.toHaveProperty('litellm_metadata');
    const row = await rowOf(response.headers.get('x-litellm-call-id'));
    expect(row).toMatchObject({
      call_type: 'pass_through_endpoint',
      custom_llm_provider: 'anthropic',
      cache_read_input_tokens: 10,
      completion_tokens: data.usage.output_tokens,
      status: 'success',
    });
    const [attribution] = await t.query<{ end_user: string; request_tags: string[] }>(
      'select end_user, request_tags from "LiteLLM_SpendLogs" where request_id = $1',
      [response.headers.get('x-litellm-call-id')],
    );
    expect(attribution).toEqual({ end_user: 'end-user-pt', request_tags: ['pt'] });
    expect(row.spend).not.toBeNull();
  });

  it('relays a stream while metering its usage', async () => {
    const stream = passthrough().messages.stream({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Stream it [mock:reply_tokens=5]' }],
    });
    const final = await stream.finalMessage();
    expect(final.usage.output_tokens).toBe(5);
    const callId = (await stream.withResponse()).response.headers.get('x-litellm-call-id');
    const row = await rowOf(callId);
    expect(row).toMatchObject({ completion_tokens: 5, status: 'success' });
  });

  it('a relayed stream cut early keeps the input usage Anthropic sent and estimates the output', async () => {
    const stream = passthrough().messages.stream({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Cut it [mock:cut_after=3] [mock:cached_tokens=8]' }],
    });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    await expect(stream.finalMessage()).rejects.toThrow();
    const callId = (await stream.withResponse()).response.headers.get('x-litellm-call-id');
    const row = await rowOf(callId);
    expect(text).toBe('This is a');
    expect(row).toMatchObject({
      status: 'failure',
      cache_read_input_tokens: 8,
      // "This", " is", " a": three o200k tokens, counted by the gateway.
      completion_tokens: 3,
      pricing: { estimatedUsage: ['output'] },
    });
    expect(toNanoUsd(row.spend as string)).toBe(
      BigInt((row.prompt_tokens as number) - 8) * SONNET.input + 8n * SONNET.read + 3n * SONNET.output,
    );
  });

  it("applies the key's model list and relays only per-request endpoints", async () => {
    const keyFor = (models: string[]) => t.createKey({ models });
    const ask = (apiKey: string) =>
      new Anthropic({ apiKey, baseURL: `${t.gateway.url}/anthropic`, maxRetries: 0 }).messages.create({
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      });
    await expect(ask(await keyFor(['gpt-4o-mini']))).rejects.toMatchObject({
      status: 401,
      error: { error: { type: 'authentication_error' } },
    });
    await expect(ask(await keyFor(['anthropic/*']))).resolves.toMatchObject({ type: 'message' });
    const batches = await fetch(`${t.gateway.url}/anthropic/v1/messages/batches`, {
      headers: { 'x-api-key': key },
    });
    expect(batches.status).toBe(403);
    expect(await batches.json()).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
  });

  it('passes upstream errors through and refuses unknown keys in the Anthropic shape', async () => {
    await expect(
      passthrough().messages.create({
        model: 'claude-sonnet-4-5-20250929',
        messages: [{ role: 'user', content: 'x' }],
      } as never),
    ).rejects.toMatchObject({
      status: 400,
      error: { type: 'error', error: { type: 'invalid_request_error' } },
    });
    const response = await fetch(`${t.gateway.url}/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-nobody-nobody-nobody-00', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });
});

describe('retries and timeouts from config', () => {
  it('retries a retryable upstream failure num_retries times, then reports it', async () => {
    const before = t.mock.requests.length;
    const { response } = await openai()
      .chat.completions.create({
        model: 'gpt-4o-mini-retried',
        messages: [{ role: 'user', content: 'x [mock:error=503]' }],
      })
      .withResponse()
      .catch((error: { headers: Headers; status: number }) => ({ response: error }));
    expect(response.status).toBe(503);
    expect(t.mock.requests.length - before).toBe(3);
    const callId = response.headers.get('x-litellm-call-id');
    await vi.waitFor(async () => {
      const [row] = await t.query<{ retries: number }>(
        `select (metadata->>'attempted_retries')::int as retries from "LiteLLM_SpendLogs" where request_id = $1`,
        [callId],
      );
      expect(row?.retries).toBe(2);
    });
  });

  it('does not retry what retrying cannot fix', async () => {
    const before = t.mock.requests.length;
    await expect(
      openai().chat.completions.create({
        model: 'gpt-4o-mini-retried',
        messages: [{ role: 'user', content: 'x [mock:error=400]' }],
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect(t.mock.requests.length - before).toBe(1);
  });

  it('answers 408 when the upstream is slower than the deployment timeout', async () => {
    await expect(
      openai().chat.completions.create({
        model: 'gpt-4o-mini-impatient',
        messages: [{ role: 'user', content: 'x [mock:latency_ms=1500]' }],
      }),
    ).rejects.toMatchObject({ status: 408 });
    await expect(
      openai().chat.completions.create({
        model: 'gpt-4o-mini-impatient',
        messages: [{ role: 'user', content: 'quick' }],
      }),
    ).resolves.toBeDefined();
  });
});
