import { type EventSourceMessage, EventSourceParserStream } from 'eventsource-parser/stream';

export type { EventSourceMessage };

/**
 * Bytes of a `text/event-stream` body -> one message per SSE event (`event`, `data`, `id`).
 * Comments (`: OPENROUTER PROCESSING`) and retry fields are dropped by the parser.
 */
export function parseSse(body: ReadableStream<Uint8Array>): ReadableStream<EventSourceMessage> {
  return body
    .pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream());
}
