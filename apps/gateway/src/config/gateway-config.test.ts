import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from './config-file.ts';
import { configPathFromArgs, loadGatewayConfig } from './gateway-config.ts';

const yaml = `
model_list:
  - model_name: fast
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: os.environ/TEST_UPSTREAM_KEY
      input_cost_per_token: 1.0e-07
      output_cost_per_token: 4.0e-07
  - model_name: local
    litellm_params:
      model: openai/my-model
      api_base: http://vllm:8000/v1
general_settings:
  master_key: os.environ/TEST_MASTER
  database_url: postgres://db/gateway
  proxy_batch_write_at: 5
  max_request_size_mb: 0.5
`;

function writeConfig(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gw-config-')), 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('loadGatewayConfig', () => {
  const env = { TEST_UPSTREAM_KEY: 'sk-upstream', TEST_MASTER: 'sk-master' };

  it('reads a LiteLLM config.yaml, resolving os.environ references and price overrides', () => {
    const config = loadGatewayConfig({ ...env, CONFIG_FILE: writeConfig(yaml) });
    expect(config.masterKey).toBe('sk-master');
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://db/gateway', poolMax: 10 });
    expect(config.spendFlushIntervalMs).toBe(5000);
    expect(config.maxRequestBytes).toBe(512 * 1024);
    expect(config.demo).toBe(false);
    expect(config.deployments).toEqual([
      expect.objectContaining({
        modelName: 'fast',
        provider: 'openai',
        upstreamModel: 'gpt-4o-mini',
        apiBase: 'https://api.openai.com/v1',
        apiKey: 'sk-upstream',
        priceOverrides: { input_cost_per_token: 1e-7, output_cost_per_token: 4e-7 },
      }),
      expect.objectContaining({
        modelName: 'local',
        upstreamModel: 'my-model',
        apiBase: 'http://vllm:8000/v1',
      }),
    ]);
  });

  it('reads spend-log retention, and refuses a period that is not a duration', () => {
    const base = 'model_list: []\ngeneral_settings:\n  maximum_spend_logs_retention_period: 30d\n';
    expect(loadGatewayConfig({ CONFIG_FILE: writeConfig(base) }).spendRetention).toEqual({
      periodMs: 30 * 86_400_000,
      intervalMs: 86_400_000,
    });
    expect(
      loadGatewayConfig({
        CONFIG_FILE: writeConfig(`${base}  maximum_spend_logs_retention_interval: 6h\n`),
      }).spendRetention,
    ).toEqual({ periodMs: 30 * 86_400_000, intervalMs: 6 * 3_600_000 });
    expect(
      loadGatewayConfig({ CONFIG_FILE: writeConfig('model_list: []\n') }).spendRetention,
    ).toBeUndefined();
    expect(() =>
      loadGatewayConfig({
        CONFIG_FILE: writeConfig('general_settings:\n  maximum_spend_logs_retention_period: forever\n'),
      }),
    ).toThrow('general_settings.maximum_spend_logs_retention_period: "forever" is not a duration');
  });

  it('reads LiteLLM end-user headers from user_header_mappings and user_header_name', () => {
    expect(loadGatewayConfig({ ...env, CONFIG_FILE: writeConfig(yaml) }).endUserHeaders).toEqual([
      'x-litellm-customer-id',
      'x-litellm-end-user-id',
    ]);
    const mapped = `${yaml}
  user_header_name: X-Legacy-User
  user_header_mappings:
    - header_name: X-OpenWebUI-User-Id
      litellm_user_role: customer
    - header_name: X-Internal-User
      litellm_user_role: internal_user
`;
    expect(loadGatewayConfig({ ...env, CONFIG_FILE: writeConfig(mapped) }).endUserHeaders).toEqual([
      'x-openwebui-user-id',
      'x-legacy-user',
    ]);
    const off = `${yaml}
  user_header_mappings: []
`;
    expect(loadGatewayConfig({ ...env, CONFIG_FILE: writeConfig(off) }).endUserHeaders).toEqual([]);
  });

  it("serves LiteLLM's OpenAI-compatible prefixes with their default bases and key variables", () => {
    const file = writeConfig(
      [
        'model_list:',
        '  - model_name: fast',
        '    litellm_params: { model: groq/llama-3.1-8b-instant }',
        '  - model_name: together',
        '    litellm_params: { model: together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo }',
        '  - model_name: local',
        '    litellm_params: { model: hosted_vllm/qwen, api_base: http://vllm:8000/v1 }',
        '  - model_name: perplexity',
        '    litellm_params: { model: perplexity/sonar }',
      ].join('\n'),
    );
    const config = loadGatewayConfig({
      CONFIG_FILE: file,
      GROQ_API_KEY: 'gsk-1',
      TOGETHERAI_API_KEY: 'tg-1',
      PERPLEXITY_API_KEY: 'pplx-1',
    });
    expect(
      config.deployments.map(({ provider, upstreamModel, apiBase, apiKey }) => ({
        provider,
        upstreamModel,
        apiBase,
        apiKey,
      })),
    ).toEqual([
      {
        provider: 'groq',
        upstreamModel: 'llama-3.1-8b-instant',
        apiBase: 'https://api.groq.com/openai/v1',
        apiKey: 'gsk-1',
      },
      {
        provider: 'together_ai',
        upstreamModel: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
        apiBase: 'https://api.together.xyz/v1',
        apiKey: 'tg-1',
      },
      { provider: 'hosted_vllm', upstreamModel: 'qwen', apiBase: 'http://vllm:8000/v1', apiKey: undefined },
      {
        provider: 'perplexity',
        upstreamModel: 'sonar',
        apiBase: 'https://api.perplexity.ai',
        apiKey: 'pplx-1',
      },
    ]);
    expect(config.warnings).toEqual([]);
  });

  it('serves an unknown prefix with an api_base as OpenAI-compatible, with a warning; without one it stops the start', () => {
    const withBase = writeConfig(
      'model_list:\n  - model_name: acme\n    litellm_params: { model: acme/llama-3, api_base: https://llm.acme.test/v1 }\n',
    );
    const config = loadGatewayConfig({ CONFIG_FILE: withBase });
    expect(config.deployments[0]).toMatchObject({
      provider: 'openai_like',
      upstreamModel: 'acme/llama-3',
      apiBase: 'https://llm.acme.test/v1',
    });
    expect(config.warnings).toEqual([
      expect.stringMatching(
        /^model_list\.0\.litellm_params\.model: unknown provider prefix in "acme\/llama-3"; served as an OpenAI-compatible upstream/,
      ),
    ]);
    const without = writeConfig(
      'model_list:\n  - model_name: acme\n    litellm_params: { model: acme/llama-3 }\n',
    );
    expect(() => loadGatewayConfig({ CONFIG_FILE: without })).toThrow(
      /unknown provider prefix in "acme\/llama-3"/,
    );
    const vllm = writeConfig(
      'model_list:\n  - model_name: v\n    litellm_params: { model: hosted_vllm/qwen }\n',
    );
    expect(() => loadGatewayConfig({ CONFIG_FILE: vllm })).toThrow(
      /api_base: hosted_vllm\/ has no default base; set api_base or HOSTED_VLLM_API_BASE/,
    );
    expect(
      loadGatewayConfig({ CONFIG_FILE: vllm, HOSTED_VLLM_API_BASE: 'http://v:8000/v1' }).deployments[0],
    ).toMatchObject({
      apiBase: 'http://v:8000/v1',
    });
  });

  it('reads prices from model_info as from litellm_params, litellm_params winning, and base_model for the catalog', () => {
    const file = writeConfig(
      [
        'model_list:',
        '  - model_name: claude',
        '    litellm_params: { model: anthropic/claude-sonnet-4-5, input_cost_per_token: 4.0e-6 }',
        '    model_info:',
        '      input_cost_per_token: 9.0e-6',
        '      cache_read_input_token_cost: 5.0e-7',
        '      cache_creation_input_token_cost_above_1hr: 6.0e-6',
        '  - model_name: tuned',
        '    litellm_params: { model: openai_like/my-finetune, api_base: http://ft.test/v1 }',
        '    model_info: { base_model: openai/gpt-4o-mini }',
        '  - model_name: bare-base',
        '    litellm_params: { model: groq/my-llama, base_model: llama-3.1-8b-instant, extra_headers: { x-team: ml } }',
      ].join('\n'),
    );
    const [claude, tuned, bare] = loadGatewayConfig({ CONFIG_FILE: file }).deployments;
    expect(claude!.priceOverrides).toEqual({
      input_cost_per_token: 4e-6,
      cache_read_input_token_cost: 5e-7,
      cache_creation_input_token_cost_above_1hr: 6e-6,
    });
    expect(tuned!.pricedAs).toEqual({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(bare!.pricedAs).toEqual({ provider: 'groq', model: 'llama-3.1-8b-instant' });
    expect(bare!.extraHeaders).toEqual({ 'x-team': 'ml' });
  });

  it("reads litellm_settings.include_cost_in_streaming_usage, off by default as LiteLLM's", () => {
    expect(
      loadGatewayConfig({ CONFIG_FILE: writeConfig('model_list: []\n') }).includeCostInStreamingUsage,
    ).toBe(false);
    const on = writeConfig('model_list: []\nlitellm_settings:\n  include_cost_in_streaming_usage: true\n');
    expect(loadGatewayConfig({ CONFIG_FILE: on }).includeCostInStreamingUsage).toBe(true);
  });

  it('runs more than one worker only on Postgres and Redis, which the workers share', () => {
    const file = { CONFIG_FILE: writeConfig('model_list: []\n') };
    expect(loadGatewayConfig(file).workers).toBe(1);
    expect(() => loadGatewayConfig({ ...file, WORKERS: '2' })).toThrow(
      /WORKERS=2 needs DATABASE_URL .* and REDIS_URL/,
    );
    expect(() => loadGatewayConfig({ ...file, WORKERS: '2', DATABASE_URL: 'postgres://x/y' })).toThrow(
      /WORKERS=2 needs/,
    );
    expect(() => loadGatewayConfig({ ...file, WORKERS: '2', REDIS_URL: 'redis://r:6379' })).toThrow(
      /WORKERS=2 needs/,
    );
    const shared = { ...file, DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://r:6379' };
    expect(loadGatewayConfig({ ...shared, WORKERS: '3' }).workers).toBe(3);
    expect(loadGatewayConfig({ ...shared, WORKERS: 'auto' }).workers).toBeGreaterThanOrEqual(1);
    expect(() => loadGatewayConfig({ ...shared, WORKERS: '0' })).toThrow();
  });

  it('lets env win over the file for the master key and database', () => {
    const config = loadGatewayConfig({
      ...env,
      CONFIG_FILE: writeConfig(yaml),
      LITELLM_MASTER_KEY: 'sk-from-env',
      DATABASE_URL: 'postgres://env/db',
    });
    expect(config.masterKey).toBe('sk-from-env');
    expect(config.database).toMatchObject({ url: 'postgres://env/db' });
  });

  it('takes --config over CONFIG_FILE', () => {
    const path = writeConfig('model_list: []\n');
    expect(configPathFromArgs(['--config', path])).toBe(path);
    expect(configPathFromArgs([`--config=${path}`])).toBe(path);
    expect(loadGatewayConfig({ CONFIG_FILE: '/nope.yaml' }, ['--config', path]).deployments).toEqual([]);
  });

  it('falls back to the embedded default without a config file or database URL', () => {
    const config = loadGatewayConfig({});
    expect(config.demo).toBe(true);
    expect(config.maxRequestBytes).toBe(100 * 1024 * 1024);
    expect(config.database.kind).toBe('pglite');
    expect(config.redisUrl).toBeUndefined();
    expect(config.port).toBe(4000);
  });

  it('names the field of a bad config', () => {
    expect(() => parseConfigFile('model_list:\n  - model_name: x\n', {})).toThrow(
      /model_list\.0\.litellm_params/,
    );
    expect(() =>
      parseConfigFile(
        'model_list:\n  - model_name: x\n    litellm_params: {model: gpt-4o, api_base: not a url}\n',
        {},
      ),
    ).toThrow(/model_list\.0\.litellm_params\.api_base/);
  });

  it('names the unset variable behind an os.environ reference', () => {
    expect(() => parseConfigFile('general_settings:\n  master_key: os.environ/MISSING_VAR\n', {})).toThrow(
      'general_settings.master_key: environment variable MISSING_VAR is not set',
    );
  });

  it('refuses an unknown provider prefix, naming the entry', () => {
    const path = writeConfig('model_list:\n  - model_name: x\n    litellm_params: {model: "madeup/thing"}\n');
    expect(() => loadGatewayConfig({ CONFIG_FILE: path })).toThrow(/model_list\.0\.litellm_params\.model/);
  });
});
