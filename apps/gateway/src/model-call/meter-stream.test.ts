import type { StreamEvent } from '@gateway/providers';
import { describe, expect, it } from 'vitest';
import type { ModelCall } from '../request/request-event.ts';
import { type EventReader, meterStream, type StreamOutcome } from './meter-stream.ts';

const call = (): ModelCall =>
  ({ usage: {}, callType: 'acompletion', stream: true, tags: [] }) as unknown as ModelCall;

const batches: StreamEvent[][] = [
  [
    { type: 'start', id: 'chatcmpl-1', model: 'gpt-4o-mini', created: 1 },
    { type: 'text-delta', choice: 0, text: 'Hel' },
  ],
  [
    { type: 'text-delta', choice: 0, text: 'lo' },
    { type: 'finish', choice: 0, finishReason: 'stop' },
    { type: 'usage', usage: { inputTokens: 3, outputTokens: 2 } },
  ],
];

/** A source of these batches; `fail` makes the read after them throw. */
function source(items: StreamEvent[][], fail?: Error) {
  const seen = { cancelled: false };
  let i = 0;
  const stream = new ReadableStream<StreamEvent[]>({
    pull(controller) {
      const next = items[i++];
      if (next) controller.enqueue(next);
      else if (fail) controller.error(fail);
      else controller.close();
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

function metered(stream: ReadableStream<StreamEvent[]>, signal?: AbortSignal) {
  const ends: [StreamOutcome, string][] = [];
  const metered = call();
  const reader = meterStream(stream, metered, (result, text) => ends.push([result, text]), signal);
  return { reader, ends, call: metered };
}

async function readAll(reader: EventReader): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) events.push(...next.value);
  return events;
}

describe('meterStream', () => {
  it('passes batches through, records what they say and ends once with success', async () => {
    const { reader, ends, call } = metered(source(batches).stream);
    expect(await readAll(reader)).toEqual(batches.flat());
    expect(await reader.read()).toEqual({ done: true, value: undefined });
    expect(ends).toEqual([[{ outcome: 'success' }, 'Hello']]);
    expect(call).toMatchObject({
      providerResponseId: 'chatcmpl-1',
      responseModel: 'gpt-4o-mini',
      usage: { inputTokens: 3, outputTokens: 2 },
    });
    expect(call.firstTokenAt).toBeInstanceOf(Date);
  });

  it('ends with the failure an error event carried', async () => {
    const error = {
      kind: 'upstream_error',
      provider: 'openai',
      status: 502,
      message: 'cut',
      retryable: true,
    };
    const { reader, ends } = metered(
      source([[...batches[0]!, { type: 'error', error } as StreamEvent]]).stream,
    );
    await readAll(reader);
    expect(ends).toEqual([[{ outcome: 'failure', error }, 'Hel']]);
  });

  it('turns a failed read into a final error event and ends once with failure', async () => {
    const { reader, ends } = metered(source([batches[0]!], new Error('socket reset')).stream);
    const events = await readAll(reader);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { kind: 'internal' } });
    expect(ends).toHaveLength(1);
    expect(ends[0]![0]).toMatchObject({ outcome: 'failure' });
  });

  it('ends once as client_closed when the reader cancels, and cancels the source', async () => {
    const { stream, seen } = source(batches);
    const { reader, ends } = metered(stream);
    await reader.read();
    await reader.cancel();
    await reader.cancel();
    expect(seen.cancelled).toBe(true);
    expect(ends).toEqual([[{ outcome: 'client_closed' }, 'Hel']]);
  });

  it("ends as client_closed when the client's signal aborts, even one aborted before", async () => {
    for (const abortFirst of [false, true]) {
      const controller = new AbortController();
      if (abortFirst) controller.abort();
      const { stream, seen } = source(batches);
      const { ends } = metered(stream, controller.signal);
      controller.abort();
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen.cancelled).toBe(true);
      expect(ends).toEqual([[{ outcome: 'client_closed' }, '']]);
    }
  });
});
