import { createHash } from 'node:crypto';

/** The embedding length when the request names no `dimensions`. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 8;

/**
 * The mock's embedding of a text: `dimensions` numbers, the same for the same text and length.
 * Component j starts as `(b[j] - 127.5) / 127.5`, where `b` is the byte stream
 * SHA-256(text + "\0" + 0) ‖ SHA-256(text + "\0" + 1) ‖ …; the vector is then scaled to unit
 * length (like OpenAI's) and every component rounded to float32, so the float and the base64
 * (float32) encodings decode to the same numbers. Never all zeros.
 */
export function toMockEmbedding(text: string, dimensions: number): number[] {
  const bytes: number[] = [];
  for (let block = 0; bytes.length < dimensions; block += 1) {
    bytes.push(...createHash('sha256').update(`${text}\0${block}`).digest());
  }
  const raw = bytes.slice(0, dimensions).map((byte) => (byte - 127.5) / 127.5);
  const norm = Math.sqrt(raw.reduce((sum, x) => sum + x * x, 0));
  return raw.map((x) => Math.fround(x / norm));
}

/** An embedding as OpenAI's `encoding_format: "base64"` sends it: float32 little-endian, base64. */
export function toBase64Float32(vector: number[]): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  for (const [i, x] of vector.entries()) view.setFloat32(i * 4, x, true);
  return Buffer.from(view.buffer).toString('base64');
}
