import type { ChatRequest, Message } from '../canonical.ts';

/** Model families whose OpenRouter upstreams take Anthropic-style `cache_control` (wire formats §8.2). */
const CACHE_CONTROL_MODELS = /claude|gemini|minimax|glm|z-ai/i;

/** A message's parts with their cache breakpoints (native blocks have none of ours). */
function partsOf(message: Message): { cacheControl?: unknown }[] {
  return message.content.map((part) => ('cacheControl' in part ? { cacheControl: part.cacheControl } : {}));
}

/**
 * OpenRouter's changes to an OpenAI body (wire formats §8.2): ask for usage accounting, which
 * carries the call's cost; and, for model families that support prompt caching through
 * OpenRouter, keep each part's `cache_control` (string content becomes one text part to carry
 * it). Other models have no use for it, and it is left out. OpenRouter's own fields
 * (`transforms`, `models`, `route`, `provider`, `reasoning`, `plugins`) already pass through as
 * OpenAI extras.
 */
export function adjustOpenRouterBody(body: Record<string, unknown>, request?: ChatRequest): string[] {
  body.usage = { include: true };
  if (!request || !CACHE_CONTROL_MODELS.test(request.model)) return [];
  const messages = body.messages as Record<string, unknown>[];
  for (const [i, message] of request.messages.entries()) {
    const parts = partsOf(message);
    if (!parts.some((part) => part.cacheControl)) continue;
    const out = messages[i]!;
    const content = typeof out.content === 'string' ? [{ type: 'text', text: out.content }] : out.content;
    if (!Array.isArray(content)) continue;
    out.content = content.map((part: Record<string, unknown>, index: number) => {
      const cacheControl = parts[index]?.cacheControl;
      return cacheControl ? { ...part, cache_control: cacheControl } : part;
    });
  }
  return [];
}
