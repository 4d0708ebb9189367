import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.ts';
import type { FinishRequestEvent } from '../request/finish-request-event.ts';

/**
 * Opens the request's wide event and closes it when the response is ready, unless a
 * streaming handler took that over (`event.deferred`). The call id is always ours: it keys
 * the spend row, so a client must not be able to choose it (and collide with another row).
 */
export function requestContext(
  finish: FinishRequestEvent,
  maxRequestBytes = Number.POSITIVE_INFINITY,
  lifecycle?: { open: number },
): MiddlewareHandler<AppEnv> {
  return async function requestContextMiddleware(c, next) {
    const event = { requestId: randomUUID(), method: c.req.method, path: c.req.path, startedAt: new Date() };
    // Closed by finish(), here or when a stream ends: shutdown waits for these.
    if (lifecycle) lifecycle.open++;
    c.set('event', event);
    c.set('maxRequestBytes', maxRequestBytes);
    await next();
    // Model routes send it themselves: reading c.res.headers would copy theirs into a web Headers.
    if (!c.get('callIdSent')) c.res.headers.set('x-litellm-call-id', event.requestId);
    if (!c.get('event').deferred) finish(c.get('event'), c.res.status);
  };
}
