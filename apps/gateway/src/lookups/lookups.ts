import {
  type Database,
  type EndUserWithBudget,
  findActiveDeprecatedKey,
  findDeprecatedHashes,
  findEndUser,
  findKeyByHash,
  findTag,
  findTeam,
  findUser,
  recordInvalidations,
  type TeamRow,
  type VerificationTokenRow,
} from '@gateway/db';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CachedLookup } from './cached-lookup.ts';
import type { InvalidationBus } from './invalidation-bus.ts';
import { INVALIDATION_LOG_BOUND_MS, InvalidationLog } from './invalidation-log.ts';

/**
 * What auth needs of a virtual key, in a form that survives JSON (Redis). Money stays a
 * decimal string.
 */
const keyRecordSchema = z.object({
  /** Hash of the key row this presented key stands for (the new one after a regeneration). */
  tokenHash: z.string(),
  keyName: z.string().nullable(),
  keyAlias: z.string().nullable(),
  spend: z.string(),
  maxBudget: z.string().nullable(),
  softBudget: z.string().nullable(),
  models: z.array(z.string()),
  /** Expiry as epoch ms; null = never. */
  expiresAtMs: z.number().nullable(),
  /** Set for an old key in its grace period after `/key/regenerate`: refused from then on. */
  validUntilMs: z.number().nullable(),
  blocked: z.boolean(),
  userId: z.string().nullable(),
  teamId: z.string().nullable(),
  organizationId: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  tpmLimit: z.number().nullable(),
  rpmLimit: z.number().nullable(),
  maxParallelRequests: z.number().nullable(),
  /** End of the budget's period (`budget_reset_at`) as epoch ms; null = no period. */
  budgetResetAtMs: z.number().nullable().default(null),
  /** Per-model budgets: `{model: {budget_limit, time_period}}`, as stored. */
  modelMaxBudget: z.record(z.string(), z.unknown()),
  /** May send `api_base`/`api_key` in request bodies (`permissions.allow_client_side_credentials`). */
  allowClientSideCredentials: z.boolean(),
});
export type KeyRecord = z.infer<typeof keyRecordSchema>;

/** What admission needs of anything with a budget: spend and limits (USD decimals as stored). */
const budgetAndLimits = {
  spend: z.string(),
  maxBudget: z.string().nullable(),
  softBudget: z.string().nullable(),
  rpmLimit: z.number().nullable(),
  tpmLimit: z.number().nullable(),
  maxParallelRequests: z.number().nullable(),
  /** End of the budget's period (`budget_reset_at`) as epoch ms; null = no period. */
  budgetResetAtMs: z.number().nullable().default(null),
};
type BudgetAndLimits = z.infer<z.ZodObject<typeof budgetAndLimits>>;

/** Spend and limits of a row that holds them itself (teams, users) or of its budget row (customers, tags). */
function budgetAndLimitsOf(
  spend: string,
  limits: (Omit<BudgetAndLimits, 'spend' | 'budgetResetAtMs'> & { budgetResetAt: Date | null }) | null,
): BudgetAndLimits {
  return {
    spend,
    maxBudget: limits?.maxBudget ?? null,
    softBudget: limits?.softBudget ?? null,
    rpmLimit: limits?.rpmLimit ?? null,
    tpmLimit: limits?.tpmLimit ?? null,
    maxParallelRequests: limits?.maxParallelRequests ?? null,
    budgetResetAtMs: limits?.budgetResetAt ? limits.budgetResetAt.getTime() : null,
  };
}

const teamRecordSchema = z.object({
  teamId: z.string(),
  teamAlias: z.string().nullable(),
  blocked: z.boolean(),
  models: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  ...budgetAndLimits,
});
export type TeamRecord = z.infer<typeof teamRecordSchema>;

const userRecordSchema = z.object({ userId: z.string(), ...budgetAndLimits });
export type UserRecord = z.infer<typeof userRecordSchema>;

/** A tag's spend and its budget row's limits. */
const tagRecordSchema = z.object({ name: z.string(), ...budgetAndLimits });
export type TagRecord = z.infer<typeof tagRecordSchema>;

/** A customer's spend and its budget row's limits. */
const customerRecordSchema = z.object({ userId: z.string(), blocked: z.boolean(), ...budgetAndLimits });
export type CustomerRecord = z.infer<typeof customerRecordSchema>;

export function toKeyRecord(row: VerificationTokenRow, validUntil: Date | null = null): KeyRecord {
  return {
    tokenHash: row.token,
    keyName: row.keyName,
    keyAlias: row.keyAlias,
    spend: row.spend,
    maxBudget: row.maxBudget,
    softBudget: row.softBudget,
    models: row.models,
    expiresAtMs: row.expires ? row.expires.getTime() : null,
    validUntilMs: validUntil ? validUntil.getTime() : null,
    blocked: row.blocked === true,
    userId: row.userId,
    teamId: row.teamId,
    organizationId: row.organizationId,
    metadata: row.metadata,
    tpmLimit: row.tpmLimit,
    rpmLimit: row.rpmLimit,
    maxParallelRequests: row.maxParallelRequests,
    budgetResetAtMs: row.budgetResetAt ? row.budgetResetAt.getTime() : null,
    modelMaxBudget: row.modelMaxBudget,
    allowClientSideCredentials: row.permissions.allow_client_side_credentials === true,
  };
}

function toTeamRecord(row: TeamRow): TeamRecord {
  return {
    teamId: row.teamId,
    teamAlias: row.teamAlias,
    blocked: row.blocked,
    models: row.models,
    metadata: row.metadata,
    ...budgetAndLimitsOf(row.spend, row),
  };
}

function toCustomerRecord({ endUser, budget }: EndUserWithBudget): CustomerRecord {
  return {
    userId: endUser.userId,
    blocked: endUser.blocked,
    ...budgetAndLimitsOf(endUser.spend, budget),
  };
}

/** The cached entries an admin change makes stale, by entity (keys by hash). */
export interface StaleEntries {
  keys?: string[];
  teams?: string[];
  users?: string[];
  customers?: string[];
  tags?: string[];
}

/** The entities the request path reads, each cached by id (keys by hash). */
export interface Lookups {
  keys: CachedLookup<KeyRecord>;
  teams: CachedLookup<TeamRecord>;
  /** Internal users (key owners), for their budgets and limits. */
  users: CachedLookup<UserRecord>;
  customers: CachedLookup<CustomerRecord>;
  /** Request tags with a budget or limits (tags without a row read as absent). */
  tags: CachedLookup<TagRecord>;
  /**
   * Makes an admin change: `write` runs in a transaction that also records what it makes stale
   * (keys with the old hashes that still stand for them) in the invalidation log, so the change
   * and its revocation are durable together whatever Redis does. Then the entries are dropped
   * from every cache. Resolves once every instance that reaches Postgres reads the change: at
   * once when Redis told them, else after the log's poll has (at most
   * INVALIDATION_LOG_BOUND_MS). Rejects only when `write` or the transaction fails.
   */
  change<T>(stale: StaleEntries, write: (tx: Database) => Promise<T>): Promise<T>;
  /** Drops keys from every cache (best effort), with the old hashes that still stand for them. */
  invalidateKeys(hashes: string[]): Promise<void>;
  /** Starts reading the invalidation log. */
  start(): void;
  close(): Promise<void>;
}

export interface LookupsOptions {
  db: Database;
  bus: InvalidationBus;
  redis?: Redis;
  onRedisError: (error: unknown) => void;
  logger: Logger;
}

/**
 * Cache lifetimes: an instance trusts its memory for 10 s and Redis for 60 s; every change made
 * through the admin API invalidates at once (on all instances through the bus), so these only
 * bound staleness if an invalidation message is lost.
 */
export function createLookups({ db, bus, redis, onRedisError, logger }: LookupsOptions): Lookups {
  const shared = redis ? { redis, ttlSeconds: 60, onError: onRedisError } : undefined;
  const common = { bus, memoryTtlMs: 10_000, missTtlMs: 5_000, ...(shared ? { shared } : {}) };
  const keys = new CachedLookup<KeyRecord>({
    ...common,
    namespace: 'key',
    schema: keyRecordSchema,
    load: async (hash) => {
      const row = await findKeyByHash(db, hash);
      if (row) return toKeyRecord(row);
      const deprecated = await findActiveDeprecatedKey(db, hash, new Date());
      return deprecated ? toKeyRecord(deprecated.row, deprecated.revokeAt) : undefined;
    },
  });
  const teams = new CachedLookup<TeamRecord>({
    ...common,
    namespace: 'team',
    schema: teamRecordSchema,
    load: async (id) => {
      const row = await findTeam(db, id);
      return row ? toTeamRecord(row) : undefined;
    },
  });
  const users = new CachedLookup<UserRecord>({
    ...common,
    namespace: 'user',
    schema: userRecordSchema,
    load: async (id) => {
      const row = await findUser(db, id);
      return row ? { userId: row.userId, ...budgetAndLimitsOf(row.spend, row) } : undefined;
    },
  });
  const tags = new CachedLookup<TagRecord>({
    ...common,
    namespace: 'tag',
    schema: tagRecordSchema,
    load: async (name) => {
      const found = await findTag(db, name);
      if (!found) return undefined;
      return { name: found.tag.tagName, ...budgetAndLimitsOf(found.tag.spend, found.budget) };
    },
  });
  const customers = new CachedLookup<CustomerRecord>({
    ...common,
    namespace: 'customer',
    schema: customerRecordSchema,
    load: async (id) => {
      const found = await findEndUser(db, id);
      return found ? toCustomerRecord(found) : undefined;
    },
  });
  const byNamespace = { keys, teams, users, customers, tags } as const;
  const all = Object.values(byNamespace) as CachedLookup<unknown>[];
  const log = new InvalidationLog(db, all, logger, bus);
  return {
    ...byNamespace,
    async change(stale, write) {
      const entries = new Map<CachedLookup<unknown>, string[]>();
      let logIds: number[] = [];
      const result = await db.transaction(async (tx) => {
        if (stale.keys?.length) {
          // Old hashes in a grace period stand for the key; a delete removes their rows too.
          stale = { ...stale, keys: [...stale.keys, ...(await findDeprecatedHashes(tx, stale.keys))] };
        }
        const written = await write(tx);
        for (const [name, ids] of Object.entries(stale) as [keyof StaleEntries, string[] | undefined][]) {
          if (ids?.length) entries.set(byNamespace[name] as CachedLookup<unknown>, [...new Set(ids)]);
        }
        logIds = await recordInvalidations(
          tx,
          [...entries].flatMap(([lookup, ids]) => ids.map((id) => `${lookup.namespace}:${id}`)),
        );
        return written;
      });
      const told = await Promise.all([...entries].map(([lookup, ids]) => lookup.invalidate(...ids)));
      if (!told.includes(false)) {
        // Delivered: the log need not drop these again (here, or on instances that heard it).
        await log.announceApplied(logIds);
      } else {
        // Dropped here (Redis copies are retried by the log's poll); the others read the log.
        log.markApplied(logIds);
        logger.warn(
          { waitMs: INVALIDATION_LOG_BOUND_MS },
          'admin change saved, but Redis could not tell the other instances; answering once the invalidation log has reached them',
        );
        await new Promise((resolve) => setTimeout(resolve, INVALIDATION_LOG_BOUND_MS));
      }
      return result;
    },
    async invalidateKeys(hashes) {
      if (hashes.length === 0) return;
      const old = await findDeprecatedHashes(db, hashes);
      await keys.invalidate(...hashes, ...old);
    },
    start: () => log.start(),
    close: () => log.stop(),
  };
}
