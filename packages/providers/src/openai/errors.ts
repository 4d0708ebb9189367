import { type GatewayError, isRetryableStatus } from '../errors.ts';
import { openAIErrorBodySchema } from './wire.ts';

const MAX_VENDOR_MESSAGE_CHARS = 500;

/**
 * An OpenAI-format error response -> a GatewayError. A 4xx keeps the vendor's own message
 * (it is addressed to the caller: "max_tokens is too large"), trimmed; a 5xx gets a generic
 * message, the vendor's words go to the log only.
 */
export function fromOpenAIError(provider: string, status: number, bodyText: string): GatewayError {
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
  const message =
    status < 500 && vendorMessage
      ? `${provider} error: ${vendorMessage.slice(0, MAX_VENDOR_MESSAGE_CHARS)}`
      : `${provider} returned HTTP ${status}`;
  return {
    kind: 'upstream_error',
    provider,
    status,
    message,
    retryable: isRetryableStatus(status),
    ...(vendorType ? { vendorType } : {}),
    ...(vendorCode ? { vendorCode } : {}),
  };
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
