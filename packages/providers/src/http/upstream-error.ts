import { isRetryableStatus, type ProviderError } from '../errors.ts';

const MAX_VENDOR_MESSAGE_CHARS = 500;

/** `retry-after` in seconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * The ProviderError for an upstream's HTTP error, the same rules for every provider: a 4xx keeps
 * the vendor's own message, trimmed (it is addressed to the caller: "max_tokens is too large");
 * a 401/403 is about the gateway's own provider key, and its text (which can name the key or
 * the organisation) is never passed on; a 5xx gets a generic message, the details go to the log.
 * Status, retryability, the vendor's type/code, a 4xx's `param` and `retry-after` are kept.
 */
export function toUpstreamError(
  provider: string,
  status: number,
  vendor: {
    message?: string | undefined;
    type?: string | undefined;
    code?: string | undefined;
    param?: string | undefined;
  },
  headers: Record<string, string>,
): ProviderError {
  const message =
    status === 401 || status === 403
      ? `${provider} refused the gateway's provider credentials (HTTP ${status})`
      : status < 500 && vendor.message
        ? `${provider} error: ${vendor.message.slice(0, MAX_VENDOR_MESSAGE_CHARS)}`
        : `${provider} returned HTTP ${status}`;
  const retryAfterSeconds = parseRetryAfter(headers['retry-after']);
  return {
    kind: 'upstream_error',
    provider,
    status,
    message,
    retryable: isRetryableStatus(status),
    ...(vendor.type ? { vendorType: vendor.type } : {}),
    ...(vendor.code ? { vendorCode: vendor.code } : {}),
    // A 4xx's field name is the caller's (a 401/403 is about the gateway's own key).
    ...(vendor.param && status < 500 && status !== 401 && status !== 403
      ? { param: vendor.param.slice(0, 100) }
      : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
}

/** An upstream that sent something unreadable (`what`): a 502, not retried (it would again). */
export function malformedUpstream(provider: string, what: string): ProviderError {
  return {
    kind: 'upstream_error',
    provider,
    status: 502,
    message: `${provider} sent ${what}`,
    retryable: false,
  };
}

/**
 * A stream that ended before any choice finished: a 502 that must never look like a complete
 * answer; retryable, as a cut connection may not happen again.
 */
export function streamEndedEarly(provider: string): ProviderError {
  return {
    kind: 'upstream_error',
    provider,
    status: 502,
    message: `${provider} ended the stream before it finished`,
    retryable: true,
  };
}
