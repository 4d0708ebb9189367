import { type GatewayError, isRetryableStatus } from '../errors.ts';
import { openAIErrorBodySchema } from './wire.ts';

const MAX_VENDOR_MESSAGE_CHARS = 500;

/**
 * An OpenAI-format error response -> a GatewayError. A 4xx keeps the vendor's own message
 * (it is addressed to the caller: "max_tokens is too large"), trimmed; a 5xx gets a generic
 * message. A 401/403 is about the gateway's own provider key, so its text (which can name the
 * key or the organisation) is never passed on. `retry-after` is kept.
 */
export function fromOpenAIError(
  provider: string,
  status: number,
  bodyText: string,
  headers: Record<string, string> = {},
): GatewayError {
  let vendorMessage: string | undefined;
  let vendorType: string | undefined;
  let vendorCode: string | undefined;
  try {
    const parsed = openAIErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) {
      vendorMessage = parsed.data.error.message ?? undefined;
      vendorType = parsed.data.error.type ?? undefined;
      vendorCode = parsed.data.error.code != null ? String(parsed.data.error.code) : undefined;
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): keep only the status.
  }
  const credentialsRefused = status === 401 || status === 403;
  const message = credentialsRefused
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
    ...(vendorType ? { vendorType } : {}),
    ...(vendorCode ? { vendorCode } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
}

/** `retry-after` in seconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** An `{"error": {...}}` event inside an OpenAI stream -> a GatewayError. */
export function fromOpenAIStreamError(provider: string, payload: unknown): GatewayError {
  const parsed = openAIErrorBodySchema.safeParse(payload);
  const code = parsed.success ? parsed.data.error.code : undefined;
  const status = typeof code === 'number' ? code : Number(code) || 502;
  return {
    kind: 'upstream_error',
    provider,
    status: status >= 400 && status < 600 ? status : 502,
    message: `${provider} reported an error mid-stream`,
    retryable: false,
    ...(parsed.success && parsed.data.error.type ? { vendorType: parsed.data.error.type } : {}),
    ...(code != null ? { vendorCode: String(code) } : {}),
  };
}
