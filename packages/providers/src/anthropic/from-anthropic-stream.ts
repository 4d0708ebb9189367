import type { Transformer } from 'node:stream/web';
import type { StreamEvent } from '../canonical.ts';
import { malformedUpstream, streamEndedEarly } from '../http/upstream-error.ts';
import type { EventSourceMessage } from '../sse/parse-sse.ts';
import { fromAnthropicStreamError } from './errors.ts';
import { fromAnthropicStopReason, fromAnthropicUsage } from './map-anthropic-usage.ts';
import { type AnthropicUsage, anthropicStreamEventSchema } from './wire.ts';

type BlockKind =
  | { kind: 'text' | 'thinking' | 'json' | 'other' }
  | { kind: 'tool'; toolIndex: number; sentArgs: boolean };

/** Keeps the fields of `later` that are set; the 1-hour split only ever comes in `message_start`. */
function mergeUsage(earlier: AnthropicUsage, later: AnthropicUsage | null | undefined): AnthropicUsage {
  const merged: AnthropicUsage = { ...earlier };
  for (const [field, value] of Object.entries(later ?? {})) {
    if (value !== null && value !== undefined) (merged as Record<string, unknown>)[field] = value;
  }
  return merged;
}

/**
 * Anthropic SSE events -> canonical stream events (wire formats §4.2). Tool calls are numbered
 * by a per-stream counter of tool_use blocks, not by Anthropic's content-block index. Usage is
 * emitted once, at `message_delta`: the input side from `message_start` (whose output count is
 * only a placeholder) is sent at `message_start`, and again merged with the cumulative output
 * count at `message_delta`. A stream that ends without
 * `message_delta` ends with an `error` event. With `jsonToolName`, that forced tool's input is
 * streamed as text (structured output).
 */
export function fromAnthropicStreamTransformer(
  jsonToolName?: string,
): Transformer<EventSourceMessage, StreamEvent> {
  const blocks = new Map<number, BlockKind>();
  let toolCount = 0;
  let realToolCalls = 0;
  let usage: AnthropicUsage = {};
  let finished = false;
  let failed = false;

  return {
    transform(message, controller) {
      if (failed) return;
      let payload: unknown;
      try {
        payload = JSON.parse(message.data);
      } catch {
        failed = true;
        controller.enqueue({
          type: 'error',
          error: malformedUpstream('anthropic', 'an event that is not JSON'),
        });
        return;
      }
      const parsed = anthropicStreamEventSchema.safeParse(payload);
      if (!parsed.success) {
        failed = true;
        controller.enqueue({
          type: 'error',
          error: malformedUpstream('anthropic', 'an event of unexpected shape'),
        });
        return;
      }
      const event = parsed.data;
      switch (event.type) {
        case 'message_start':
          usage = event.message.usage ?? {};
          controller.enqueue({
            type: 'start',
            id: event.message.id,
            model: event.message.model,
            created: Math.floor(Date.now() / 1000),
          });
          // The input side is known (and billed) from here on, even if the stream stops early;
          // its output count is a placeholder until message_delta.
          if (usage.input_tokens != null) {
            controller.enqueue({
              type: 'usage',
              usage: fromAnthropicUsage({ ...usage, output_tokens: undefined }),
            });
          }
          return;
        case 'content_block_start': {
          const block = event.content_block;
          if (block.type === 'text') {
            blocks.set(event.index, { kind: 'text' });
            if ('text' in block && typeof block.text === 'string' && block.text) {
              controller.enqueue({ type: 'text-delta', choice: 0, text: block.text });
            }
          } else if (block.type === 'thinking') {
            blocks.set(event.index, { kind: 'thinking' });
          } else if (
            block.type === 'redacted_thinking' &&
            'data' in block &&
            typeof block.data === 'string'
          ) {
            blocks.set(event.index, { kind: 'other' });
            controller.enqueue({ type: 'redacted-thinking', choice: 0, data: block.data });
          } else if (block.type === 'tool_use' && 'name' in block && block.name === jsonToolName) {
            blocks.set(event.index, { kind: 'json' });
          } else if (
            (block.type === 'tool_use' || block.type === 'server_tool_use') &&
            'id' in block &&
            'name' in block
          ) {
            const toolIndex = toolCount++;
            realToolCalls += 1;
            blocks.set(event.index, { kind: 'tool', toolIndex, sentArgs: false });
            controller.enqueue({
              type: 'tool-call-delta',
              choice: 0,
              index: toolIndex,
              id: String(block.id),
              name: String(block.name),
              argumentsDelta: '',
            });
          } else {
            blocks.set(event.index, { kind: 'other' });
          }
          return;
        }
        case 'content_block_delta': {
          const block = blocks.get(event.index);
          const delta = event.delta;
          if (delta.type === 'text_delta' && 'text' in delta && typeof delta.text === 'string') {
            controller.enqueue({ type: 'text-delta', choice: 0, text: delta.text });
          } else if (
            delta.type === 'thinking_delta' &&
            'thinking' in delta &&
            typeof delta.thinking === 'string'
          ) {
            controller.enqueue({ type: 'reasoning-delta', choice: 0, text: delta.thinking });
          } else if (
            delta.type === 'signature_delta' &&
            'signature' in delta &&
            typeof delta.signature === 'string'
          ) {
            controller.enqueue({ type: 'reasoning-signature', choice: 0, signature: delta.signature });
          } else if (
            delta.type === 'input_json_delta' &&
            'partial_json' in delta &&
            typeof delta.partial_json === 'string'
          ) {
            if (block?.kind === 'json') {
              if (delta.partial_json)
                controller.enqueue({ type: 'text-delta', choice: 0, text: delta.partial_json });
            } else if (block?.kind === 'tool' && delta.partial_json) {
              block.sentArgs = true;
              controller.enqueue({
                type: 'tool-call-delta',
                choice: 0,
                index: block.toolIndex,
                argumentsDelta: delta.partial_json,
              });
            }
          }
          return;
        }
        case 'content_block_stop': {
          const block = blocks.get(event.index);
          // A tool called without arguments still needs valid JSON arguments in OpenAI format.
          if (block?.kind === 'tool' && !block.sentArgs) {
            controller.enqueue({
              type: 'tool-call-delta',
              choice: 0,
              index: block.toolIndex,
              argumentsDelta: '{}',
            });
          }
          return;
        }
        case 'message_delta': {
          usage = mergeUsage(usage, event.usage);
          let finishReason = fromAnthropicStopReason(event.delta.stop_reason);
          if (finishReason === 'tool_calls' && realToolCalls === 0 && jsonToolName) finishReason = 'stop';
          finished = true;
          controller.enqueue({ type: 'finish', choice: 0, finishReason });
          controller.enqueue({ type: 'usage', usage: fromAnthropicUsage(usage) });
          return;
        }
        case 'error':
          failed = true;
          controller.enqueue({ type: 'error', error: fromAnthropicStreamError(event.error.type) });
          return;
        case 'message_stop':
        case 'ping':
          return;
      }
    },
    flush(controller) {
      if (failed || finished) return;
      controller.enqueue({
        type: 'error',
        error: streamEndedEarly('anthropic'),
      });
    },
  };
}

export function fromAnthropicStream(jsonToolName?: string): TransformStream<EventSourceMessage, StreamEvent> {
  return new TransformStream(fromAnthropicStreamTransformer(jsonToolName));
}
