import type { Transformer } from 'node:stream/web';
import type { StreamEvent, Usage } from '../canonical.ts';
import type { ProviderError } from '../errors.ts';
import { toOpenAIUsage } from './map-openai-usage.ts';

export interface ToOpenAIStreamOptions {
  /** The client asked for `stream_options.include_usage`: send one usage chunk at the end. */
  includeUsage: boolean;
  /** Renders an error in the gateway's OpenAI error shape (`{"error": {...}}`). */
  renderError: (error: ProviderError) => unknown;
  /** The call's cost in USD (decimal string) for its final usage, added as `usage.cost`. */
  costOf?: (usage: Usage) => string | undefined;
}

/**
 * Canonical stream events -> OpenAI `chat.completion.chunk` SSE text, ending in
 * `data: [DONE]`. An error event is sent as `data: {"error": ...}` and ends the stream
 * without `[DONE]`, so clients treat the answer as failed.
 */
export function toOpenAIStreamTransformer(options: ToOpenAIStreamOptions): Transformer<StreamEvent, string> {
  let head = { id: '', model: '', created: 0, system_fingerprint: undefined as string | undefined };
  let usage: Usage | undefined;
  let failed = false;
  const chunk = (choices: unknown[], extra?: Record<string, unknown>) =>
    `data: ${JSON.stringify({
      id: head.id,
      object: 'chat.completion.chunk',
      created: head.created,
      model: head.model,
      ...(head.system_fingerprint ? { system_fingerprint: head.system_fingerprint } : {}),
      choices,
      ...extra,
    })}\n\n`;

  const delta = (choice: number, body: Record<string, unknown>, logprobs: unknown = null) =>
    chunk([{ index: choice, delta: body, logprobs, finish_reason: null }]);

  return {
    transform(event, controller) {
      if (failed) return;
      switch (event.type) {
        case 'start':
          head = {
            id: event.id,
            model: event.model,
            created: event.created,
            system_fingerprint: event.systemFingerprint,
          };
          controller.enqueue(delta(0, { role: 'assistant', content: '' }));
          return;
        case 'text-delta':
          controller.enqueue(delta(event.choice, { content: event.text }, event.logprobs ?? null));
          return;
        case 'refusal-delta':
          controller.enqueue(delta(event.choice, { refusal: event.text }));
          return;
        case 'reasoning-delta':
          controller.enqueue(delta(event.choice, { reasoning_content: event.text }));
          return;
        case 'reasoning-signature':
          // LiteLLM's shape: the signature closes the thinking block in `thinking_blocks`.
          controller.enqueue(
            delta(event.choice, {
              reasoning_content: '',
              thinking_blocks: [{ type: 'thinking', thinking: '', signature: event.signature }],
            }),
          );
          return;
        case 'redacted-thinking':
          controller.enqueue(
            delta(event.choice, { thinking_blocks: [{ type: 'redacted_thinking', data: event.data }] }),
          );
          return;
        case 'tool-call-delta':
          controller.enqueue(
            delta(event.choice, {
              tool_calls: [
                {
                  index: event.index,
                  ...(event.id ? { id: event.id, type: 'function' } : {}),
                  function: { ...(event.name ? { name: event.name } : {}), arguments: event.argumentsDelta },
                },
              ],
            }),
          );
          return;
        case 'finish':
          controller.enqueue(
            chunk([{ index: event.choice, delta: {}, logprobs: null, finish_reason: event.finishReason }]),
          );
          return;
        case 'usage':
          usage = event.usage;
          return;
        case 'error':
          failed = true;
          controller.enqueue(`data: ${JSON.stringify(options.renderError(event.error))}\n\n`);
          return;
        case 'raw':
          // Relayed text has its own renderer (`toRelayTransformer`).
          return;
        default: {
          // Every canonical event must be rendered: a new one fails to compile here.
          const unhandled: never = event;
          throw new Error(`unhandled stream event ${JSON.stringify(unhandled)}`);
        }
      }
    },
    flush(controller) {
      if (failed) return;
      if (options.includeUsage && usage) {
        const cost = options.costOf?.(usage);
        const openAIUsage = {
          ...toOpenAIUsage(usage),
          ...(cost !== undefined ? { cost: Number(cost) } : {}),
        };
        controller.enqueue(chunk([], { usage: openAIUsage }));
      }
      controller.enqueue('data: [DONE]\n\n');
    },
  };
}

export function toOpenAIStream(options: ToOpenAIStreamOptions): TransformStream<StreamEvent, string> {
  return new TransformStream(toOpenAIStreamTransformer(options));
}
