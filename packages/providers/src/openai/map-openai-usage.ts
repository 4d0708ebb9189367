import type { Usage } from '../canonical.ts';
import type { OpenAIUsage } from './wire.ts';

/** OpenAI usage -> canonical usage. Absent or null counts stay undefined. */
export function fromOpenAIUsage(usage: OpenAIUsage | null | undefined): Usage {
  if (!usage) return {};
  const result: Usage = {};
  if (usage.prompt_tokens != null) result.inputTokens = usage.prompt_tokens;
  if (usage.completion_tokens != null) result.outputTokens = usage.completion_tokens;
  // DeepSeek's hit count is authoritative for its cache, as LiteLLM reads it.
  const cached = usage.prompt_cache_hit_tokens ?? usage.prompt_tokens_details?.cached_tokens;
  if (cached != null) result.cacheReadTokens = cached;
  const cacheWrite =
    usage.prompt_tokens_details?.cache_creation_tokens ?? usage.prompt_tokens_details?.cache_write_tokens;
  if (cacheWrite != null) result.cacheWriteTokens = cacheWrite;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  if (reasoning != null) result.reasoningTokens = reasoning;
  if (usage.cost != null) result.providerCostUsd = String(usage.cost);
  return result;
}

/** Canonical usage -> the OpenAI `usage` object; counts that are unknown are left out. */
export function toOpenAIUsage(usage: Usage): Record<string, unknown> | undefined {
  if (usage.inputTokens === undefined && usage.outputTokens === undefined) return undefined;
  const result: Record<string, unknown> = {};
  if (usage.inputTokens !== undefined) result.prompt_tokens = usage.inputTokens;
  if (usage.outputTokens !== undefined) result.completion_tokens = usage.outputTokens;
  if (usage.inputTokens !== undefined && usage.outputTokens !== undefined) {
    result.total_tokens = usage.inputTokens + usage.outputTokens;
  }
  if (usage.cacheReadTokens !== undefined || usage.cacheWriteTokens !== undefined) {
    result.prompt_tokens_details = {
      ...(usage.cacheReadTokens !== undefined ? { cached_tokens: usage.cacheReadTokens } : {}),
      ...(usage.cacheWriteTokens !== undefined ? { cache_creation_tokens: usage.cacheWriteTokens } : {}),
    };
  }
  if (usage.reasoningTokens !== undefined) {
    result.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  }
  return result;
}
