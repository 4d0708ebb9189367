import { type Database, pruneInvalidations, readInvalidations } from '@gateway/db';
import type { Logger } from 'pino';
import { PeriodicJob } from '../support/periodic-job.ts';
import type { CachedLookup } from './cached-lookup.ts';
import type { InvalidationBus } from './invalidation-bus.ts';

/** How often every instance reads the log. */
export const INVALIDATION_POLL_MS = 1_000;
/**
 * How long after a change commits every instance that reaches Postgres has applied it from the
 * log: the poll that starts after the commit is at most one interval (plus a read) away.
 */
export const INVALIDATION_LOG_BOUND_MS = 2 * INVALIDATION_POLL_MS;
/**
 * The channel message naming log rows whose entries went out on the channel (no lookup has this
 * namespace, so instances of an older release ignore it).
 */
const APPLIED_PREFIX = '~log:';
/** A change whose transaction took longer than this to commit could be missed by a poll. */
const LATE_COMMIT_MARGIN_MS = 10_000;
const KEEP_ROWS_MS = 3600_000;
const PRUNE_EVERY_MS = 600_000;

/**
 * Reads the admin changes' invalidation log (`gateway_cache_invalidations`) every second and
 * drops what they made stale from this instance's memory and from Redis. The Redis channel
 * tells instances within milliseconds; this is what makes a revocation reach every instance
 * when that channel fails (Redis down or paused, a message lost while reconnecting), so a
 * deleted key stops working everywhere within INVALIDATION_LOG_BOUND_MS whatever Redis does.
 */
export class InvalidationLog {
  readonly #lookups = new Map<string, CachedLookup<unknown>>();
  /** Ids of rows applied recently (a read overlaps the previous one by the commit margin). */
  readonly #seen = new Map<number, number>();
  readonly #job: PeriodicJob<void>;
  #since: Date | undefined;
  #lastPruneMs = 0;
  #failing = false;

  constructor(
    private readonly db: Database,
    lookups: CachedLookup<unknown>[],
    private readonly logger: Logger,
    private readonly bus: InvalidationBus,
    pollMs = INVALIDATION_POLL_MS,
  ) {
    for (const lookup of lookups) this.#lookups.set(lookup.namespace, lookup);
    this.#job = new PeriodicJob(() => this.pollOnce(), pollMs, 0);
    // Rows whose invalidations the channel delivered are not applied a second time from the log:
    // that would drop, a second or so after every change, what instances just loaded again
    // (and, with Postgres away at that moment, leave keys unverifiable).
    bus.subscribe((entry) => {
      if (!entry.startsWith(APPLIED_PREFIX)) return;
      this.markApplied(entry.slice(APPLIED_PREFIX.length).split(',').map(Number));
    });
  }

  /** Log rows whose entries this instance has dropped already (through the channel, or its own change). */
  markApplied(ids: number[]): void {
    const now = Date.now();
    for (const id of ids) if (Number.isSafeInteger(id)) this.#seen.set(id, now);
  }

  /** Tells the other instances these log rows were delivered on the channel; best effort. */
  async announceApplied(ids: number[]): Promise<void> {
    this.markApplied(ids);
    if (ids.length > 0) await this.bus.publish(`${APPLIED_PREFIX}${ids.join(',')}`).catch(() => {});
  }

  /** Reads the log now, then every poll interval. */
  start(): void {
    this.#job.start();
  }

  stop(): Promise<void> {
    return this.#job.stop();
  }

  /** One read of the log; failures are logged once per run of failures and retried next time. */
  async pollOnce(): Promise<void> {
    try {
      const since = this.#since ? new Date(this.#since.getTime() - LATE_COMMIT_MARGIN_MS) : undefined;
      const { rows, readAt } = await readInvalidations(this.db, since);
      const fresh = rows.filter((row) => !this.#seen.has(row.id));
      const byNamespace = new Map<string, string[]>();
      for (const row of fresh) {
        this.#seen.set(row.id, Date.now());
        const separator = row.entry.indexOf(':');
        const namespace = row.entry.slice(0, separator);
        const ids = byNamespace.get(namespace) ?? [];
        ids.push(row.entry.slice(separator + 1));
        byNamespace.set(namespace, ids);
      }
      for (const [namespace, ids] of byNamespace) await this.#lookups.get(namespace)?.applyLogged(ids);
      for (const lookup of this.#lookups.values()) await lookup.retryUnconfirmed();
      // A row is read again only within the commit margin after the read that first saw it.
      const forgetBefore = Date.now() - 3 * LATE_COMMIT_MARGIN_MS;
      for (const [id, seenAt] of this.#seen) if (seenAt < forgetBefore) this.#seen.delete(id);
      this.#since = readAt;
      if (this.#failing) this.logger.info('cache invalidation log: reading again');
      this.#failing = false;
      if (readAt.getTime() - this.#lastPruneMs > PRUNE_EVERY_MS) {
        this.#lastPruneMs = readAt.getTime();
        await pruneInvalidations(this.db, new Date(readAt.getTime() - KEEP_ROWS_MS));
      }
    } catch (error) {
      if (!this.#failing) this.logger.warn({ err: error }, 'cache invalidation log: read failed; retrying');
      this.#failing = true;
    }
  }
}
