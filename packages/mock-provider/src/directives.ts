/**
 * Test scenarios are chosen by directives written into a message's text, so a test can steer
 * the mock through any gateway without side channels:
 * - `[mock:cached_tokens=N]`: report N cached prompt tokens (capped at the prompt size).
 * - `[mock:error=STATUS]`: answer with that HTTP status in the vendor's error shape.
 * - `[mock:reply_tokens=N]`: reply with N tokens (default 20), one stream chunk each.
 * - `[mock:chunk_delay_ms=N]`: pause N ms between stream chunks.
 * - `[mock:cut_after=N]`: drop the connection after N streamed tokens (no finish, no usage).
 * - `[mock:stream_error_after=N]`: after N streamed tokens, send the vendor's mid-stream error event.
 */
export interface MockDirectives {
  cachedTokens?: number;
  errorStatus?: number;
  replyTokens?: number;
  chunkDelayMs?: number;
  cutAfter?: number;
  streamErrorAfter?: number;
}

const fields = {
  cached_tokens: 'cachedTokens',
  error: 'errorStatus',
  reply_tokens: 'replyTokens',
  chunk_delay_ms: 'chunkDelayMs',
  cut_after: 'cutAfter',
  stream_error_after: 'streamErrorAfter',
} as const satisfies Record<string, keyof MockDirectives>;

const directivePattern = new RegExp(`\\[mock:(${Object.keys(fields).join('|')})=(\\d+)\\]`, 'g');

export function readDirectives(texts: string[]): MockDirectives {
  const directives: MockDirectives = {};
  for (const text of texts) {
    for (const match of text.matchAll(directivePattern)) {
      directives[fields[match[1] as keyof typeof fields]] = Number(match[2]);
    }
  }
  return directives;
}
