import type { FinishReason, Usage } from '../canonical.ts';

interface OllamaCounts {
  prompt_eval_count?: number | null | undefined;
  eval_count?: number | null | undefined;
}

/**
 * Ollama's counters -> canonical usage (wire formats §7.1): `prompt_eval_count` is every prompt
 * token, `eval_count` every generated one (thinking included). A missing counter stays
 * undefined: Ollama omits `prompt_eval_count` on a full prompt-cache hit, and LiteLLM's
 * fallback to its own tokenizer count would be a guess. Ollama reports no cache split.
 */
export function fromOllamaUsage(counts: OllamaCounts): Usage {
  const usage: Usage = {};
  if (counts.prompt_eval_count != null) usage.inputTokens = counts.prompt_eval_count;
  if (counts.eval_count != null) usage.outputTokens = counts.eval_count;
  return usage;
}

/**
 * `done_reason` -> finish reason. Tool calls win (LiteLLM says `stop` for a non-streamed reply
 * that carries tool calls, which tells OpenAI clients there is nothing to run); `stop` and
 * `length` map to themselves, a missing reason is `stop`, and anything else (`load`, `unload`)
 * is kept as sent.
 */
export function fromOllamaDoneReason(
  doneReason: string | null | undefined,
  hasToolCalls: boolean,
): FinishReason {
  if (hasToolCalls) return 'tool_calls';
  return doneReason || 'stop';
}
