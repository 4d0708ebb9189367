import type { Redis } from 'ioredis';

/**
 * What auth needs of a virtual key, in a form that survives JSON (Redis). Money stays a
 * decimal string.
 */
export interface KeyRecord {
  tokenHash: string;
  keyName: string | null;
  keyAlias: string | null;
  spend: string;
  maxBudget: string | null;
  models: string[];
  /** Expiry as epoch ms; null = never. */
  expiresAtMs: number | null;
  blocked: boolean;
  userId: string | null;
  teamId: string | null;
  organizationId: string | null;
  metadata: Record<string, unknown>;
  tpmLimit: number | null;
  rpmLimit: number | null;
}

export interface KeyCache {
  get(tokenHash: string): Promise<KeyRecord | undefined>;
  set(record: KeyRecord): Promise<void>;
  delete(tokenHash: string): Promise<void>;
}

/** Per-instance cache with a short TTL, so the hot path usually costs one Map lookup. */
export class MemoryKeyCache implements KeyCache {
  readonly #entries = new Map<string, { record: KeyRecord; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  /** Synchronous read for the hot path. */
  peek(tokenHash: string): KeyRecord | undefined {
    const entry = this.#entries.get(tokenHash);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(tokenHash);
      return undefined;
    }
    return entry.record;
  }

  async get(tokenHash: string): Promise<KeyRecord | undefined> {
    return this.peek(tokenHash);
  }

  async set(record: KeyRecord): Promise<void> {
    // Maps iterate in insertion order: dropping the first entry evicts the oldest.
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(record.tokenHash, { record, expiresAt: Date.now() + this.ttlMs });
  }

  async delete(tokenHash: string): Promise<void> {
    this.#entries.delete(tokenHash);
  }
}

/**
 * Cache shared by all instances. Entries are keyed by the key's hash, never the raw key.
 * Redis failures read as misses: the database answers instead and no request waits on Redis.
 */
export class RedisKeyCache implements KeyCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  async get(tokenHash: string): Promise<KeyRecord | undefined> {
    try {
      const text = await this.redis.get(`key:${tokenHash}`);
      return text ? (JSON.parse(text) as KeyRecord) : undefined;
    } catch (error) {
      this.onError(error);
      return undefined;
    }
  }

  async set(record: KeyRecord): Promise<void> {
    try {
      await this.redis.set(`key:${record.tokenHash}`, JSON.stringify(record), 'EX', this.ttlSeconds);
    } catch (error) {
      this.onError(error);
    }
  }

  async delete(tokenHash: string): Promise<void> {
    try {
      await this.redis.del(`key:${tokenHash}`);
    } catch (error) {
      this.onError(error);
    }
  }
}
