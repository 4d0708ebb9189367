import type { Transformer } from 'node:stream/web';
import type { StreamEvent } from '../canonical.ts';
import type { EventSourceMessage } from '../sse/parse-sse.ts';
import { sseFrame } from '../sse/relay.ts';
import { fromAnthropicStreamTransformer } from './from-anthropic-stream.ts';

/** The Messages stream events the translator reads; others (new ones) are relayed unread. */
const knownEvents = new Set([
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
  'ping',
  'error',
]);

/**
 * An Anthropic Messages stream relayed to a client of the same dialect: every event goes on as
 * the upstream sent it (`raw`), while the translator beside it meters the call (id, model, first
 * content, usage, finish). An event type it does not know passes through unread. An upstream
 * `error` event, or a stream cut before `message_delta`, ends in an `error` event that the
 * client gets in the gateway's shape, with the call id, as on the translated path.
 */
export function fromAnthropicRelayTransformer(): Transformer<EventSourceMessage, StreamEvent> {
  const meter = fromAnthropicStreamTransformer();
  return {
    transform(message, controller) {
      if (message.event !== 'error') controller.enqueue({ type: 'raw', text: sseFrame(message) });
      if (message.event === undefined || knownEvents.has(message.event))
        meter.transform?.(message, controller);
    },
    flush(controller) {
      meter.flush?.(controller);
    },
  };
}
