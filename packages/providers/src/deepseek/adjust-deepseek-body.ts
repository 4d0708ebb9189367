import type { ChatRequest } from '../canonical.ts';

/**
 * DeepSeek's changes to an OpenAI body (wire formats §6.2):
 * - content-part lists become plain strings (DeepSeek takes text only);
 * - `thinking` is only ever `{"type":"enabled"}` (no budget), and any `reasoning_effort` other
 *   than `none` turns it on; `reasoning_effort` itself is not sent;
 * - assistant turns with tool calls carry their `reasoning_content` back, which DeepSeek
 *   requires in tool loops.
 * Returns the parameters that were dropped.
 */
export function adjustDeepSeekBody(body: Record<string, unknown>, request?: ChatRequest): string[] {
  const dropped: string[] = [];
  // Copies: a relayed body's messages are the client's own objects.
  const messages = Array.isArray(body.messages)
    ? (body.messages as Record<string, unknown>[]).map((message) => ({ ...message }))
    : [];
  if (Array.isArray(body.messages)) body.messages = messages;
  for (const [i, message] of messages.entries()) {
    if (Array.isArray(message.content)) {
      const parts = message.content as { type: string; text?: string }[];
      if (parts.some((p) => p.type !== 'text')) dropped.push('non-text content');
      message.content = parts.map((p) => p.text ?? '').join('');
    }
    const source = request?.messages[i];
    if (source?.role === 'assistant' && source.toolCalls.length > 0 && source.reasoning !== undefined) {
      message.reasoning_content = source.reasoning;
    }
  }
  const effort = body.reasoning_effort;
  delete body.reasoning_effort;
  // A relayed body may carry DeepSeek's own `thinking` switch: it stands.
  if (!request && body.thinking !== undefined) return dropped;
  const thinkingOn =
    request?.thinking?.type === 'enabled' ||
    request?.thinking?.type === 'adaptive' ||
    (request?.thinking === undefined && typeof effort === 'string' && effort !== 'none');
  if (thinkingOn) body.thinking = { type: 'enabled' };
  else if (request?.thinking?.type === 'disabled') body.thinking = { type: 'disabled' };
  return dropped;
}
