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
