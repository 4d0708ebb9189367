import type { ProviderError } from '../errors.ts';

/** A failure to talk to the upstream at all (no HTTP status) -> a ProviderError. */
export function mapTransportError(provider: string, cause: unknown, signal?: AbortSignal): ProviderError {
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : '';
  const name = cause instanceof Error ? cause.name : '';
  if (signal?.aborted || name === 'AbortError' || code === 'UND_ERR_ABORTED') {
    return { kind: 'client_closed', message: 'the client closed the request' };
  }
  if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return { kind: 'upstream_timeout', provider, message: `${provider} did not answer in time` };
  }
  return {
    kind: 'upstream_error',
    provider,
    status: 502,
    message: `could not reach ${provider}`,
    retryable: true,
  };
}
