import type { Transformer } from 'node:stream/web';
import type { Dispatcher } from 'undici';
import type { StreamEvent } from '../canonical.ts';
import type { ProviderError } from '../errors.ts';
import { collector } from '../sse/fuse.ts';

/**
 * A streamed upstream body as batches of canonical events: each chunk read from the socket goes
 * through `steps` (framing, then the vendor's translation, all synchronous) and what it yields is
 * enqueued as one batch. One web stream and one promise hop per chunk read, where a chain of
 * streams cost several hops per event (most of a streamed call's CPU); events that arrived
 * together stay together, down to one socket write towards the client.
 *
 * A failure reading the body or translating it ends the batches with an `error` event, never a
 * stream error, after whatever was translated before it. Cancelling destroys the body, which
 * aborts the upstream request.
 */
export function upstreamEvents(
  body: Dispatcher.ResponseData['body'],
  steps: Transformer<Uint8Array, StreamEvent>,
  toError: (cause: unknown) => ProviderError,
): ReadableStream<StreamEvent[]> {
  const chunks = body[Symbol.asyncIterator]();
  const out = collector<StreamEvent>();
  let cancelled = false;
  let first = true;
  /** The part of the first read after its first event, translated on the next pull. */
  let rest: Uint8Array | undefined;
  return new ReadableStream<StreamEvent[]>({
    start() {
      steps.start?.(out.controller);
    },
    async pull(controller) {
      try {
        // A chunk may hold only part of an event: read on until one yields something.
        for (;;) {
          let bytes: Uint8Array;
          if (rest) {
            bytes = rest;
            rest = undefined;
          } else {
            const next = await chunks.next();
            if (next.done) {
              steps.flush?.(out.controller);
              const left = out.take();
              if (left.length > 0) controller.enqueue(left);
              controller.close();
              return;
            }
            bytes = next.value as Uint8Array;
          }
          if (first) {
            // The first event of the first read goes out before the rest of that read is
            // worked through: its first byte waits for one event, not for all that came.
            first = false;
            const end = firstEventEnd(bytes);
            if (end > 0 && end < bytes.length) {
              rest = bytes.subarray(end);
              bytes = bytes.subarray(0, end);
            }
          }
          steps.transform?.(bytes, out.controller);
          if (out.pending() > 0) {
            controller.enqueue(out.take());
            return;
          }
        }
      } catch (cause) {
        // A read cut short by our own cancel is no failure to report (and the stream is closed).
        if (cancelled) return;
        controller.enqueue([...out.take(), { type: 'error', error: toError(cause) }]);
        controller.close();
        body.destroy();
      }
    },
    async cancel() {
      cancelled = true;
      body.destroy();
      await chunks.return?.();
    },
  });
}

/**
 * Where the first SSE event of `bytes` ends (after its blank line, `\n\n` or `\r\n\r\n`), or
 * -1 without one. Any cut is safe: the framing step reads across chunks.
 */
function firstEventEnd(bytes: Uint8Array): number {
  for (let i = 1; i < bytes.length; i++) {
    if (bytes[i] === 10 && (bytes[i - 1] === 10 || (bytes[i - 1] === 13 && bytes[i - 2] === 10)))
      return i + 1;
  }
  return -1;
}
