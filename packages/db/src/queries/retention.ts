import { type SQL, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../client.ts';

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

/** `LiteLLM_SpendLogs_p20261208`: the partition of 2026-12-08 (UTC). */
export function spendPartitionName(day: Date): string {
  return `LiteLLM_SpendLogs_p${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

const DAY_PARTITION = /^LiteLLM_SpendLogs_p(\d{4})(\d{2})(\d{2})$/;

/** The spend log's day partitions, oldest first, with the day each covers. */
export async function spendDayPartitions(db: Database): Promise<{ name: string; from: Date; to: Date }[]> {
  const found = await queryRows<{ name: string }>(
    db,
    sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = '"LiteLLM_SpendLogs"'::regclass`,
  );
  return found
    .flatMap(({ name }) => {
      const match = DAY_PARTITION.exec(name);
      if (!match) return [];
      const from = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`);
      return [{ name, from, to: new Date(from.getTime() + 86_400_000) }];
    })
    .sort((a, b) => a.from.getTime() - b.from.getTime());
}

/**
 * Makes sure the spend log has a partition for every UTC day from `from` for `days` days.
 * A day already covered (by its partition, or by the rows kept from before partitioning) is
 * left as it is; rows the default partition took for a day meanwhile move into the new one.
 * Safe to run on several instances at once. Returns the partitions made.
 */
export async function ensureSpendPartitions(db: Database, from: Date, days: number): Promise<string[]> {
  const existing = new Set((await spendDayPartitions(db)).map((p) => p.name));
  const made: string[] = [];
  const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  for (let i = 0; i < days; i++) {
    const day = new Date(start + i * 86_400_000);
    const name = spendPartitionName(day);
    if (existing.has(name)) continue;
    const dayFrom = day.toISOString();
    const dayTo = new Date(day.getTime() + 86_400_000).toISOString();
    const table = sql.raw(`"${name}"`);
    try {
      await db.transaction(async (tx) => {
        await tx.execute(sql`set local lock_timeout = '2s'`);
        await tx.execute(sql`create table ${table} (like "LiteLLM_SpendLogs" including defaults)`);
        await tx.execute(
          sql`with moved as (
                delete from "LiteLLM_SpendLogs_default"
                where "startTime" >= ${dayFrom}::timestamptz and "startTime" < ${dayTo}::timestamptz returning *)
              insert into ${table} select * from moved`,
        );
        await tx.execute(
          sql`alter table "LiteLLM_SpendLogs" attach partition ${table}
              for values from (${sql.raw(`'${dayFrom}'`)}) to (${sql.raw(`'${dayTo}'`)})`,
        );
      });
      made.push(name);
    } catch (error) {
      // Covered already: by the rows from before partitioning (42P17: the range would overlap),
      // or by another instance that made the same partition just now (42P07: it exists).
      const code =
        (error as { code?: string; cause?: { code?: string } }).code ??
        (error as { cause?: { code?: string } }).cause?.code;
      if (code !== '42P17' && code !== '42P07') throw error;
    }
  }
  return made;
}
