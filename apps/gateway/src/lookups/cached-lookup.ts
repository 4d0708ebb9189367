import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { InvalidationBus } from './invalidation-bus.ts';

export interface CachedLookupOptions<T> {
  /** Names the entity in cache keys and invalidation messages (`key`, `team`, `customer`). */
  namespace: string;
  /** Checks records read back from Redis. */
  schema: z.ZodType<T>;
  /** Reads the entity from the database; undefined when it does not exist. Rejects on failure. */
  load: (id: string) => Promise<T | undefined>;
  /** How long this instance trusts what it read (found entities). */
  memoryTtlMs: number;
  /** How long this instance remembers that an id does not exist. */
  missTtlMs: number;
  /** The shared cache, when Redis is configured. */
  shared?: { redis: Redis; ttlSeconds: number; onError: (error: unknown) => void };
  bus: InvalidationBus;
  maxEntries?: number;
}

// A writer that read the database just before a change can put the old value back into
// Redis after the first delete; a second delete shortly after clears that.
const SECOND_INVALIDATION_DELAY_MS = 300;
const INVALIDATION_ATTEMPTS = 3;

/**
 * An entity looked up by id on the request path: this instance's memory first, then Redis,
 * then the database. Concurrent misses for one id share one load. `invalidate` drops the
 * entry here, in Redis and (through the bus) on every other instance.
 * Ids are hashes or public ids, never secrets. Redis failures read as misses.
 */
export class CachedLookup<T> {
  readonly #memory = new Map<string, { value: T | null; expiresAt: number }>();
  readonly #inFlight = new Map<string, Promise<T | undefined>>();
  /**
   * Ids whose Redis copy may be stale: dropping it failed. They are read from the database,
   * not Redis, until a later drop succeeds (`retryUnconfirmed`).
   */
  readonly #unconfirmed = new Set<string>();
  readonly #maxEntries: number;

  constructor(private readonly options: CachedLookupOptions<T>) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    options.bus.subscribe((entry) => {
      const separator = entry.indexOf(':');
      if (entry.slice(0, separator) === options.namespace) this.evictLocal(entry.slice(separator + 1));
    });
    // Messages sent while this instance was not listening are lost: forget what it holds.
    options.bus.onResync(() => this.#memory.clear());
  }

  get namespace(): string {
    return this.options.namespace;
  }

  /** The entity, or undefined when it does not exist. */
  get(id: string): Promise<T | undefined> {
    const cached = this.#memory.get(id);
    if (cached && cached.expiresAt > Date.now()) return Promise.resolve(cached.value ?? undefined);
    let pending = this.#inFlight.get(id);
    if (!pending) {
      pending = this.#load(id).finally(() => this.#inFlight.delete(id));
      this.#inFlight.set(id, pending);
    }
    return pending;
  }

  async #load(id: string): Promise<T | undefined> {
    const shared = this.#unconfirmed.has(id) ? undefined : this.options.shared;
    if (shared) {
      try {
        const text = await shared.redis.get(this.#redisKey(id));
        // A record of another shape (written by an older or newer instance during a rolling
        // deploy) is a miss, not a crash.
        const parsed = text ? this.options.schema.safeParse(JSON.parse(text)) : undefined;
        if (parsed?.success) {
          this.#remember(id, parsed.data);
          return parsed.data;
        }
      } catch (error) {
        shared.onError(error);
      }
    }
    const value = await this.options.load(id);
    this.#remember(id, value ?? null);
    if (value !== undefined && shared) {
      // Filling the shared cache is not the caller's business: no need to wait for it.
      shared.redis
        .set(this.#redisKey(id), JSON.stringify(value), 'EX', shared.ttlSeconds)
        .catch(shared.onError);
    }
    return value;
  }

  #remember(id: string, value: T | null): void {
    if (this.#memory.size >= this.#maxEntries) {
      // Maps iterate in insertion order: the first entry is the oldest.
      const oldest = this.#memory.keys().next().value;
      if (oldest !== undefined) this.#memory.delete(oldest);
    }
    const ttl = value === null ? this.options.missTtlMs : this.options.memoryTtlMs;
    this.#memory.set(id, { value, expiresAt: Date.now() + ttl });
  }

  #redisKey(id: string): string {
    return `${this.options.namespace}:${id}`;
  }

  evictLocal(id: string): void {
    this.#memory.delete(id);
  }

  /** Drops the Redis copies; false (and the ids kept off Redis) when Redis did not take it. */
  async #dropShared(ids: string[]): Promise<boolean> {
    const shared = this.options.shared;
    if (!shared || ids.length === 0) return true;
    try {
      await shared.redis.del(...ids.map((id) => this.#redisKey(id)));
      for (const id of ids) this.#unconfirmed.delete(id);
      return true;
    } catch (error) {
      shared.onError(error);
      for (const id of ids) this.#unconfirmed.add(id);
      return false;
    }
  }

  /**
   * Drops the entity everywhere: here, in Redis, and on every other instance. Resolves to
   * whether every instance was told (the bus took the message); false when Redis was away after
   * a few tries, in which case the invalidation log reaches the others instead. Never rejects.
   */
  async invalidate(...ids: string[]): Promise<boolean> {
    if (ids.length === 0) return true;
    const drop = async () => {
      for (const id of ids) this.evictLocal(id);
      if (!(await this.#dropShared(ids))) throw new Error('redis did not take the delete');
      await Promise.all(ids.map((id) => this.options.bus.publish(`${this.options.namespace}:${id}`)));
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await drop();
        break;
      } catch (error) {
        this.options.shared?.onError(error);
        if (attempt >= INVALIDATION_ATTEMPTS) return false;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
    if (this.options.shared) {
      // Everywhere again: another instance may have read the stale copy before it went.
      setTimeout(
        () => void drop().catch((error) => this.options.shared?.onError(error)),
        SECOND_INVALIDATION_DELAY_MS,
      ).unref();
    }
    return true;
  }

  /** Applies an invalidation read from the log: drops the ids here and their Redis copies. */
  async applyLogged(ids: string[]): Promise<void> {
    for (const id of ids) this.evictLocal(id);
    await this.#dropShared(ids);
  }

  /** Tries again to drop Redis copies an earlier attempt could not. */
  async retryUnconfirmed(): Promise<void> {
    if (this.#unconfirmed.size > 0) await this.#dropShared([...this.#unconfirmed]);
  }
}
