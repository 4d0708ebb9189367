import { describe, expect, it } from 'vitest';
import { toMockEmbedding } from '../embedding-vector.ts';
import { answerEmbeddings, mockEmbeddingsRequestSchema, toEmbeddingsBody } from './embeddings.ts';

const body = (extra: Record<string, unknown>) =>
  toEmbeddingsBody(mockEmbeddingsRequestSchema.parse({ model: 'text-embedding-3-small', ...extra }));

describe('mock OpenAI embeddings', () => {
  it('returns a §1.6 list with one embedding per input, 8 numbers by default', () => {
    expect(body({ input: ['hello', 'world'] })).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: toMockEmbedding('hello', 8) },
        { object: 'embedding', index: 1, embedding: toMockEmbedding('world', 8) },
      ],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
  });

  it('honours dimensions and treats a string as one input', () => {
    const list = body({ input: 'hello', dimensions: 256 });
    expect(list.data).toHaveLength(1);
    expect(list.data[0]!.embedding).toHaveLength(256);
  });

  it('counts token-array inputs by their ids', () => {
    expect(body({ input: [1, 2, 3] }).usage.prompt_tokens).toBe(3);
    expect(body({ input: [[1, 2], [3]] }).usage.prompt_tokens).toBe(3);
    expect(body({ input: [[1, 2], [3]] }).data).toHaveLength(2);
  });

  it('encodes base64 as float32 little-endian of the same vector', () => {
    const [item] = body({ input: 'hello', encoding_format: 'base64' }).data;
    const bytes = Buffer.from(item!.embedding as string, 'base64');
    expect(Array.from({ length: 8 }, (_, i) => bytes.readFloatLE(i * 4))).toEqual(
      toMockEmbedding('hello', 8),
    );
  });

  it('is a 400 for a missing input, too many dimensions or an unknown encoding', () => {
    for (const bad of [{}, { input: 'x', dimensions: 100_000 }, { input: 'x', encoding_format: 'int8' }]) {
      expect(answerEmbeddings({ model: 'm', ...bad })).toMatchObject({ kind: 'error', status: 400 });
    }
  });

  it('answers an error directive in an input with its status', () => {
    expect(answerEmbeddings({ model: 'm', input: ['ok', 'x [mock:error=429]'] })).toEqual({
      kind: 'error',
      status: 429,
    });
  });
});
