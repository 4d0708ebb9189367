import type { ProviderError } from '../errors.ts';
import { toUpstreamError } from '../http/upstream-error.ts';
import { ollamaErrorBodySchema } from './wire.ts';

/**
 * An Ollama error response (`{"error": "..."}`, wire formats §7.4) -> a ProviderError. As for
 * OpenAI: a 4xx keeps Ollama's message, trimmed, since it is addressed to the caller
 * (`model "llama9" not found, try pulling it first`, `... does not support tools`); a 5xx gets a
 * generic message (load and runtime failures can name server paths); a 401/403 is about the
 * gateway's own key (Ollama cloud) and is never passed on. `retry-after` is kept.
 */
export function fromOllamaError(
  provider: string,
  status: number,
  bodyText: string,
  headers: Record<string, string> = {},
): ProviderError {
  let vendorMessage: string | undefined;
  try {
    const parsed = ollamaErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) vendorMessage = parsed.data.error.trim();
  } catch {
    // Not JSON (a reverse proxy's HTML page, say): keep only the status.
  }
  return toUpstreamError(provider, status, { message: vendorMessage }, headers);
}

/**
 * An `{"error": "..."}` line inside an Ollama stream -> a ProviderError. The line has no status;
 * it is a failure after the 200 (a runner crash, an out-of-memory), reported as a 502 and not
 * retried because part of the answer may already have reached the client. The upstream text
 * stays out of the message (it can hold server details).
 */
export function fromOllamaStreamError(provider: string): ProviderError {
  return {
    kind: 'upstream_error',
    provider,
    status: 502,
    message: `${provider} reported an error mid-stream`,
    retryable: false,
  };
}
