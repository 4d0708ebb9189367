import type { ChatResult, Usage } from '../canonical.ts';

/** OpenAI `finish_reason` -> Anthropic `stop_reason` (wire formats §5.3). */
export function toAnthropicStopReason(finishReason: string | null): string {
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    default:
      return 'end_turn';
  }
}

/**
 * Canonical usage -> Anthropic usage: `input_tokens` excludes cache reads and writes; the cache
 * fields appear only when positive (wire formats §5.3). Unknown counts read as 0: the
 * Anthropic SDK requires numbers.
 */
export function toAnthropicUsage(usage: Usage): Record<string, number> {
  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  return {
    input_tokens: Math.max((usage.inputTokens ?? 0) - cacheRead - cacheWrite, 0),
    output_tokens: usage.outputTokens ?? 0,
    ...(cacheRead > 0 ? { cache_read_input_tokens: cacheRead } : {}),
    ...(cacheWrite > 0 ? { cache_creation_input_tokens: cacheWrite } : {}),
  };
}

function parseInput(args: string): unknown {
  try {
    return JSON.parse(args);
  } catch {
    return {};
  }
}

/** The canonical result -> an Anthropic `message` (wire formats §5.3), reported as `model`. */
export function toAnthropicMessage(result: ChatResult, model: string): Record<string, unknown> {
  const choice = result.choices[0];
  const content: Record<string, unknown>[] = [];
  if (choice?.thinkingBlocks?.length) content.push(...choice.thinkingBlocks.map((b) => ({ ...b })));
  else if (choice?.reasoning) content.push({ type: 'thinking', thinking: choice.reasoning, signature: '' });
  if (choice?.text) content.push({ type: 'text', text: choice.text });
  for (const call of choice?.toolCalls ?? []) {
    content.push({ type: 'tool_use', id: call.id, name: call.name, input: parseInput(call.arguments) });
  }
  return {
    id: result.id.startsWith('msg_') ? result.id : `msg_${result.id}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: toAnthropicStopReason(choice?.finishReason ?? null),
    stop_sequence: null,
    usage: toAnthropicUsage(result.usage),
  };
}
