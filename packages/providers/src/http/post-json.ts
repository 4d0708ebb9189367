import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { type CallTarget, requestControls } from '../adapter.ts';
import { err, ok, type ProviderError, type Result } from '../errors.ts';
import { mapTransportError } from './map-transport-error.ts';
import { malformedUpstream } from './upstream-error.ts';
import type { UpstreamPools } from './upstream-pools.ts';

/** Response headers as plain strings (repeated headers joined with `, `). */
export function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

export interface PostJsonOptions {
  pools: UpstreamPools;
  /** Our provider id, for error messages. */
  provider: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
  target: CallTarget;
  /** The vendor's error body (any status from 400) -> a ProviderError. */
  toError: (status: number, bodyText: string, headers: Record<string, string>) => ProviderError;
}

/**
 * POSTs JSON to an upstream over its origin's keep-alive pool, with the call's abort signal and
 * time limits. A status from 400 up becomes the vendor's error; no answer at all becomes a
 * transport error (timeout, unreachable, client gone). Every adapter sends through here.
 */
export async function postJson(options: PostJsonOptions): Promise<Result<Dispatcher.ResponseData>> {
  const { url, target } = options;
  try {
    const response = await options.pools.forUrl(url).request({
      method: 'POST',
      path: url.pathname + url.search,
      // The operator's own headers go last: a proxy in front of the upstream may need its own.
      headers: target.extraHeaders ? { ...options.headers, ...target.extraHeaders } : options.headers,
      body: JSON.stringify(options.body),
      ...requestControls(target),
    });
    if (response.statusCode >= 400) {
      const text = await response.body.text().catch(() => '');
      return err(options.toError(response.statusCode, text, flattenHeaders(response.headers)));
    }
    return ok(response);
  } catch (cause) {
    return err(mapTransportError(options.provider, cause, target.signal));
  }
}

/**
 * Reads a JSON response body and checks it against the schema; a body that is not JSON or of
 * another shape is a non-retryable 502 naming the provider.
 */
export async function readJson<S extends z.ZodType>(
  provider: string,
  response: Dispatcher.ResponseData,
  schema: S,
  signal: AbortSignal | undefined,
): Promise<Result<z.output<S>>> {
  let payload: unknown;
  try {
    payload = await response.body.json();
  } catch (cause) {
    if (!(cause instanceof SyntaxError)) return err(mapTransportError(provider, cause, signal));
    return err(malformedUpstream(provider, 'a body that is not JSON'));
  }
  const parsed = schema.safeParse(payload);
  if (parsed.success) return ok(parsed.data);
  return err(malformedUpstream(provider, 'a response of unexpected shape'));
}

/**
 * An upstream response body as a web stream, pulled at the reader's pace. Cancelling it (the
 * client went away) destroys the socket's body. Used instead of `Readable.toWeb`, whose stream
 * can still receive data after a cancel and then throws from an event handler, where nothing
 * can catch it.
 */
export function bodyStream(body: Dispatcher.ResponseData['body']): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value as Uint8Array);
    },
    async cancel() {
      body.destroy();
      await chunks.return?.();
    },
  });
}
