import { randomUUID } from 'node:crypto';
import type { ChatResult, ToolCall } from '../canonical.ts';
import { fromOllamaDoneReason, fromOllamaUsage } from './map-ollama-usage.ts';
import { ThinkTagSplitter } from './split-think-tags.ts';
import type { OllamaChatResponse, OllamaGenerateResponse, OllamaToolCall } from './wire.ts';

/** Ollama sends no response id; like LiteLLM, the gateway makes one up. */
export function newOllamaResponseId(): string {
  return `chatcmpl-${randomUUID()}`;
}

/** `created_at` (RFC 3339, nanoseconds) -> Unix seconds; the current time when absent or unreadable. */
export function createdSecondsOf(createdAt: string | null | undefined): number {
  const millis = createdAt ? Date.parse(createdAt) : Number.NaN;
  return Math.floor((Number.isNaN(millis) ? Date.now() : millis) / 1000);
}

/**
 * An Ollama tool call -> a canonical one. The arguments object becomes JSON text, and a call
 * without an id (older Ollama never sends one) gets `call_<uuid>` as LiteLLM gives it.
 */
export function fromOllamaToolCall(call: OllamaToolCall): ToolCall {
  const args = call.function.arguments;
  return {
    id: call.id || `call_${randomUUID()}`,
    name: call.function.name,
    arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
  };
}

/** `<think>` sections of an answer moved to reasoning, unless Ollama already split them off. */
function splitAnswer(
  content: string,
  thinking: string | null | undefined,
): { text: string; reasoning: string | undefined } {
  if (thinking) return { text: content, reasoning: thinking };
  if (!content.trimStart().startsWith('<think>')) return { text: content, reasoning: undefined };
  return new ThinkTagSplitter().push(content);
}

/**
 * A validated `/api/chat` response -> the canonical result (wire formats §7.1). `provider` is
 * the adapter id; the reported model is `<provider>/<model>` (`ollama_chat/llama3.1`), the
 * name LiteLLM reports for Ollama (§10).
 */
export function fromOllamaChatResponse(response: OllamaChatResponse, provider: string): ChatResult {
  const message = response.message;
  const toolCalls = (message?.tool_calls ?? []).map(fromOllamaToolCall);
  const { text, reasoning } = splitAnswer(message?.content ?? '', message?.thinking);
  return {
    id: newOllamaResponseId(),
    model: `${provider}/${response.model}`,
    created: createdSecondsOf(response.created_at),
    choices: [
      {
        index: 0,
        text: text === '' && toolCalls.length > 0 ? null : text,
        ...(reasoning !== undefined ? { reasoning } : {}),
        toolCalls,
        finishReason: fromOllamaDoneReason(response.done_reason, toolCalls.length > 0),
      },
    ],
    usage: fromOllamaUsage(response),
  };
}

/**
 * A validated `/api/generate` response -> the canonical result (wire formats §7.2): `response`
 * is the text, `thinking` the reasoning. LiteLLM also reads a JSON answer shaped like
 * `{"name", "arguments"}` as a tool call when `format` was `json`; the gateway sends no tools to
 * `/api/generate`, so a JSON answer stays text.
 */
export function fromOllamaGenerateResponse(response: OllamaGenerateResponse, provider: string): ChatResult {
  const { text, reasoning } = splitAnswer(response.response ?? '', response.thinking);
  return {
    id: newOllamaResponseId(),
    model: `${provider}/${response.model}`,
    created: createdSecondsOf(response.created_at),
    choices: [
      {
        index: 0,
        text,
        ...(reasoning !== undefined ? { reasoning } : {}),
        toolCalls: [],
        finishReason: fromOllamaDoneReason(response.done_reason, false),
      },
    ],
    usage: fromOllamaUsage(response),
  };
}
