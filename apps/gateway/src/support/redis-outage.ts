import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

const PROBE_EVERY_MS = 1_000;

/**
 * Turns Redis failures into one log line per outage instead of one per request: the first
 * failure says Redis is unavailable and what falls back, later ones are only counted (by
 * operation, for `litellm_redis_fallbacks_total`), and when Redis answers again one line says
 * how long it was away and how much fell back. While an outage lasts Redis is pinged every
 * second, so the end of one is seen even when no connection dropped (a paused Redis).
 */
export class RedisOutage {
  readonly #fallbacks = new Map<string, number>();
  #since: number | undefined;
  #duringOutage = 0;
  #probe: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis | undefined,
    private readonly logger: Logger,
  ) {
    redis?.on('ready', () => this.answered());
  }

  /** Whether an outage is under way. */
  get ongoing(): boolean {
    return this.#since !== undefined;
  }

  /** Fallbacks so far, by operation (`cache`, `admission`, `settle`, `spend append`, …). */
  get fallbacks(): ReadonlyMap<string, number> {
    return this.#fallbacks;
  }

  /** A Redis operation failed and `operation` fell back (to the database, to this process). */
  failed(operation: string, error: unknown): void {
    this.#fallbacks.set(operation, (this.#fallbacks.get(operation) ?? 0) + 1);
    this.#duringOutage++;
    if (this.#since !== undefined) return;
    this.#since = Date.now();
    this.logger.warn(
      { err: error, operation },
      'redis unavailable: key lookups fall back to the database, budgets and limits to this instance’s counters, spend rows to memory; one line when it answers again (litellm_redis_fallbacks_total counts meanwhile)',
    );
    if (this.redis) {
      this.#probe = setInterval(() => {
        this.redis?.ping().then(
          () => this.answered(),
          () => {},
        );
      }, PROBE_EVERY_MS);
      this.#probe.unref();
    }
  }

  /** Redis answered: ends an outage under way, with one line. */
  answered(): void {
    if (this.#since === undefined) return;
    clearInterval(this.#probe);
    this.logger.info(
      { outageMs: Date.now() - this.#since, fallbacks: this.#duringOutage },
      'redis available again',
    );
    this.#since = undefined;
    this.#duringOutage = 0;
  }

  stop(): void {
    clearInterval(this.#probe);
  }
}
