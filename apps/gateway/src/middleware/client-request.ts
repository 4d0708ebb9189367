import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';

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
  /** The body as text (read once). */
  text(): Promise<string>;
}

export function clientRequest(c: Context<AppEnv>): ClientRequest {
  let client = c.get('client');
  if (!client) {
    const node = c.env as Partial<HttpBindings> | undefined;
    client = node?.incoming && node.outgoing ? fromNode(node as HttpBindings) : fromWeb(c.req.raw);
    c.set('client', client);
  }
  return client;
}

function fromWeb(request: Request): ClientRequest {
  return { headers: request.headers, signal: request.signal, text: () => request.text() };
}

function fromNode({ incoming, outgoing }: HttpBindings): ClientRequest {
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
      return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        incoming.once('error', reject);
      });
    },
  };
}
