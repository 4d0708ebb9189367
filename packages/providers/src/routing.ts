/** Provider prefixes the gateway understands in a `provider/model` string. */
export const knownProviders = [
  'openai',
  'anthropic',
  'deepseek',
  'openrouter',
  'ollama',
  'ollama_chat',
] as const;
export type ProviderId = (typeof knownProviders)[number];

export function isKnownProvider(value: string): value is ProviderId {
  return (knownProviders as readonly string[]).includes(value);
}

/**
 * Splits `provider/model` at the first slash when the prefix is a known provider
 * (`openrouter/openai/gpt-4o` -> `openrouter` + `openai/gpt-4o`). A bare name is OpenAI's,
 * as in LiteLLM. Returns undefined for an unknown prefix.
 */
export function parseProviderModel(value: string): { provider: ProviderId; model: string } | undefined {
  const slash = value.indexOf('/');
  if (slash === -1) return { provider: 'openai', model: value };
  const prefix = value.slice(0, slash);
  if (!isKnownProvider(prefix)) return undefined;
  return { provider: prefix, model: value.slice(slash + 1) };
}
