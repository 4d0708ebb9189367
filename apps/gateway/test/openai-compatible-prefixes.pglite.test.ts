import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../src/config/gateway-config.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * LiteLLM's OpenAI-compatible prefixes (`groq/`, `together_ai/`, `hosted_vllm/`, ...) and an
 * unknown prefix given an `api_base`: each is served by the OpenAI-compatible adapter (here the
 * mock's OpenAI API stands in for the vendor), relayed from the OpenAI SDK, translated from the
 * Anthropic SDK, and priced from the catalog where it knows the model.
 */
let t: TestGateway;
let key: string;

beforeAll(async () => {
  t = await startTestGateway('pglite', {
    extraDeployments: (mock) =>
      (
        [
          ['groq-fast', 'groq', 'llama-3.1-8b-instant'],
          ['together-llama', 'together_ai', 'meta-llama/Llama-3.3-70B-Instruct-Turbo'],
          ['vllm-qwen', 'hosted_vllm', 'Qwen/Qwen2.5-7B-Instruct'],
          // What an unknown prefix with an api_base becomes: openai_like, the model as written.
          ['acme-llama', 'openai_like', 'acme/llama-3'],
        ] as const
      )
        .map(
          ([modelName, provider, upstreamModel]): Deployment => ({
            modelName,
            deploymentId: `test-${modelName}`,
            provider,
            upstreamModel,
            apiBase: mock.openaiBaseUrl,
            apiKey: 'sk-upstream-secret',
            priceOverrides: {},
            extraHeaders: { 'x-tenant': `tenant-of-${modelName}` },
          }),
        )
        .concat([
          {
            modelName: 'claude-extra',
            deploymentId: 'test-claude-extra',
            provider: 'anthropic',
            upstreamModel: 'claude-sonnet-4-5-20250929',
            apiBase: mock.anthropicBaseUrl,
            apiKey: 'sk-upstream-secret',
            priceOverrides: {},
            extraHeaders: { 'x-tenant': 'tenant-of-claude-extra' },
          },
        ]),
  });
  key = await t.createKey();
});
afterAll(async () => {
  await t?.close();
});

interface Row {
  spend: string | null;
  custom_llm_provider: string;
  model: string;
}

describe('OpenAI-compatible prefixes', () => {
  it.each([
    ['groq-fast', 'groq', 'llama-3.1-8b-instant', 'catalog'],
    ['together-llama', 'together_ai', 'meta-llama/Llama-3.3-70B-Instruct-Turbo', 'catalog'],
    ['vllm-qwen', 'hosted_vllm', 'Qwen/Qwen2.5-7B-Instruct', 'free'],
    ['acme-llama', 'openai_like', 'acme/llama-3', 'unpriced'],
  ])(
    '%s: the OpenAI SDK is relayed to %s, the upstream model sent as configured',
    async (model, provider, upstream, priced) => {
      const openai = new OpenAI({ apiKey: key, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
      const before = t.mock.requests.length;
      const { data, response } = await openai.chat.completions
        .create({ model, messages: [{ role: 'user', content: 'Hello' }] })
        .withResponse();
      expect(data.choices[0]!.message.content).toContain('deterministic reply');
      expect(t.mock.requests.slice(before)).toMatchObject([
        { path: '/v1/chat/completions', body: { model: upstream } },
      ]);
      const row = await t.spendRow<Row>(response.headers.get('x-litellm-call-id'));
      expect(row.custom_llm_provider).toBe(provider);
      // Priced from the catalog where it knows the provider's model; a self-hosted runtime is
      // free unless priced in config (as Ollama); anything else unknown is unpriced, never free.
      if (priced === 'catalog') expect(Number(row.spend)).toBeGreaterThan(0);
      else if (priced === 'free') expect(Number(row.spend)).toBe(0);
      else expect(row.spend).toBeNull();
    },
  );

  it('the Anthropic SDK is translated for them', async () => {
    const anthropic = new Anthropic({ apiKey: key, baseURL: t.gateway.url, maxRetries: 0 });
    const message = await anthropic.messages.create({
      model: 'groq-fast',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(message.content[0]).toMatchObject({
      type: 'text',
      text: expect.stringContaining('deterministic reply'),
    });
  });

  it.each([
    ['/v1/chat/completions', 'groq-fast', 'relayed'],
    ['/v1/messages', 'groq-fast', 'translated'],
    ['/v1/messages', 'claude-extra', 'relayed'],
    ['/v1/chat/completions', 'claude-extra', 'translated'],
  ])("%s to %s (%s) carries the deployment's extra_headers upstream", async (path, model) => {
    const before = t.mock.requests.length;
    const response = await fetch(`${t.gateway.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'Hello' }] }),
    });
    expect(response.status, await response.text()).toBe(200);
    const sent = t.mock.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['x-tenant']).toBe(`tenant-of-${model}`);
  });
});
