import { type Database, findKeyByHash, type VerificationTokenRow } from '@gateway/db';
import type { KeyCache, KeyRecord, MemoryKeyCache } from './key-cache.ts';

export function toKeyRecord(row: VerificationTokenRow): KeyRecord {
  return {
    tokenHash: row.token,
    keyName: row.keyName,
    keyAlias: row.keyAlias,
    spend: row.spend,
    maxBudget: row.maxBudget,
    models: row.models,
    expiresAtMs: row.expires ? row.expires.getTime() : null,
    blocked: row.blocked === true,
    userId: row.userId,
    teamId: row.teamId,
    organizationId: row.organizationId,
    metadata: row.metadata,
    tpmLimit: row.tpmLimit,
    rpmLimit: row.rpmLimit,
  };
}

/**
 * Finds virtual keys by hash: the instance's memory first, then the shared cache (Redis, when
 * configured), then the database. Concurrent misses for one hash share a single lookup.
 */
export class KeyService {
  readonly #inFlight = new Map<string, Promise<KeyRecord | undefined>>();

  constructor(
    private readonly db: Database,
    private readonly memory: MemoryKeyCache,
    private readonly shared: KeyCache | undefined,
  ) {}

  /** The key with this hash, or undefined when no such key exists. Rejects if the database fails. */
  find(tokenHash: string): Promise<KeyRecord | undefined> {
    const cached = this.memory.peek(tokenHash);
    if (cached) return Promise.resolve(cached);
    let pending = this.#inFlight.get(tokenHash);
    if (!pending) {
      pending = this.#load(tokenHash).finally(() => this.#inFlight.delete(tokenHash));
      this.#inFlight.set(tokenHash, pending);
    }
    return pending;
  }

  async #load(tokenHash: string): Promise<KeyRecord | undefined> {
    const shared = await this.shared?.get(tokenHash);
    if (shared) {
      await this.memory.set(shared);
      return shared;
    }
    const row = await findKeyByHash(this.db, tokenHash);
    if (!row) return undefined;
    const record = toKeyRecord(row);
    await Promise.all([this.memory.set(record), this.shared?.set(record)]);
    return record;
  }

  /** Drops a key from every cache layer this instance can reach. */
  async invalidate(tokenHash: string): Promise<void> {
    await Promise.all([this.memory.delete(tokenHash), this.shared?.delete(tokenHash)]);
  }
}
