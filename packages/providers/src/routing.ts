/**
 * Providers that speak OpenAI Chat Completions at `{api_base}/chat/completions` with a Bearer
 * key, by LiteLLM's prefix: served by the OpenAI-compatible adapter and relayed from
 * `/v1/chat/completions` (responses-and-cloud-providers §6).
 */
export const openAICompatibleProviders = [
  'groq',
  'mistral',
  'xai',
  'together_ai',
  'fireworks_ai',
  'perplexity',
  'deepinfra',
  'cerebras',
  'nvidia_nim',
  'sambanova',
  'hosted_vllm',
  'lm_studio',
  'openai_like',
] as const;

/** Provider prefixes the gateway understands in a `provider/model` string. */
export const knownProviders = [
  'openai',
  'anthropic',
  'deepseek',
  'openrouter',
  'ollama',
  'ollama_chat',
  ...openAICompatibleProviders,
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
