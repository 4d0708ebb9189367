import { createParser, type EventSourceParser } from 'eventsource-parser';
import type { Usage } from '../canonical.ts';
import type { GatewayError } from '../errors.ts';
import { fromAnthropicStreamError } from './errors.ts';
import { fromAnthropicUsage } from './map-anthropic-usage.ts';
import { type AnthropicUsage, anthropicStreamEventSchema } from './wire.ts';

/**
 * Watches an Anthropic SSE stream that is relayed unchanged and keeps what billing needs: the
 * message id and model, when the first content arrived, the usage (input side from
 * `message_start`, cumulative output from `message_delta`), whether it finished, and any
 * `error` event. Fed with the stream's text as it passes; never alters it.
 */
export class AnthropicUsageTap {
  readonly #parser: EventSourceParser;
  readonly #decoder = new TextDecoder();
  #usage: AnthropicUsage = {};
  id: string | undefined;
  model: string | undefined;
  firstContentAt: Date | undefined;
  finished = false;
  error: GatewayError | undefined;
  readonly #streamed: string[] = [];

  constructor() {
    this.#parser = createParser({
      onEvent: (message) => {
        let payload: unknown;
        try {
          payload = JSON.parse(message.data);
        } catch {
          return;
        }
        const parsed = anthropicStreamEventSchema.safeParse(payload);
        if (!parsed.success) return;
        const event = parsed.data;
        if (event.type === 'message_start') {
          this.id = event.message.id;
          this.model = event.message.model;
          this.#usage = event.message.usage ?? {};
        } else if (event.type === 'content_block_delta') {
          this.firstContentAt ??= new Date();
          const delta = event.delta as { text?: unknown; partial_json?: unknown; thinking?: unknown };
          const text = delta.text ?? delta.partial_json ?? delta.thinking;
          if (typeof text === 'string') this.#streamed.push(text);
        } else if (event.type === 'message_delta') {
          for (const [field, value] of Object.entries(event.usage ?? {})) {
            if (value !== null && value !== undefined)
              (this.#usage as Record<string, unknown>)[field] = value;
          }
          this.finished = true;
        } else if (event.type === 'error') {
          this.error = fromAnthropicStreamError(event.error.type);
        }
      },
    });
  }

  feed(chunk: Uint8Array): void {
    this.#parser.feed(this.#decoder.decode(chunk, { stream: true }));
  }

  /** Text, thinking and tool input streamed so far: what an output estimate counts. */
  get streamedText(): string {
    return this.#streamed.join('');
  }

  /** Usage so far; the output count is only known once the message finished. */
  get usage(): Usage {
    return fromAnthropicUsage(this.finished ? this.#usage : { ...this.#usage, output_tokens: undefined });
  }
}
