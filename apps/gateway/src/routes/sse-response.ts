import type { ServerResponse } from 'node:http';
import type { Transformer } from 'node:stream/web';
import { collector, type StreamEvent } from '@gateway/providers';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import type { EventReader } from '../model-call/meter-stream.ts';

/**
 * A streamed answer: batches of events rendered as SSE text by `render` (synchronous), each
 * batch written as one chunk, so that what arrived together from the upstream goes out in one
 * write. Served by Node, it is written straight to Node's response (no web stream): the first
 * text at once, then what arrived in one turn of the event loop in one write, the last text with
 * the end of the body.
 */
export function sseResponse(
  c: Context<AppEnv>,
  events: EventReader,
  render: Transformer<StreamEvent, string>,
  headers: Record<string, string>,
): Response {
  c.set('callIdSent', true);
  const head = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...headers,
  };
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (outgoing) {
    try {
      // Here, not in writeSse: headers Node refuses reach the app's error handler (a 500 in the
      // caller's dialect) like any other failure of the route.
      outgoing.writeHead(200, head);
    } catch (error) {
      events.cancel(error).catch(() => {});
      throw error;
    }
    void writeSse(outgoing, events, sseText(render));
    return RESPONSE_ALREADY_SENT;
  }
  return new Response(sseBody(events, sseText(render)), { status: 200, headers: head });
}

/** `render` run by hand: a batch of events (or the end) -> the SSE text it makes, maybe empty. */
function sseText(render: Transformer<StreamEvent, string>) {
  const out = collector<string>();
  render.start?.(out.controller);
  return {
    of(batch: StreamEvent[]): string {
      for (const event of batch) render.transform?.(event, out.controller);
      return out.take().join('');
    },
    end(): string {
      render.flush?.(out.controller);
      return out.take().join('');
    },
  };
}

/** Rendered text that is written at once rather than at the end of the turn (characters). */
const WRITE_AT_ONCE = 64 * 1024;

async function writeSse(
  outgoing: ServerResponse,
  reader: EventReader,
  text: ReturnType<typeof sseText>,
): Promise<void> {
  // The client went away (or the response ended): stop reading, which ends the upstream call.
  const stop = () => {
    reader.cancel().catch(() => {});
  };
  // The first text is written as soon as it is rendered; after it, text is written once the
  // event loop's turn has read all that arrived, so chunks that came together leave in one
  // write. When nothing came in the first turn the headers leave alone, so a client waiting for
  // a slow first token knows the call was taken.
  let pending = '';
  let wrote = false;
  let wroteText = false;
  let turn: NodeJS.Immediate | undefined;
  const writeOut = () => {
    turn = undefined;
    if (outgoing.destroyed) return;
    // (`headersSent` turns true at writeHead, before anything is sent.)
    if (pending.length > 0) {
      outgoing.write(pending);
      wroteText = true;
    } else if (!wrote) outgoing.flushHeaders();
    wrote = true;
    pending = '';
  };
  try {
    if (outgoing.destroyed) {
      stop();
      return;
    }
    outgoing.once('close', stop);
    turn = setImmediate(writeOut);
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        clearImmediate(turn);
        const last = pending + text.end();
        if (!outgoing.destroyed) outgoing.end(last);
        break;
      }
      pending += text.of(next.value);
      if (!wroteText && pending.length > 0) {
        // The first text leaves at once: a stream's first byte does not wait for the end of the
        // turn (and the upstream's first read yields its first event alone).
        clearImmediate(turn);
        writeOut();
      } else if (pending.length >= WRITE_AT_ONCE) {
        // A turn that brought this much does not wait for its end: it would all sit in memory.
        clearImmediate(turn);
        writeOut();
      } else if (pending.length > 0) turn ??= setImmediate(writeOut);
      if (outgoing.writableNeedDrain) await drained(outgoing);
    }
  } catch (cause) {
    // A rendering bug or a failed write: cut the connection and end the upstream call.
    clearImmediate(turn);
    reader.cancel(cause).catch(() => {});
    outgoing.destroy(cause instanceof Error ? cause : new Error(String(cause)));
  } finally {
    outgoing.off('close', stop);
  }
}

/** Resolves when the client has taken what was written, or is gone. */
function drained(outgoing: ServerResponse): Promise<void> {
  if (outgoing.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      outgoing.off('drain', done);
      outgoing.off('close', done);
      resolve();
    };
    outgoing.once('drain', done);
    outgoing.once('close', done);
  });
}

const encoder = new TextEncoder();

/** The same as a web stream, for `app.request()` (no Node response to write to). */
function sseBody(reader: EventReader, text: ReturnType<typeof sseText>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // A batch may render to nothing (usage is held for the end): read on until one renders.
        for (;;) {
          const next = await reader.read();
          const chunk = next.done ? text.end() : text.of(next.value);
          if (chunk.length > 0) controller.enqueue(encoder.encode(chunk));
          if (next.done) controller.close();
          if (next.done || chunk.length > 0) return;
        }
      } catch (cause) {
        // The stream errors for the caller; the upstream call still ends.
        reader.cancel(cause).catch(() => {});
        throw cause;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
