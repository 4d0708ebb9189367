import type { ChatResult, ThinkingBlock, ToolCall } from '../canonical.ts';
import { fromAnthropicStopReason, fromAnthropicUsage } from './map-anthropic-usage.ts';
import type { AnthropicMessage } from './wire.ts';

/**
 * An Anthropic message -> the canonical result (wire formats §4.1): text blocks joined, tool_use
 * blocks as tool calls (arguments as JSON text), thinking blocks kept whole and their text as
 * reasoning. With `jsonToolName`, a forced structured-output tool call is read back as the text.
 */
export function fromAnthropicMessage(message: AnthropicMessage, jsonToolName?: string): ChatResult {
  let text = '';
  const toolCalls: ToolCall[] = [];
  const thinkingBlocks: ThinkingBlock[] = [];
  const citations: Record<string, unknown>[][] = [];
  const serverToolResults: Record<string, unknown>[] = [];
  for (const block of message.content) {
    if (block.type === 'text' && 'text' in block && typeof block.text === 'string') {
      text += block.text;
      // LiteLLM's shape: each citation carries the text it supports.
      if ('citations' in block && Array.isArray(block.citations)) {
        citations.push(
          block.citations.map((c: Record<string, unknown>) => ({ ...c, supported_text: block.text })),
        );
      }
    } else if (
      (block.type === 'tool_use' || block.type === 'server_tool_use') &&
      'id' in block &&
      'name' in block
    ) {
      // Server tools (web search ...) ran at Anthropic; LiteLLM lists them with the tool calls.
      toolCalls.push({
        id: String(block.id),
        name: String(block.name),
        arguments: JSON.stringify(block.input ?? {}),
      });
    } else if (block.type === 'thinking' && 'thinking' in block && typeof block.thinking === 'string') {
      thinkingBlocks.push({
        type: 'thinking',
        thinking: block.thinking,
        ...(typeof block.signature === 'string' ? { signature: block.signature } : {}),
      });
    } else if (block.type === 'redacted_thinking' && 'data' in block && typeof block.data === 'string') {
      thinkingBlocks.push({ type: 'redacted_thinking', data: block.data });
    } else if (block.type.endsWith('_tool_result')) {
      serverToolResults.push({ ...block });
    }
  }
  let finishReason = fromAnthropicStopReason(message.stop_reason);
  const jsonCalls = jsonToolName ? toolCalls.filter((c) => c.name === jsonToolName) : [];
  const realCalls = toolCalls.filter((c) => !jsonCalls.includes(c));
  if (jsonCalls.length > 0) {
    text += jsonCalls.map((c) => c.arguments).join('');
    if (realCalls.length === 0) finishReason = 'stop';
  }
  const reasoning = thinkingBlocks.map((b) => (b.type === 'thinking' ? b.thinking : '')).join('');
  return {
    id: message.id,
    model: message.model,
    created: Math.floor(Date.now() / 1000),
    choices: [
      {
        index: 0,
        text: text === '' ? null : text,
        toolCalls: realCalls,
        finishReason,
        ...(thinkingBlocks.length > 0 ? { thinkingBlocks, reasoning } : {}),
        ...(citations.length > 0 ? { citations } : {}),
        ...(serverToolResults.length > 0 ? { serverToolResults } : {}),
      },
    ],
    usage: fromAnthropicUsage(message.usage),
  };
}
