import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNanoUsd } from './support/money.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

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

interface Row {
  spend: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cache_read_input_tokens: number | null;
  reasoning_tokens: number | null;
  call_type: string;
  custom_llm_provider: string;
  pricing: { source: string } | null;
}

const rowOf = (callId: string | null) => t.spendRow<Row>(callId);

describe('DeepSeek', () => {
  it('returns reasoning_content, asks for thinking, and records cache hits and reasoning tokens', async () => {
    const { data, response } = await openai()
      .chat.completions.create({
        model: 'deepseek-chat',
        reasoning_effort: 'high',
        messages: [{ role: 'user', content: 'Think first [mock:cached_tokens=6]' }],
      })
      .withResponse();
    const message = data.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(message.reasoning_content).toBeTruthy();
    const upstream = t.mock.requests.at(-1)!;
    expect(upstream.path).toBe('/deepseek/chat/completions');
    expect(upstream.body).toMatchObject({ thinking: { type: 'enabled' } });
    expect(upstream.body).not.toHaveProperty('reasoning_effort');
    const row = await rowOf(response.headers.get('x-litellm-call-id'));
    expect(row).toMatchObject({
      custom_llm_provider: 'deepseek',
      cache_read_input_tokens: 6,
      reasoning_tokens: 8,
    });
    expect(row.spend).not.toBeNull();
  });

  it('streams reasoning before the answer', async () => {
    const stream = await openai().chat.completions.create({
      model: 'deepseek-chat',
      stream: true,
      reasoning_effort: 'low',
      messages: [{ role: 'user', content: 'go' }],
    });
    const kinds: string[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as
        | { content?: string | null; reasoning_content?: string }
        | undefined;
      if (delta?.reasoning_content) kinds.push('reasoning');
      if (delta?.content) kinds.push('content');
    }
    expect(kinds[0]).toBe('reasoning');
    expect(kinds.at(-1)).toBe('content');
  });
});

describe('OpenRouter', () => {
  it("records OpenRouter's reported cost as the price", async () => {
    const { data, response } = await openai()
      .chat.completions.create({ model: 'openrouter-gpt', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(t.mock.requests.at(-1)!.body).toMatchObject({ model: 'openai/gpt-4o', usage: { include: true } });
    const row = await rowOf(response.headers.get('x-litellm-call-id'));
    // The mock's cost: prompt x $1/M + completion x $2/M.
    expect(toNanoUsd(row.spend!)).toBe(
      BigInt(data.usage!.prompt_tokens) * 1000n + BigInt(data.usage!.completion_tokens) * 2000n,
    );
    expect(row.pricing).toMatchObject({ source: 'provider' });
  });
});

describe('Ollama', () => {
  it('chats through /api/chat, streamed and not, free unless priced', async () => {
    const { data, response } = await openai()
      .chat.completions.create({ model: 'llama-chat', messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(t.mock.requests.at(-1)!.path).toBe('/api/chat');
    const row = await rowOf(response.headers.get('x-litellm-call-id'));
    expect(row).toMatchObject({
      custom_llm_provider: 'ollama_chat',
      spend: '0',
      pricing: { source: 'free' },
    });
    expect(row.prompt_tokens).toBeGreaterThan(0);

    const stream = await openai().chat.completions.create({
      model: 'llama-chat',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'stream [mock:reply_tokens=4]' }],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('This is a deterministic');
    expect(usage?.completion_tokens).toBe(4);
  });

  it('fills in the middle through /api/generate from /v1/completions with a suffix', async () => {
    const completion = await openai().completions.create({
      model: 'llama-generate',
      prompt: 'def add(a, b):',
      suffix: '    return result',
      max_tokens: 8,
    });
    expect(completion.object).toBe('text_completion');
    expect(completion.choices[0]?.text).toContain('[fill-in before "    return result"]');
    const upstream = t.mock.requests.at(-1)!;
    expect(upstream.path).toBe('/api/generate');
    expect(upstream.body).toMatchObject({ prompt: 'def add(a, b):', suffix: '    return result' });
  });
});

describe('embeddings', () => {
  it('embeds through an OpenAI-compatible upstream and prices the input tokens', async () => {
    const { data, response } = await openai()
      .embeddings.create({ model: 'text-embedding-3-small', input: ['hello world', 'second text'] })
      .withResponse();
    expect(data.data).toHaveLength(2);
    expect(data.data[0]?.embedding).toHaveLength(8);
    const row = await rowOf(response.headers.get('x-litellm-call-id'));
    // Catalog price of text-embedding-3-small: $0.02/M input tokens = 20 nano-USD a token.
    expect(row).toMatchObject({
      call_type: 'aembedding',
      prompt_tokens: data.usage.prompt_tokens,
      completion_tokens: 0,
    });
    expect(toNanoUsd(row.spend!)).toBe(BigInt(data.usage.prompt_tokens) * 20n);
  });

  it('embeds through Ollama /api/embed', async () => {
    const data = await openai().embeddings.create({ model: 'llama-chat', input: 'hello world' });
    expect(data.data[0]?.embedding).toHaveLength(8);
    expect(t.mock.requests.at(-1)!.path).toBe('/api/embed');
  });

  it('refuses a provider without embeddings', async () => {
    await expect(openai().embeddings.create({ model: 'claude-sonnet', input: 'x' })).rejects.toMatchObject({
      status: 400,
      param: 'model',
    });
  });
});

describe('legacy completions', () => {
  it("uses an OpenAI-compatible upstream's own /completions, streamed and not", async () => {
    const completion = await openai().completions.create({ model: 'instruct', prompt: 'Say this is a test' });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(16);
    expect(t.mock.requests.at(-1)!.path).toBe('/v1/completions');

    const stream = await openai().completions.create({
      model: 'instruct',
      prompt: 'Count',
      stream: true,
      max_tokens: 3,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('This is a');
  });

  it('answers a prompt for a chat-only provider as a chat turn', async () => {
    const completion = await openai().completions.create({
      model: 'claude-sonnet',
      prompt: 'Hello',
      max_tokens: 5,
    });
    expect(completion.object).toBe('text_completion');
    expect(completion.choices[0]?.text).toBe('This is a deterministic reply');
    expect(t.mock.requests.at(-1)!.path).toBe('/v1/messages');
  });
});

describe('/v1/messages/count_tokens', () => {
  it('estimates for providers without a counting endpoint', async () => {
    const response = await fetch(`${t.gateway.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'count these words please' }],
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gateway-estimated')).toBe('true');
    expect(((await response.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
  });
});

describe('caller-chosen upstreams', () => {
  it('lets a permitted key choose an allowlisted api_base and api_key, and nothing else', async () => {
    const permitted = await t.createKey({ permissions: { allow_client_side_credentials: true } });
    const call = (extra: Record<string, unknown>, apiKey = permitted) =>
      fetch(`${t.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...extra }),
      });

    // The mock refuses any key but sk-upstream-secret, so what it answers shows which key went.
    const ok = await call({ api_base: t.mock.deepseekBaseUrl, api_key: 'sk-upstream-secret' });
    expect(ok.status).toBe(200);
    const upstream = t.mock.requests.at(-1)!;
    expect(upstream.path).toBe('/deepseek/chat/completions');
    expect(upstream.headers.authorization).toBe('Bearer sk-upstream-secret');
    // Without a key of its own, the caller's upstream gets no key, never the operator's.
    const before = t.mock.requests.length;
    const keyless = await call({ api_base: t.mock.deepseekBaseUrl });
    expect(keyless.status).toBe(401);
    expect(t.mock.requests.length).toBe(before);
    expect(upstream.body).not.toHaveProperty('api_base');
    expect(upstream.body).not.toHaveProperty('api_key');

    const elsewhere = await call({ api_base: 'http://127.0.0.1:1/v1' });
    expect(elsewhere.status).toBe(400);
    expect(((await elsewhere.json()) as { error: { message: string } }).error.message).toContain('allowlist');
    expect((await call({ api_base: 'http://169.254.169.254/latest' })).status).toBe(400);
    // A key without the permission may not choose at all.
    expect((await call({ api_base: t.mock.deepseekBaseUrl }, key)).status).toBe(400);
  });
});

describe('tool calls through the openai client, every provider', () => {
  const tools = [
    {
      type: 'function' as const,
      function: {
        name: 'get_weather',
        description: 'Weather for a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ];
  const ask = 'Weather in Paris? [mock:tool_call=get_weather]';

  for (const model of ['gpt-4o-mini', 'claude-sonnet', 'deepseek-chat', 'openrouter-gpt', 'llama-chat']) {
    it(`${model}: a tool call, streamed and not, then the answer to its result`, async () => {
      const first = await openai().chat.completions.create({
        model,
        tools,
        messages: [{ role: 'user', content: ask }],
      });
      const call = first.choices[0]?.message.tool_calls?.[0];
      expect(first.choices[0]?.finish_reason).toBe('tool_calls');
      expect(call?.type === 'function' && call.function.name).toBe('get_weather');
      expect(JSON.parse(call?.type === 'function' ? call.function.arguments : '')).toEqual({ city: 'mock' });

      const stream = await openai().chat.completions.create({
        model,
        tools,
        stream: true,
        messages: [{ role: 'user', content: ask }],
      });
      let args = '';
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) args += delta.function?.arguments ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(JSON.parse(args)).toEqual({ city: 'mock' });
      expect(finish).toBe('tool_calls');

      const answer = await openai().chat.completions.create({
        model,
        tools,
        messages: [
          { role: 'user', content: ask },
          { role: 'assistant', content: null, tool_calls: [call!] },
          { role: 'tool', tool_call_id: call!.id, content: '18C sunny' },
        ],
      });
      expect(answer.choices[0]?.finish_reason).toBe('stop');
      expect(answer.choices[0]?.message.content).toBeTruthy();
    });
  }
});
