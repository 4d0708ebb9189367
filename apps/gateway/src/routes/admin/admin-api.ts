import type { Context, Hono } from 'hono';
import { every } from 'hono/combine';
import { z } from 'zod';
import type { AppDeps, AppEnv, Caller } from '../../app-env.ts';
import { GatewayHttpError } from '../../errors.ts';
import { authenticate, requireAdmin } from '../../middleware/authenticate.ts';
import { clientRequest } from '../../middleware/client-request.ts';
import { CONTROL_CHARACTER, parseJsonBody } from '../parse-json-body.ts';

/** One admin endpoint: where it is, who may call it, and its request and response schemas. */
export interface AdminRouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: 'get' | 'post';
  /** Hono path (`/key/:key/regenerate`); the OpenAPI path is derived from it. */
  path: string;
  tag: string;
  summary: string;
  /** `admin`: the master key only. `caller`: any valid key; the handler checks ownership. */
  access: 'admin' | 'caller';
  body?: B;
  query?: Q;
  response: z.ZodType;
}

type Input<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface AdminHandlerInput<B, Q> {
  c: Context<AppEnv>;
  caller: Caller;
  body: Input<B>;
  query: Input<Q>;
}

/** The first schema issue as a 422 naming the field, FastAPI style. */
function validate<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.join('.') || undefined;
  throw new GatewayHttpError({
    kind: 'validation_error',
    message: `Invalid ${where}${param ? ` field ${param}` : ''}: ${issue?.message ?? 'invalid'}`,
    ...(param ? { param } : {}),
  });
}

/**
 * Registers admin routes on a Hono app with their auth, validation and JSON rendering, and
 * keeps their specs so `/openapi.json` describes exactly what is served.
 */
export class AdminApi {
  readonly specs: AdminRouteSpec<z.ZodType | undefined, z.ZodType | undefined>[] = [];

  constructor(
    private readonly app: Hono<AppEnv>,
    private readonly deps: AppDeps,
  ) {}

  route<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
    spec: AdminRouteSpec<B, Q>,
    handler: (input: AdminHandlerInput<B, Q>) => Promise<unknown>,
  ): void {
    this.specs.push(spec);
    const guard =
      spec.access === 'admin' ? every(authenticate(this.deps), requireAdmin()) : authenticate(this.deps);
    const handle = async (c: Context<AppEnv>) => {
      // Admin bodies become rows: a NUL anywhere would be refused by Postgres as a 500.
      const json = spec.body
        ? await parseJsonBody(clientRequest(c), { nulInStrings: true, kind: 'validation_error' })
        : undefined;
      const body = (spec.body ? validate(spec.body, json, 'body') : undefined) as Input<B>;
      const rawQuery = c.req.query();
      for (const [name, value] of Object.entries(rawQuery)) {
        if (CONTROL_CHARACTER.test(value) || CONTROL_CHARACTER.test(name)) {
          throw new GatewayHttpError({
            kind: 'validation_error',
            param: name.replace(/\p{Cc}/gu, ''),
            message: `Invalid query field ${JSON.stringify(name)}: control characters are not allowed`,
          });
        }
      }
      const query = (spec.query ? validate(spec.query, rawQuery, 'query') : undefined) as Input<Q>;
      const result = await handler({ c, caller: c.get('caller'), body, query });
      return result instanceof Response ? result : c.json(result as object);
    };
    if (spec.method === 'get') this.app.get(spec.path, guard, handle);
    else this.app.post(spec.path, guard, handle);
  }
}

/** Query-string booleans: `true`/`false` as LiteLLM's FastAPI parses them. */
export const queryBoolean = z
  .enum(['true', 'false', 'True', 'False', '1', '0'])
  .transform((value) => value === 'true' || value === 'True' || value === '1');
