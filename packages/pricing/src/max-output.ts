import { calcPrice } from '@pydantic/genai-prices';
import table from './max-output-tokens.json' with { type: 'json' };

const maxOutput = table as Record<string, Record<string, number>>;
const catalogProviders = new Set(['openai', 'anthropic', 'deepseek', 'openrouter']);
/** A dated snapshot (`-2024-08-06`, `-20250514`) has its family's output cap. */
const DATE_SUFFIX = /-(\d{4}-\d{2}-\d{2}|\d{8})$/;

/**
 * The most output tokens a model can produce in one call: its `max_output_tokens` (from
 * LiteLLM's public price file), else its context window (from the price catalog), else
 * undefined. Used to reserve a call's worst-case cost when it sets no `max_tokens`.
 */
export function modelMaxOutputTokens(provider: string, model: string): number | undefined {
  const key = `${provider}/${model}`;
  if (!memo.has(key)) memo.set(key, lookUp(provider, model));
  return memo.get(key);
}

/** Answers by model (the models a gateway serves are few, named in its config). */
const memo = new Map<string, number | undefined>();

function lookUp(provider: string, model: string): number | undefined {
  const known = maxOutput[provider];
  const listed = known?.[model] ?? known?.[model.replace(DATE_SUFFIX, '')];
  if (listed !== undefined) return listed;
  if (!catalogProviders.has(provider)) return undefined;
  return calcPrice({}, model, { providerId: provider })?.model.context_window ?? undefined;
}
