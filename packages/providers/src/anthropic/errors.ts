import { isRetryableStatus, type ProviderError } from '../errors.ts';
import { toUpstreamError } from '../http/upstream-error.ts';
import { anthropicErrorBodySchema } from './wire.ts';

/** Anthropic's error types by the status they stand for (mid-stream errors carry no status). */
const statusOfErrorType: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * An Anthropic error response -> a ProviderError (wire formats §2.5). As for OpenAI: a 4xx keeps
 * the vendor's message, a 401/403 (about the gateway's own key) and a 5xx get our own words.
 * 529 (overloaded) stays 529, retryable.
 */
export function fromAnthropicError(
  status: number,
  bodyText: string,
  headers: Record<string, string> = {},
): ProviderError {
  let vendorType: string | undefined;
  let vendorMessage: string | undefined;
  try {
    const parsed = anthropicErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) {
      vendorType = parsed.data.error.type ?? undefined;
      vendorMessage = parsed.data.error.message ?? undefined;
    }
  } catch {
    // Not JSON: keep the status only.
  }
  return toUpstreamError('anthropic', status, { message: vendorMessage, type: vendorType }, headers);
}

/** An `event: error` inside an Anthropic stream -> a ProviderError with the status its type stands for. */
export function fromAnthropicStreamError(errorType: string | null | undefined): ProviderError {
  const status = (errorType && statusOfErrorType[errorType]) || 500;
  return {
    kind: 'upstream_error',
    provider: 'anthropic',
    status,
    message: `anthropic reported ${errorType ?? 'an error'} mid-stream`,
    retryable: isRetryableStatus(status),
    ...(errorType ? { vendorType: errorType } : {}),
  };
}
