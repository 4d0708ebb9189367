import { describe, expect, it } from 'vitest';
import { toMockEmbedding } from '../embedding-vector.ts';
import { answerOllamaEmbed, toOllamaEmbedBody } from './embed.ts';

describe('mock Ollama /api/embed', () => {
  it("returns one embedding per input (the OpenAI route's vectors) and prompt_eval_count", () => {
    expect(toOllamaEmbedBody({ model: 'nomic-embed-text', input: ['hello', 'world'] })).toEqual({
      model: 'nomic-embed-text',
      embeddings: [toMockEmbedding('hello', 8), toMockEmbedding('world', 8)],
      total_duration: 1_000_000 + 4 * 250_000,
      load_duration: 1_000_000,
      prompt_eval_count: 4,
    });
  });

  it('honours dimensions and a single string', () => {
    const body = toOllamaEmbedBody({ model: 'm', input: 'hello', dimensions: 3 });
    expect(body.embeddings).toEqual([toMockEmbedding('hello', 3)]);
  });

  it('answers errors with a text message and a 400 for a missing input', () => {
    expect(answerOllamaEmbed({ model: 'm', input: 'x [mock:error=404]' })).toEqual({
      kind: 'error',
      status: 404,
      message: 'model "m" not found, try pulling it first',
    });
    expect(answerOllamaEmbed({ model: 'm' })).toMatchObject({ kind: 'error', status: 400 });
  });
});
