import type { Context } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';

/** How deep a request's JSON may nest (objects and arrays in one another). */
export const MAX_JSON_DEPTH = 128;
// Names reach headers (`x-gateway-dropped-params`), logs and rows: no control characters.
export const CONTROL_CHARACTER = /\p{Cc}/u;

export interface JsonOffence {
  /** Where, as `a.0.b` (a name with control characters in it is shown JSON-quoted). */
  path: string;
  problem: string;
}

/**
 * The first thing in a parsed JSON value that must not go further: nesting deeper than
 * MAX_JSON_DEPTH (whatever walks or serialises it next would overflow the stack), an object key
 * with a control character in it, and with `nulInStrings` a string holding NUL (Postgres text
 * and jsonb cannot store it). Undefined when there is none. Recursion is bounded by the depth
 * limit; string contents are only scanned with `nulInStrings`.
 */
export function findJsonOffence(value: unknown, nulInStrings = false): JsonOffence | undefined {
  const visit = (
    node: unknown,
    depth: number,
  ): { path: (string | number)[]; problem: string } | undefined => {
    if (typeof node === 'string')
      return nulInStrings && node.includes('\u0000')
        ? { path: [], problem: 'holds a NUL character' }
        : undefined;
    if (node === null || typeof node !== 'object') return undefined;
    if (depth >= MAX_JSON_DEPTH) return { path: [], problem: `nests deeper than ${MAX_JSON_DEPTH} levels` };
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const found = visit(node[i], depth + 1);
        if (found) {
          found.path.unshift(i);
          return found;
        }
      }
      return undefined;
    }
    for (const key in node) {
      if (CONTROL_CHARACTER.test(key)) return { path: [key], problem: 'is a name with a control character' };
      const found = visit((node as Record<string, unknown>)[key], depth + 1);
      if (found) {
        found.path.unshift(key);
        return found;
      }
    }
    return undefined;
  };
  const found = visit(value, 0);
  if (!found) return undefined;
  const path = found.path
    .map((part) => (typeof part === 'string' && CONTROL_CHARACTER.test(part) ? JSON.stringify(part) : part))
    .join('.');
  return { path, problem: found.problem };
}

/**
 * Parses a JSON body and checks it with findJsonOffence; not JSON, or an offence, is a 400
 * (`invalid_request`, or the given kind) naming where.
 */
export function parseJsonText(
  text: string,
  options: { nulInStrings?: boolean; kind?: 'invalid_request' | 'validation_error' } = {},
): unknown {
  const kind = options.kind ?? 'invalid_request';
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayHttpError({ kind, message: 'Request body is not valid JSON.' });
  }
  const offence = findJsonOffence(value, options.nulInStrings);
  if (offence) {
    throw new GatewayHttpError({
      kind,
      message: `Invalid request body: ${offence.path || 'the body'} ${offence.problem}.`,
      ...(offence.path ? { param: offence.path } : {}),
    });
  }
  return value;
}

/** The request's JSON body, checked by parseJsonText; a 400 in the caller's dialect otherwise. */
export async function parseJsonBody(
  request: Pick<Request, 'text'>,
  options: Parameters<typeof parseJsonText>[1] = {},
): Promise<unknown> {
  return parseJsonText(await request.text(), options);
}

/** A body's first schema issue as a 400 naming the field (`prefix` leads the message). */
export function schemaRefusal(error: z.ZodError, prefix = 'Invalid request body: '): GatewayHttpError {
  const issue = error.issues[0];
  const param = issue?.path.join('.') || undefined;
  return new GatewayHttpError({
    kind: 'invalid_request',
    message: `${prefix}${param ? `${param}: ` : ''}${issue?.message ?? 'invalid'}`,
    ...(param ? { param } : {}),
  });
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
  if (!parsed.success) throw schemaRefusal(parsed.error);
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
