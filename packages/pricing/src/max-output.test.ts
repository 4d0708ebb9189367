import { describe, expect, it } from 'vitest';
import { modelMaxOutputTokens } from './max-output.ts';

describe('modelMaxOutputTokens', () => {
  it("reads the price file's max_output_tokens, for dated snapshots too", () => {
    // Figures as LiteLLM's price file states them.
    expect(modelMaxOutputTokens('openai', 'gpt-4o')).toBe(16_384);
    expect(modelMaxOutputTokens('anthropic', 'claude-haiku-4-5-20251001')).toBe(64_000);
    expect(modelMaxOutputTokens('anthropic', 'claude-3-haiku-20240307')).toBe(4_096);
    expect(modelMaxOutputTokens('deepseek', 'deepseek-reasoner')).toBe(65_536);
    expect(modelMaxOutputTokens('openrouter', 'anthropic/claude-3-haiku')).toBe(4_096);
  });

  it('falls back to the catalog context window, and knows nothing of unknown or self-hosted models', () => {
    const fromCatalog = modelMaxOutputTokens('anthropic', 'claude-3-5-sonnet-20240620');
    expect(fromCatalog).toBeGreaterThanOrEqual(8_192);
    expect(modelMaxOutputTokens('openai', 'no-such-model-anywhere')).toBeUndefined();
    expect(modelMaxOutputTokens('ollama', 'llama3.2')).toBeUndefined();
  });
});
