/**
 * Test scenarios are chosen by directives written into a message's text, so a test can steer
 * the mock through any gateway without side channels. Every vendor route reads the same directives
 * (from every text in the request, the last one of a kind wins); where they differ, it says so.
 * Texts are: chat messages (OpenAI, DeepSeek, OpenRouter, Ollama `/api/chat`), Anthropic system,
 * text blocks and tool results, `/api/generate`'s `system`, `prompt` and `suffix`, legacy
 * completions' prompts and suffix, and embedding inputs (which honour only `error` and `latency_ms`).
 * - `[mock:cached_tokens=N]`: report N cache-read prompt tokens. OpenAI and OpenRouter:
 *   `cached_tokens`, capped at the prompt size (it is part of `prompt_tokens`). DeepSeek: the same
 *   capped N as `prompt_cache_hit_tokens` and `cached_tokens` (misses = prompt - hits). Anthropic:
 *   `cache_read_input_tokens` N exactly. Ollama and legacy completions: ignored.
 * - `[mock:cache_write_tokens=N]`: Anthropic: N prompt tokens written to the 5-minute cache
 *   (`cache_creation.ephemeral_5m_input_tokens`); they add to `cache_creation_input_tokens`.
 *   OpenRouter: `prompt_tokens_details.cache_write_tokens`, capped at the uncached prompt.
 * - `[mock:cache_write_1h_tokens=N]`: Anthropic only: N prompt tokens written to the 1-hour cache
 *   (`cache_creation.ephemeral_1h_input_tokens`), so `cache_creation_input_tokens` = 5m + 1h writes.
 * - `[mock:error=STATUS]`: answer with that HTTP status in the vendor's error shape (Ollama:
 *   `{"error": "..."}`, a 404 saying the model was not found; OpenRouter: `{"error": {"code", "message"}}`).
 * - `[mock:prompt_tokens=N]`: report N prompt tokens instead of the mock's estimate (about four
 *   characters a token, which undercounts scripts where a character is a token or more); on the
 *   OpenAI-format, Anthropic and Ollama chat routes. Anthropic: cache reads and writes are parts of it.
 * - `[mock:reply_tokens=N]`: reply with N tokens (default 20), one stream chunk each (legacy
 *   completions: capped by `max_tokens`, which defaults to 16 there as at OpenAI).
 * - `[mock:chunk_delay_ms=N]`: pause N ms between stream chunks.
 * - `[mock:latency_ms=N]`: wait N ms before answering at all (headers included), any route.
 * - `[mock:cut_after=N]`: drop the connection after N streamed tokens (no finish, no usage).
 *   Reasoning/thinking pieces count as tokens; an Ollama tool call line counts as one.
 * - `[mock:stream_error_after=N]`: after N streamed tokens, send the vendor's mid-stream error event
 *   (OpenAI and DeepSeek: `data: {"error": ...}`; OpenRouter: its error chunk with
 *   `finish_reason: "error"`, no `[DONE]`; Ollama: an `{"error": "..."}` line) and end the stream.
 *   On the DeepSeek, OpenRouter, legacy completions and Ollama routes, as on Anthropic, `cut_after`
 *   and `stream_error_after` fire before the finish even when the answer has fewer than N tokens.
 * - `[mock:tool_call=NAME]`: call the request's tool NAME instead of answering in text (a 400 when the
 *   request defines no such tool); ignored when the last message already is a tool result (role
 *   `tool` on OpenAI-style and Ollama routes), so a client can finish the round trip. Ollama sends
 *   the call's `arguments` as an object.
 */
export interface MockDirectives {
  cachedTokens?: number;
  cacheWriteTokens?: number;
  cacheWrite1hTokens?: number;
  errorStatus?: number;
  promptTokens?: number;
  replyTokens?: number;
  chunkDelayMs?: number;
  latencyMs?: number;
  cutAfter?: number;
  streamErrorAfter?: number;
  toolCall?: string;
}

const numberFields = {
  cached_tokens: 'cachedTokens',
  cache_write_tokens: 'cacheWriteTokens',
  cache_write_1h_tokens: 'cacheWrite1hTokens',
  error: 'errorStatus',
  prompt_tokens: 'promptTokens',
  reply_tokens: 'replyTokens',
  chunk_delay_ms: 'chunkDelayMs',
  latency_ms: 'latencyMs',
  cut_after: 'cutAfter',
  stream_error_after: 'streamErrorAfter',
} as const satisfies Record<string, keyof MockDirectives>;

const numberPattern = new RegExp(`\\[mock:(${Object.keys(numberFields).join('|')})=(\\d+)\\]`, 'g');
// Both vendors limit tool names to letters, digits, `_` and `-` (Anthropic: 1-128 characters).
const toolCallPattern = /\[mock:tool_call=([A-Za-z0-9_-]{1,128})\]/g;

/** The directives found in the given texts; a directive absent from all of them stays undefined. */
export function readDirectives(texts: string[]): MockDirectives {
  const directives: MockDirectives = {};
  for (const text of texts) {
    for (const match of text.matchAll(numberPattern)) {
      directives[numberFields[match[1] as keyof typeof numberFields]] = Number(match[2]);
    }
    for (const match of text.matchAll(toolCallPattern)) directives.toolCall = match[1];
  }
  return directives;
}
