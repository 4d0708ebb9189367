import { type SQL, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../client.ts';
import { spendDayPartitions } from './spend-partitions.ts';

/** One retention job at a time across instances (a transaction-level advisory lock). */
const RETENTION_LOCK = 0x5e7d_0001;

/**
 * Adds the spend of the rows in `removed` (a CTE or table of spend rows about to go) to
 * `gateway_pruned_spend` per key, team, user, end user and tag: what keeps the all-time counters
 * reconcilable once the rows are gone.
 */
function recordPrunedSpend(removed: SQL): SQL {
  return sql`sums as (
      select 'key' as entity, api_key as id, sum(spend) as spend from ${removed}
        where spend is not null group by api_key
      union all select 'team', team_id, sum(spend) from ${removed}
        where spend is not null and team_id is not null group by team_id
      union all select 'user', "user", sum(spend) from ${removed}
        where spend is not null and "user" <> '' group by "user"
      union all select 'end_user', end_user, sum(spend) from ${removed}
        where spend is not null and end_user is not null and end_user <> '' group by end_user
      union all select 'tag', tag.name, sum(spend) from ${removed}
        cross join lateral jsonb_array_elements_text(request_tags) as tag(name)
        where spend is not null group by tag.name),
    kept as (
      insert into gateway_pruned_spend (entity, id, spend) select entity, id, spend from sums
      on conflict (entity, id) do update set spend = gateway_pruned_spend.spend + excluded.spend
      returning 1)`;
}

/** Takes the retention lock for this transaction; false when another instance holds it. */
async function retentionLock(tx: Database): Promise<boolean> {
  const [lock] = await queryRows<{ held: boolean }>(
    tx,
    sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK}) as held`,
  );
  return lock?.held === true;
}

/**
 * Deletes up to `batchSize` spend rows that started before `before`, oldest first, and adds
 * their spend to `gateway_pruned_spend`, in one statement. For what whole-day partitions do not
 * cover (the rows from before partitioning, the default partition). Returns how many rows went,
 * or `undefined` when another instance holds the retention lock (it is doing the same work).
 * Rows locked by a concurrent writer are skipped.
 */
export async function pruneSpendLogs(
  db: Database,
  before: Date,
  batchSize: number,
): Promise<number | undefined> {
  return db.transaction(async (tx) => {
    if (!(await retentionLock(tx))) return undefined;
    const [result] = await queryRows<{ deleted: number }>(
      tx,
      sql`with doomed as (
            select request_id, "startTime" from "LiteLLM_SpendLogs" where "startTime" < ${before.toISOString()}::timestamptz
            order by "startTime" limit ${batchSize} for update skip locked),
          deleted as (
            delete from "LiteLLM_SpendLogs" s using doomed d
            where s.request_id = d.request_id and s."startTime" = d."startTime"
              -- Named again so that only the old partitions are searched.
              and s."startTime" < ${before.toISOString()}::timestamptz
            returning s.*),
          ${recordPrunedSpend(sql`deleted`)}
          select count(*)::int as deleted from deleted`,
    );
    return result?.deleted ?? 0;
  });
}

/**
 * Drops the day partitions of the spend log that end at or before `before`, each in its own
 * transaction after adding its rows' spend to `gateway_pruned_spend`. Returns the rows dropped,
 * or `undefined` when another instance holds the retention lock.
 */
export async function dropSpendPartitionsBefore(db: Database, before: Date): Promise<number | undefined> {
  let dropped = 0;
  for (const partition of await spendDayPartitions(db)) {
    if (partition.to.getTime() > before.getTime()) continue;
    const rows = await db.transaction(async (tx) => {
      if (!(await retentionLock(tx))) return undefined;
      // Dropping a partition locks the whole table: never queue the spend writer behind a long
      // report for it; the next pass tries again.
      await tx.execute(sql`set local lock_timeout = '2s'`);
      const table = sql.raw(`"${partition.name}"`);
      const [counted] = await queryRows<{ n: number }>(
        tx,
        sql`with ${recordPrunedSpend(table)} select (select count(*)::int from ${table}) as n`,
      );
      await tx.execute(sql`drop table ${table}`);
      return counted?.n ?? 0;
    });
    if (rows === undefined) return undefined;
    dropped += rows;
  }
  return dropped;
}
