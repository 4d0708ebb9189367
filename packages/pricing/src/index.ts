export { type CatalogEntry, type CatalogPrice, lookupCatalogPrices } from './catalog.ts';
export { modelMaxOutputTokens } from './max-output.ts';
export { addUsd } from './money.ts';
export { hasPriceOverrides, type PriceOverrides, priceOverrideFields } from './overrides.ts';
export {
  type AppliedUnitPrices,
  type PriceResult,
  type PriceSource,
  type PriceUsageInput,
  priceUsage,
  type UsageToPrice,
} from './price-usage.ts';
