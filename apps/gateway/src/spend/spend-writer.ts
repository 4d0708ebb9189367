import type { NewSpendLogRow } from '@gateway/db';
import type { Logger } from 'pino';

export interface SpendWriterOptions {
  /**
   * Writes one batch: a JSON array of rows as `JSON.stringify` writes them (dates as ISO
   * strings), the form the Redis spend stream stores, so its batches go in without being parsed.
   * Must be idempotent per `request_id` (a retried batch may repeat rows).
   */
  write: (rowsJson: string) => Promise<unknown>;
  logger: Logger;
  /** How often queued rows are written, ms. */
  flushIntervalMs: number;
  maxBatchSize?: number;
  /** Longest pause between retries while the database is down, ms. */
  maxBackoffMs?: number;
}

/** Where the request path hands its spend rows: never blocks, never touches the database. */
export interface SpendQueue {
  enqueue(row: NewSpendLogRow): void;
  /** Writes everything queued so far; resolves when that is done, a write failed, or the deadline passed. */
  flush(deadlineMs?: number): Promise<void>;
  /** Stops and drains within the deadline; resolves to the number of rows lost. */
  stop(deadlineMs: number): Promise<number>;
  /** Rows waiting in this process, and entries (a few rows each) in Redis (null without Redis or while it is away). */
  depths(): Promise<{ memory: number; redis: number | null }>;
}

/**
 * Takes spend rows off the request path and writes them in batches. A failed batch stays at
 * the head of the queue and is retried with backoff, so rows wait out a database outage
 * instead of being lost; the write is idempotent so a retry never counts a request twice.
 * The queue lives in this process: rows still queued when the process dies are lost, which is
 * why a gateway with Redis puts a durable stream in front of it (redis-spend-buffer.ts).
 */
export class SpendWriter implements SpendQueue {
  readonly #queue: NewSpendLogRow[] = [];
  readonly #maxBatchSize: number;
  readonly #maxBackoffMs: number;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #failures = 0;
  #nextAttemptAt = 0;
  #rejected = 0;

  constructor(private readonly options: SpendWriterOptions) {
    this.#maxBatchSize = options.maxBatchSize ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5_000;
  }

  /** Rows waiting to be written. */
  get depth(): number {
    return this.#queue.length;
  }

  async depths(): Promise<{ memory: number; redis: number | null }> {
    return { memory: this.#queue.length, redis: null };
  }

  /** Queues a row; never blocks and never touches the database. */
  enqueue(row: NewSpendLogRow): void {
    this.#queue.push(row);
  }

  start(): void {
    this.#timer ??= setInterval(() => {
      if (Date.now() >= this.#nextAttemptAt) void this.flush();
    }, this.options.flushIntervalMs);
    this.#timer.unref();
  }

  /** Writes everything queued so far. Resolves when the queue is empty or a write failed. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#maxBatchSize);
      try {
        await this.write(JSON.stringify(batch));
        this.#queue.splice(0, batch.length);
        if (this.#failures > 0)
          this.options.logger.info({ queued: this.#queue.length }, 'spend writes recovered');
        this.#failures = 0;
        this.#nextAttemptAt = 0;
      } catch (error) {
        this.#failures += 1;
        const backoffMs = Math.min(this.#maxBackoffMs, 250 * 2 ** Math.min(this.#failures, 10));
        this.#nextAttemptAt = Date.now() + backoffMs;
        this.options.logger.error(
          { err: error, queued: this.#queue.length, retryInMs: backoffMs },
          'spend batch write failed; rows stay queued',
        );
        return;
      }
    }
  }

  /**
   * Writes a batch (a JSON array of rows, as `options.write` takes it). If the database refuses it for its data (a constraint or a value it cannot
   * store), the rows are written one by one and only the rows it refuses are set aside, logged
   * whole so they can be replayed: one bad row must never hold back everyone else's spend.
   * Connection failures still reject, so the caller keeps the batch and retries it.
   */
  async write(rowsJson: string): Promise<void> {
    try {
      await this.options.write(rowsJson);
      return;
    } catch (error) {
      if (!isDataError(error)) throw error;
    }
    for (const row of JSON.parse(rowsJson) as unknown[]) {
      try {
        await this.options.write(JSON.stringify([row]));
      } catch (error) {
        if (!isDataError(error)) throw error;
        this.#rejected += 1;
        this.options.logger.error({ err: error, row }, 'spend row refused by the database; set aside');
      }
    }
  }

  /** Rows the database refused for their content since start. */
  get rejected(): number {
    return this.#rejected;
  }

  /**
   * Stops the timer and writes what is queued, retrying until the queue is empty or the
   * deadline passes. Returns how many rows could not be written.
   */
  async stop(deadlineMs: number): Promise<number> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const deadline = Date.now() + deadlineMs;
    while (this.#queue.length > 0 && Date.now() < deadline) {
      await this.flush();
      if (this.#queue.length > 0)
        await new Promise((r) => setTimeout(r, Math.min(500, deadline - Date.now())));
    }
    if (this.#queue.length > 0) {
      this.options.logger.error(
        { lost: this.#queue.length },
        'spend rows could not be written before shutdown',
      );
    }
    return this.#queue.length;
  }
}

/** SQLSTATE class 22 (data exception) or 23 (integrity constraint): retrying cannot help. */
function isDataError(error: unknown): boolean {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
  }
  return false;
}
