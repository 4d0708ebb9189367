import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { clientRequest } from '../middleware/client-request.ts';
import type { CallInput } from '../model-call/model-call.ts';

/** A model route's call input: the route's own fields, and the caller and client request from Hono's context. */
export function callInput(
  c: Context<AppEnv>,
  fields: Pick<CallInput, 'modelName' | 'stream' | 'callType' | 'body'>,
): CallInput {
  const client = clientRequest(c);
  return {
    ...fields,
    caller: c.get('caller'),
    event: c.get('event'),
    headers: client.headers,
    signal: client.signal,
  };
}
