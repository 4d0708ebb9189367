import type { ChatRequest, ResponseFormat } from '../canonical.ts';

/**
 * What `/api/chat` and `/api/generate` share (wire formats §7.1, §7.2): the `options` object,
 * `format`, `think`, `keep_alive`, and the parameters neither endpoint can honour.
 */
export interface OllamaCommonFields {
  /** Sampling and generation settings, sent as the body's `options` (omitted when empty). */
  options: Record<string, unknown>;
  format?: 'json' | Record<string, unknown>;
  /** `true`/`false`, or a level (`low`/`medium`/`high`) for gpt-oss models. */
  think?: boolean | string;
  /** Top-level fields taken from `openaiExtras` (`keep_alive`, and `suffix` for generate). */
  topLevel: Record<string, unknown>;
}

/**
 * `openaiExtras` that are Ollama per-request `options` and are passed on under their own name,
 * as LiteLLM does with leftover params (https://github.com/ollama/ollama/blob/main/docs/api.md,
 * "valid parameters and values"). Deliberately narrower than LiteLLM, which forwards anything:
 * load-time knobs (`num_gpu`, `main_gpu`, `num_thread`, `num_batch`, `numa`, `use_mmap`, ...)
 * change how the operator's server loads the model for every tenant, so a caller cannot set
 * them; they are reported as dropped.
 */
const passThroughOptions = new Set([
  'num_keep',
  'num_ctx',
  'num_predict',
  'min_p',
  'typical_p',
  'repeat_last_n',
  'repeat_penalty',
  'penalize_newline',
  'mirostat',
  'mirostat_tau',
  'mirostat_eta',
  'tfs_z',
]);

/** `reasoning_effort` values that ask for reasoning, and the gpt-oss level each becomes. */
const gptOssLevels: Record<string, string> = { minimal: 'low', low: 'low', medium: 'medium', high: 'high' };

/** LiteLLM's test for models whose `think` takes a level instead of a boolean. */
function takesThinkLevel(model: string): boolean {
  return model.startsWith('gpt-oss');
}

/** `response_format` -> Ollama `format`: `"json"` for json_object, the schema itself for json_schema. */
export function toOllamaFormat(format: ResponseFormat | undefined): OllamaCommonFields['format'] {
  if (format?.type === 'json_object') return 'json';
  if (format?.type === 'json_schema') return format.schema ?? 'json';
  return undefined;
}

/**
 * `reasoning_effort` (or Anthropic-style `thinking`) -> `think`. LiteLLM sends `true` for any
 * effort on `/api/chat` and `value in {low, medium, high}` on `/api/generate`; here both
 * endpoints agree: `none` and `minimal` turn thinking off (the closest a boolean gets to
 * "as little as possible"), low/medium/high turn it on, and gpt-oss models (which cannot turn
 * it off) get the level itself.
 */
function toOllamaThink(request: ChatRequest, warnings: string[]): boolean | string | undefined {
  const effort = request.reasoningEffort;
  if (effort !== undefined) {
    if (takesThinkLevel(request.model)) {
      const level = gptOssLevels[effort];
      if (level) return level;
      if (effort === 'none') return false;
    } else {
      if (effort === 'low' || effort === 'medium' || effort === 'high') return true;
      if (effort === 'none' || effort === 'minimal') return false;
    }
    warnings.push(`reasoning_effort=${effort}`);
    return undefined;
  }
  const thinking = request.thinking;
  if (!thinking) return undefined;
  if (thinking.type === 'disabled') return false;
  // Ollama has no thinking budget: thinking is on or off.
  if (thinking.type === 'enabled') warnings.push('thinking.budget_tokens');
  return true;
}

/**
 * The fields both Ollama endpoints share. `topLevelExtras` names the `openaiExtras` that the
 * endpoint takes at the top level of the body (LiteLLM wrongly nests e.g. `keep_alive` and
 * `suffix` inside `options`, where Ollama ignores them). Every parameter that cannot be
 * honoured is pushed to `warnings` and left out.
 */
export function toOllamaCommonFields(
  request: ChatRequest,
  topLevelExtras: Record<string, (value: unknown) => boolean>,
  warnings: string[],
): OllamaCommonFields {
  const options: Record<string, unknown> = {};
  const topLevel: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(request.openaiExtras)) {
    const accepts = topLevelExtras[field];
    if (accepts) {
      if (accepts(value)) topLevel[field] = value;
      else warnings.push(field);
    } else if (passThroughOptions.has(field)) options[field] = value;
    else warnings.push(field);
  }

  // Canonical fields win over a same-named extra.
  if (request.maxOutputTokens !== undefined) options.num_predict = request.maxOutputTokens;
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.topP !== undefined) options.top_p = request.topP;
  if (request.topK !== undefined) options.top_k = request.topK;
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.stop !== undefined) options.stop = request.stop;
  // Ollama's options take both OpenAI penalties under their own names, on the same scale
  // (its own OpenAI-compatible endpoint maps them so). LiteLLM's chat config instead sends
  // frequency_penalty as `repeat_penalty`, a multiplier where 1.0 (not 0) means "no penalty",
  // so `frequency_penalty: 0` would become a strong penalty there.
  if (request.frequencyPenalty !== undefined) options.frequency_penalty = request.frequencyPenalty;
  if (request.presencePenalty !== undefined) options.presence_penalty = request.presencePenalty;

  if (request.n !== undefined && request.n !== 1) warnings.push('n');
  if (request.user !== undefined) warnings.push('user');
  if (request.parallelToolCalls === false) warnings.push('parallel_tool_calls');
  for (const beta of request.anthropicBeta ?? []) warnings.push(`anthropic-beta=${beta}`);
  for (const field of Object.keys(request.anthropicExtras ?? {})) warnings.push(field);

  const format = toOllamaFormat(request.responseFormat);
  const think = toOllamaThink(request, warnings);
  return {
    options,
    topLevel,
    ...(format !== undefined ? { format } : {}),
    ...(think !== undefined ? { think } : {}),
  };
}

/** Ollama's `keep_alive`: a duration string (`"5m"`) or a number of seconds (`0` unloads). */
export function isKeepAlive(value: unknown): boolean {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}
