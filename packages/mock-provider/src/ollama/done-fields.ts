/** The mock's model load time, ns, on every `done: true` object and embed answer. */
export const MOCK_OLLAMA_LOAD_DURATION_NS = 1_000_000;
/** Prompt evaluation time per prompt token, ns (4000 tokens/s). */
export const MOCK_OLLAMA_PROMPT_EVAL_NS_PER_TOKEN = 250_000;
/** Generation time per output token, ns (50 tokens/s). */
export const MOCK_OLLAMA_EVAL_NS_PER_TOKEN = 20_000_000;

/**
 * The counters and durations (ns) of a `done: true` object (provider-wire-formats.md §7.1),
 * deterministic: `load_duration` 1 ms, `prompt_eval_duration` = prompt tokens × 0.25 ms,
 * `eval_duration` = output tokens × 20 ms, `total_duration` = the sum of the three.
 */
export function toOllamaDoneFields(promptEvalCount: number, evalCount: number) {
  const promptEvalDuration = promptEvalCount * MOCK_OLLAMA_PROMPT_EVAL_NS_PER_TOKEN;
  const evalDuration = evalCount * MOCK_OLLAMA_EVAL_NS_PER_TOKEN;
  return {
    total_duration: MOCK_OLLAMA_LOAD_DURATION_NS + promptEvalDuration + evalDuration,
    load_duration: MOCK_OLLAMA_LOAD_DURATION_NS,
    prompt_eval_count: promptEvalCount,
    prompt_eval_duration: promptEvalDuration,
    eval_count: evalCount,
    eval_duration: evalDuration,
  };
}
