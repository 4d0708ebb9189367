import type { Transformer } from 'node:stream/web';
import type { StreamEvent, Usage } from '../canonical.ts';
import { malformedUpstream, streamEndedEarly } from '../http/upstream-error.ts';
import type { EventSourceMessage } from '../sse/parse-sse.ts';
import { sseFrame } from '../sse/relay.ts';
import { fromOpenAIStreamError } from './errors.ts';
import { fromOpenAIUsage } from './map-openai-usage.ts';
import type { OpenAIUsage } from './wire.ts';

/** A stream relayed to a client of the same dialect (`/v1/chat/completions` to an OpenAI-format upstream). */
export interface OpenAIRelayStreamOptions {
  /**
   * The client asked for the usage chunk (`stream_options.include_usage`). The gateway always
   * asks the upstream for it, to bill the call; when the client did not, it is taken out again.
   */
  includeUsage: boolean;
  /** The call's cost for its final usage, added as `usage.cost` (`include_cost_in_streaming_usage`). */
  costOf?: (usage: Usage) => string | undefined;
}

/**
 * A chunk read by hand, leniently: a field of another type than OpenAI's is passed over, not a
 * failure (upstreams add and vary fields; the relay passes them on whatever they hold).
 */
interface LooseChunk {
  id?: unknown;
  model?: unknown;
  created?: unknown;
  system_fingerprint?: unknown;
  choices?: unknown;
  usage?: OpenAIUsage | null;
  error?: unknown;
}
interface LooseChoice {
  index?: unknown;
  delta?: {
    content?: unknown;
    reasoning_content?: unknown;
    reasoning?: unknown;
    refusal?: unknown;
    tool_calls?: unknown;
  } | null;
  finish_reason?: unknown;
  logprobs?: unknown;
}
interface LooseToolCall {
  index?: unknown;
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown } | null;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
const int = (value: unknown): number => (typeof value === 'number' ? value : 0);

/**
 * OpenAI `chat.completion.chunk` SSE messages -> canonical stream events: `start` once, deltas,
 * `finish` per choice and `usage` when the upstream sends it. An upstream error chunk, or a
 * stream that ends before any choice finished, ends with an `error` event: a cut stream must
 * never look like a complete answer.
 *
 * With `relay`, every event also goes on as the upstream sent it (`raw`), the events beside it
 * only metering the call. Only the usage chunk is touched: its cost added where asked, or taken
 * out when the client did not ask for usage. An upstream error chunk is not relayed: the client
 * gets the `error` event rendered in the gateway's shape, as on the translated path.
 */
export function fromOpenAIStreamTransformer(
  provider: string,
  relay?: OpenAIRelayStreamOptions,
): Transformer<EventSourceMessage, StreamEvent> {
  let started = false;
  let finished = false;
  let failed = false;
  return {
    transform(message, controller) {
      if (failed) return;
      if (message.data === '[DONE]') {
        if (relay) controller.enqueue({ type: 'raw', text: 'data: [DONE]\n\n' });
        return;
      }
      let chunk: LooseChunk;
      try {
        chunk = JSON.parse(message.data) as LooseChunk;
      } catch {
        failed = true;
        controller.enqueue({ type: 'error', error: malformedUpstream(provider, 'a chunk that is not JSON') });
        return;
      }
      if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk)) {
        failed = true;
        controller.enqueue({
          type: 'error',
          error: malformedUpstream(provider, 'a chunk of unexpected shape'),
        });
        return;
      }
      if (chunk.error !== undefined && chunk.error !== null) {
        failed = true;
        controller.enqueue({ type: 'error', error: fromOpenAIStreamError(provider, chunk) });
        return;
      }
      const choices = Array.isArray(chunk.choices) ? (chunk.choices as LooseChoice[]) : [];
      const usage = chunk.usage ? fromOpenAIUsage(chunk.usage) : undefined;
      if (relay) {
        const raw = usage ? usageChunkText(message.data, chunk, choices, usage, relay) : sseFrame(message);
        if (raw) controller.enqueue({ type: 'raw', text: raw });
      }
      if (!started) {
        started = true;
        const fingerprint = text(chunk.system_fingerprint);
        controller.enqueue({
          type: 'start',
          id: text(chunk.id) ?? '',
          model: text(chunk.model) ?? '',
          created: int(chunk.created),
          ...(fingerprint ? { systemFingerprint: fingerprint } : {}),
        });
      }
      for (const choice of choices) {
        const index = int(choice.index);
        const delta = choice.delta;
        const reasoning = text(delta?.reasoning_content) ?? text(delta?.reasoning);
        if (reasoning) controller.enqueue({ type: 'reasoning-delta', choice: index, text: reasoning });
        const content = text(delta?.content);
        if (content) {
          controller.enqueue({
            type: 'text-delta',
            choice: index,
            text: content,
            ...(choice.logprobs != null ? { logprobs: choice.logprobs } : {}),
          });
        }
        const refusal = text(delta?.refusal);
        if (refusal) controller.enqueue({ type: 'refusal-delta', choice: index, text: refusal });
        if (Array.isArray(delta?.tool_calls)) {
          for (const call of delta.tool_calls as LooseToolCall[]) {
            const id = text(call.id);
            const name = text(call.function?.name);
            controller.enqueue({
              type: 'tool-call-delta',
              choice: index,
              index: int(call.index),
              ...(id ? { id } : {}),
              ...(name ? { name } : {}),
              argumentsDelta: typeof call.function?.arguments === 'string' ? call.function.arguments : '',
            });
          }
        }
        const finishReason = text(choice.finish_reason);
        if (finishReason) {
          finished = true;
          controller.enqueue({ type: 'finish', choice: index, finishReason });
        }
      }
      if (usage) controller.enqueue({ type: 'usage', usage });
    },
    flush(controller) {
      if (!failed && !finished) controller.enqueue({ type: 'error', error: streamEndedEarly(provider) });
    },
  };
}

export function fromOpenAIStream(provider: string): TransformStream<EventSourceMessage, StreamEvent> {
  return new TransformStream(fromOpenAIStreamTransformer(provider));
}

/**
 * The usage chunk as a relay's client gets it: as it came, with the call's cost where asked;
 * without its usage when the client did not ask for it (nothing at all when the chunk carried
 * only usage, as OpenAI's does; some servers put usage on the last content chunk).
 */
function usageChunkText(
  data: string,
  chunk: LooseChunk,
  choices: LooseChoice[],
  usage: Usage,
  relay: OpenAIRelayStreamOptions,
): string {
  if (relay.includeUsage) {
    const cost = relay.costOf?.(usage);
    if (cost === undefined) return sseFrame({ data });
    return sseFrame({ data: JSON.stringify({ ...chunk, usage: { ...chunk.usage, cost: Number(cost) } }) });
  }
  if (choices.length === 0) return '';
  const { usage: _usage, ...rest } = chunk;
  return sseFrame({ data: JSON.stringify(rest) });
}
