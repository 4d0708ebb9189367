import { eq, getTableColumns, is, SQL, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../client.ts';
import { type NewSpendLogRow, spendLogs } from '../schema/spend-logs.ts';

/**
 * How the batch statement reads each spend-log column from a row of the JSON parameter: the row
 * as `JSON.stringify` writes a `NewSpendLogRow` (property names, dates as ISO strings), so a
 * batch is sent as one parameter and rows from the spend stream go in as they were stored, never
 * parsed (drizzle's insert builder cost about 7% of the gateway's CPU at 1,000 req/s; parsing
 * and re-serialising stream batches another 3%). An absent property takes the column's default,
 * as an insert would. Derived from the table, so a new column needs no change here.
 */
const spendColumns = Object.entries(getTableColumns(spendLogs)).map(([key, column]) => {
  const type = column.getSQLType();
  const field = `'${key}'`;
  // `->>` gives SQL NULL for a JSON null; a JSON null under `->` has to be made one.
  const value = type === 'jsonb' ? `nullif(j->${field}, 'null'::jsonb)` : `(j->>${field})::${type}`;
  if (column.default === undefined) return { name: column.name, value };
  if (typeof column.default === 'object' && is(column.default, SQL)) {
    throw new Error(`spend column ${column.name}: an SQL default cannot be read from JSON`);
  }
  const fallback = `${sqlString(JSON.stringify(column.default))}::jsonb`;
  const defaultValue = type === 'jsonb' ? fallback : `(${fallback} #>> '{}')::${type}`;
  return { name: column.name, value: `case when j ? ${field} then ${value} else ${defaultValue} end` };
});
const columnList = spendColumns.map((c) => `"${c.name}"`).join(', ');
const valueList = spendColumns.map((c) => c.value).join(',\n    ');

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A daily aggregate upsert (contract §3.8), one row per entity, UTC day, key, model and provider. */
function dailyUpsert(name: string, table: string, entityColumn: string, entity: string, from = ''): string {
  const t = `"${table}"`;
  return `${name} as (
    insert into ${t} ("${entityColumn}", date, api_key, model, model_group, custom_llm_provider,
      prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, spend,
      api_requests, successful_requests, failed_requests)
    select ${entity}, to_char(r."startTime" at time zone 'UTC', 'YYYY-MM-DD'), r.api_key, r.model,
      max(r.model_group), r.custom_llm_provider,
      coalesce(sum(r.prompt_tokens), 0), coalesce(sum(r.completion_tokens), 0),
      coalesce(sum(r.cache_read_input_tokens), 0), coalesce(sum(r.cache_creation_input_tokens), 0),
      coalesce(sum(r.spend), 0), count(*), count(*) filter (where r.status = 'success'),
      count(*) filter (where r.status <> 'success')
    from inserted r ${from}
    where ${entity} is not null and ${entity} <> ''
    group by 1, 2, 3, 4, 6
    on conflict on constraint "${table}_entity_date_key_model_provider_key" do update set
      prompt_tokens = ${t}.prompt_tokens + excluded.prompt_tokens,
      completion_tokens = ${t}.completion_tokens + excluded.completion_tokens,
      cache_read_input_tokens = ${t}.cache_read_input_tokens + excluded.cache_read_input_tokens,
      cache_creation_input_tokens = ${t}.cache_creation_input_tokens + excluded.cache_creation_input_tokens,
      spend = ${t}.spend + excluded.spend,
      api_requests = ${t}.api_requests + excluded.api_requests,
      successful_requests = ${t}.successful_requests + excluded.successful_requests,
      failed_requests = ${t}.failed_requests + excluded.failed_requests,
      updated_at = now()
    returning 1)`;
}

const tagged = 'cross join lateral jsonb_array_elements_text(r.request_tags) as tag(name)';

/** The complete daily aggregate (`gateway_daily_spend`): every row, per day, key, owner, team, end user, model and provider. */
const DAILY_ALL_UPSERT = `daily_all as (
    insert into "gateway_daily_spend" (date, api_key, "user", team_id, end_user, model, model_group,
      custom_llm_provider, prompt_tokens, completion_tokens, total_tokens, cache_read_input_tokens,
      cache_creation_input_tokens, spend, api_requests, successful_requests, failed_requests)
    select to_char(r."startTime" at time zone 'UTC', 'YYYY-MM-DD'), r.api_key, coalesce(r."user", ''),
      coalesce(r.team_id, ''), coalesce(r.end_user, ''), coalesce(r.model, ''), max(r.model_group),
      coalesce(r.custom_llm_provider, ''), coalesce(sum(r.prompt_tokens), 0), coalesce(sum(r.completion_tokens), 0),
      coalesce(sum(r.total_tokens), 0), coalesce(sum(r.cache_read_input_tokens), 0),
      coalesce(sum(r.cache_creation_input_tokens), 0), coalesce(sum(r.spend), 0), count(*),
      count(*) filter (where r.status = 'success'), count(*) filter (where r.status <> 'success')
    from inserted r
    group by 1, 2, 3, 4, 5, 6, 8
    on conflict on constraint "gateway_daily_spend_day_key" do update set
      prompt_tokens = "gateway_daily_spend".prompt_tokens + excluded.prompt_tokens,
      completion_tokens = "gateway_daily_spend".completion_tokens + excluded.completion_tokens,
      total_tokens = "gateway_daily_spend".total_tokens + excluded.total_tokens,
      cache_read_input_tokens = "gateway_daily_spend".cache_read_input_tokens + excluded.cache_read_input_tokens,
      cache_creation_input_tokens = "gateway_daily_spend".cache_creation_input_tokens + excluded.cache_creation_input_tokens,
      spend = "gateway_daily_spend".spend + excluded.spend,
      api_requests = "gateway_daily_spend".api_requests + excluded.api_requests,
      successful_requests = "gateway_daily_spend".successful_requests + excluded.successful_requests,
      failed_requests = "gateway_daily_spend".failed_requests + excluded.failed_requests,
      updated_at = now()
    returning 1)`;

/**
 * One statement: insert the batch, skipping request ids already written, and add the cost of
 * the rows it inserted (and only those) to everyone they are attributed to (contract §4.5):
 * the key, its team and owner, the end user and each tag (customer and tag rows are created on
 * first sight), and the daily aggregates per user, team, end user and tag. Every total is
 * summed by Postgres as `numeric`. One statement is atomic and costs one round trip.
 */
const WRITE_BATCH_HEAD =
  'with inserted as (\n' +
  `  insert into "LiteLLM_SpendLogs" (${columnList})\n  select\n    ${valueList}\n  from jsonb_array_elements(`;
const WRITE_BATCH_TAIL = `::jsonb) as e(j)
  on conflict (request_id, "startTime") do nothing
  returning *),
keys as (
  update "LiteLLM_VerificationToken" k set spend = k.spend + s.total, lifetime_spend = k.lifetime_spend + s.total, last_active = now()
  from (select api_key, sum(spend) as total from inserted where spend is not null group by api_key) s
  where k.token = s.api_key
  returning 1),
teams as (
  update "LiteLLM_TeamTable" t set spend = t.spend + s.total, lifetime_spend = t.lifetime_spend + s.total
  from (select team_id, sum(spend) as total from inserted where spend is not null and team_id is not null group by team_id) s
  where t.team_id = s.team_id
  returning 1),
users as (
  update "LiteLLM_UserTable" u set spend = u.spend + s.total, lifetime_spend = u.lifetime_spend + s.total
  from (select "user" as user_id, sum(spend) as total from inserted where spend is not null and "user" <> '' group by "user") s
  where u.user_id = s.user_id
  returning 1),
end_users as (
  insert into "LiteLLM_EndUserTable" (user_id, spend, lifetime_spend)
  select end_user, coalesce(sum(spend), 0), coalesce(sum(spend), 0) from inserted where end_user is not null and end_user <> '' group by end_user
  on conflict (user_id) do update set spend = "LiteLLM_EndUserTable".spend + excluded.spend,
    lifetime_spend = "LiteLLM_EndUserTable".lifetime_spend + excluded.spend
  returning 1),
tags as (
  insert into "LiteLLM_TagTable" (tag_name, spend)
  select tag.name, coalesce(sum(r.spend), 0) from inserted r ${tagged} group by tag.name
  on conflict (tag_name) do update set spend = "LiteLLM_TagTable".spend + excluded.spend, updated_at = now()
  returning 1),
${dailyUpsert('daily_users', 'LiteLLM_DailyUserSpend', 'user_id', 'r."user"')},
${dailyUpsert('daily_teams', 'LiteLLM_DailyTeamSpend', 'team_id', 'r.team_id')},
${dailyUpsert('daily_end_users', 'LiteLLM_DailyEndUserSpend', 'end_user_id', 'r.end_user')},
${dailyUpsert('daily_tags', 'LiteLLM_DailyTagSpend', 'tag', 'tag.name', tagged)},
${DAILY_ALL_UPSERT}
select count(*)::int as inserted from inserted`;

/**
 * Writes a batch of spend rows and adds their cost to each key and everyone else the rows are
 * attributed to, in one statement (so atomically). Idempotent: a row whose `request_id`
 * already exists is skipped, and only rows inserted by this call add to any total, so retrying
 * a batch after a failure never double counts. Returns how many rows were new.
 */
export async function writeSpendBatch(db: Database, rows: NewSpendLogRow[]): Promise<number> {
  return rows.length === 0 ? 0 : writeSpendRowsJson(db, JSON.stringify(rows));
}

/**
 * `writeSpendBatch` for rows already in JSON: an array of rows as `JSON.stringify` writes them
 * (the form the spend stream stores), so a batch read from the stream is written without being
 * parsed.
 */
export async function writeSpendRowsJson(db: Database, rowsJson: string): Promise<number> {
  const [result] = await queryRows<{ inserted: number }>(
    db,
    sql`${sql.raw(WRITE_BATCH_HEAD)}${rowsJson}${sql.raw(WRITE_BATCH_TAIL)}`,
  );
  return result?.inserted ?? 0;
}

/** Spend rows of one key, newest first. */
export async function listSpendLogsForKey(db: Database, tokenHash: string) {
  return db
    .select()
    .from(spendLogs)
    .where(eq(spendLogs.apiKey, tokenHash))
    .orderBy(sql`${spendLogs.startTime} desc`);
}
