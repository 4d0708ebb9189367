import type { Transformer } from 'node:stream/web';
import type { StreamEvent } from '../canonical.ts';
import type { ProviderError } from '../errors.ts';
import { malformedUpstream, streamEndedEarly } from '../http/upstream-error.ts';
import { fromOllamaStreamError } from './errors.ts';
import { createdSecondsOf, fromOllamaToolCall, newOllamaResponseId } from './from-ollama-response.ts';
import { fromOllamaDoneReason, fromOllamaUsage } from './map-ollama-usage.ts';
import type { NdjsonItem } from './parse-ndjson.ts';
import { ThinkTagSplitter } from './split-think-tags.ts';
import {
  type OllamaChatResponse,
  type OllamaGenerateResponse,
  type OllamaToolCall,
  ollamaChatResponseSchema,
  ollamaErrorBodySchema,
  ollamaGenerateResponseSchema,
} from './wire.ts';

/**
 * Ollama NDJSON lines (`/api/chat` or `/api/generate`) -> canonical stream events
 * (wire formats §7.1, §7.2). Emits `start` once, from the first line; `reasoning-delta` for
 * `thinking` fragments (and inline `<think>` sections); `text-delta` for `message.content` or
 * `response`; one `tool-call-delta` per tool call, which Ollama sends whole, with the complete
 * arguments as JSON text; then, on the `done: true` line, `finish` (`tool_calls` when any call
 * was seen) and `usage`. An `{"error": ...}` line, a line that is not JSON or not of the
 * expected shape, and a stream that ends without `done: true` each end the stream with an
 * `error` event: a cut stream must never look like a complete answer.
 */
export function fromOllamaStreamTransformer(
  provider: string,
  endpoint: 'chat' | 'generate',
): Transformer<NdjsonItem, StreamEvent> {
  const think = new ThinkTagSplitter();
  const id = newOllamaResponseId();
  let started = false;
  let finished = false;
  let failed = false;
  let toolCalls = 0;

  const fail = (controller: TransformStreamDefaultController<StreamEvent>, error: ProviderError) => {
    failed = true;
    controller.enqueue({ type: 'error', error });
  };

  const emitContent = (controller: TransformStreamDefaultController<StreamEvent>, content: string) => {
    const { reasoning, text } = think.push(content);
    if (reasoning) controller.enqueue({ type: 'reasoning-delta', choice: 0, text: reasoning });
    if (text) controller.enqueue({ type: 'text-delta', choice: 0, text });
  };

  return {
    transform(item, controller) {
      if (failed || finished) return;
      if (!item.ok) {
        const what = item.error.reason === 'too_long' ? 'a line too long' : 'a line that is not JSON';
        fail(controller, malformedUpstream(provider, what));
        return;
      }
      if (ollamaErrorBodySchema.safeParse(item.value).success) {
        fail(controller, fromOllamaStreamError(provider));
        return;
      }
      const parsed =
        endpoint === 'chat'
          ? ollamaChatResponseSchema.safeParse(item.value)
          : ollamaGenerateResponseSchema.safeParse(item.value);
      if (!parsed.success) {
        fail(controller, malformedUpstream(provider, 'a line of unexpected shape'));
        return;
      }
      const line = parsed.data;
      if (!started) {
        started = true;
        controller.enqueue({
          type: 'start',
          id,
          model: `${provider}/${line.model}`,
          created: createdSecondsOf(line.created_at),
        });
      }
      const { thinking, content, calls } = fragmentsOf(line);
      if (thinking) controller.enqueue({ type: 'reasoning-delta', choice: 0, text: thinking });
      if (content) emitContent(controller, content);
      for (const call of calls) {
        const canonical = fromOllamaToolCall(call);
        controller.enqueue({
          type: 'tool-call-delta',
          choice: 0,
          index: toolCalls++,
          id: canonical.id,
          name: canonical.name,
          argumentsDelta: canonical.arguments,
        });
      }
      if (line.done) {
        finished = true;
        controller.enqueue({
          type: 'finish',
          choice: 0,
          finishReason: fromOllamaDoneReason(line.done_reason, toolCalls > 0),
        });
        const usage = fromOllamaUsage(line);
        if (usage.inputTokens !== undefined || usage.outputTokens !== undefined) {
          controller.enqueue({ type: 'usage', usage });
        }
      }
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

/** {@link fromOllamaStreamTransformer} as a stream. */
export function fromOllamaStream(
  provider: string,
  endpoint: 'chat' | 'generate',
): TransformStream<NdjsonItem, StreamEvent> {
  return new TransformStream(fromOllamaStreamTransformer(provider, endpoint));
}

/** The parts of a chat or generate line, which name them differently. */
function fragmentsOf(line: OllamaChatResponse | OllamaGenerateResponse): {
  thinking: string | null | undefined;
  content: string | null | undefined;
  calls: OllamaToolCall[];
} {
  if (isChatLine(line)) {
    return {
      thinking: line.message?.thinking,
      content: line.message?.content,
      calls: line.message?.tool_calls ?? [],
    };
  }
  return { thinking: line.thinking, content: line.response, calls: [] };
}

function isChatLine(line: OllamaChatResponse | OllamaGenerateResponse): line is OllamaChatResponse {
  return 'message' in line && line.message !== undefined;
}
