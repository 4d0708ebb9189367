import { type GatewayError, isRetryableStatus } from '../errors.ts';
import { ollamaErrorBodySchema } from './wire.ts';

const MAX_VENDOR_MESSAGE_CHARS = 500;

/** `retry-after` in seconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * An Ollama error response (`{"error": "..."}`, wire formats §7.4) -> a GatewayError. As for
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
): GatewayError {
  let vendorMessage: string | undefined;
  try {
    const parsed = ollamaErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) vendorMessage = parsed.data.error.trim();
  } catch {
    // Not JSON (a reverse proxy's HTML page, say): keep only the status.
  }
  const message =
    status === 401 || status === 403
      ? `${provider} refused the gateway's provider credentials (HTTP ${status})`
      : status < 500 && vendorMessage
        ? `${provider} error: ${vendorMessage.slice(0, MAX_VENDOR_MESSAGE_CHARS)}`
        : `${provider} returned HTTP ${status}`;
  const retryAfterSeconds = parseRetryAfter(headers['retry-after']);
  return {
    kind: 'upstream_error',
    provider,
    status,
    message,
    retryable: isRetryableStatus(status),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
}

/**
 * An `{"error": "..."}` line inside an Ollama stream -> a GatewayError. The line has no status;
 * it is a failure after the 200 (a runner crash, an out-of-memory), reported as a 502 and not
 * retried because part of the answer may already have reached the client. The upstream text
 * stays out of the message (it can hold server details).
 */
export function fromOllamaStreamError(provider: string): GatewayError {
  return {
    kind: 'upstream_error',
    provider,
    status: 502,
    message: `${provider} reported an error mid-stream`,
    retryable: false,
  };
}
