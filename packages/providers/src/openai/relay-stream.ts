import type { Transformer } from 'node:stream/web';
import type { StreamEvent, Usage } from '../canonical.ts';
import { malformedUpstream, streamEndedEarly } from '../http/upstream-error.ts';
import type { EventSourceMessage } from '../sse/parse-sse.ts';
import { sseFrame } from '../sse/relay.ts';
import { fromOpenAIStreamError } from './errors.ts';
import { fromOpenAIUsage } from './map-openai-usage.ts';
import type { OpenAIUsage } from './wire.ts';

export interface OpenAIRelayStreamOptions {
  /**
   * The client asked for the usage chunk (`stream_options.include_usage`). The gateway always
   * asks the upstream for it, to bill the call; when the client did not, it is taken out again.
   */
  includeUsage: boolean;
  /** The call's cost for its final usage, added as `usage.cost` as on the translated path. */
  costOf?: (usage: Usage) => string | undefined;
}

/** A chunk as relayed: read by hand, leniently; the client gets it whatever else it holds. */
interface LooseChunk {
  id?: unknown;
  model?: unknown;
  created?: unknown;
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
}

/**
 * An OpenAI Chat Completions stream relayed to a client of the same dialect: every event goes
 * on as the upstream sent it (`raw`), while the metering events beside it (start, text, tool
 * arguments, finish, usage) say what billing needs without a schema or a re-serialisation.
 * Only the usage chunk is touched: its cost added, or taken out when the client did not ask for
 * it. An upstream error chunk or a stream cut before any choice finished ends in an `error`
 * event, rendered in the gateway's shape as on the translated path.
 */
export function fromOpenAIRelayTransformer(
  provider: string,
  options: OpenAIRelayStreamOptions,
): Transformer<EventSourceMessage, StreamEvent> {
  let started = false;
  let finished = false;
  let failed = false;
  return {
    transform(message, controller) {
      if (failed) return;
      if (message.data === '[DONE]') {
        controller.enqueue({ type: 'raw', text: 'data: [DONE]\n\n' });
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
      if (chunk === null || typeof chunk !== 'object') {
        failed = true;
        controller.enqueue({
          type: 'error',
          error: malformedUpstream(provider, 'a chunk that is not an object'),
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
      const text = usage ? usageChunkText(message.data, chunk, choices, usage, options) : sseFrame(message);
      if (text) controller.enqueue({ type: 'raw', text });

      if (!started) {
        started = true;
        controller.enqueue({
          type: 'start',
          id: typeof chunk.id === 'string' ? chunk.id : '',
          model: typeof chunk.model === 'string' ? chunk.model : '',
          created: typeof chunk.created === 'number' ? chunk.created : 0,
        });
      }
      for (const choice of choices) {
        const index = typeof choice.index === 'number' ? choice.index : 0;
        const delta = choice.delta;
        const reasoning = delta?.reasoning_content ?? delta?.reasoning;
        if (typeof reasoning === 'string' && reasoning)
          controller.enqueue({ type: 'reasoning-delta', choice: index, text: reasoning });
        if (typeof delta?.content === 'string' && delta.content)
          controller.enqueue({ type: 'text-delta', choice: index, text: delta.content });
        if (Array.isArray(delta?.tool_calls)) {
          for (const call of delta.tool_calls as {
            index?: unknown;
            function?: { name?: unknown; arguments?: unknown };
          }[]) {
            controller.enqueue({
              type: 'tool-call-delta',
              choice: index,
              index: typeof call.index === 'number' ? call.index : 0,
              ...(typeof call.function?.name === 'string' ? { name: call.function.name } : {}),
              argumentsDelta: typeof call.function?.arguments === 'string' ? call.function.arguments : '',
            });
          }
        }
        if (typeof choice.finish_reason === 'string') {
          finished = true;
          controller.enqueue({ type: 'finish', choice: index, finishReason: choice.finish_reason });
        }
      }
      if (usage) controller.enqueue({ type: 'usage', usage });
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

/**
 * The usage chunk as the client gets it: with the call's cost when the client asked for usage;
 * without its usage when it did not (nothing at all when the chunk carried only usage, as
 * OpenAI's does; some servers put usage on the last content chunk).
 */
function usageChunkText(
  data: string,
  chunk: LooseChunk,
  choices: LooseChoice[],
  usage: Usage,
  options: OpenAIRelayStreamOptions,
): string {
  if (options.includeUsage) {
    const cost = options.costOf?.(usage);
    if (cost === undefined) return sseFrame({ data });
    return sseFrame({ data: JSON.stringify({ ...chunk, usage: { ...chunk.usage, cost: Number(cost) } }) });
  }
  if (choices.length === 0) return '';
  const { usage: _usage, ...rest } = chunk;
  return sseFrame({ data: JSON.stringify(rest) });
}
