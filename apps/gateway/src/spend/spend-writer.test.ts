import type { NewSpendLogRow } from '@gateway/db';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SpendWriter } from './spend-writer.ts';

/** The request ids of a batch as the writer hands it over (a JSON array of rows). */
const idsOf = (rowsJson: string) => (JSON.parse(rowsJson) as NewSpendLogRow[]).map((r) => r.requestId);

const row = (requestId: string): NewSpendLogRow => ({
  requestId,
  callType: 'acompletion',
  startTime: new Date(),
  endTime: new Date(),
  status: 'success',
});

describe('SpendWriter', () => {
  it('keeps rows queued while writes fail and writes them once the database is back', async () => {
    const written: string[] = [];
    let up = false;
    const writer = new SpendWriter({
      logger: pino({ level: 'silent' }),
      flushIntervalMs: 10_000,
      write: async (rowsJson) => {
        if (!up) throw new Error('connection refused');
        written.push(...idsOf(rowsJson));
      },
    });
    writer.enqueue(row('a'));
    writer.enqueue(row('b'));
    await writer.flush();
    expect(writer.depth).toBe(2);
    up = true;
    await writer.flush();
    expect(writer.depth).toBe(0);
    expect(written).toEqual(['a', 'b']);
  });

  it('writes in batches of at most maxBatchSize', async () => {
    const batches: number[] = [];
    const writer = new SpendWriter({
      logger: pino({ level: 'silent' }),
      flushIntervalMs: 10_000,
      maxBatchSize: 2,
      write: async (rowsJson) => {
        batches.push(idsOf(rowsJson).length);
      },
    });
    for (const id of ['a', 'b', 'c', 'd', 'e']) writer.enqueue(row(id));
    await writer.flush();
    expect(batches).toEqual([2, 2, 1]);
  });

  it('drains the queue on stop and reports what it could not write', async () => {
    const writer = new SpendWriter({
      logger: pino({ level: 'silent' }),
      flushIntervalMs: 10_000,
      write: async () => {
        throw new Error('still down');
      },
    });
    writer.start();
    writer.enqueue(row('a'));
    expect(await writer.stop(50)).toBe(1);
  });
});

describe('SpendWriter with a row the database refuses', () => {
  it('sets that row aside and writes the others', async () => {
    const written: string[] = [];
    const writer = new SpendWriter({
      logger: pino({ level: 'silent' }),
      flushIntervalMs: 10_000,
      write: async (rowsJson) => {
        if (idsOf(rowsJson).includes('bad')) {
          throw Object.assign(new Error('invalid byte sequence'), { code: '22021' });
        }
        written.push(...idsOf(rowsJson));
      },
    });
    for (const id of ['a', 'bad', 'b']) writer.enqueue(row(id));
    await writer.flush();
    expect(written).toEqual(['a', 'b']);
    expect(writer.depth).toBe(0);
    expect(writer.rejected).toBe(1);
  });
});
