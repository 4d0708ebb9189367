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
} satisfies Record<string, string>;

function toCatalogProviderId(provider: string): string | undefined {
  return (catalogProviderIds as Record<string, string>)[provider];
}

/**
 * Finds a model's prices in the bundled `@pydantic/genai-prices` catalog as they stood at `at`
 * (time-of-day and start-date price constraints are resolved by the catalog).
 * Returns undefined when the provider or model is not in the catalog.
 */
export function lookupCatalogPrices(provider: string, model: string, at: Date): CatalogEntry | undefined {
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
