import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * `/v1/chat/completions` in front of an OpenAI-format deployment is a relay: the client's body
 * goes up with only the documented edits, and the answer comes back as the upstream's bytes.
 * The upstream here is a fixed one, so the test can compare bytes: its answers carry fields no
 * schema of ours names.
 */

const ANSWER = JSON.stringify({
  id: 'chatcmpl-relay-1',
  object: 'chat.completion',
  created: 1765000000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hi.', refusal: null, annotations: [], future_field: { x: 1 } },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: 1000,
    completion_tokens: 100,
    total_tokens: 1100,
    prompt_tokens_details: { cached_tokens: 200, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, accepted_prediction_tokens: 0 },
  },
  service_tier: 'default',
  system_fingerprint: 'fp_relay',
});

const chunk = (fields: Record<string, unknown>) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-relay-2', object: 'chat.completion.chunk', created: 1765000000, model: 'gpt-4o-mini-2024-07-18', service_tier: 'default', ...fields })}\n\n`;
const CONTENT = [
  chunk({
    choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, finish_reason: null }],
    usage: null,
    obfuscation: 'a1',
  }),
  chunk({
    choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }],
    usage: null,
    obfuscation: 'b2',
  }),
  chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null }),
];
const USAGE = { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 };
const USAGE_CHUNK = chunk({ choices: [], usage: USAGE });
const DONE = 'data: [DONE]\n\n';

interface Upstream {
  server: Server;
  url: string;
  bodies: Record<string, unknown>[];
  /** What the next call answers: a JSON body, SSE text, or an error. */
  next: { status?: number; json?: string; sse?: string[] };
}

async function startUpstream(): Promise<Upstream> {
  const upstream = { bodies: [], next: {} } as unknown as Upstream;
  upstream.server = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      upstream.bodies.push(JSON.parse(text));
      const { status = 200, json, sse } = upstream.next;
      if (sse) {
        res.writeHead(status, { 'content-type': 'text/event-stream' });
        for (const event of sse) res.write(event);
        res.end();
      } else {
        res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_up_1' });
        res.end(json ?? ANSWER);
      }
    });
  });
  await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}/v1`;
  return upstream;
}

const RELAYED_DEPLOYMENT = {
  modelName: 'relayed',
  deploymentId: 'relayed-1',
  provider: 'openai' as const,
  upstreamModel: 'gpt-4o-mini',
  apiKey: 'sk-upstream',
  priceOverrides: {},
};

let t: TestGateway;
let upstream: Upstream;
let key: string;
beforeAll(async () => {
  upstream = await startUpstream();
  t = await startTestGateway('pglite', {
    extraDeployments: () => [{ ...RELAYED_DEPLOYMENT, apiBase: upstream.url }],
  });
  key = await t.createKey();
});
afterAll(async () => {
  await t?.close();
  await new Promise((resolve) => upstream?.server.close(resolve));
});
beforeEach(() => {
  upstream.next = {};
});

const send = (body: Record<string, unknown>) =>
  fetch(`${t.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** A body with fields, roles, parts and tools no schema of ours names, and LiteLLM's own fields. */
const CLIENT_BODY = {
  model: 'relayed',
  messages: [
    { role: 'developer', content: 'Be brief.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Hi' },
        { type: 'future_part', payload: { a: [1, 2] } },
      ],
    },
  ],
  tools: [{ type: 'custom', custom: { name: 'grammar_tool', format: { type: 'text' } } }],
  verbosity: 'low',
  prediction: { type: 'content', content: 'Hi.' },
  web_search_options: {},
  max_completion_tokens: 200,
  metadata: { purpose: 'test' },
  litellm_metadata: { tags: ['relay'] },
  num_retries: 3,
  mock_response: 'never sent',
};
const RELAYED_FIELDS = (() => {
  const { metadata: _m, litellm_metadata: _l, num_retries: _n, mock_response: _r, ...rest } = CLIENT_BODY;
  return { ...rest, model: 'gpt-4o-mini' };
})();

describe('/v1/chat/completions relayed to an OpenAI-format deployment', () => {
  it('sends the body as the client wrote it but for the model and LiteLLM fields, and returns the upstream bytes', async () => {
    const response = await send(CLIENT_BODY);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(text).toBe(ANSWER);
    expect(upstream.bodies.at(-1)).toEqual(RELAYED_FIELDS);
    expect(response.headers.get('llm_provider-x-request-id')).toBe('req_up_1');
    expect(response.headers.get('x-litellm-model-id')).toBe('relayed-1');
    const cost = response.headers.get('x-litellm-response-cost');
    expect(Number(cost)).toBeGreaterThan(0);

    const row = await t.spendRow<{
      prompt_tokens: number;
      completion_tokens: number;
      spend: string;
      request_tags: string[];
      model: string;
    }>(response.headers.get('x-litellm-call-id'));
    expect(row).toMatchObject({
      prompt_tokens: 1000,
      completion_tokens: 100,
      request_tags: ['relay'],
      model: 'gpt-4o-mini-2024-07-18',
    });
    expect(row.spend).toBe(cost);
  });

  it('asks for usage on a stream and takes the usage chunk out again when the client did not ask', async () => {
    upstream.next = { sse: [...CONTENT, USAGE_CHUNK, DONE] };
    const response = await send({ ...CLIENT_BODY, stream: true });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toBe([...CONTENT, DONE].join(''));
    expect(upstream.bodies.at(-1)).toEqual({
      ...RELAYED_FIELDS,
      stream: true,
      stream_options: { include_usage: true },
    });
    const row = await t.spendRow<{ prompt_tokens: number; completion_tokens: number; status: string }>(
      response.headers.get('x-litellm-call-id'),
    );
    expect(row).toMatchObject({ status: 'success', prompt_tokens: 1000, completion_tokens: 100 });
  });

  it('passes the usage chunk on as it came when the client asked for usage', async () => {
    upstream.next = { sse: [...CONTENT, USAGE_CHUNK, DONE] };
    const response = await send({ ...CLIENT_BODY, stream: true, stream_options: { include_usage: true } });
    expect(await response.text()).toBe([...CONTENT, USAGE_CHUNK, DONE].join(''));
  });

  it('adds the cost to the usage chunk where include_cost_in_streaming_usage asks for it', async () => {
    const withCost = await startTestGateway('pglite', {
      includeCostInStreamingUsage: true,
      extraDeployments: () => [{ ...RELAYED_DEPLOYMENT, apiBase: upstream.url }],
    });
    try {
      upstream.next = { sse: [...CONTENT, USAGE_CHUNK, DONE] };
      const response = await fetch(`${withCost.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${withCost.masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...CLIENT_BODY, stream: true, stream_options: { include_usage: true } }),
      });
      const events = (await response.text()).split('\n\n').filter(Boolean);
      expect(events.slice(0, 3).map((e) => `${e}\n\n`)).toEqual(CONTENT);
      const usage = JSON.parse(events[3]!.slice('data: '.length)).usage;
      const row = await withCost.spendRow<{ spend: string }>(response.headers.get('x-litellm-call-id'));
      expect(usage).toEqual({ ...USAGE, cost: Number(row.spend) });
      expect(events[4]).toBe('data: [DONE]');

      // And on the translated path (OpenAI in, Anthropic out).
      const translated = await fetch(`${withCost.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${withCost.masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-sonnet',
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: 'user', content: 'Hi' }],
        }),
      });
      const last = (await translated.text())
        .split('\n\n')
        .filter((event) => event.includes('"usage":{'))
        .at(-1)!;
      const translatedRow = await withCost.spendRow<{ spend: string }>(
        translated.headers.get('x-litellm-call-id'),
      );
      expect(JSON.parse(last.slice('data: '.length)).usage.cost).toBe(Number(translatedRow.spend));
    } finally {
      await withCost.close();
    }
  });

  it('keeps the finish of a last content chunk that carries the usage, without its usage', async () => {
    const last = { choices: [{ index: 0, delta: { content: '!' }, finish_reason: 'stop' }], usage: USAGE };
    upstream.next = { sse: [CONTENT[0]!, CONTENT[1]!, chunk(last), DONE] };
    const response = await send({ ...CLIENT_BODY, stream: true });
    const text = await response.text();
    const { usage: _usage, ...withoutUsage } = last;
    expect(text).toBe([CONTENT[0], CONTENT[1], chunk(withoutUsage), DONE].join(''));
  });

  it('an upstream 400 reaches the client as an OpenAI error naming the field', async () => {
    upstream.next = {
      status: 400,
      json: JSON.stringify({
        error: {
          message: "Unsupported value: 'verbosity'",
          type: 'invalid_request_error',
          param: 'verbosity',
          code: 'unsupported_value',
        },
      }),
    };
    const response = await send(CLIENT_BODY);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: {
        type: 'invalid_request_error',
        param: 'verbosity',
        message: expect.stringContaining('verbosity'),
      },
    });
  });

  it('a stream cut before it finished ends in an error event, never a clean end, and is recorded as failed', async () => {
    upstream.next = { sse: [CONTENT[0]!, CONTENT[1]!] };
    const response = await send({ ...CLIENT_BODY, stream: true });
    const text = await response.text();
    expect(text.startsWith(CONTENT[0]! + CONTENT[1]!)).toBe(true);
    expect(text).not.toContain('[DONE]');
    expect(text).toMatch(/data: \{"error":\{"message":"openai ended the stream before it finished"/);
    const row = await t.spendRow<{ status: string }>(response.headers.get('x-litellm-call-id'));
    expect(row.status).toBe('failure');
  });

  it('refuses what the gateway needs and cannot use, before calling upstream', async () => {
    const before = upstream.bodies.length;
    for (const [body, param] of [
      [{ ...CLIENT_BODY, stream: 'true' }, 'stream'],
      [{ ...CLIENT_BODY, max_tokens: 0 }, 'max_tokens'],
      [{ ...CLIENT_BODY, max_completion_tokens: 1.5 }, 'max_completion_tokens'],
      [{ ...CLIENT_BODY, model: ['relayed'] }, 'model'],
    ] as const) {
      const response = await send(body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { param } });
    }
    expect(upstream.bodies.length).toBe(before);
  });
});
