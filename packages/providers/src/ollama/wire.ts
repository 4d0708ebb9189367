import { z } from 'zod';

/**
 * Ollama wire schemas for `/api/chat` and `/api/generate` (provider-wire-formats.md §7,
 * https://github.com/ollama/ollama/blob/main/docs/api.md). Lenient: unknown fields are kept,
 * counters and durations may be missing (a full prompt-cache hit omits `prompt_eval_count`).
 * The same schema reads a non-streamed body and every NDJSON stream line: both are the same
 * object, with `done: false` on the partial lines.
 */

const count = z.number().int().nonnegative();

/** Fields of the final (`done: true`) object. Durations are nanoseconds. */
const doneFields = {
  done: z.boolean(),
  /** `stop`, `length`, `load` (empty request loaded the model), `unload` (`keep_alive: 0`). */
  done_reason: z.string().nullish(),
  total_duration: count.nullish(),
  load_duration: count.nullish(),
  prompt_eval_count: count.nullish(),
  prompt_eval_duration: count.nullish(),
  eval_count: count.nullish(),
  eval_duration: count.nullish(),
};

/**
 * One tool call. Ollama sends `arguments` as a JSON object, not OpenAI's JSON text; a string is
 * accepted too so a model that wrote odd arguments is not a protocol failure. Recent Ollama
 * versions add an `id` and `function.index`.
 */
export const ollamaToolCallSchema = z.looseObject({
  id: z.string().nullish(),
  function: z.looseObject({
    index: z.number().int().nullish(),
    name: z.string(),
    arguments: z.union([z.record(z.string(), z.unknown()), z.string()]).nullish(),
  }),
});
export type OllamaToolCall = z.infer<typeof ollamaToolCallSchema>;

/** A `/api/chat` response body, or one line of its NDJSON stream. */
export const ollamaChatResponseSchema = z.looseObject({
  model: z.string(),
  /** RFC 3339 with up to nanosecond precision. */
  created_at: z.string().nullish(),
  message: z
    .looseObject({
      role: z.string().nullish(),
      content: z.string().nullish(),
      thinking: z.string().nullish(),
      tool_calls: z.array(ollamaToolCallSchema).nullish(),
    })
    .nullish(),
  ...doneFields,
});
export type OllamaChatResponse = z.infer<typeof ollamaChatResponseSchema>;

/** A `/api/generate` response body, or one line of its NDJSON stream. */
export const ollamaGenerateResponseSchema = z.looseObject({
  model: z.string(),
  created_at: z.string().nullish(),
  response: z.string().nullish(),
  thinking: z.string().nullish(),
  /** The encoded conversation, for a follow-up call; the gateway does not use it. */
  context: z.array(z.number()).nullish(),
  ...doneFields,
});
export type OllamaGenerateResponse = z.infer<typeof ollamaGenerateResponseSchema>;

/** Ollama's error body, as an HTTP error response and as a line inside a stream. */
export const ollamaErrorBodySchema = z.looseObject({ error: z.string() });

/** `POST /api/embed` answer (wire formats §7.3). */
export const ollamaEmbedResponseSchema = z.looseObject({
  model: z.string().nullish(),
  embeddings: z.array(z.array(z.number())),
  prompt_eval_count: z.number().int().nonnegative().nullish(),
});
