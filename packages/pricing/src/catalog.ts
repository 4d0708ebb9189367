import { calcPrice, type ModelPrice } from '@pydantic/genai-prices';

/** A price in USD per unit that may depend on the request's input size. */
export type CatalogPrice = number | { base: number; tiers: { start: number; price: number }[] };

/** Prices of one model as the catalog states them, keyed by genai-prices price keys (`input_mtok`, ...). */
export interface CatalogEntry {
  /** The catalog's own model id (e.g. `claude-sonnet-4-5` for `claude-sonnet-4-5-20250929`). */
  modelId: string;
  prices: Record<string, CatalogPrice>;
}

/**
 * Our provider ids mapped to genai-prices provider ids. Ollama is absent on purpose:
 * self-hosted models are free unless the operator prices them in config.
 */
const catalogProviderIds = {
  openai: 'openai',
  anthropic: 'anthropic',
  deepseek: 'deepseek',
  openrouter: 'openrouter',
  // LiteLLM's OpenAI-compatible prefixes the catalog prices (the others are priced in config).
  groq: 'groq',
  mistral: 'mistral',
  xai: 'x-ai',
  together_ai: 'together',
  fireworks_ai: 'fireworks',
  perplexity: 'perplexity',
  cerebras: 'cerebras',
} satisfies Record<string, string>;

function toCatalogProviderId(provider: string): string | undefined {
  return (catalogProviderIds as Record<string, string>)[provider];
}

// Catalog lookups match model names against many patterns (tens of microseconds); a request
// path prices the same few models over and over. Answers are kept for the current minute:
// the catalog's time-of-day and start-date price changes fall on whole minutes.
let memo: { minute: number; entries: Map<string, CatalogEntry | null> } = { minute: -1, entries: new Map() };

/**
 * Finds a model's prices in the bundled `@pydantic/genai-prices` catalog as they stood at `at`
 * (time-of-day and start-date price constraints are resolved by the catalog).
 * Returns undefined when the provider or model is not in the catalog.
 */
export function lookupCatalogPrices(provider: string, model: string, at: Date): CatalogEntry | undefined {
  const minute = Math.floor(at.getTime() / 60_000);
  if (memo.minute !== minute) memo = { minute, entries: new Map() };
  const key = `${provider}/${model}`;
  let entry = memo.entries.get(key);
  if (entry === undefined) {
    entry = findInCatalog(provider, model, at) ?? null;
    memo.entries.set(key, entry);
  }
  return entry ?? undefined;
}

function findInCatalog(provider: string, model: string, at: Date): CatalogEntry | undefined {
  const providerId = toCatalogProviderId(provider);
  if (!providerId) return undefined;
  // Empty usage: we only want the model's resolved price set; the arithmetic is ours (exact decimals).
  const found = calcPrice({}, model, { providerId, timestamp: at });
  if (!found) return undefined;
  return { modelId: found.model.id, prices: toPlainPrices(found.model_price) };
}

function toPlainPrices(modelPrice: ModelPrice): Record<string, CatalogPrice> {
  const prices: Record<string, CatalogPrice> = {};
  for (const [key, value] of Object.entries(modelPrice)) {
    if (value === undefined) continue;
    prices[key] = typeof value === 'number' ? value : { base: value.base, tiers: [...value.tiers] };
  }
  return prices;
}
