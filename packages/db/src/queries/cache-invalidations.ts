import { lt, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../client.ts';
import { cacheInvalidations } from '../schema/cache-invalidation.ts';

/** Records cache entries a change makes stale; call it in the change's own transaction. Returns the rows' ids. */
export async function recordInvalidations(db: Database, entries: string[]): Promise<number[]> {
  if (entries.length === 0) return [];
  const rows = await db
    .insert(cacheInvalidations)
    .values(entries.map((entry) => ({ entry })))
    .returning({ id: cacheInvalidations.id });
  return rows.map((row) => row.id);
}

/**
 * Entries recorded at or after `since` (database time), with the database's time of this read,
 * which the next read passes back (less a margin for transactions that commit late).
 */
export async function readInvalidations(
  db: Database,
  since: Date | undefined,
): Promise<{ rows: { id: number; entry: string }[]; readAt: Date }> {
  const found = await queryRows<{ id: string | number; entry: string | null; read_at: string | Date }>(
    db,
    since
      ? sql`with t as (select now() as read_at)
            select t.read_at, i.id, i.entry from t
              left join ${cacheInvalidations} as i on i.created_at >= ${since.toISOString()}::timestamptz
              order by i.id`
      : sql`select now() as read_at, null as id, null as entry`,
  );
  return {
    readAt: new Date(found[0]!.read_at),
    rows: found.filter((r) => r.entry !== null).map((r) => ({ id: Number(r.id), entry: r.entry! })),
  };
}

/** Deletes log rows older than `before`; returns how many. */
export async function pruneInvalidations(db: Database, before: Date): Promise<number> {
  const deleted = await db
    .delete(cacheInvalidations)
    .where(lt(cacheInvalidations.createdAt, before))
    .returning({ id: cacheInvalidations.id });
  return deleted.length;
}
