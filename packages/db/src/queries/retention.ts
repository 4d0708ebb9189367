import { sql } from 'drizzle-orm';
import { type Database, queryRows } from '../client.ts';

/** One retention job at a time across instances (a transaction-level advisory lock). */
const RETENTION_LOCK = 0x5e7d_0001;

/**
 * Deletes up to `batchSize` spend rows that started before `before`, oldest first, and adds
 * their spend to `gateway_pruned_spend` per key, team, user, end user and tag, in one
 * statement. Returns how many rows went, or `undefined` when another instance holds the
 * retention lock (it is doing the same work). Rows locked by a concurrent writer are skipped.
 */
export async function pruneSpendLogs(
  db: Database,
  before: Date,
  batchSize: number,
): Promise<number | undefined> {
  return db.transaction(async (tx) => {
    const [lock] = await queryRows<{ held: boolean }>(
      tx,
      sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK}) as held`,
    );
    if (!lock?.held) return undefined;
    const [result] = await queryRows<{ deleted: number }>(
      tx,
      sql`with doomed as (
            select request_id from "LiteLLM_SpendLogs" where "startTime" < ${before.toISOString()}::timestamptz
            order by "startTime" limit ${batchSize} for update skip locked),
          deleted as (
            delete from "LiteLLM_SpendLogs" s using doomed d where s.request_id = d.request_id returning s.*),
          sums as (
            select 'key' as entity, api_key as id, sum(spend) as spend from deleted
              where spend is not null group by api_key
            union all select 'team', team_id, sum(spend) from deleted
              where spend is not null and team_id is not null group by team_id
            union all select 'user', "user", sum(spend) from deleted
              where spend is not null and "user" <> '' group by "user"
            union all select 'end_user', end_user, sum(spend) from deleted
              where spend is not null and end_user is not null and end_user <> '' group by end_user
            union all select 'tag', tag.name, sum(spend) from deleted
              cross join lateral jsonb_array_elements_text(request_tags) as tag(name)
              where spend is not null group by tag.name),
          kept as (
            insert into gateway_pruned_spend (entity, id, spend) select entity, id, spend from sums
            on conflict (entity, id) do update set spend = gateway_pruned_spend.spend + excluded.spend
            returning 1)
          select count(*)::int as deleted from deleted`,
    );
    return result?.deleted ?? 0;
  });
}
