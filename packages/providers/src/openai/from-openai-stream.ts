import type { Transformer } from 'node:stream/web';
import type { StreamEvent } from '../canonical.ts';
import { malformedUpstream, streamEndedEarly } from '../http/upstream-error.ts';
import type { EventSourceMessage } from '../sse/parse-sse.ts';
import { fromOpenAIStreamError } from './errors.ts';
import { fromOpenAIUsage } from './map-openai-usage.ts';
import { openAIChatChunkSchema } from './wire.ts';

/**
 * OpenAI `chat.completion.chunk` SSE messages -> canonical stream events.
 * Emits `start` once, deltas, `finish` per choice and `usage` when the upstream sends it.
 * A stream that ends before any choice finished ends with an `error` event: a cut stream
 * must never look like a complete answer.
 */
export function fromOpenAIStreamTransformer(provider: string): Transformer<EventSourceMessage, StreamEvent> {
  let started = false;
  let finished = false;
  let failed = false;
  return {
    transform(message, controller) {
      if (failed) return;
      if (message.data === '[DONE]') return;
      let payload: unknown;
      try {
        payload = JSON.parse(message.data);
      } catch {
        failed = true;
        controller.enqueue({ type: 'error', error: malformedUpstream(provider, 'a chunk that is not JSON') });
        return;
      }
      if (payload !== null && typeof payload === 'object' && 'error' in payload) {
        failed = true;
        controller.enqueue({ type: 'error', error: fromOpenAIStreamError(provider, payload) });
        return;
      }
      const parsed = openAIChatChunkSchema.safeParse(payload);
      if (!parsed.success) {
        failed = true;
        controller.enqueue({
          type: 'error',
          error: malformedUpstream(provider, 'a chunk of unexpected shape'),
        });
        return;
      }
      const chunk = parsed.data;
      if (!started) {
        started = true;
        controller.enqueue({
          type: 'start',
          id: chunk.id,
          model: chunk.model,
          created: chunk.created,
          ...(chunk.system_fingerprint ? { systemFingerprint: chunk.system_fingerprint } : {}),
        });
      }
      for (const choice of chunk.choices) {
        const delta = choice.delta;
        const reasoning = delta?.reasoning_content ?? delta?.reasoning;
        if (reasoning) controller.enqueue({ type: 'reasoning-delta', choice: choice.index, text: reasoning });
        if (delta?.content) {
          controller.enqueue({
            type: 'text-delta',
            choice: choice.index,
            text: delta.content,
            ...(choice.logprobs != null ? { logprobs: choice.logprobs } : {}),
          });
        }
        if (delta?.refusal)
          controller.enqueue({ type: 'refusal-delta', choice: choice.index, text: delta.refusal });
        for (const call of delta?.tool_calls ?? []) {
          controller.enqueue({
            type: 'tool-call-delta',
            choice: choice.index,
            index: call.index,
            ...(call.id ? { id: call.id } : {}),
            ...(call.function?.name ? { name: call.function.name } : {}),
            argumentsDelta: call.function?.arguments ?? '',
          });
        }
        if (choice.finish_reason) {
          finished = true;
          controller.enqueue({ type: 'finish', choice: choice.index, finishReason: choice.finish_reason });
        }
      }
      if (chunk.usage) controller.enqueue({ type: 'usage', usage: fromOpenAIUsage(chunk.usage) });
    },
    flush(controller) {
      if (!failed && !finished) {
        controller.enqueue({
          type: 'error',
          error: streamEndedEarly(provider),
        });
      }
    },
  };
}

export function fromOpenAIStream(provider: string): TransformStream<EventSourceMessage, StreamEvent> {
  return new TransformStream(fromOpenAIStreamTransformer(provider));
}
