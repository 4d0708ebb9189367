import type { Usage } from '../canonical.ts';
import type { AnthropicUsage } from './wire.ts';

/**
 * Anthropic usage -> canonical usage. Anthropic's `input_tokens` excludes cache reads and
 * writes, so the canonical input (OpenAI's `prompt_tokens`) adds them back (wire formats §4.1).
 * The 1-hour part of the writes comes from `cache_creation`. Unreported counts stay undefined.
 */
export function fromAnthropicUsage(usage: AnthropicUsage | null | undefined): Usage {
  if (!usage) return {};
  const result: Usage = {};
  const cacheRead = usage.cache_read_input_tokens ?? undefined;
  const cacheWrite = usage.cache_creation_input_tokens ?? undefined;
  if (usage.input_tokens != null)
    result.inputTokens = usage.input_tokens + (cacheRead ?? 0) + (cacheWrite ?? 0);
  if (usage.output_tokens != null) result.outputTokens = usage.output_tokens;
  if (cacheRead !== undefined) result.cacheReadTokens = cacheRead;
  if (cacheWrite !== undefined) result.cacheWriteTokens = cacheWrite;
  const oneHour = usage.cache_creation?.ephemeral_1h_input_tokens;
  if (oneHour != null) result.cacheWrite1hTokens = oneHour;
  const searches = usage.server_tool_use?.web_search_requests;
  if (searches) result.webSearchRequests = searches;
  return result;
}

/** `stop_reason` -> OpenAI `finish_reason`, as LiteLLM's `map_finish_reason`. */
export function fromAnthropicStopReason(stopReason: string | null | undefined): string {
  switch (stopReason) {
    case 'max_tokens':
    case 'compaction':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'stop';
  }
}
