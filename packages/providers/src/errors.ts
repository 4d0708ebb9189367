/**
 * The closed list of failures the gateway reports. The gateway maps each `kind` to an HTTP
 * status and renders it in the caller's dialect; adapters only build these values.
 */
export type GatewayError =
  | { kind: 'invalid_request'; message: string; param?: string; type?: string }
  /** A body or query that does not match the endpoint's schema (admin API: FastAPI's 422). */
  | { kind: 'validation_error'; message: string; param?: string }
  | { kind: 'conflict'; message: string; param?: string }
  /** A request body over the configured size (`general_settings.max_request_size_mb`). */
  | { kind: 'payload_too_large'; message: string }
  | {
      kind: 'unauthenticated';
      message: string;
      /** LiteLLM's error `type` (`auth_error`, `expired_key`, ...). */
      type?: string;
      param?: string;
    }
  | { kind: 'forbidden'; message: string; type?: string; param?: string }
  | { kind: 'not_found'; message: string; param?: string; type?: string }
  | {
      kind: 'rate_limited';
      message: string;
      retryAfterSeconds?: number;
      type?: string;
      /** Extra response headers that explain the refusal (`rate_limit_type`, `reset_at`). */
      headers?: Record<string, string>;
    }
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
  | { kind: 'service_unavailable'; message: string; type?: string }
  | { kind: 'internal'; message: string };

export type Result<T, E = GatewayError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** Upstream statuses worth retrying on another attempt or deployment. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
