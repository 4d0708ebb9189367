import { z } from 'zod';
import { readDirectives } from '../directives.ts';
import { DEFAULT_EMBEDDING_DIMENSIONS, toBase64Float32, toMockEmbedding } from '../embedding-vector.ts';
import { type MockAnswer, toInvalidBodyMessage } from '../mock-answer.ts';
import { textInputsSchema, toTextInputs } from './text-inputs.ts';

/** The largest `dimensions` the mock serves (text-embedding-3-large has 3072); more is a 400. */
export const MAX_EMBEDDING_DIMENSIONS = 8192;

/**
 * What the mock reads from an OpenAI embeddings request (provider-wire-formats.md §1.6): `input`
 * as a string, strings, a token array or token arrays; `dimensions`; `encoding_format`. Anything
 * else is accepted and ignored.
 */
export const mockEmbeddingsRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: textInputsSchema,
  dimensions: z.number().int().positive().max(MAX_EMBEDDING_DIMENSIONS).nullish(),
  encoding_format: z.enum(['float', 'base64']).nullish(),
});
export type MockEmbeddingsRequest = z.infer<typeof mockEmbeddingsRequestSchema>;

/**
 * The `list` body (§1.6): one `embedding` per input, in order, each `toMockEmbedding(text,
 * dimensions ?? 8)` (a token array's text is its ids joined by spaces), as numbers or, for
 * `encoding_format: "base64"`, base64 of float32 little-endian. `usage.prompt_tokens` =
 * `total_tokens` = the sum of `countTextTokens` over string inputs plus the length of token arrays.
 */
export function toEmbeddingsBody(request: MockEmbeddingsRequest) {
  const dimensions = request.dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
  const inputs = toTextInputs(request.input);
  const promptTokens = inputs.reduce((sum, input) => sum + input.tokens, 0);
  return {
    object: 'list',
    data: inputs.map((input, index) => {
      const vector = toMockEmbedding(input.text, dimensions);
      return {
        object: 'embedding',
        index,
        embedding: request.encoding_format === 'base64' ? toBase64Float32(vector) : vector,
      };
    }),
    model: request.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/**
 * The embeddings route's answer to a parsed JSON body: a 400 for a body the schema refuses, the
 * status of `[mock:error=N]` found in a string input, the `list` body otherwise.
 */
export function answerEmbeddings(body: unknown): MockAnswer {
  const parsed = mockEmbeddingsRequestSchema.safeParse(body);
  if (!parsed.success) {
    return { kind: 'error', status: 400, message: toInvalidBodyMessage(parsed.error.issues) };
  }
  const { errorStatus } = readDirectives(toTextInputs(parsed.data.input).map((input) => input.text));
  if (errorStatus !== undefined) return { kind: 'error', status: errorStatus };
  return { kind: 'json', body: toEmbeddingsBody(parsed.data) };
}
