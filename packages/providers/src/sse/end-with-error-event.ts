import type { StreamEvent } from '../canonical.ts';
import type { GatewayError } from '../errors.ts';

/**
 * Wraps an event stream so that a failure while reading it (socket reset, body timeout)
 * arrives as a final `error` event instead of a stream error. Cancelling the result cancels
 * the source, which aborts the upstream request.
 */
export function endWithErrorEvent(
  source: ReadableStream<StreamEvent>,
  toError: (cause: unknown) => GatewayError,
): ReadableStream<StreamEvent> {
  const reader = source.getReader();
  return new ReadableStream<StreamEvent>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (cause) {
        controller.enqueue({ type: 'error', error: toError(cause) });
        controller.close();
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
