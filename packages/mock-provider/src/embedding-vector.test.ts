import { describe, expect, it } from 'vitest';
import { toBase64Float32, toMockEmbedding } from './embedding-vector.ts';

describe('mock embedding vectors', () => {
  it('is the same for the same text and differs between texts', () => {
    expect(toMockEmbedding('hello', 8)).toEqual(toMockEmbedding('hello', 8));
    expect(toMockEmbedding('hello', 8)).not.toEqual(toMockEmbedding('world', 8));
  });

  it('has the asked length, any length, and unit norm', () => {
    for (const dimensions of [1, 8, 33, 1536]) {
      const vector = toMockEmbedding('x', dimensions);
      expect(vector).toHaveLength(dimensions);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    }
  });

  it('holds float32 values, so base64 decodes to exactly the same numbers', () => {
    const vector = toMockEmbedding('hello', 16);
    const bytes = Buffer.from(toBase64Float32(vector), 'base64');
    expect(bytes).toHaveLength(64);
    const decoded = Array.from({ length: 16 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(decoded).toEqual(vector);
  });
});
