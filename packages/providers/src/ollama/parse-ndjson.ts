import type { Transformer } from 'node:stream/web';
import { err, ok, type Result } from '../errors.ts';

/** A line that is not JSON, kept so the caller can report it as a stream event. */
export interface InvalidNdjsonLine {
  /** The start of the offending line (at most 200 characters), for logs. */
  linePrefix: string;
  reason: 'not_json' | 'too_long';
}

/** One NDJSON line: the parsed value, or why it could not be read. */
export type NdjsonItem = Result<unknown, InvalidNdjsonLine>;

/**
 * Longest line accepted, in UTF-16 code units. Ollama's final `/api/generate` line carries the
 * whole `context` token array, which for a long prompt is hundreds of kilobytes; the cap only
 * guards against an upstream that never sends a newline.
 */
export const MAX_NDJSON_LINE_CHARS = 16 * 1024 * 1024;

/**
 * Bytes of an `application/x-ndjson` body (Ollama's stream: one JSON object per line, no
 * `data:` prefix, no `[DONE]`) -> one item per non-blank line, decoding UTF-8 across chunk
 * boundaries. Not SSE, so no event-source parser. Partial lines are buffered across chunks and a
 * last line without a trailing newline is still read at the end; `\r\n` endings are accepted.
 * Invalid JSON becomes an error item rather than a stream error, so that it can end the stream
 * with an `error` event instead of looking like a dropped connection. A transformer, so it can
 * be fused with the translation that follows it (see fuse.ts).
 */
export function ndjsonItems(maxLineChars = MAX_NDJSON_LINE_CHARS): Transformer<Uint8Array, NdjsonItem> {
  const decoder = new TextDecoder();
  let buffer = '';
  let overflowed = false;
  const emit = (line: string, controller: TransformStreamDefaultController<NdjsonItem>) => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    try {
      controller.enqueue(ok(JSON.parse(trimmed)));
    } catch {
      controller.enqueue(err({ linePrefix: trimmed.slice(0, 200), reason: 'not_json' }));
    }
  };
  return {
    transform(bytes, controller) {
      if (overflowed) return;
      buffer += decoder.decode(bytes, { stream: true });
      let start = 0;
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        emit(buffer.slice(start, newline), controller);
        start = newline + 1;
        newline = buffer.indexOf('\n', start);
      }
      buffer = buffer.slice(start);
      if (buffer.length > maxLineChars) {
        overflowed = true;
        controller.enqueue(err({ linePrefix: buffer.slice(0, 200), reason: 'too_long' }));
        buffer = '';
      }
    },
    flush(controller) {
      if (!overflowed) emit(buffer + decoder.decode(), controller);
    },
  };
}

/** {@link ndjsonItems} as a stream. */
export function parseNdjson(body: ReadableStream<Uint8Array>): ReadableStream<NdjsonItem> {
  return body.pipeThrough(new TransformStream(ndjsonItems()));
}
