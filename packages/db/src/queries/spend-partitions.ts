import { sql } from 'drizzle-orm';
import { type Database, queryRows } from '../client.ts';

// The spend log is partitioned by UTC day of "startTime" (migration 0009): a partition per day,
// made ahead of time, the rows from before partitioning in `LiteLLM_SpendLogs_legacy`, and
// `LiteLLM_SpendLogs_default` for a row whose day has none yet.

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
        // One instance at a time: two creating the same table at once collide in the catalog
        // (a unique violation, not "exists"); the second then finds it made (42P07 below).
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('LiteLLM_SpendLogs partitions'))`);
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
      const { code, cause } = error as { code?: string; cause?: { code?: string } };
      if (![code, cause?.code].some((c) => c === '42P17' || c === '42P07')) throw error;
    }
  }
  return made;
}
