/**
 * The failures a provider adapter or translation reports: a request it cannot carry, the
 * upstream's own error, a timeout, the caller gone, or a bug. The gateway adds its own kinds
 * (authentication, limits, admin errors) in its `GatewayError`, maps each kind to an HTTP status
 * and renders it in the caller's dialect; adapters only build these values.
 */
export type ProviderError =
  | { kind: 'invalid_request'; message: string; param?: string; type?: string }
  | {
      kind: 'upstream_error';
      provider: string;
      /** The upstream HTTP status, or 502 when there was no usable response. */
      status: number;
      /** Safe to show: never the upstream body verbatim. */
      message: string;
      retryable: boolean;
      vendorType?: string;
      vendorCode?: string;
      /** The request field a 4xx names (OpenAI's `error.param`), passed on to the caller. */
      param?: string;
      retryAfterSeconds?: number;
    }
  | { kind: 'upstream_timeout'; provider: string; message: string }
  /** The caller went away; nothing is rendered. */
  | { kind: 'client_closed'; message: string }
  | { kind: 'internal'; message: string };

export type Result<T, E = ProviderError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** Upstream statuses worth retrying on another attempt or deployment. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
