import type { Transformer } from 'node:stream/web';
import type { StreamEvent } from '../canonical.ts';
import type { ProviderError } from '../errors.ts';
import type { EventSourceMessage } from './parse-sse.ts';

/** One SSE event as text, framed as vendors frame theirs (`event:`, `id:`, one `data:` per line). */
export function sseFrame(message: Pick<EventSourceMessage, 'data'> & Partial<EventSourceMessage>): string {
  const head = `${message.event ? `event: ${message.event}\n` : ''}${message.id ? `id: ${message.id}\n` : ''}`;
  const data = message.data.includes('\n') ? message.data.replaceAll('\n', '\ndata: ') : message.data;
  return `${head}data: ${data}\n\n`;
}

/**
 * A relayed stream -> the client of the same dialect: the upstream's own events (`raw`) as
 * they came, and an error that ended the call (an upstream error event, a cut stream) as
 * `frameError` renders it in the gateway's shape, as on the translated path. Metering events
 * beside them render nothing.
 */
export function toRelayTransformer(
  frameError: (error: ProviderError) => string,
): Transformer<StreamEvent, string> {
  let failed = false;
  return {
    transform(event, controller) {
      if (failed) return;
      if (event.type === 'raw') controller.enqueue(event.text);
      else if (event.type === 'error') {
        failed = true;
        controller.enqueue(frameError(event.error));
      }
    },
  };
}
