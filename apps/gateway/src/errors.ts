import type { ProviderError } from '@gateway/providers';

/**
 * The closed list of failures the gateway reports: a provider's (`ProviderError`) and the
 * gateway's own. Each kind becomes an HTTP status in one place ({@link statusOf}) and is
 * rendered in the caller's dialect.
 */
export type GatewayError =
  | ProviderError
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
  | { kind: 'service_unavailable'; message: string; type?: string };

/** Thrown by middleware and routes; the app's one error handler renders it. */
export class GatewayHttpError extends Error {
  constructor(readonly error: GatewayError) {
    super(error.message);
    this.name = 'GatewayHttpError';
  }
}

/** The one place an error kind becomes an HTTP status. */
export function statusOf(error: GatewayError): number {
  switch (error.kind) {
    case 'invalid_request':
      return 400;
    case 'validation_error':
      return 422;
    case 'conflict':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'rate_limited':
      return 429;
    case 'upstream_error':
      return error.status >= 400 && error.status < 600 ? error.status : 502;
    // LiteLLM answers a provider timeout with 408 (litellm.Timeout); clients retry on it.
    case 'upstream_timeout':
      return 408;
    // Nobody is listening any more; 499 only reaches logs.
    case 'client_closed':
      return 499;
    case 'service_unavailable':
      return 503;
    case 'internal':
      return 500;
  }
}

function typeOf(error: GatewayError): string {
  switch (error.kind) {
    case 'invalid_request':
      return error.type ?? 'invalid_request_error';
    case 'validation_error':
      return 'validation_error';
    case 'conflict':
      return 'bad_request_error';
    case 'payload_too_large':
      return 'invalid_request_error';
    case 'unauthenticated':
    case 'forbidden':
      return error.type ?? 'auth_error';
    case 'not_found':
      return error.type ?? 'not_found_error';
    case 'rate_limited':
      return error.type ?? 'rate_limit_error';
    case 'upstream_error':
      return error.vendorType ?? (error.status >= 500 ? 'internal_server_error' : 'invalid_request_error');
    case 'upstream_timeout':
      return 'timeout_error';
    case 'service_unavailable':
      return error.type ?? 'service_unavailable';
    case 'client_closed':
    case 'internal':
      return 'internal_server_error';
  }
}

function paramOf(error: GatewayError): string | null {
  if ('param' in error && error.param !== undefined) return error.param;
  // LiteLLM sends the literal string "None" for auth errors (contract §1.6).
  if (error.kind === 'unauthenticated' || error.kind === 'forbidden') return 'None';
  // So does its v3 rate limiter (contract §5.4).
  if (error.kind === 'rate_limited' && error.type === 'None') return 'None';
  return null;
}

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

/**
 * The LiteLLM/OpenAI error envelope: `code` is the HTTP status as a string (contract §1.6).
 * 5xx messages are generic and carry the call id; details go to the log.
 */
export function toErrorBody(error: GatewayError, callId: string): ErrorBody {
  const status = statusOf(error);
  const message = error.kind === 'internal' ? `Internal server error. Request id: ${callId}` : error.message;
  return { error: { message, type: typeOf(error), param: paramOf(error), code: String(status) } };
}

/**
 * Headers that travel with an error response: `retry-after` on rate limits, and
 * `x-should-retry: false` on an exhausted budget, which waiting does not cure (the official
 * OpenAI and Anthropic SDKs, and so Claude Code and Codex, otherwise retry every 429).
 */
export function errorHeaders(error: GatewayError): Record<string, string> {
  const retryAfter =
    error.kind === 'rate_limited' || error.kind === 'upstream_error' ? error.retryAfterSeconds : undefined;
  return {
    ...(error.kind === 'rate_limited' ? error.headers : {}),
    ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}),
    ...(error.kind === 'rate_limited' && error.type === 'budget_exceeded'
      ? { 'x-should-retry': 'false' }
      : {}),
  };
}

/** Anthropic's error `type` for each kind (wire formats §2.5). */
function anthropicTypeOf(error: GatewayError): string {
  switch (error.kind) {
    case 'invalid_request':
    case 'validation_error':
    case 'conflict':
      return 'invalid_request_error';
    case 'payload_too_large':
      return 'request_too_large';
    case 'unauthenticated':
      return 'authentication_error';
    case 'forbidden':
      return 'permission_error';
    case 'not_found':
      return 'not_found_error';
    case 'rate_limited':
      return error.type ?? 'rate_limit_error';
    case 'upstream_error': {
      if (error.provider === 'anthropic' && error.vendorType) return error.vendorType;
      if (error.status === 429) return 'rate_limit_error';
      if (error.status === 529) return 'overloaded_error';
      return error.status >= 500 ? 'api_error' : 'invalid_request_error';
    }
    case 'upstream_timeout':
      return 'timeout_error';
    case 'service_unavailable':
      return 'overloaded_error';
    case 'client_closed':
    case 'internal':
      return 'api_error';
  }
}

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id: string;
}

/** The error in Anthropic's shape, for `/v1/messages` callers; the same messages as the OpenAI shape. */
export function toAnthropicErrorBody(error: GatewayError, callId: string): AnthropicErrorBody {
  return {
    type: 'error',
    error: { type: anthropicTypeOf(error), message: toErrorBody(error, callId).error.message },
    request_id: callId,
  };
}

/** The errors an error stands for: itself and what caused it (drizzle wraps the driver's). */
function* causesOf(error: unknown): Generator<{ code?: unknown; message?: unknown }> {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    yield e as { code?: unknown; message?: unknown };
    e = (e as { cause?: unknown }).cause;
  }
}

/** Whether an error, or one it was caused by, carries this Postgres or Node error code. */
function hasCode(error: unknown, matches: (code: string) => boolean): boolean {
  for (const e of causesOf(error)) if (typeof e.code === 'string' && matches(e.code)) return true;
  return false;
}

/** Postgres unique violation (23505). */
export function isUniqueViolation(error: unknown): boolean {
  return hasCode(error, (code) => code === '23505');
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
const UNREACHABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection ended|connection error/i;

/**
 * Whether an error (or one it was caused by) says the database could not be reached, rather
 * than that a query was wrong: Postgres's connection-exception (08*) and shutdown (57P*) codes,
 * too many connections, a refused or reset socket, or pg-pool's own connection messages.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (
    hasCode(
      error,
      (code) =>
        code.startsWith('08') || code.startsWith('57P') || code === '53300' || UNREACHABLE_CODES.has(code),
    )
  )
    return true;
  for (const e of causesOf(error))
    if (typeof e.message === 'string' && UNREACHABLE_MESSAGE.test(e.message)) return true;
  return false;
}

/** What authentication answers when it cannot read a key, team or user: 503, `no_db_connection`. */
export const authDatabaseUnavailable: GatewayError = {
  kind: 'service_unavailable',
  type: 'no_db_connection',
  message:
    'Service Unavailable, the authentication database is temporarily unreachable. Please retry shortly.',
};

/** What a route answers when the database is away: 503, as LiteLLM's `no_db_connection`. */
export const databaseUnavailable: GatewayError = {
  kind: 'service_unavailable',
  type: 'no_db_connection',
  message: 'Service Unavailable, the database is temporarily unreachable. Please retry shortly.',
};

/** Whether Postgres cancelled the statement for running past its time limit (57014). */
export function isStatementTimeout(error: unknown): boolean {
  return hasCode(error, (code) => code === '57014');
}

/** What a report answers when Postgres cancelled it for taking too long. */
export const reportTimedOut: GatewayError = {
  kind: 'service_unavailable',
  type: 'report_timeout',
  message:
    'The report ran longer than REPORT_TIMEOUT_SECONDS allows and was cancelled: narrow the dates or filters.',
};
