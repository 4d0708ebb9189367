import Big from 'big.js';
import { type CatalogEntry, type CatalogPrice, lookupCatalogPrices } from './catalog.ts';
import { decimal, divided, plain, plus, times } from './decimal.ts';
import { hasPriceOverrides, type PriceOverrides } from './overrides.ts';

/**
 * Token counts to price. `undefined` means the provider did not report the count; it is never
 * read as zero for the totals (`inputTokens`, `outputTokens`). Cache counts are parts of
 * `inputTokens`; an unreported cache count means no part of the input was billed at a cache rate.
 */
export interface UsageToPrice {
  /** Every prompt token, including cache reads and cache writes (OpenAI `prompt_tokens`). */
  inputTokens?: number | undefined;
  cacheReadTokens?: number | undefined;
  /** Every cache-write token, 5-minute and 1-hour together. */
  cacheWriteTokens?: number | undefined;
  /** The part of `cacheWriteTokens` written with a 1-hour TTL. */
  cacheWrite1hTokens?: number | undefined;
  /** Every completion token, including reasoning tokens. */
  outputTokens?: number | undefined;
  /** Server-side web searches, billed per search where the catalog prices them. */
  webSearchRequests?: number | undefined;
}

export type PriceSource = 'catalog' | 'config' | 'catalog+config' | 'provider' | 'free';

/** Unit prices actually applied, in USD per million tokens, as exact decimal strings. */
export interface AppliedUnitPrices {
  input: string;
  cacheRead: string;
  cacheWrite: string;
  cacheWrite1h: string;
  output: string;
  /** A flat fee per request, in USD, where the catalog has one. */
  perRequest?: string;
  /** USD per server-side web search, where the catalog has one. */
  perWebSearch?: string;
}

export type PriceResult =
  | {
      priced: true;
      /** Exact USD cost as a plain decimal string (no exponent), e.g. `"0.000165"`. */
      costUsd: string;
      source: PriceSource;
      catalogModelId?: string;
      /** Absent when the cost came from the provider or the model is free. */
      unitPrices?: AppliedUnitPrices;
    }
  | { priced: false; reason: 'unknown_model' | 'unknown_usage' | 'invalid_usage'; detail: string };

export interface PriceUsageInput {
  /** Our provider id (`openai`, `anthropic`, `deepseek`, `openrouter`, `ollama`, `ollama_chat`). */
  provider: string;
  /** The provider-facing model name, e.g. `gpt-4o-mini-2024-07-18`. */
  model: string;
  usage: UsageToPrice;
  /** When the request started; selects time-dependent catalog prices. */
  at: Date;
  overrides?: PriceOverrides;
  /** A cost the provider reported for this call (OpenRouter `usage.cost`), in USD. It wins. */
  providerCostUsd?: string;
}

const LONG_CONTEXT_THRESHOLD_TOKENS = 200_000;
/** Self-hosted runtimes cost nothing unless the operator prices them. */
const freeProviders = new Set(['ollama', 'ollama_chat', 'hosted_vllm', 'lm_studio']);

/**
 * Prices one request's usage exactly: each token bucket times its unit price, in decimal
 * arithmetic (integers of a fixed scale, no binary floats). Never returns a cost of zero for a
 * model it cannot price: that is `{ priced: false }`, so the caller records the row as unpriced.
 */
export function priceUsage(input: PriceUsageInput): PriceResult {
  if (input.providerCostUsd !== undefined) {
    return { priced: true, costUsd: plain(decimal(input.providerCostUsd, false)), source: 'provider' };
  }
  const overrides = hasPriceOverrides(input.overrides) ? input.overrides : undefined;
  const catalog = lookupCatalogPrices(input.provider, input.model, input.at);
  if (!catalog && !overrides) {
    if (freeProviders.has(input.provider)) return { priced: true, costUsd: '0', source: 'free' };
    return {
      priced: false,
      reason: 'unknown_model',
      detail: `no price for ${input.provider}/${input.model} in the catalog or config`,
    };
  }

  const { inputTokens, outputTokens } = input.usage;
  if (inputTokens === undefined || outputTokens === undefined) {
    return {
      priced: false,
      reason: 'unknown_usage',
      detail: 'the provider reported no input or output token count',
    };
  }
  const cacheRead = input.usage.cacheReadTokens ?? 0;
  const cacheWrite = input.usage.cacheWriteTokens ?? 0;
  const cacheWrite1h = input.usage.cacheWrite1hTokens ?? 0;
  if (cacheRead + cacheWrite > inputTokens || cacheWrite1h > cacheWrite) {
    return {
      priced: false,
      reason: 'invalid_usage',
      detail: `cache tokens (read ${cacheRead}, write ${cacheWrite}, 1h ${cacheWrite1h}) exceed input tokens ${inputTokens}`,
    };
  }

  const unitPrices = resolveUnitPrices(catalog, overrides, inputTokens, outputTokens);
  if (!unitPrices) {
    return {
      priced: false,
      reason: 'unknown_model',
      detail: `no input or output price for ${input.provider}/${input.model}`,
    };
  }

  const uncachedInput = inputTokens - cacheRead - cacheWrite;
  const tokenCostTimesMillion = [
    times(decimal(unitPrices.input), uncachedInput),
    times(decimal(unitPrices.cacheRead), cacheRead),
    times(decimal(unitPrices.cacheWrite), cacheWrite - cacheWrite1h),
    times(decimal(unitPrices.cacheWrite1h), cacheWrite1h),
    times(decimal(unitPrices.output), outputTokens),
  ].reduce(plus);
  let cost = divided(tokenCostTimesMillion, 6);
  if (unitPrices.perRequest !== undefined) cost = plus(cost, decimal(unitPrices.perRequest));
  const searches = input.usage.webSearchRequests ?? 0;
  if (searches > 0 && unitPrices.perWebSearch !== undefined)
    cost = plus(cost, times(decimal(unitPrices.perWebSearch), searches));

  const source: PriceSource = !overrides ? 'catalog' : catalog ? 'catalog+config' : 'config';
  return {
    priced: true,
    costUsd: plain(cost),
    source,
    ...(catalog ? { catalogModelId: catalog.modelId } : {}),
    unitPrices,
  };
}

function resolveUnitPrices(
  catalog: CatalogEntry | undefined,
  overrides: PriceOverrides | undefined,
  inputTokens: number,
  outputTokens: number,
): AppliedUnitPrices | undefined {
  const longContext = inputTokens > LONG_CONTEXT_THRESHOLD_TOKENS;
  const fromConfig = (base: keyof PriceOverrides, above: keyof PriceOverrides): string | undefined => {
    const perToken = (longContext ? overrides?.[above] : undefined) ?? overrides?.[base];
    return perToken === undefined ? undefined : perMillion(perToken);
  };
  const fromCatalog = (key: string): string | undefined => {
    const price = catalog?.prices[key];
    return price === undefined ? undefined : selectTier(price, inputTokens);
  };

  const inputPrice =
    fromConfig('input_cost_per_token', 'input_cost_per_token_above_200k_tokens') ?? fromCatalog('input_mtok');
  // Embedding models have no output price, and nothing to price there: no output tokens.
  const outputPrice =
    fromConfig('output_cost_per_token', 'output_cost_per_token_above_200k_tokens') ??
    fromCatalog('output_mtok') ??
    (outputTokens === 0 ? '0' : undefined);
  if (inputPrice === undefined || outputPrice === undefined) return undefined;
  // A cache bucket without a price of its own is billed at its parent's price (as the catalog
  // does), never silently as free.
  const cacheRead =
    fromConfig('cache_read_input_token_cost', 'cache_read_input_token_cost_above_200k_tokens') ??
    fromCatalog('cache_read_mtok') ??
    inputPrice;
  const cacheWrite =
    fromConfig('cache_creation_input_token_cost', 'cache_creation_input_token_cost_above_200k_tokens') ??
    fromCatalog('cache_write_mtok') ??
    inputPrice;
  const cacheWrite1h =
    fromConfig(
      'cache_creation_input_token_cost_above_1hr',
      'cache_creation_input_token_cost_above_1hr_above_200k_tokens',
    ) ??
    fromCatalog('cache_write_1h_mtok') ??
    cacheWrite;
  const perThousandRequests = fromCatalog('requests_kcount');
  const perThousandSearches = fromCatalog('web_searches_kcount');
  return {
    input: inputPrice,
    cacheRead,
    cacheWrite,
    cacheWrite1h,
    output: outputPrice,
    ...(perThousandRequests !== undefined
      ? { perRequest: plain(divided(decimal(perThousandRequests), 3)) }
      : {}),
    ...(perThousandSearches !== undefined
      ? { perWebSearch: plain(divided(decimal(perThousandSearches), 3)) }
      : {}),
  };
}

/** Tiered catalog prices apply to every token of the request once its input passes a tier's start. */
function selectTier(price: CatalogPrice, inputTokens: number): string {
  if (typeof price === 'number') return plainDecimal(price);
  let selected = price.base;
  for (const tier of price.tiers) if (inputTokens > tier.start) selected = tier.price;
  return plainDecimal(selected);
}

/**
 * Reads a price given as a JS number by its shortest decimal form (`3e-6` -> `0.000003`),
 * which is the value the catalog or config author wrote.
 */
function bigOf(value: number): Big {
  return new Big(String(value));
}

// The same few prices are converted on every call: their decimal forms are kept (catalog and
// config prices are a bounded set; the cap only guards against a surprise).
const MAX_MEMO = 10_000;
const plainMemo = new Map<number, string>();
const perMillionMemo = new Map<number, string>();

function memoised(memo: Map<number, string>, value: number, compute: () => string): string {
  let text = memo.get(value);
  if (text === undefined) {
    text = compute();
    if (memo.size < MAX_MEMO) memo.set(value, text);
  }
  return text;
}

/** A catalog price as a plain decimal string (`3e-7` -> `0.0000003`). */
function plainDecimal(value: number): string {
  return memoised(plainMemo, value, () => bigOf(value).toFixed());
}

/** A per-token config price as USD per million tokens. */
function perMillion(value: number): string {
  return memoised(perMillionMemo, value, () => bigOf(value).times(1_000_000).toFixed());
}
