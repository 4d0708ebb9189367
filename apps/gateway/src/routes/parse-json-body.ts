import { GatewayHttpError } from '../errors.ts';

/** The request's JSON body; a body that is not JSON is a 400 in the caller's dialect. */
export async function parseJsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayHttpError({ kind: 'invalid_request', message: 'Request body is not valid JSON.' });
  }
}
