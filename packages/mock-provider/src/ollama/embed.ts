import { z } from 'zod';
import { readDirectives } from '../directives.ts';
import { DEFAULT_EMBEDDING_DIMENSIONS, toMockEmbedding } from '../embedding-vector.ts';
import { type MockAnswer, toInvalidBodyMessage } from '../mock-answer.ts';
import { MAX_EMBEDDING_DIMENSIONS } from '../openai/embeddings.ts';
import { countTextTokens } from '../reply.ts';
import { MOCK_OLLAMA_LOAD_DURATION_NS, MOCK_OLLAMA_PROMPT_EVAL_NS_PER_TOKEN } from './done-fields.ts';
import { toOllamaErrorMessage } from './errors.ts';

/**
 * What the mock reads from an `/api/embed` request (provider-wire-formats.md §7.3): `input` as a
 * string or strings (an empty list gives no embeddings) and `dimensions`; `truncate`, `options` and
 * `keep_alive` are accepted and ignored.
 */
export const mockOllamaEmbedRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string())]),
  dimensions: z.number().int().positive().max(MAX_EMBEDDING_DIMENSIONS).nullish(),
});
export type MockOllamaEmbedRequest = z.infer<typeof mockOllamaEmbedRequestSchema>;

/**
 * The `/api/embed` body: `embeddings`, one `toMockEmbedding(input, dimensions ?? 8)` per input (the
 * same vectors as the OpenAI route's), `prompt_eval_count` = the sum of `countTextTokens` over the
 * inputs, `load_duration` 1 ms and `total_duration` = load + prompt tokens × 0.25 ms (ns).
 */
export function toOllamaEmbedBody(request: MockOllamaEmbedRequest) {
  const inputs = typeof request.input === 'string' ? [request.input] : request.input;
  const dimensions = request.dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
  const promptEvalCount = inputs.reduce((sum, text) => sum + countTextTokens(text), 0);
  return {
    model: request.model,
    embeddings: inputs.map((text) => toMockEmbedding(text, dimensions)),
    total_duration: MOCK_OLLAMA_LOAD_DURATION_NS + promptEvalCount * MOCK_OLLAMA_PROMPT_EVAL_NS_PER_TOKEN,
    load_duration: MOCK_OLLAMA_LOAD_DURATION_NS,
    prompt_eval_count: promptEvalCount,
  };
}

/** The `/api/embed` answer to a parsed JSON body: a 400 for a refused body, `[mock:error=N]`'s status. */
export function answerOllamaEmbed(body: unknown): MockAnswer {
  const parsed = mockOllamaEmbedRequestSchema.safeParse(body);
  if (!parsed.success) {
    return { kind: 'error', status: 400, message: toInvalidBodyMessage(parsed.error.issues) };
  }
  const { input, model } = parsed.data;
  const { errorStatus } = readDirectives(typeof input === 'string' ? [input] : input);
  if (errorStatus !== undefined) {
    return { kind: 'error', status: errorStatus, message: toOllamaErrorMessage(errorStatus, model) };
  }
  return { kind: 'json', body: toOllamaEmbedBody(parsed.data) };
}
