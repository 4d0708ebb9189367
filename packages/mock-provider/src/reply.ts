const words =
  'This is a deterministic reply from the mock provider so that tests and benchmarks can count every token it sends back to the gateway'.split(
    ' ',
  );

/** The reply's tokens: one word each, the first without a leading space. */
export function replyTokens(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? '' : ' ') + words[i % words.length]);
}

/**
 * A stable stand-in for a tokenizer: about four characters a token plus a few per message,
 * close to what OpenAI reports for English chat prompts.
 */
export function countPromptTokens(texts: string[]): number {
  return texts.reduce((sum, text) => sum + 4 + Math.ceil(text.length / 4), 3);
}

// Eight words, so a test can count the reasoning tokens without reading the text.
const reasoningWords = 'Reasoning about the request before the mock replies.'.split(' ');

/**
 * The reasoning the mock shows when a request asks it to think (DeepSeek `reasoning_content`,
 * OpenRouter `reasoning`, Ollama `thinking`): always the same 8 tokens, one word each, joined
 * "Reasoning about the request before the mock replies.".
 */
export function reasoningTokens(): string[] {
  return reasoningWords.map((word, i) => (i === 0 ? word : ` ${word}`));
}

/**
 * A stable stand-in for a tokenizer on raw text without chat framing (embedding inputs, legacy
 * completion prompts): about four characters a token, at least one.
 */
export function countTextTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * The answer to a fill-in-the-middle request: the reply's tokens with the first one replaced by
 * `[fill-in before "<suffix>"]` (the suffix JSON-quoted), so a test can see the suffix arrived.
 * An empty token list stays empty.
 */
export function toFillInTokens(tokens: string[], suffix: string): string[] {
  return tokens.map((token, i) => (i === 0 ? `[fill-in before ${JSON.stringify(suffix)}]` : token));
}
