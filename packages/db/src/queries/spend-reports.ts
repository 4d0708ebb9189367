import type { DatabaseHandle } from '../client.ts';

// The admin spend reports' queries (`/global/spend`, `/global/spend/report`, the daily
// activity endpoints). Money is summed by Postgres as `numeric` and handed over as text; token
// and request counts as float8 (exact below 2^53). The admin routes shape the rows.

type Query = DatabaseHandle['query'];

/** A report's date range (inclusive UTC days, `YYYY-MM-DD`) and filters. */
export interface ReportFilter {
  start: string;
  end: string;
  apiKeyHash?: string | undefined;
  userId?: string | undefined;
  teamId?: string | undefined;
  endUserId?: string | undefined;
}

/** Spend of the last 30 days (from midnight UTC 30 days ago), as exact text. */
export async function globalSpendLast30Days(query: Query): Promise<string> {
  // As LiteLLM's MonthlyGlobalSpend view, summed from the complete daily aggregate.
  const [row] = await query<{ spend: string }>(
    `select coalesce(sum(spend), 0)::text as spend from "gateway_daily_spend"
     where date >= to_char((now() at time zone 'UTC')::date - 30, 'YYYY-MM-DD')`,
  );
  return row?.spend ?? '0';
}

/**
 * Where a report reads: the complete daily aggregate (`gateway_daily_spend`, one row per day,
 * key, owner, team, end user, model and provider), or the spend rows themselves where a grouping
 * needs what the aggregate does not keep (tags). Both are aliased `sl`, with the same columns
 * summed, so one query serves either.
 */
interface ReportSource {
  from: string;
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /** Spend rows counted. */
  requests: string;
  /** The inclusive day range over `$1` and `$2`. */
  range: string[];
}

const FROM_DAILY: ReportSource = {
  from: '"gateway_daily_spend" sl',
  day: 'sl.date',
  requests: 'coalesce(sum(sl.api_requests), 0)',
  // `date` is `YYYY-MM-DD` text, so text order is day order.
  range: ['sl.date >= $1', 'sl.date <= $2'],
};

const FROM_ROWS: ReportSource = {
  from: '"LiteLLM_SpendLogs" sl',
  day: `to_char(sl."startTime" at time zone 'UTC', 'YYYY-MM-DD')`,
  requests: 'count(*)',
  // The end date is inclusive, up to midnight after it, as in /spend/logs. LiteLLM filters
  // `BETWEEN start::date AND end::date`, which drops all of the end day but its first instant;
  // a report for 2025-12-01..2025-12-01 would be empty there.
  range: [
    `sl."startTime" >= $1::date::timestamp at time zone 'UTC'`,
    `sl."startTime" < ($2::date + 1)::timestamp at time zone 'UTC'`,
  ],
};

/** The WHERE clause over the source `sl` for a report's date range and filters, and its parameters. */
function whereOf(source: ReportSource, filter: ReportFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [filter.start, filter.end];
  const filters = [...source.range];
  const add = (column: string, value: string | undefined) => {
    if (!value) return;
    params.push(value);
    filters.push(`${column} = $${params.length}`);
  };
  add('sl.api_key', filter.apiKeyHash);
  add('sl."user"', filter.userId);
  add('sl.team_id', filter.teamId);
  add('sl.end_user', filter.endUserId);
  return { where: filters.join(' and '), params };
}

/** One row per day, team (or end user), model and key, with its group's total. */
export async function teamOrCustomerReportRows(query: Query, by: 'team' | 'customer', filter: ReportFilter) {
  const { where, params } = whereOf(FROM_DAILY, filter);
  const group = by === 'team' ? `coalesce(tt.team_alias, 'Unassigned Team')` : `nullif(sl.end_user, '')`;
  const join = by === 'team' ? 'left join "LiteLLM_TeamTable" tt on tt.team_id = sl.team_id' : '';
  return query<{
    day: string;
    name: string | null;
    model: string;
    api_key: string;
    spend: string;
    total_tokens: number;
    group_spend: string;
  }>(
    `select g.day, g.name, g.model, g.api_key, g.spend_usd::text as spend, g.tokens::float8 as total_tokens,
       (sum(g.spend_usd) over per_group)::text as group_spend
     from (
       select ${FROM_DAILY.day} as day, ${group} as name, sl.model, sl.api_key,
         coalesce(sum(sl.spend), 0) as spend_usd, coalesce(sum(sl.total_tokens), 0) as tokens
       from ${FROM_DAILY.from} ${join}
       where ${where}
       group by 1, 2, 3, 4
     ) g
     window per_group as (partition by g.day, g.name)
     order by g.day, sum(g.spend_usd) over per_group desc, g.name nulls last, g.spend_usd desc, g.model, g.api_key`,
    params,
  );
}

/** One row per key and model, with the key's totals; keys by cost (most first). */
export async function apiKeyReportRows(query: Query, filter: ReportFilter) {
  const { where, params } = whereOf(FROM_DAILY, filter);
  return query<{
    api_key: string;
    model: string;
    cost: string;
    input_tokens: number;
    output_tokens: number;
    key_cost: string;
    key_input_tokens: number;
    key_output_tokens: number;
  }>(
    `select m.api_key, m.model, m.cost_usd::text as cost, m.input::float8 as input_tokens,
       m.output::float8 as output_tokens, (sum(m.cost_usd) over per_key)::text as key_cost,
       (sum(m.input) over per_key)::float8 as key_input_tokens,
       (sum(m.output) over per_key)::float8 as key_output_tokens
     from (
       select sl.api_key, sl.model, coalesce(sum(sl.spend), 0) as cost_usd,
         coalesce(sum(sl.prompt_tokens), 0) as input, coalesce(sum(sl.completion_tokens), 0) as output
       from ${FROM_DAILY.from}
       where ${where}
       group by 1, 2
     ) m
     window per_key as (partition by m.api_key)
     order by sum(m.cost_usd) over per_key desc, m.api_key, m.cost_usd desc, m.model`,
    params,
  );
}

/** Our groupings of spend: the SQL giving each row's group value (NULL when the row has none). */
const groupings = {
  /** Provider-facing model name. */
  model: { source: FROM_DAILY, expression: `nullif(sl.model, '')`, join: '' },
  provider: { source: FROM_DAILY, expression: `nullif(sl.custom_llm_provider, '')`, join: '' },
  end_user: { source: FROM_DAILY, expression: `nullif(sl.end_user, '')`, join: '' },
  // Tags are kept per spend row only. A request with several tags counts towards each; one
  // without tags is grouped under null.
  tag: {
    source: FROM_ROWS,
    expression: 'tag.name',
    join: 'left join lateral jsonb_array_elements_text(sl.request_tags) as tag(name) on true',
  },
} as const;
export type ReportGrouping = keyof typeof groupings;

/** One row per day and group value, groups by spend (most first). */
export async function groupReportRows(query: Query, grouping: ReportGrouping, filter: ReportFilter) {
  const { source, expression, join } = groupings[grouping];
  const { where, params } = whereOf(source, filter);
  return query<{
    day: string;
    name: string | null;
    total_spend: string;
    total_input_tokens: number;
    total_output_tokens: number;
    api_requests: number;
  }>(
    `select ${source.day} as day, ${expression} as name, coalesce(sum(sl.spend), 0)::text as total_spend,
       coalesce(sum(sl.prompt_tokens), 0)::float8 as total_input_tokens,
       coalesce(sum(sl.completion_tokens), 0)::float8 as total_output_tokens, ${source.requests}::int as api_requests
     from ${source.from} ${join}
     where ${where}
     group by 1, 2
     order by 1, coalesce(sum(sl.spend), 0) desc, 2 nulls last`,
    params,
  );
}

/** One `LiteLLM_Daily*Spend` table (contract §3.8) and the column naming its entity. */
export interface DailyActivityTable {
  table:
    | 'LiteLLM_DailyUserSpend'
    | 'LiteLLM_DailyTeamSpend'
    | 'LiteLLM_DailyTagSpend'
    | 'LiteLLM_DailyEndUserSpend';
  entityColumn: 'user_id' | 'team_id' | 'tag' | 'end_user_id';
}

/** A daily activity request: its days (inclusive), entities (all when undefined) and page. */
export interface DailyActivityPage {
  start: string;
  end: string;
  entityIds: string[] | undefined;
  page: number;
  pageSize: number;
  breakdownLimit: number;
}

/** A set of daily rows summed. */
export interface DailyMetricsRow {
  spend: string;
  prompt_tokens: number;
  completion_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  total_tokens: number;
  api_requests: number;
  successful_requests: number;
  failed_requests: number;
}

export type BreakdownDimension = 'models' | 'providers' | 'api_keys' | 'entities';

const DAILY_METRICS = `coalesce(sum(spend), 0)::text as spend,
  coalesce(sum(prompt_tokens), 0)::float8 as prompt_tokens,
  coalesce(sum(completion_tokens), 0)::float8 as completion_tokens,
  coalesce(sum(cache_read_input_tokens), 0)::float8 as cache_read_input_tokens,
  coalesce(sum(cache_creation_input_tokens), 0)::float8 as cache_creation_input_tokens,
  coalesce(sum(prompt_tokens + completion_tokens), 0)::float8 as total_tokens,
  coalesce(sum(api_requests), 0)::float8 as api_requests,
  coalesce(sum(successful_requests), 0)::float8 as successful_requests,
  coalesce(sum(failed_requests), 0)::float8 as failed_requests`;

/**
 * A daily table between two dates (inclusive), a page of days at a time, newest first: the
 * totals and number of days over the whole range, the page's days, and per day its totals
 * (`dimension` 'day') and each breakdown's largest entries by spend, at most `breakdownLimit`.
 */
export async function dailyActivityRows(
  query: Query,
  { table, entityColumn }: DailyActivityTable,
  input: DailyActivityPage,
) {
  const entity = `"${entityColumn}"`;
  const from = `"${table}"`;
  const params: unknown[] = [input.start, input.end];
  // `date` is `YYYY-MM-DD` text, so text order is day order.
  const filters = ['date >= $1', 'date <= $2'];
  if (input.entityIds) {
    params.push(input.entityIds);
    filters.push(`${entity} = any($${params.length}::text[])`);
  }
  const where = filters.join(' and ');
  const [totals] = await query<DailyMetricsRow & { days: number }>(
    `select count(distinct date)::int as days, ${DAILY_METRICS} from ${from} where ${where}`,
    params,
  );
  const pageDays = (
    await query<{ date: string }>(
      `select distinct date from ${from} where ${where} order by date desc
       limit ${input.pageSize} offset ${(input.page - 1) * input.pageSize}`,
      params,
    )
  ).map((row) => row.date);
  if (pageDays.length === 0) return { totals, pageDays, rows: [] };
  // The day totals and each breakdown's largest entries (by spend), one query per dimension,
  // side by side on the pool: one grouping-sets pass sorted every group of every dimension
  // together, each alone is hashed (`pnpm bench:reports`, 10,000 end users over 30 days:
  // 3,982 ms before, 1,602-1,961 ms after, bench/RESULTS.md).
  const dimensions: [BreakdownDimension | 'day', string | undefined][] = [
    ['day', undefined],
    ['models', 'model'],
    ['providers', 'custom_llm_provider'],
    ['api_keys', 'api_key'],
    ['entities', entity],
  ];
  const perDimension = await Promise.all(
    dimensions.map(([dimension, column]) =>
      query<DailyMetricsRow & { date: string; dimension: BreakdownDimension | 'day'; name: string | null }>(
        column === undefined
          ? `select date, 'day' as dimension, null as name, ${DAILY_METRICS}
             from ${from} where ${where} and date = any($${params.length + 1}::text[]) group by date`
          : `select date, dimension, name, spend, prompt_tokens, completion_tokens, cache_read_input_tokens,
               cache_creation_input_tokens, total_tokens, api_requests, successful_requests, failed_requests
             from (
               select date, '${dimension}' as dimension, ${column} as name, ${DAILY_METRICS},
                 row_number() over (partition by date order by coalesce(sum(spend), 0) desc, ${column}) as rank
               from ${from} where ${where} and date = any($${params.length + 1}::text[])
               group by date, ${column}
             ) ranked
             where rank <= ${input.breakdownLimit}`,
        [...params, pageDays],
      ),
    ),
  );
  return { totals, pageDays, rows: perDimension.flat() };
}

/** Alias and team of each key hash given (those that exist). */
export async function keyAliasesAndTeams(query: Query, keyHashes: string[]) {
  return query<{ token: string; key_alias: string | null; team_id: string | null }>(
    'select token, key_alias, team_id from "LiteLLM_VerificationToken" where token = any($1::text[])',
    [keyHashes],
  );
}

/** Alias of each team id given (those that exist). */
export async function teamAliases(query: Query, teamIds: string[]) {
  if (teamIds.length === 0) return [];
  return query<{ team_id: string; team_alias: string | null }>(
    'select team_id, team_alias from "LiteLLM_TeamTable" where team_id = any($1::text[])',
    [teamIds],
  );
}
