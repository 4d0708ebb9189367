import { expect } from 'vitest';

/**
 * The frames of an OpenAI-style SSE body (test support): each frame checked to be exactly one
 * `data:` line or one `:` comment line. Returns the comments, the raw `data:` payloads and the
 * JSON ones parsed (`[DONE]` left out).
 */
export function readSse(text: string) {
  expect(text.endsWith('\n\n')).toBe(true);
  const frames = text.split('\n\n').filter((frame) => frame !== '');
  for (const frame of frames) {
    expect(frame.split('\n')).toHaveLength(1);
    expect(frame).toMatch(/^(data: |: )/);
  }
  const payloads = frames.filter((f) => f.startsWith('data: ')).map((f) => f.slice('data: '.length));
  return {
    frames,
    comments: frames.filter((f) => f.startsWith(': ')),
    payloads,
    chunks: payloads.filter((p) => p !== '[DONE]').map((p) => JSON.parse(p)),
  };
}

/** The lines of an NDJSON body (test support), each parsed on its own; no `data:` prefixes. */
export function readNdjson(text: string) {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      expect(line).not.toMatch(/^data:/);
      return JSON.parse(line);
    });
}
