/**
 * Per-model price overrides from `config.yaml`, with LiteLLM's field names and units
 * (USD per token). Each field may also come as an `_above_200k_tokens` variant, used for
 * every token of a request whose input exceeds 200,000 tokens.
 */
export interface PriceOverrides {
  input_cost_per_token?: number;
  output_cost_per_token?: number;
  cache_read_input_token_cost?: number;
  cache_creation_input_token_cost?: number;
  cache_creation_input_token_cost_above_1hr?: number;
  input_cost_per_token_above_200k_tokens?: number;
  output_cost_per_token_above_200k_tokens?: number;
  cache_read_input_token_cost_above_200k_tokens?: number;
  cache_creation_input_token_cost_above_200k_tokens?: number;
  cache_creation_input_token_cost_above_1hr_above_200k_tokens?: number;
}

/** The LiteLLM override field names, for config parsing. */
export const priceOverrideFields = [
  'input_cost_per_token',
  'output_cost_per_token',
  'cache_read_input_token_cost',
  'cache_creation_input_token_cost',
  'cache_creation_input_token_cost_above_1hr',
  'input_cost_per_token_above_200k_tokens',
  'output_cost_per_token_above_200k_tokens',
  'cache_read_input_token_cost_above_200k_tokens',
  'cache_creation_input_token_cost_above_200k_tokens',
  'cache_creation_input_token_cost_above_1hr_above_200k_tokens',
] as const satisfies readonly (keyof PriceOverrides)[];

export function hasPriceOverrides(overrides: PriceOverrides | undefined): overrides is PriceOverrides {
  return overrides !== undefined && priceOverrideFields.some((field) => overrides[field] !== undefined);
}
