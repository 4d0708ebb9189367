import type { Context } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';

/** The request's JSON body; a body that is not JSON is a 400 in the caller's dialect. */
export async function parseJsonBody(request: Pick<Request, 'text'>): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayHttpError({ kind: 'invalid_request', message: 'Request body is not valid JSON.' });
  }
}

/**
 * A model route's body: JSON checked against the route's schema. A mismatch is a 400 naming
 * the first offending field. Returns the raw object too (attribution reads fields the schema
 * does not name).
 */
export async function parseModelRequest<S extends z.ZodType>(
  request: Pick<Request, 'text'>,
  schema: S,
): Promise<{ raw: Record<string, unknown>; body: z.output<S> }> {
  const raw = await parseJsonBody(request);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.join('.') || undefined;
    throw new GatewayHttpError({
      kind: 'invalid_request',
      message: `Invalid request body: ${param ? `${param}: ` : ''}${issue?.message ?? 'invalid'}`,
      ...(param ? { param } : {}),
    });
  }
  return { raw: raw as Record<string, unknown>, body: parsed.data };
}

/**
 * A model call's JSON answer with the call's headers (which carry `x-litellm-call-id`). Built
 * as a plain Response with plain headers: `c.json()` would copy them into a web `Headers`
 * (and Node's server back out of it) for every call.
 */
export function modelJson(c: Context<AppEnv>, body: unknown, headers: Record<string, string>): Response {
  c.set('callIdSent', true);
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
