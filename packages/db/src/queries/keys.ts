import { and, asc, count, desc, eq, gt, inArray, type SQL } from 'drizzle-orm';
import type { Database } from '../client.ts';
import { deprecatedVerificationTokens } from '../schema/deprecated-verification-token.ts';
import {
  type NewVerificationTokenRow,
  type VerificationTokenRow,
  verificationTokens,
} from '../schema/verification-token.ts';

/** Inserts a key row; rejects on a duplicate hash or alias (unique violations). */
export async function insertKey(db: Database, row: NewVerificationTokenRow): Promise<VerificationTokenRow> {
  const [inserted] = await db.insert(verificationTokens).values(row).returning();
  if (!inserted) throw new Error('insert into LiteLLM_VerificationToken returned no row');
  return inserted;
}

/** The key with this SHA-256 hex hash, or undefined. */
export async function findKeyByHash(
  db: Database,
  tokenHash: string,
): Promise<VerificationTokenRow | undefined> {
  const [row] = await db.select().from(verificationTokens).where(eq(verificationTokens.token, tokenHash));
  return row;
}

export async function findKeysByAliases(db: Database, aliases: string[]): Promise<VerificationTokenRow[]> {
  if (aliases.length === 0) return [];
  return db.select().from(verificationTokens).where(inArray(verificationTokens.keyAlias, aliases));
}

export async function findKeysByHashes(db: Database, hashes: string[]): Promise<VerificationTokenRow[]> {
  if (hashes.length === 0) return [];
  return db.select().from(verificationTokens).where(inArray(verificationTokens.token, hashes));
}

/** Changes the given fields of a key; returns the updated row, or undefined if there is no such key. */
export async function updateKey(
  db: Database,
  tokenHash: string,
  patch: Partial<NewVerificationTokenRow>,
): Promise<VerificationTokenRow | undefined> {
  const [row] = await db
    .update(verificationTokens)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(verificationTokens.token, tokenHash))
    .returning();
  return row;
}

/** Deletes keys (and the old hashes that stood for them); returns the hashes deleted. */
export async function deleteKeys(db: Database, hashes: string[]): Promise<string[]> {
  if (hashes.length === 0) return [];
  return db.transaction(async (tx) => {
    await tx
      .delete(deprecatedVerificationTokens)
      .where(inArray(deprecatedVerificationTokens.activeTokenId, hashes));
    const deleted = await tx
      .delete(verificationTokens)
      .where(inArray(verificationTokens.token, hashes))
      .returning({ token: verificationTokens.token });
    return deleted.map((r) => r.token);
  });
}

export interface ListKeysFilter {
  page: number;
  size: number;
  userId?: string;
  teamId?: string;
  organizationId?: string;
  keyAlias?: string;
  keyHash?: string;
  sortBy: 'spend' | 'max_budget' | 'created_at' | 'updated_at' | 'token' | 'key_alias';
  sortOrder: 'asc' | 'desc';
}

const sortColumns = {
  spend: verificationTokens.spend,
  max_budget: verificationTokens.maxBudget,
  created_at: verificationTokens.createdAt,
  updated_at: verificationTokens.updatedAt,
  token: verificationTokens.token,
  key_alias: verificationTokens.keyAlias,
} as const;

/** One page of keys matching every given filter, and how many match in all. */
export async function listKeys(
  db: Database,
  filter: ListKeysFilter,
): Promise<{ rows: VerificationTokenRow[]; total: number }> {
  const conditions: SQL[] = [];
  if (filter.userId) conditions.push(eq(verificationTokens.userId, filter.userId));
  if (filter.teamId) conditions.push(eq(verificationTokens.teamId, filter.teamId));
  if (filter.organizationId) conditions.push(eq(verificationTokens.organizationId, filter.organizationId));
  if (filter.keyAlias) conditions.push(eq(verificationTokens.keyAlias, filter.keyAlias));
  if (filter.keyHash) conditions.push(eq(verificationTokens.token, filter.keyHash));
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const order = filter.sortOrder === 'asc' ? asc : desc;
  const [rows, [counted]] = await Promise.all([
    db
      .select()
      .from(verificationTokens)
      .where(where)
      .orderBy(order(sortColumns[filter.sortBy]), asc(verificationTokens.token))
      .limit(filter.size)
      .offset((filter.page - 1) * filter.size),
    db.select({ total: count() }).from(verificationTokens).where(where),
  ]);
  return { rows, total: counted?.total ?? 0 };
}

/**
 * Gives a key a new hash in one transaction. Spend, limits and settings stay; `patch` may
 * change them too. With `graceUntil`, the old hash keeps working as the new key until then;
 * old hashes that already stood for this key are moved to the new one.
 */
export async function regenerateKey(
  db: Database,
  oldHash: string,
  newHash: string,
  patch: Partial<NewVerificationTokenRow>,
  graceUntil: Date | undefined,
): Promise<VerificationTokenRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(verificationTokens)
      .set({ ...patch, token: newHash, updatedAt: new Date() })
      .where(eq(verificationTokens.token, oldHash))
      .returning();
    if (!row) return undefined;
    await tx
      .update(deprecatedVerificationTokens)
      .set({ activeTokenId: newHash })
      .where(eq(deprecatedVerificationTokens.activeTokenId, oldHash));
    if (graceUntil) {
      await tx
        .insert(deprecatedVerificationTokens)
        .values({ token: oldHash, activeTokenId: newHash, revokeAt: graceUntil })
        .onConflictDoUpdate({
          target: deprecatedVerificationTokens.token,
          set: { activeTokenId: newHash, revokeAt: graceUntil },
        });
    }
    return row;
  });
}

/** The key an old, regenerated hash still stands for, while its grace period lasts. */
export async function findActiveDeprecatedKey(
  db: Database,
  oldHash: string,
  now: Date,
): Promise<{ row: VerificationTokenRow; revokeAt: Date } | undefined> {
  const [found] = await db
    .select({ row: verificationTokens, revokeAt: deprecatedVerificationTokens.revokeAt })
    .from(deprecatedVerificationTokens)
    .innerJoin(verificationTokens, eq(verificationTokens.token, deprecatedVerificationTokens.activeTokenId))
    .where(
      and(eq(deprecatedVerificationTokens.token, oldHash), gt(deprecatedVerificationTokens.revokeAt, now)),
    );
  return found;
}

/** Old hashes that still stand for these keys (any grace period), for cache invalidation. */
export async function findDeprecatedHashes(db: Database, activeHashes: string[]): Promise<string[]> {
  if (activeHashes.length === 0) return [];
  const rows = await db
    .select({ token: deprecatedVerificationTokens.token })
    .from(deprecatedVerificationTokens)
    .where(inArray(deprecatedVerificationTokens.activeTokenId, activeHashes));
  return rows.map((r) => r.token);
}
