import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';

/**
 * The parts of the caller's request that model routes read, taken from Node's own request
 * when the gateway is served by Node. Reading them through Hono's web `Request` would build
 * a full `Request`, its `Headers` and a web body stream for every call (about 6% of the
 * gateway's CPU at 1,000 req/s); tests that call `app.request()` get the web `Request`'s.
 */
export interface ClientRequest {
  /** Read by lower-case name. */
  headers: Pick<Headers, 'get'>;
  /** Fires when the client goes away before its answer was fully written. */
  signal: AbortSignal;
  /** The body as text (read once); a body over the size limit is a 413 (`GatewayHttpError`). */
  text(): Promise<string>;
}

export function clientRequest(c: Context<AppEnv>): ClientRequest {
  let client = c.get('client');
  if (!client) {
    const node = c.env as Partial<HttpBindings> | undefined;
    const limit = c.get('maxRequestBytes') ?? Number.POSITIVE_INFINITY;
    client =
      node?.incoming && node.outgoing ? fromNode(node as HttpBindings, limit) : fromWeb(c.req.raw, limit);
    c.set('client', client);
  }
  return client;
}

/** The 413 for a body over `limit` bytes, in the caller's dialect (the error handler renders it). */
function tooLarge(limit: number): GatewayHttpError {
  const mb = Math.round((limit / 1024 / 1024) * 1000) / 1000;
  return new GatewayHttpError({
    kind: 'payload_too_large',
    message: `Request body is larger than this gateway accepts (max_request_size_mb: ${mb}).`,
  });
}

/** The declared length is over the limit: refused before a byte of the body is read. */
function declaredTooLarge(contentLength: string | null | undefined, limit: number): boolean {
  return contentLength != null && Number(contentLength) > limit;
}

function fromWeb(request: Request, limit: number): ClientRequest {
  return { headers: request.headers, signal: request.signal, text: () => limitedText(request, limit) };
}

/** A web request's body as text, or the 413 when it is over `limit` bytes. */
async function limitedText(request: Request, limit: number): Promise<string> {
  if (declaredTooLarge(request.headers.get('content-length'), limit)) throw tooLarge(limit);
  const text = await request.text();
  if (Buffer.byteLength(text) > limit) throw tooLarge(limit);
  return text;
}

function fromNode({ incoming, outgoing }: HttpBindings, limit: number): ClientRequest {
  let signal: AbortSignal | undefined;
  return {
    headers: {
      get(name) {
        const value = incoming.headers[name];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(', ') : value;
      },
    },
    get signal() {
      if (!signal) {
        const controller = new AbortController();
        signal = controller.signal;
        const abortIfCut = () => {
          if (!outgoing.writableFinished) controller.abort(new Error('The client closed the connection.'));
        };
        // Asked after the connection closed: its 'close' event has gone by already.
        if (outgoing.destroyed) abortIfCut();
        else outgoing.once('close', abortIfCut);
      }
      return signal;
    },
    text() {
      // A refused body is not kept: Node receives and discards the rest before the connection
      // serves another request. (Closing the connection would spare that, but a client still
      // uploading could then read a reset rather than the 413.)
      if (declaredTooLarge(incoming.headers['content-length'], limit)) return Promise.reject(tooLarge(limit));
      return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const onData = (chunk: Buffer) => {
          size += chunk.length;
          if (size <= limit) {
            chunks.push(chunk);
            return;
          }
          // Chunked and over the limit: stop keeping it (the server discards the rest).
          incoming.off('data', onData);
          chunks.length = 0;
          reject(tooLarge(limit));
        };
        incoming.on('data', onData);
        incoming.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        incoming.once('error', reject);
      });
    },
  };
}
