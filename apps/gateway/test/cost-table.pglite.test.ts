import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNanoUsd } from './support/money.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * One table, every provider: the same prompt streamed and not gives the same token buckets and
 * the same cost, and that cost is each bucket times its price, exact to the nano-dollar.
 */

interface Row {
  spend: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cache_read_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
  cache_creation_1h_input_tokens: number | null;
  pricing: {
    source: string;
    unpricedReason?: string;
    unitPrices?: Record<'input' | 'cacheRead' | 'cacheWrite' | 'cacheWrite1h' | 'output', string>;
  } | null;
}

/** USD per million tokens (a decimal string) times tokens, in nano-USD; exact. */
function perMillion(price: string, tokens: number): bigint {
  const [whole = '0', fraction = ''] = price.split('.');
  // price per M in units of 1e-15 USD per token = price * 1e9 nano / 1e6 tokens.
  const femtoPerToken = BigInt(whole) * 10n ** 9n + BigInt(fraction.padEnd(9, '0').slice(0, 9));
  const femto = femtoPerToken * BigInt(tokens);
  if (femto % 1_000_000n !== 0n) throw new Error(`${tokens} x ${price}/M is finer than a nano-dollar`);
  return femto / 1_000_000n;
}

/** Each bucket of a row times the unit prices given (USD per million tokens). */
function bucketCost(
  row: Row,
  prices: Record<'input' | 'cacheRead' | 'cacheWrite' | 'cacheWrite1h' | 'output', string>,
) {
  const read = row.cache_read_input_tokens ?? 0;
  const write = row.cache_creation_input_tokens ?? 0;
  const write1h = row.cache_creation_1h_input_tokens ?? 0;
  return (
    perMillion(prices.input, row.prompt_tokens! - read - write) +
    perMillion(prices.cacheRead, read) +
    perMillion(prices.cacheWrite, write - write1h) +
    perMillion(prices.cacheWrite1h, write1h) +
    perMillion(prices.output, row.completion_tokens!)
  );
}

const GPT_4O_MINI = {
  input: '0.15',
  cacheRead: '0.075',
  cacheWrite: '0.15',
  cacheWrite1h: '0.15',
  output: '0.6',
};
const SONNET_4_5 = { input: '3', cacheRead: '0.3', cacheWrite: '3.75', cacheWrite1h: '6', output: '15' };
const CONFIG = { input: '2', cacheRead: '2', cacheWrite: '2', cacheWrite1h: '2', output: '8' };

interface Case {
  model: string;
  directives: string;
  /** The exact cost of a row in nano-USD, or null for an unpriced one. */
  expected: (row: Row) => bigint | null;
  buckets?: Partial<Row>;
}

const cases: Case[] = [
  {
    model: 'gpt-4o-mini',
    directives: '[mock:cached_tokens=16]',
    expected: (row) => bucketCost(row, GPT_4O_MINI),
    buckets: { cache_read_input_tokens: 16 },
  },
  {
    model: 'claude-sonnet',
    directives: '[mock:cached_tokens=10] [mock:cache_write_tokens=20] [mock:cache_write_1h_tokens=30]',
    expected: (row) => bucketCost(row, SONNET_4_5),
    buckets: {
      cache_read_input_tokens: 10,
      cache_creation_input_tokens: 50,
      cache_creation_1h_input_tokens: 30,
    },
  },
  {
    // DeepSeek's catalog price depends on the time of day: the row's own unit prices are used,
    // which is the point of storing them.
    model: 'deepseek-chat',
    directives: '[mock:cached_tokens=6]',
    expected: (row) => bucketCost(row, row.pricing!.unitPrices!),
    buckets: { cache_read_input_tokens: 6 },
  },
  {
    // OpenRouter reports the cost; the mock charges prompt x $1/M + completion x $2/M.
    model: 'openrouter-gpt',
    directives: '',
    expected: (row) => perMillion('1', row.prompt_tokens!) + perMillion('2', row.completion_tokens!),
  },
  { model: 'llama-chat', directives: '', expected: () => 0n },
  { model: 'priced-by-config', directives: '', expected: (row) => bucketCost(row, CONFIG) },
  { model: 'mock-unpriced', directives: '', expected: () => null },
];

describe('cost of every provider, streamed and not', () => {
  let t: TestGateway;
  let client: OpenAI;
  beforeAll(async () => {
    t = await startTestGateway('pglite');
    client = new OpenAI({ apiKey: await t.createKey(), baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(cases)('$model', async ({ model, directives, expected, buckets }) => {
    const messages = [{ role: 'user' as const, content: `Price this call ${directives}` }];
    const plain = await client.chat.completions.create({ model, messages }).withResponse();
    const streamed = await client.chat.completions
      .create({ model, messages, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    for await (const _ of streamed.data) {
    }
    const [a, b] = await Promise.all(
      [plain.response, streamed.response].map((r) => t.spendRow<Row>(r.headers.get('x-litellm-call-id'))),
    );
    const bucketsOf = (row: Row) => ({
      prompt_tokens: row.prompt_tokens,
      completion_tokens: row.completion_tokens,
      cache_read_input_tokens: row.cache_read_input_tokens,
      cache_creation_input_tokens: row.cache_creation_input_tokens,
      cache_creation_1h_input_tokens: row.cache_creation_1h_input_tokens,
    });
    expect(bucketsOf(b!)).toEqual(bucketsOf(a!));
    expect(a!.prompt_tokens).toBeGreaterThan(0);
    expect(a!.completion_tokens).toBeGreaterThan(0);
    if (buckets) expect(a).toMatchObject(buckets);
    expect(b!.spend).toBe(a!.spend);
    const cost = expected(a!);
    if (cost === null) {
      expect(a).toMatchObject({ spend: null, pricing: { unpricedReason: 'unknown_model' } });
    } else {
      expect(toNanoUsd(a!.spend!)).toBe(cost);
    }
  });
});
