import { sql } from 'drizzle-orm';
import { type Database, queryRows as rows } from '../client.ts';

/** A budget whose period ended: a key's, team's or user's own, or a budget row (customers). */
export interface DueBudget {
  kind: 'key' | 'team' | 'user' | 'budget';
  id: string;
  duration: string;
  resetAt: Date;
}

/** Budgets with a `budget_duration` whose `budget_reset_at` has passed (keys not expired). */
export async function findDueBudgets(db: Database, now: Date): Promise<DueBudget[]> {
  const at = now.toISOString();
  const due = await rows<{ kind: DueBudget['kind']; id: string; duration: string; reset_at: string | Date }>(
    db,
    sql`select 'key' as kind, token as id, budget_duration as duration, budget_reset_at as reset_at
          from "LiteLLM_VerificationToken"
          where budget_duration is not null and budget_reset_at <= ${at}::timestamptz
            and (expires is null or expires > ${at}::timestamptz)
        union all
        select 'team', team_id, budget_duration, budget_reset_at from "LiteLLM_TeamTable"
          where budget_duration is not null and budget_reset_at <= ${at}::timestamptz
        union all
        select 'user', user_id, budget_duration, budget_reset_at from "LiteLLM_UserTable"
          where budget_duration is not null and budget_reset_at <= ${at}::timestamptz
        union all
        select 'budget', budget_id, budget_duration, budget_reset_at from "LiteLLM_BudgetTable"
          where budget_duration is not null and budget_reset_at <= ${at}::timestamptz`,
  );
  return due.map((d) => ({ kind: d.kind, id: d.id, duration: d.duration, resetAt: new Date(d.reset_at) }));
}

const TABLES = {
  key: { table: 'LiteLLM_VerificationToken', id: 'token' },
  team: { table: 'LiteLLM_TeamTable', id: 'team_id' },
  user: { table: 'LiteLLM_UserTable', id: 'user_id' },
} as const;

/**
 * Starts a budget's next period: `spend` back to 0 (lifetime spend stays) and
 * `budget_reset_at` moved to `next`, only if nobody reset it since it was found due (compare
 * and set on `budget_reset_at`), so of several instances exactly one resets each budget.
 * Returns whether this call reset it, and for a budget row the customers it covers.
 */
export async function resetBudget(
  db: Database,
  due: DueBudget,
  next: Date,
): Promise<{ reset: boolean; customerIds: string[] }> {
  const was = due.resetAt.toISOString();
  const to = next.toISOString();
  if (due.kind === 'budget') {
    return db.transaction(async (tx) => {
      const moved = await rows<{ budget_id: string }>(
        tx,
        sql`update "LiteLLM_BudgetTable" set budget_reset_at = ${to}::timestamptz, updated_at = now()
            where budget_id = ${due.id} and budget_reset_at = ${was}::timestamptz returning budget_id`,
      );
      if (moved.length === 0) return { reset: false, customerIds: [] };
      const customers = await rows<{ user_id: string }>(
        tx,
        sql`update "LiteLLM_EndUserTable" set spend = 0 where budget_id = ${due.id} returning user_id`,
      );
      return { reset: true, customerIds: customers.map((c) => c.user_id) };
    });
  }
  const { table, id } = TABLES[due.kind];
  const reset = await rows<{ id: string }>(
    db,
    sql`update ${sql.raw(`"${table}"`)} set spend = 0, budget_reset_at = ${to}::timestamptz
        where ${sql.raw(`"${id}"`)} = ${due.id} and budget_reset_at = ${was}::timestamptz
        returning ${sql.raw(`"${id}"`)} as id`,
  );
  return { reset: reset.length > 0, customerIds: [] };
}
