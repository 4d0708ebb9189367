import { z } from 'zod';
import type { EmbeddingRequest, EmbeddingResult } from '../canonical.ts';

/** `POST /v1/embeddings` bodies as clients send them (wire formats §1.6). */
export const openAIEmbeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int())).min(1),
  ]),
  dimensions: z.number().int().positive().nullish(),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  user: z.string().nullish(),
});
export type OpenAIEmbeddingRequest = z.infer<typeof openAIEmbeddingRequestSchema>;

export const openAIEmbeddingResponseSchema = z.looseObject({
  data: z.array(
    z.looseObject({ index: z.number().int(), embedding: z.union([z.array(z.number()), z.string()]) }),
  ),
  model: z.string(),
  usage: z
    .looseObject({ prompt_tokens: z.number().int().nullish(), total_tokens: z.number().int().nullish() })
    .nullish(),
});

const consumed = new Set([
  'model',
  'input',
  'dimensions',
  'encoding_format',
  'user',
  'metadata',
  'litellm_metadata',
  'tags',
]);

/** A validated embeddings body -> the canonical request (one token array is one input). */
export function fromOpenAIEmbeddingRequest(body: OpenAIEmbeddingRequest): EmbeddingRequest {
  const input = body.input;
  const openaiExtras: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) if (!consumed.has(name)) openaiExtras[name] = value;
  return {
    model: body.model,
    input:
      typeof input === 'string'
        ? [input]
        : typeof input[0] === 'number'
          ? [input as number[]]
          : (input as string[] | number[][]),
    ...(body.dimensions != null ? { dimensions: body.dimensions } : {}),
    ...(body.encoding_format != null ? { encodingFormat: body.encoding_format } : {}),
    ...(body.user != null ? { user: body.user } : {}),
    openaiExtras,
  };
}

export function toOpenAIEmbeddingRequest(request: EmbeddingRequest): Record<string, unknown> {
  return {
    ...request.openaiExtras,
    model: request.model,
    input: request.input,
    ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}),
    ...(request.encodingFormat !== undefined ? { encoding_format: request.encodingFormat } : {}),
    ...(request.user !== undefined ? { user: request.user } : {}),
  };
}

export function fromOpenAIEmbeddingResponse(
  body: z.infer<typeof openAIEmbeddingResponseSchema>,
): EmbeddingResult {
  const vectors = [...body.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
  const promptTokens = body.usage?.prompt_tokens ?? undefined;
  return {
    model: body.model,
    vectors,
    usage: promptTokens !== undefined ? { inputTokens: promptTokens, outputTokens: 0 } : {},
  };
}

/** A float vector as OpenAI's base64 encoding: little-endian float32 values. */
function toBase64Float32(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (const [i, value] of vector.entries()) bytes.writeFloatLE(value, i * 4);
  return bytes.toString('base64');
}

/**
 * The canonical result -> the OpenAI `list` of embeddings clients expect, reported as `model`.
 * With `encodingFormat: 'base64'` (the official SDKs ask for it by default) float vectors from
 * upstreams that only return floats (Ollama) are encoded here.
 */
export function toOpenAIEmbeddingResponse(
  result: EmbeddingResult,
  model: string,
  encodingFormat?: 'float' | 'base64',
): Record<string, unknown> {
  return {
    object: 'list',
    data: result.vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: encodingFormat === 'base64' && Array.isArray(vector) ? toBase64Float32(vector) : vector,
    })),
    model,
    usage: {
      prompt_tokens: result.usage.inputTokens ?? 0,
      total_tokens: result.usage.inputTokens ?? 0,
    },
  };
}
