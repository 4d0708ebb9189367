import type { Transformer } from 'node:stream/web';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export type { EventSourceMessage };

/**
 * Bytes of a `text/event-stream` body -> one message per SSE event (`event`, `data`, `id`),
 * decoding UTF-8 across chunk boundaries. Comments (`: OPENROUTER PROCESSING`) and retry
 * fields are dropped by the parser. A transformer, so it can be fused with the translation
 * that follows it (see fuse.ts).
 */
export function sseMessages(): Transformer<Uint8Array, EventSourceMessage> {
  const decoder = new TextDecoder();
  let parser: ReturnType<typeof createParser>;
  return {
    start(controller) {
      parser = createParser({ onEvent: (message) => controller.enqueue(message) });
    },
    transform(bytes) {
      parser.feed(decoder.decode(bytes, { stream: true }));
    },
    flush() {
      const rest = decoder.decode();
      if (rest) parser.feed(rest);
    },
  };
}

/** {@link sseMessages} as a stream. */
export function parseSse(body: ReadableStream<Uint8Array>): ReadableStream<EventSourceMessage> {
  return body.pipeThrough(new TransformStream(sseMessages()));
}
