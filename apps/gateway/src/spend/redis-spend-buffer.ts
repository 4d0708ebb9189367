import { hostname } from 'node:os';
import type { NewSpendLogRow } from '@gateway/db';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisOutage } from '../support/redis-outage.ts';
import { TurnBatch } from '../support/turn-batch.ts';
import type { SpendQueue, SpendWriter } from './spend-writer.ts';

export interface RedisSpendBufferOptions {
  /**
   * The gateway's Redis client. The buffer opens two connections of its own from it, without
   * the client's key prefix (ioredis does not prefix every stream command), so `streamKey`
   * must be the full key.
   */
  redis: Redis;
  streamKey: string;
  /** Writes batches (`write`, idempotent per request id) and holds rows Redis refused. */
  writer: SpendWriter;
  logger: Logger;
  /** Longest wait for new entries between batches, ms. */
  flushIntervalMs: number;
  maxBatchSize?: number;
  /** Entries another consumer read but did not acknowledge for this long are taken over, ms. */
  claimIdleMs?: number;
  maxBackoffMs?: number;
  /** Counts Redis failures as one outage instead of a log line each. */
  outage?: RedisOutage;
}

type StreamEntry = [id: string, fields: string[]];
const GROUP = 'spend-writers';
/** Most rows in one stream entry (a read of `maxBatchSize` entries stays a bounded amount of work). */
const ROWS_PER_ENTRY = 100;
/**
 * Rows are gathered this long after the first before they are appended: at a few hundred calls
 * a second an append per call cost Redis and this process more than the rows themselves. A row
 * waits in memory this much longer before Redis has it.
 */
const ENTRY_GATHER_MS = 10;

/**
 * A durable spend queue: rows are appended to a Redis stream (XADD, one entry for the rows that
 * ended within ENTRY_GATHER_MS) off the request path,
 * and every instance reads the stream through one consumer group, writes what it read to
 * Postgres, and only then acknowledges and deletes the entries. A row therefore survives the
 * process that served the request: if that process dies between read and write, another
 * instance claims the entries once they have been idle for `claimIdleMs`. Delivery is at least
 * once; the database write is idempotent per request id, so a redelivery never counts twice.
 * While Postgres is down entries simply stay in the stream; while Redis is down rows go to the
 * in-process writer instead, so nothing accepted is dropped either way.
 */
export class RedisSpendBuffer implements SpendQueue {
  readonly #producer: Redis;
  readonly #reader: Redis;
  readonly #consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly #maxBatchSize: number;
  readonly #claimIdleMs: number;
  readonly #maxBackoffMs: number;
  readonly #appends = new Set<Promise<unknown>>();
  /** The rows that ended within ENTRY_GATHER_MS go to the stream as one entry. */
  readonly #entries = new TurnBatch<NewSpendLogRow, true>(
    ROWS_PER_ENTRY,
    async (rows) => {
      await this.#producer.xadd(this.options.streamKey, '*', 'rows', JSON.stringify(rows), 'n', rows.length);
      return rows.map(() => true as const);
    },
    ENTRY_GATHER_MS,
  );
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #failures = 0;
  #groupReady = false;
  #lastClaimAt = 0;
  #claimCursor = '0-0';
  /** This consumer holds entries it read but has not written yet (a write failed). */
  #holdsPending = false;
  /** Serialises reads and writes of this instance: the loop and flush() never overlap. */
  #cycle: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RedisSpendBufferOptions) {
    this.#maxBatchSize = options.maxBatchSize ?? 500;
    this.#claimIdleMs = options.claimIdleMs ?? 30_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5_000;
    // Appends fail fast like every request-path command; the reader waits out an outage.
    this.#producer = options.redis.duplicate({ keyPrefix: '' });
    this.#reader = options.redis.duplicate({
      keyPrefix: '',
      lazyConnect: true,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
      // Without a timeout, a read cut off by a reconnect must be sent again, or it never settles.
      autoResendUnfulfilledCommands: true,
    });
    for (const client of [this.#producer, this.#reader])
      client.on('error', (error) => options.logger.debug({ err: error }, 'spend stream connection error'));
    // A read cut off may have been served: Redis handed its entries to this consumer and the
    // reply was lost. They are this consumer's pending entries now, so read those first.
    this.#reader.on('close', () => {
      this.#holdsPending = true;
    });
  }

  enqueue(row: NewSpendLogRow): void {
    const append = this.#entries
      .add(row)
      .catch((error) => {
        // Redis is away: keep the row in this process rather than lose it.
        if (this.options.outage) this.options.outage.failed('spend append', error);
        else this.options.logger.warn({ err: error }, 'spend stream append failed; row kept in memory');
        this.options.writer.enqueue(row);
      })
      .finally(() => this.#appends.delete(append));
    this.#appends.add(append);
  }

  /** Connects and starts the reading loop; without Redis it still starts (rows go to memory). */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.options.writer.start();
    await this.#producer
      .connect()
      .catch((error) => this.options.logger.warn({ err: error }, 'spend stream unreachable at start'));
    this.#loop = this.#run();
  }

  async depths(): Promise<{ memory: number; redis: number | null }> {
    const memory = this.options.writer.depth;
    const redis = await this.#producer.xlen(this.options.streamKey).catch(() => null);
    return { memory, redis };
  }

  /**
   * Writes every row appended so far by anyone: resolves once the stream is empty, when a write
   * fails, when Redis is not connected, or after `deadlineMs` (entries another instance is
   * writing may take that long). Never waits on Redis beyond the deadline.
   */
  async flush(deadlineMs = 10_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    this.#entries.flush();
    await within(deadline, Promise.all([...this.#appends]));
    await within(deadline, this.options.writer.flush());
    while (Date.now() < deadline && this.#readerUp()) {
      const failuresBefore = this.#failures;
      const written = await within(
        deadline,
        this.#serialised(() => this.#readAndWrite('any')).catch(() => -1),
      );
      if (written === undefined || written < 0 || this.#failures > failuresBefore) return;
      if (written > 0) continue;
      if ((await this.#producer.xlen(this.options.streamKey).catch(() => 0)) === 0) return;
      await sleep(20);
    }
  }

  /**
   * Stops reading and writes, within the deadline, first the rows that fell back to this
   * process's memory (the only ones that die with it), then the entries this instance had read
   * but not written. Everything else stays in the stream for the other instances or the next
   * start. Never waits on Redis beyond the deadline. Resolves to the number of rows lost.
   */
  async stop(deadlineMs: number): Promise<number> {
    const deadline = Date.now() + deadlineMs;
    this.#running = false;
    this.#wake?.();
    this.#entries.flush();
    await within(deadline, Promise.all([...this.#appends]));
    const lost = await this.options.writer.stop(Math.max(0, deadline - Date.now()));
    const loopEnded =
      (await within(
        deadline,
        this.#loop?.then(() => true),
      )) === true;
    if (loopEnded && this.#holdsPending && this.#readerUp()) {
      await within(
        deadline,
        this.#serialised(() => this.#readAndWrite('own')).catch(() => 0),
      );
    }
    const left = await within(
      deadline,
      this.#producer.xlen(this.options.streamKey).catch(() => null),
    );
    if (left)
      this.options.logger.info({ rows: left }, 'spend rows left in the Redis stream for the next writer');
    this.#reader.disconnect();
    this.#producer.disconnect();
    return lost;
  }

  /** False while the reader is reconnecting (Redis away): commands would only queue up. */
  #readerUp(): boolean {
    return !['reconnecting', 'close', 'end'].includes(this.#reader.status);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let written = 0;
      const failuresBefore = this.#failures;
      try {
        written = await this.#serialised(() => this.#readAndWrite('wait'));
      } catch (error) {
        this.#failures += 1;
        if (this.options.outage) this.options.outage.failed('spend read', error);
        else this.options.logger.warn({ err: error }, 'spend stream read failed');
      }
      if (!this.#running) return;
      if (this.#failures > failuresBefore) {
        await this.#pause(Math.min(this.#maxBackoffMs, 250 * 2 ** Math.min(this.#failures, 10)));
      } else if (written < this.#maxBatchSize) {
        // Let rows gather into the next batch instead of one transaction per request.
        await this.#pause(this.options.flushIntervalMs);
      }
    }
  }

  #serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#cycle.then(work, work);
    this.#cycle = next.catch(() => {});
    return next;
  }

  /**
   * One batch: entries this consumer still holds, else (unless `own`) entries a dead consumer
   * left, else new ones (waiting up to the flush interval for them with `wait`). Returns how many
   * were written; a failed database write leaves them pending for the next attempt.
   */
  async #readAndWrite(mode: 'wait' | 'any' | 'own'): Promise<number> {
    let entries: StreamEntry[];
    try {
      await this.#ensureGroup();
      entries = await this.#nextEntries(mode);
    } catch (error) {
      // Redis restarted without its data: the group is gone, so make it again next time.
      if (String(error).includes('NOGROUP')) this.#groupReady = false;
      throw error;
    }
    if (entries.length === 0) return 0;
    const batches = batchesOf(entries, this.#maxBatchSize);
    try {
      for (const batch of batches) await this.options.writer.write(batch.json);
    } catch (error) {
      this.#holdsPending = true;
      this.#failures += 1;
      this.options.logger.error(
        { err: error, rows: batches.reduce((sum, batch) => sum + batch.rows, 0) },
        'spend batch write failed; rows stay in the Redis stream',
      );
      return 0;
    }
    if (this.#failures > 0) this.options.logger.info('spend writes recovered');
    this.#failures = 0;
    const ids = entries.map(([id]) => id);
    await this.#reader
      .multi()
      .xack(this.options.streamKey, GROUP, ...ids)
      .xdel(this.options.streamKey, ...ids)
      .exec();
    // Only once acknowledged: entries written but not acknowledged are read again (harmless).
    this.#holdsPending = false;
    return entries.length;
  }

  async #nextEntries(mode: 'wait' | 'any' | 'own'): Promise<StreamEntry[]> {
    const { streamKey } = this.options;
    const count = String(this.#maxBatchSize);
    if (this.#holdsPending || mode === 'own') {
      const mine = await this.#read(['COUNT', count, 'STREAMS', streamKey, '0']);
      if (mine.length > 0 || mode === 'own') return mine;
      this.#holdsPending = false;
    }
    if (Date.now() - this.#lastClaimAt >= Math.min(this.#claimIdleMs, 10_000)) {
      this.#lastClaimAt = Date.now();
      const [cursor, claimed] = (await this.#reader.xautoclaim(
        streamKey,
        GROUP,
        this.#consumer,
        this.#claimIdleMs,
        this.#claimCursor,
        'COUNT',
        count,
      )) as [string, (StreamEntry | null)[]];
      // The scan resumes where it stopped, so idle entries behind many live ones are reached too.
      this.#claimCursor = cursor;
      // Redis 6.2 returns entries deleted meanwhile as null (7 drops them).
      const live = claimed.filter((entry): entry is StreamEntry => entry !== null && entry[1] !== null);
      if (live.length > 0) {
        this.#holdsPending = true;
        return live;
      }
    }
    // A short wait, so stopping never waits long on an idle stream (BLOCK 0 would wait forever).
    const wait =
      mode === 'wait' ? ['BLOCK', String(Math.max(1, Math.min(this.options.flushIntervalMs, 1_000)))] : [];
    return this.#read(['COUNT', count, ...wait, 'STREAMS', streamKey, '>']);
  }

  async #read(args: string[]): Promise<StreamEntry[]> {
    const reply = (await this.#reader.call('XREADGROUP', 'GROUP', GROUP, this.#consumer, ...args)) as
      | [string, StreamEntry[]][]
      | null;
    // Entries deleted while pending come back with no fields; they were already written.
    return (reply?.[0]?.[1] ?? []).filter(([, fields]) => fields !== null);
  }

  async #ensureGroup(): Promise<void> {
    if (this.#groupReady) return;
    try {
      // From the stream's start: entries appended before any group existed are spend too.
      await this.#reader.xgroup('CREATE', this.options.streamKey, GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
    this.#groupReady = true;
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * An entry's rows as the inside of a JSON array, and how many: `rows` (a JSON array, with its
 * length in `n`), or `row` (one row, as written by earlier versions, which also wrote `rows`
 * without `n`). The rows are never parsed on the way to the database, except to count them in
 * an entry of an earlier version.
 */
function rowsOf(fields: string[]): { json: string; rows: number } {
  const one = fieldValue(fields, 'row');
  if (one !== undefined) return { json: one, rows: 1 };
  const many = fieldValue(fields, 'rows') ?? '[]';
  const count = fieldValue(fields, 'n');
  return {
    json: many.slice(many.indexOf('[') + 1, many.lastIndexOf(']')).trim(),
    rows: count === undefined ? (JSON.parse(many) as unknown[]).length : Number(count),
  };
}

/**
 * The entries' rows as JSON arrays of at most `maxRows` rows each, joined as text: the database
 * gets them in batches of the usual size. An entry is never split, so one holding more than
 * `maxRows` (up to ROWS_PER_ENTRY) is a batch of its own.
 */
function batchesOf(entries: StreamEntry[], maxRows: number): { json: string; rows: number }[] {
  const batches: { json: string; rows: number }[] = [];
  let parts: string[] = [];
  let rows = 0;
  const close = () => {
    if (rows > 0) batches.push({ json: `[${parts.join(',')}]`, rows });
    parts = [];
    rows = 0;
  };
  for (const [, fields] of entries) {
    const entry = rowsOf(fields);
    if (entry.rows === 0) continue;
    if (rows > 0 && rows + entry.rows > maxRows) close();
    parts.push(entry.json);
    rows += entry.rows;
  }
  close();
  return batches;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The promise's value, or undefined once the deadline passes first. */
async function within<T>(deadline: number, promise: Promise<T> | undefined): Promise<T | undefined> {
  if (!promise) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
