import type { NewSpendLogRow } from '@gateway/db';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testRedis } from '../../test/support/backing-services.ts';
import { startTcpProxy } from '../../test/support/tcp-proxy.ts';
import { RedisSpendBuffer } from './redis-spend-buffer.ts';
import { SpendWriter } from './spend-writer.ts';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const row = (requestId: string): NewSpendLogRow => ({
  requestId,
  callType: 'acompletion',
  spend: '0.000001234',
  startTime: new Date('2026-11-22T10:00:00.123Z'),
  endTime: new Date('2026-11-22T10:00:01.456Z'),
  status: 'success',
});

/** A database stand-in that can be taken down, recording each batch and each row it accepted. */
function fakeDatabase() {
  const state = { up: true, written: [] as NewSpendLogRow[], batches: [] as number[] };
  const write = async (rowsJson: string) => {
    if (!state.up) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    // Read as the batch statement reads it: a JSON array of rows, dates as ISO strings.
    const rows = (JSON.parse(rowsJson) as NewSpendLogRow[]).map((r) => ({
      ...r,
      startTime: new Date(r.startTime),
      endTime: new Date(r.endTime),
    }));
    state.batches.push(rows.length);
    state.written.push(...rows);
  };
  return { state, write };
}

/** A client built as the gateway builds its own: prefixed, failing fast, reconnecting while Redis is away. */
async function gatewayClient(url: string, keyPrefix: string): Promise<Redis> {
  const client = new Redis(url, {
    keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 250,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

describe('RedisSpendBuffer (real Redis)', () => {
  let redis: Redis;
  let redisUrl: string;
  let prefix: string;
  const buffers: RedisSpendBuffer[] = [];

  beforeAll(async () => {
    const target = await testRedis();
    prefix = target.keyPrefix;
    redisUrl = target.url;
    redis = await gatewayClient(target.url, prefix);
  });
  afterAll(async () => {
    for (const buffer of buffers) await buffer.stop(1_000);
    if (!redis) return;
    const raw = redis.duplicate({ keyPrefix: '', enableOfflineQueue: true });
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    raw.disconnect();
    redis.disconnect();
  });

  async function startBuffer(
    streamName: string,
    write: (rowsJson: string) => Promise<void>,
    options: { claimIdleMs?: number; client?: Redis; maxBatchSize?: number } = {},
  ) {
    const writer = new SpendWriter({ write, logger, flushIntervalMs: 20 });
    const buffer = new RedisSpendBuffer({
      redis: options.client ?? redis,
      streamKey: `${prefix}${streamName}`,
      writer,
      logger,
      flushIntervalMs: 20,
      maxBackoffMs: 50,
      ...(options.claimIdleMs === undefined ? {} : { claimIdleMs: options.claimIdleMs }),
      ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
    });
    buffers.push(buffer);
    await buffer.start();
    return { buffer, writer };
  }

  /** The gateway's client, reaching Redis through a proxy the test can cut or mute. */
  async function throughProxy() {
    const base = new URL(redisUrl);
    const proxy = await startTcpProxy({ host: base.hostname, port: Number(base.port || 6379) });
    const client = await gatewayClient(`redis://127.0.0.1:${proxy.port}`, prefix);
    const close = async () => {
      client.disconnect();
      await proxy.close();
    };
    return { proxy, client, close };
  }

  /** Rows in a stream, whichever entries hold them. */
  const rowsInStream = async (name: string) => {
    let rows = 0;
    for (const [, fields] of await redis.xrange(name, '-', '+')) {
      const i = fields.indexOf('rows');
      rows += i >= 0 ? (JSON.parse(fields[i + 1]!) as unknown[]).length : 1;
    }
    return rows;
  };

  it('appends rows that end together as one entry, and still reads older entries', async () => {
    const db = fakeDatabase();
    db.state.up = false;
    const { buffer } = await startBuffer('entries', db.write, { maxBatchSize: 150 });
    for (let i = 0; i < 250; i++) buffer.enqueue(row(`turn-${i}`));
    await new Promise((r) => setImmediate(r));
    // At most 100 rows an entry.
    await vi.waitFor(async () => expect(await redis.xlen('entries')).toBe(3));
    expect(await rowsInStream('entries')).toBe(250);
    // Entries as earlier versions wrote them: one row in `row`, or `rows` without its count.
    await redis.xadd('entries', '*', 'row', JSON.stringify(row('old-format')));
    await redis.xadd('entries', '*', 'rows', JSON.stringify([row('old-rows-1'), row('old-rows-2')]));
    db.state.up = true;
    await vi.waitFor(async () => expect(await redis.xlen('entries')).toBe(0), { timeout: 5_000 });
    const written = db.state.written.map((r) => r.requestId);
    expect(new Set(written).size).toBe(253);
    expect(written).toEqual(expect.arrayContaining(['old-format', 'old-rows-1', 'old-rows-2']));
    // Entries are joined into batches of at most maxBatchSize rows, never split: five entries
    // (100, 100, 50, 1 and 2 rows) go in fewer batches than entries, none over 150.
    expect(Math.max(...db.state.batches)).toBeLessThanOrEqual(150);
    expect(db.state.batches.length).toBeLessThan(5);
    expect(db.state.batches.reduce((a, b) => a + b, 0)).toBe(253);
    expect(db.state.written.find((r) => r.requestId === 'old-format')!.startTime).toEqual(
      new Date('2026-11-22T10:00:00.123Z'),
    );
  });

  it('writes each appended row once, with its dates intact, and empties the stream', async () => {
    const db = fakeDatabase();
    const { buffer } = await startBuffer('once', db.write);
    for (let i = 0; i < 50; i++) buffer.enqueue(row(`once-${i}`));
    await buffer.flush();
    expect(db.state.written.map((r) => r.requestId).sort()).toEqual(
      Array.from({ length: 50 }, (_, i) => `once-${i}`).sort(),
    );
    expect(db.state.written[0]!.startTime).toEqual(new Date('2026-11-22T10:00:00.123Z'));
    expect(db.state.written[0]!.spend).toBe('0.000001234');
    expect(await redis.xlen('once')).toBe(0);
    expect(await buffer.depths()).toEqual({ memory: 0, redis: 0 });
  });

  it('keeps rows in the stream while the database is down and writes them when it returns', async () => {
    const db = fakeDatabase();
    db.state.up = false;
    const { buffer } = await startBuffer('outage', db.write);
    for (let i = 0; i < 20; i++) buffer.enqueue(row(`outage-${i}`));
    await vi.waitFor(async () => expect(await rowsInStream('outage')).toBe(20));
    await new Promise((r) => setTimeout(r, 200));
    expect(db.state.written).toHaveLength(0);
    // The 20 rows were enqueued in one turn: one entry.
    expect((await buffer.depths()).redis).toBe(1);
    db.state.up = true;
    await vi.waitFor(async () => expect(await redis.xlen('outage')).toBe(0), { timeout: 5_000 });
    expect(new Set(db.state.written.map((r) => r.requestId)).size).toBe(20);
  });

  it('another instance takes over what a dead instance had read but not written', async () => {
    const dead = fakeDatabase();
    dead.state.up = false;
    const first = await startBuffer('takeover', dead.write, { claimIdleMs: 300 });
    for (let i = 0; i < 10; i++) first.buffer.enqueue(row(`takeover-${i}`));
    // The first instance has read the entries (they are pending on it) but cannot write them.
    await vi.waitFor(async () => {
      const [pending] = (await redis.xpending('takeover', 'spend-writers')) as [number, ...unknown[]];
      expect(pending).toBe(1);
    });
    // It dies without a word: its loop stops, nothing is acknowledged.
    await first.buffer.stop(0);
    const alive = fakeDatabase();
    await startBuffer('takeover', alive.write, { claimIdleMs: 300 });
    await vi.waitFor(async () => expect(await redis.xlen('takeover')).toBe(0), { timeout: 15_000 });
    expect(alive.state.written.map((r) => r.requestId).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `takeover-${i}`).sort(),
    );
  });

  it('keeps rows in memory when Redis refuses the append, and writes them from there', async () => {
    // A client for a port where nothing listens: every append fails at once.
    const nowhere = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    nowhere.on('error', () => {});
    const db = fakeDatabase();
    const { buffer } = await startBuffer('unreachable', db.write, { client: nowhere });
    buffer.enqueue(row('fallback-1'));
    buffer.enqueue(row('fallback-2'));
    await buffer.flush(500);
    expect(db.state.written.map((r) => r.requestId)).toEqual(['fallback-1', 'fallback-2']);
    expect(await buffer.stop(500)).toBe(0);
  });

  it('stops within its deadline when Redis goes away, writing the rows kept in memory', async () => {
    const { proxy, client, close } = await throughProxy();
    try {
      const db = fakeDatabase();
      const { buffer } = await startBuffer('away', db.write, { client });
      buffer.enqueue(row('before-outage'));
      await buffer.flush();
      proxy.cut();
      await new Promise((r) => setTimeout(r, 100));
      buffer.enqueue(row('during-outage'));
      const started = Date.now();
      await buffer.flush(500);
      expect(await buffer.stop(1_000)).toBe(0);
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(db.state.written.map((r) => r.requestId)).toEqual(['before-outage', 'during-outage']);
    } finally {
      await close();
    }
  });

  it('reads again what it was handed just before a cut, without waiting for the claim timeout', async () => {
    const { proxy, client, close } = await throughProxy();
    try {
      const db = fakeDatabase();
      // The default claim timeout (30 s): only this consumer's own re-read can be in time.
      const { buffer } = await startBuffer('lost-reply', db.write, { client });
      buffer.enqueue(row('warm-up'));
      await buffer.flush();
      // Redis hands the next entry to this consumer, but the reply never arrives.
      proxy.mute();
      await redis.xadd('lost-reply', '*', 'rows', JSON.stringify([row('reply-lost')]), 'n', 1);
      await vi.waitFor(
        async () => {
          const [pending] = (await redis.xpending('lost-reply', 'spend-writers')) as [number];
          expect(pending).toBe(1);
        },
        { timeout: 2_000, interval: 20 },
      );
      proxy.cut();
      await new Promise((r) => setTimeout(r, 100));
      proxy.restore();
      await vi.waitFor(() => expect(db.state.written.map((r) => r.requestId)).toContain('reply-lost'), {
        timeout: 5_000,
        interval: 50,
      });
      expect(await buffer.stop(1_000)).toBe(0);
    } finally {
      await close();
    }
  });

  it('recreates its consumer group when Redis lost it (a restart without persistence)', async () => {
    const db = fakeDatabase();
    const { buffer } = await startBuffer('lost-group', db.write);
    buffer.enqueue(row('before'));
    await buffer.flush();
    await redis.del('lost-group');
    buffer.enqueue(row('after'));
    await vi.waitFor(() => expect(db.state.written.map((r) => r.requestId)).toContain('after'), {
      timeout: 5_000,
    });
  });
});
