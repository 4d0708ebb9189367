import { and, eq, inArray, isNotNull, sql, sum } from 'drizzle-orm';
import type { Database } from '../client.ts';
import { type NewSpendLogRow, spendLogs } from '../schema/spend-logs.ts';
import { verificationTokens } from '../schema/verification-token.ts';

/**
 * Writes a batch of spend rows and adds their cost to each key, in one transaction.
 * Idempotent: a row whose `request_id` already exists is skipped, and only rows inserted by
 * this call add to key spend, so retrying a batch after a failure never double counts.
 * Returns how many rows were new.
 */
export async function writeSpendBatch(db: Database, rows: NewSpendLogRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(spendLogs)
      .values(rows)
      .onConflictDoNothing({ target: spendLogs.requestId })
      .returning({ requestId: spendLogs.requestId });
    if (inserted.length === 0) return 0;
    const insertedIds = inserted.map((r) => r.requestId);

    // Postgres sums the numeric costs, so totals stay exact decimals.
    const perKey = tx
      .select({ apiKey: spendLogs.apiKey, total: sum(spendLogs.spend).as('total') })
      .from(spendLogs)
      .where(and(inArray(spendLogs.requestId, insertedIds), isNotNull(spendLogs.spend)))
      .groupBy(spendLogs.apiKey)
      .as('per_key');
    await tx
      .update(verificationTokens)
      .set({
        spend: sql`${verificationTokens.spend} + ${perKey.total}`,
        lifetimeSpend: sql`${verificationTokens.lifetimeSpend} + ${perKey.total}`,
        lastActive: sql`now()`,
      })
      .from(perKey)
      .where(eq(verificationTokens.token, perKey.apiKey));
    for (const statement of attributionStatements(insertedIds)) await tx.execute(statement);
    return inserted.length;
  });
}

/** The rows this batch inserted: the only ones that may add to any total. */
const batchRows = (ids: string[]) =>
  sql`select * from "LiteLLM_SpendLogs" where request_id = any(${sql.param(ids)}::text[])`;

/** A daily aggregate upsert (contract §3.8), one row per entity, UTC day, key, model and provider. */
function dailyUpsert(
  table: string,
  entityColumn: string,
  entityExpression: string,
  ids: string[],
  from = '',
) {
  const t = sql.raw(`"${table}"`);
  return sql`
    insert into ${t} (${sql.raw(`"${entityColumn}"`)}, date, api_key, model, model_group, custom_llm_provider,
      prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, spend,
      api_requests, successful_requests, failed_requests)
    select ${sql.raw(entityExpression)}, to_char(r."startTime" at time zone 'UTC', 'YYYY-MM-DD'), r.api_key, r.model,
      max(r.model_group), r.custom_llm_provider,
      coalesce(sum(r.prompt_tokens), 0), coalesce(sum(r.completion_tokens), 0),
      coalesce(sum(r.cache_read_input_tokens), 0), coalesce(sum(r.cache_creation_input_tokens), 0),
      coalesce(sum(r.spend), 0), count(*), count(*) filter (where r.status = 'success'),
      count(*) filter (where r.status <> 'success')
    from (${batchRows(ids)}) r ${sql.raw(from)}
    where ${sql.raw(entityExpression)} is not null and ${sql.raw(entityExpression)} <> ''
    group by 1, 2, 3, 4, 6
    on conflict on constraint ${sql.raw(`"${table}_entity_date_key_model_provider_key"`)} do update set
      prompt_tokens = ${t}.prompt_tokens + excluded.prompt_tokens,
      completion_tokens = ${t}.completion_tokens + excluded.completion_tokens,
      cache_read_input_tokens = ${t}.cache_read_input_tokens + excluded.cache_read_input_tokens,
      cache_creation_input_tokens = ${t}.cache_creation_input_tokens + excluded.cache_creation_input_tokens,
      spend = ${t}.spend + excluded.spend,
      api_requests = ${t}.api_requests + excluded.api_requests,
      successful_requests = ${t}.successful_requests + excluded.successful_requests,
      failed_requests = ${t}.failed_requests + excluded.failed_requests,
      updated_at = now()`;
}

/**
 * Adds a batch's spend to everyone it is attributed to (contract §4.5): the key's team and
 * owner, the end user and each tag (customer and tag rows are created on first sight), and the
 * daily aggregates per user, team, end user and tag. Totals are summed by Postgres as `numeric`.
 */
function attributionStatements(ids: string[]) {
  const rows = batchRows(ids);
  const tagged = `cross join lateral jsonb_array_elements_text(r.request_tags) as tag(name)`;
  return [
    sql`update "LiteLLM_TeamTable" t set spend = t.spend + s.total, lifetime_spend = t.lifetime_spend + s.total
        from (select team_id, sum(spend) as total from (${rows}) r where spend is not null and team_id is not null group by team_id) s
        where t.team_id = s.team_id`,
    sql`update "LiteLLM_UserTable" u set spend = u.spend + s.total, lifetime_spend = u.lifetime_spend + s.total
        from (select "user" as user_id, sum(spend) as total from (${rows}) r where spend is not null and "user" <> '' group by "user") s
        where u.user_id = s.user_id`,
    sql`insert into "LiteLLM_EndUserTable" (user_id, spend, lifetime_spend)
        select end_user, coalesce(sum(spend), 0), coalesce(sum(spend), 0) from (${rows}) r where end_user is not null and end_user <> '' group by end_user
        on conflict (user_id) do update set spend = "LiteLLM_EndUserTable".spend + excluded.spend,
          lifetime_spend = "LiteLLM_EndUserTable".lifetime_spend + excluded.spend`,
    sql`insert into "LiteLLM_TagTable" (tag_name, spend)
        select tag.name, coalesce(sum(r.spend), 0) from (${rows}) r ${sql.raw(tagged)} group by tag.name
        on conflict (tag_name) do update set spend = "LiteLLM_TagTable".spend + excluded.spend, updated_at = now()`,
    dailyUpsert('LiteLLM_DailyUserSpend', 'user_id', 'r."user"', ids),
    dailyUpsert('LiteLLM_DailyTeamSpend', 'team_id', 'r.team_id', ids),
    dailyUpsert('LiteLLM_DailyEndUserSpend', 'end_user_id', 'r.end_user', ids),
    dailyUpsert('LiteLLM_DailyTagSpend', 'tag', 'tag.name', ids, tagged),
  ];
}

/** Spend rows of one key, newest first. */
export async function listSpendLogsForKey(db: Database, tokenHash: string) {
  return db
    .select()
    .from(spendLogs)
    .where(eq(spendLogs.apiKey, tokenHash))
    .orderBy(sql`${spendLogs.startTime} desc`);
}
