/**
 * Test scenarios are chosen by directives written into a message's text, so a test can steer
 * the mock through any gateway without side channels:
 * - `[mock:cached_tokens=N]`: report N cached prompt tokens (capped at the prompt size).
 * - `[mock:error=STATUS]`: answer with that HTTP status in the vendor's error shape.
 * - `[mock:reply_tokens=N]`: reply with N tokens (default 20), one stream chunk each.
 */
export interface MockDirectives {
  cachedTokens?: number;
  errorStatus?: number;
  replyTokens?: number;
}

const directivePattern = /\[mock:(cached_tokens|error|reply_tokens)=(\d+)\]/g;

export function readDirectives(texts: string[]): MockDirectives {
  const directives: MockDirectives = {};
  for (const text of texts) {
    for (const match of text.matchAll(directivePattern)) {
      const value = Number(match[2]);
      if (match[1] === 'cached_tokens') directives.cachedTokens = value;
      else if (match[1] === 'error') directives.errorStatus = value;
      else directives.replyTokens = value;
    }
  }
  return directives;
}
