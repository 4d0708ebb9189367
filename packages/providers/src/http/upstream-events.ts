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
  return new ReadableStream<StreamEvent[]>({
    start() {
      steps.start?.(out.controller);
    },
    async pull(controller) {
      try {
        // A chunk may hold only part of an event: read on until one yields something.
        for (;;) {
          const next = await chunks.next();
          if (next.done) {
            steps.flush?.(out.controller);
            const rest = out.take();
            if (rest.length > 0) controller.enqueue(rest);
            controller.close();
            return;
          }
          steps.transform?.(next.value as Uint8Array, out.controller);
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
