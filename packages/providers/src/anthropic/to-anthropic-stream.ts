import type { Transformer } from 'node:stream/web';
import type { StreamEvent, Usage } from '../canonical.ts';
import type { ProviderError } from '../errors.ts';
import { toAnthropicStopReason, toAnthropicUsage } from './to-anthropic-response.ts';

export interface ToAnthropicStreamOptions {
  /** The model name reported to the client (the requested one, without provider prefix). */
  model: string;
  /** Renders an error in Anthropic's shape (`{"type":"error","error":{...}}`). */
  renderError: (error: ProviderError) => unknown;
}

type OpenBlock = { index: number; type: 'text' | 'thinking' | 'tool_use' } | undefined;

const sse = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/**
 * Canonical stream events -> Anthropic SSE (wire formats §5.4): `message_start` first, one
 * content block per run of text, thinking or a tool call (a new tool call opens a new block),
 * then `message_delta` with the stop reason and usage (held until usage arrives, since
 * OpenAI-format upstreams send it after the finish), then `message_stop`. An error ends the
 * stream with `event: error` and no `message_stop`.
 */
export function toAnthropicStreamTransformer(
  options: ToAnthropicStreamOptions,
): Transformer<StreamEvent, string> {
  let started = false;
  let nextIndex = 0;
  let open: OpenBlock;
  let stopReason: string | undefined;
  let usage: Usage = {};
  let failed = false;
  const toolBlocks = new Map<string, number>();

  function start(controller: TransformStreamDefaultController<string>, id?: string): void {
    if (started) return;
    started = true;
    controller.enqueue(
      sse('message_start', {
        message: {
          id: id ? (id.startsWith('msg_') ? id : `msg_${id}`) : `msg_${crypto.randomUUID()}`,
          type: 'message',
          role: 'assistant',
          content: [],
          model: options.model,
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: 0,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
          },
        },
      }),
    );
  }
  function close(controller: TransformStreamDefaultController<string>): void {
    if (!open) return;
    controller.enqueue(sse('content_block_stop', { index: open.index }));
    open = undefined;
  }
  function openBlock(
    controller: TransformStreamDefaultController<string>,
    type: 'text' | 'thinking' | 'tool_use',
    contentBlock: Record<string, unknown>,
  ): number {
    close(controller);
    const index = nextIndex++;
    open = { index, type };
    controller.enqueue(sse('content_block_start', { index, content_block: contentBlock }));
    return index;
  }
  function ensure(controller: TransformStreamDefaultController<string>, type: 'text' | 'thinking'): number {
    if (open?.type === type) return open.index;
    return openBlock(
      controller,
      type,
      type === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' },
    );
  }
  const delta = (index: number, body: Record<string, unknown>) =>
    sse('content_block_delta', { index, delta: body });

  return {
    transform(event, controller) {
      if (failed) return;
      if (event.type === 'start') return start(controller, event.id);
      if (event.type === 'error') {
        failed = true;
        controller.enqueue(`event: error\ndata: ${JSON.stringify(options.renderError(event.error))}\n\n`);
        return;
      }
      start(controller);
      switch (event.type) {
        case 'text-delta':
        case 'refusal-delta':
          if (event.text)
            controller.enqueue(delta(ensure(controller, 'text'), { type: 'text_delta', text: event.text }));
          return;
        case 'reasoning-delta':
          if (event.text) {
            controller.enqueue(
              delta(ensure(controller, 'thinking'), { type: 'thinking_delta', thinking: event.text }),
            );
          }
          return;
        case 'reasoning-signature':
          controller.enqueue(
            delta(ensure(controller, 'thinking'), { type: 'signature_delta', signature: event.signature }),
          );
          return;
        case 'redacted-thinking':
          close(controller);
          controller.enqueue(
            sse('content_block_start', {
              index: nextIndex,
              content_block: { type: 'redacted_thinking', data: event.data },
            }),
          );
          controller.enqueue(sse('content_block_stop', { index: nextIndex++ }));
          return;
        case 'tool-call-delta': {
          // One block per tool call, by its index: some upstreams repeat the id on every
          // fragment, and parallel calls may interleave.
          const key = `${event.choice}:${event.index}`;
          let index = toolBlocks.get(key);
          if (index === undefined) {
            index = openBlock(controller, 'tool_use', {
              type: 'tool_use',
              id: event.id ?? `toolu_${crypto.randomUUID()}`,
              name: event.name ?? '',
              input: {},
            });
            toolBlocks.set(key, index);
          } else if (open?.index !== index) {
            // A fragment of an earlier call after another block opened cannot be placed in
            // Anthropic's sequential blocks; it is dropped rather than put in the wrong one.
            return;
          }
          if (event.argumentsDelta) {
            controller.enqueue(
              delta(index, { type: 'input_json_delta', partial_json: event.argumentsDelta }),
            );
          }
          return;
        }
        case 'finish':
          close(controller);
          stopReason = toAnthropicStopReason(event.finishReason);
          return;
        case 'usage':
          usage = event.usage;
          return;
      }
    },
    flush(controller) {
      if (failed) return;
      start(controller);
      close(controller);
      controller.enqueue(
        sse('message_delta', {
          delta: { stop_reason: stopReason ?? 'end_turn', stop_sequence: null },
          usage: toAnthropicUsage(usage),
        }),
      );
      controller.enqueue(sse('message_stop', {}));
    },
  };
}

export function toAnthropicStream(options: ToAnthropicStreamOptions): TransformStream<StreamEvent, string> {
  return new TransformStream(toAnthropicStreamTransformer(options));
}
