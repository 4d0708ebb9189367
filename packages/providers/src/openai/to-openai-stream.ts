import type { StreamEvent, Usage } from '../canonical.ts';
import type { GatewayError } from '../errors.ts';
import { toOpenAIUsage } from './map-openai-usage.ts';

export interface ToOpenAIStreamOptions {
  /** The client asked for `stream_options.include_usage`: send one usage chunk at the end. */
  includeUsage: boolean;
  /** Renders an error in the gateway's OpenAI error shape (`{"error": {...}}`). */
  renderError: (error: GatewayError) => unknown;
}

/**
 * Canonical stream events -> OpenAI `chat.completion.chunk` SSE text, ending in
 * `data: [DONE]`. An error event is sent as `data: {"error": ...}` and ends the stream
 * without `[DONE]`, so clients treat the answer as failed.
 */
export function toOpenAIStream(options: ToOpenAIStreamOptions): TransformStream<StreamEvent, string> {
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

  return new TransformStream({
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
          controller.enqueue(
            chunk([
              { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
            ]),
          );
          return;
        case 'text-delta':
          controller.enqueue(
            chunk([
              { index: event.choice, delta: { content: event.text }, logprobs: null, finish_reason: null },
            ]),
          );
          return;
        case 'reasoning-delta':
          controller.enqueue(
            chunk([
              {
                index: event.choice,
                delta: { reasoning_content: event.text },
                logprobs: null,
                finish_reason: null,
              },
            ]),
          );
          return;
        case 'tool-call-delta':
          controller.enqueue(
            chunk([
              {
                index: event.choice,
                delta: {
                  tool_calls: [
                    {
                      index: event.index,
                      ...(event.id ? { id: event.id, type: 'function' } : {}),
                      function: {
                        ...(event.name ? { name: event.name } : {}),
                        arguments: event.argumentsDelta,
                      },
                    },
                  ],
                },
                logprobs: null,
                finish_reason: null,
              },
            ]),
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
      }
    },
    flush(controller) {
      if (failed) return;
      const openAIUsage = usage ? toOpenAIUsage(usage) : undefined;
      if (options.includeUsage && openAIUsage) controller.enqueue(chunk([], { usage: openAIUsage }));
      controller.enqueue('data: [DONE]\n\n');
    },
  });
}
