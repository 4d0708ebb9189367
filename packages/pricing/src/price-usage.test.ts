import { describe, expect, it } from 'vitest';
import { priceUsage, type UsageToPrice } from './price-usage.ts';

const at = new Date('2026-06-01T12:00:00Z');
const usage = (u: Partial<UsageToPrice>): UsageToPrice => ({
  inputTokens: undefined,
  cacheReadTokens: undefined,
  cacheWriteTokens: undefined,
  cacheWrite1hTokens: undefined,
  outputTokens: undefined,
  ...u,
});

describe('priceUsage', () => {
  it('prices gpt-4o-mini cache reads at the cache rate, exactly', () => {
    // Expected catalog prices: input $0.15/M, cached input $0.075/M, output $0.60/M.
    const result = priceUsage({
      provider: 'openai',
      model: 'gpt-4o-mini-2024-07-18',
      at,
      usage: usage({ inputTokens: 1000, cacheReadTokens: 200, outputTokens: 50 }),
    });
    // 800 * 0.15e-6 + 200 * 0.075e-6 + 50 * 0.6e-6 = 0.00012 + 0.000015 + 0.00003
    expect(result).toMatchObject({
      priced: true,
      costUsd: '0.000165',
      source: 'catalog',
      catalogModelId: 'gpt-4o-mini',
      unitPrices: { input: '0.15', cacheRead: '0.075', output: '0.6' },
    });
  });

  it('keeps 5-minute and 1-hour cache writes apart for Claude Sonnet 4.5', () => {
    // Expected: input $3/M, 5m write $3.75/M, 1h write $6/M, read $0.30/M, output $15/M.
    const result = priceUsage({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5-20250929',
      at,
      usage: usage({
        inputTokens: 10_000,
        cacheReadTokens: 4_000,
        cacheWriteTokens: 3_000,
        cacheWrite1hTokens: 1_000,
        outputTokens: 500,
      }),
    });
    // 3000*3 + 4000*0.3 + 2000*3.75 + 1000*6 + 500*15 = 9000+1200+7500+6000+7500 = 31200 per M
    expect(result).toMatchObject({ priced: true, costUsd: '0.0312' });
  });

  it('adds server-side web searches at their per-search price', () => {
    // Expected: Claude Sonnet 4.5 web search $10 per 1,000 searches; input $3/M, output $15/M.
    const result = priceUsage({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      at,
      usage: { ...usage({ inputTokens: 1_000, outputTokens: 100 }), webSearchRequests: 3 },
    });
    // 1000*3/M + 100*15/M + 3*0.01 = 0.003 + 0.0015 + 0.03
    expect(result).toMatchObject({ priced: true, costUsd: '0.0345', unitPrices: { perWebSearch: '0.01' } });
  });

  it('switches every bucket to the long-context tier above 200k input tokens', () => {
    // Expected above-200k prices: input $6/M, output $22.50/M.
    const result = priceUsage({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5-20250929',
      at,
      usage: usage({ inputTokens: 200_001, outputTokens: 1_000 }),
    });
    // 200001*6 + 1000*22.5 = 1200006 + 22500 = 1222506 per M
    expect(result).toMatchObject({ priced: true, costUsd: '1.222506' });
  });

  it.each([
    // [input tokens, expected cost]: at 200,000 the base tier ($3/M in, $15/M out) still applies.
    [200_000, '0.615'], // 200000*3 + 1000*15 = 615000 per M
    [200_001, '1.222506'], // 200001*6 + 1000*22.5 per M
  ])(
    'prices %i input tokens of Claude Sonnet 4.5 on the right side of the 200k boundary',
    (inputTokens, cost) => {
      const result = priceUsage({
        provider: 'anthropic',
        model: 'claude-sonnet-4-5-20250929',
        at,
        usage: usage({ inputTokens, outputTokens: 1_000 }),
      });
      expect(result).toMatchObject({ priced: true, costUsd: cost });
    },
  );

  it('uses config _above_200k_tokens and _above_1hr prices, each bucket at its own override', () => {
    const overrides = {
      input_cost_per_token: 1e-6,
      output_cost_per_token: 2e-6,
      cache_read_input_token_cost: 1e-7,
      cache_creation_input_token_cost: 1.25e-6,
      cache_creation_input_token_cost_above_1hr: 2e-6,
      input_cost_per_token_above_200k_tokens: 3e-6,
      output_cost_per_token_above_200k_tokens: 4e-6,
      cache_read_input_token_cost_above_200k_tokens: 3e-7,
      cache_creation_input_token_cost_above_200k_tokens: 3.75e-6,
      cache_creation_input_token_cost_above_1hr_above_200k_tokens: 6e-6,
    };
    const price = (inputTokens: number) =>
      priceUsage({
        provider: 'openai',
        model: 'my-private-model',
        at,
        overrides,
        usage: usage({
          inputTokens,
          cacheReadTokens: 1_000,
          cacheWriteTokens: 3_000,
          cacheWrite1hTokens: 1_000,
          outputTokens: 100,
        }),
      });
    // 196000 plain x1 + 1000 read x0.1 + 2000 5m x1.25 + 1000 1h x2 + 100 out x2, per M.
    expect(price(200_000)).toMatchObject({ priced: true, costUsd: '0.2008', source: 'config' });
    // 196001 x3 + 1000 x0.3 + 2000 x3.75 + 1000 x6 + 100 x4, per M.
    expect(price(200_001)).toMatchObject({ priced: true, costUsd: '0.602203' });
  });

  it('is exact where binary floats are not', () => {
    // 3 input tokens at $0.7/M and 1 output token at $0.1/M: floats give 0.0000021999999999999997.
    const result = priceUsage({
      provider: 'openai',
      model: 'my-private-model',
      at,
      overrides: { input_cost_per_token: 7e-7, output_cost_per_token: 1e-7 },
      usage: usage({ inputTokens: 3, outputTokens: 1 }),
    });
    expect(result).toMatchObject({ priced: true, costUsd: '0.0000022', source: 'config' });
  });

  it('lets config overrides win over the catalog per bucket', () => {
    const result = priceUsage({
      provider: 'openai',
      model: 'gpt-4o-mini',
      at,
      overrides: { input_cost_per_token: 1e-6 },
      usage: usage({ inputTokens: 1_000, cacheReadTokens: 1_000, outputTokens: 0 }),
    });
    // All 1000 input tokens are cache reads, still at the catalog's $0.075/M.
    expect(result).toMatchObject({ priced: true, costUsd: '0.000075', source: 'catalog+config' });
  });

  it('bills cache reads at the input price when the model has no cache price', () => {
    const result = priceUsage({
      provider: 'openai',
      model: 'my-private-model',
      at,
      overrides: { input_cost_per_token: 2e-6, output_cost_per_token: 4e-6 },
      usage: usage({ inputTokens: 100, cacheReadTokens: 40, outputTokens: 10 }),
    });
    expect(result).toMatchObject({ priced: true, costUsd: '0.00024' });
  });

  it('prices an embedding model, which has no output price, by its input', () => {
    // Expected catalog price: text-embedding-3-small $0.02/M input tokens.
    const result = priceUsage({
      provider: 'openai',
      model: 'text-embedding-3-small',
      at,
      usage: usage({ inputTokens: 1_000, outputTokens: 0 }),
    });
    expect(result).toMatchObject({ priced: true, costUsd: '0.00002' });
  });

  it('records an unknown model as unpriced, not as zero', () => {
    const result = priceUsage({
      provider: 'openai',
      model: 'no-such-model-anywhere',
      at,
      usage: usage({ inputTokens: 10, outputTokens: 10 }),
    });
    expect(result).toMatchObject({ priced: false, reason: 'unknown_model' });
  });

  it('records unknown usage as unpriced', () => {
    const result = priceUsage({
      provider: 'openai',
      model: 'gpt-4o-mini',
      at,
      usage: usage({ inputTokens: 10 }),
    });
    expect(result).toMatchObject({ priced: false, reason: 'unknown_usage' });
  });

  it('refuses usage whose cache tokens exceed the input', () => {
    const result = priceUsage({
      provider: 'openai',
      model: 'gpt-4o-mini',
      at,
      usage: usage({ inputTokens: 10, cacheReadTokens: 20, outputTokens: 1 }),
    });
    expect(result).toMatchObject({ priced: false, reason: 'invalid_usage' });
  });

  it('uses the provider-reported cost when there is one', () => {
    const result = priceUsage({
      provider: 'openrouter',
      model: 'openai/gpt-4o',
      at,
      providerCostUsd: '0.00123',
      usage: usage({ inputTokens: 10, outputTokens: 10 }),
    });
    expect(result).toEqual({ priced: true, costUsd: '0.00123', source: 'provider' });
  });

  it('treats Ollama as free unless priced in config', () => {
    const free = priceUsage({
      provider: 'ollama_chat',
      model: 'llama3.1',
      at,
      usage: usage({ inputTokens: 10, outputTokens: 10 }),
    });
    expect(free).toEqual({ priced: true, costUsd: '0', source: 'free' });
    const priced = priceUsage({
      provider: 'ollama_chat',
      model: 'llama3.1',
      at,
      overrides: { input_cost_per_token: 1e-6, output_cost_per_token: 1e-6 },
      usage: usage({ inputTokens: 10, outputTokens: 10 }),
    });
    expect(priced).toMatchObject({ priced: true, costUsd: '0.00002', source: 'config' });
  });
});
