import {
  apiKeyReportRows,
  type DailyActivityPage,
  type DailyActivityTable,
  type DailyMetricsRow,
  dailyActivityRows,
  globalSpendLast30Days,
  groupReportRows,
  keyAliasesAndTeams,
  type ReportFilter,
  type ReportGrouping,
  teamAliases,
  teamOrCustomerReportRows,
} from '@gateway/db';
import { z } from 'zod';
import type { AppDeps } from '../../app-env.ts';
import { GatewayHttpError } from '../../errors.ts';
import { toKeyHash } from '../../lookups/virtual-key.ts';
import type { AdminApi } from './admin-api.ts';

type Query = AppDeps['database']['query'];

/** A real calendar day as `YYYY-MM-DD`; Postgres would answer `2025-02-30` with a 500. */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
  .refine((value) => {
    const day = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(day.getTime()) && day.toISOString().startsWith(value);
  }, 'not a calendar day');

/** Optional here so that a missing date gets LiteLLM's 400 rather than a 422. */
const dateRange = {
  start_date: isoDate.optional().describe('First UTC day, YYYY-MM-DD; required (400 without it)'),
  end_date: isoDate.optional().describe('Last UTC day, inclusive, YYYY-MM-DD; required (400 without it)'),
};

function requireDateRange(query: { start_date?: string | undefined; end_date?: string | undefined }): {
  start: string;
  end: string;
} {
  if (!query.start_date || !query.end_date) {
    throw new GatewayHttpError({
      kind: 'invalid_request',
      param: query.start_date ? 'end_date' : 'start_date',
      message: 'Please provide start_date and end_date',
    });
  }
  return { start: query.start_date, end: query.end_date };
}

/**
 * Postgres sums the `numeric` costs exactly and hands them over as text; the JSON number is
 * made from that once, as the contract renders USD. Unpriced rows (spend NULL) add nothing.
 */
const toUsdNumber = (exact: string | null): number => Number(exact ?? 0);

// ---------------------------------------------------------------------------------------------
// GET /global/spend/report

/** LiteLLM's three groupings plus ours; ours share one flat per-day shape (`extensionGroups`). */
const reportGroups = ['team', 'customer', 'api_key', 'model', 'provider', 'end_user', 'tag'] as const;

/** Our groupings' response lists (`[{group_by_day, <list>: [...]}]`). */
const extensionGroups = {
  model: { list: 'models' },
  provider: { list: 'providers' },
  end_user: { list: 'end_users' },
  tag: { list: 'tags' },
} as const satisfies Record<ReportGrouping, { list: string }>;
type ExtensionGroup = keyof typeof extensionGroups;

const groupByDay = z.string().describe('UTC day as `YYYY-MM-DDT00:00:00+00:00`');
const perModelAndKey = z.object({
  model: z.string(),
  api_key: z.string(),
  spend: z.number(),
  total_tokens: z.number(),
});
const teamReportSchema = z.array(
  z.object({
    group_by_day: groupByDay,
    teams: z.array(
      z.object({
        team_name: z.string().describe("The team's alias, else 'Unassigned Team'"),
        total_spend: z.number(),
        metadata: z.array(perModelAndKey),
      }),
    ),
  }),
);
const customerReportSchema = z.array(
  z.object({
    group_by_day: groupByDay,
    customers: z.array(
      z.object({
        customer: z.string().nullable(),
        total_spend: z.number(),
        metadata: z.array(perModelAndKey),
      }),
    ),
  }),
);
const apiKeyReportSchema = z.array(
  z.object({
    api_key: z.string(),
    total_cost: z.number(),
    total_input_tokens: z.number(),
    total_output_tokens: z.number(),
    model_details: z.array(
      z.object({
        model: z.string(),
        total_cost: z.number(),
        total_input_tokens: z.number(),
        total_output_tokens: z.number(),
      }),
    ),
  }),
);
const groupTotals = {
  total_spend: z.number(),
  total_input_tokens: z.number(),
  total_output_tokens: z.number(),
  api_requests: z.number().describe('Spend rows counted, failed requests included'),
};
/** `[{group_by_day, <list>: [{<group>: value or null, ...totals}]}]` for one of our groupings. */
function extensionReportSchema<G extends ExtensionGroup>(group: G) {
  const { list } = extensionGroups[group];
  return z.array(
    z.object({
      group_by_day: groupByDay,
      [list]: z.array(z.object({ [group]: z.string().nullable(), ...groupTotals })),
    }),
  );
}
const spendReportSchema = z.union([
  teamReportSchema,
  customerReportSchema,
  apiKeyReportSchema,
  ...(Object.keys(extensionGroups) as ExtensionGroup[]).map(extensionReportSchema),
]);

/** A report's date range and filters, the key given raw or hashed. */
function toReportFilter(
  range: { start: string; end: string },
  query: { api_key?: string; internal_user_id?: string; team_id?: string; customer_id?: string },
): ReportFilter {
  return {
    ...range,
    apiKeyHash: query.api_key && toKeyHash(query.api_key),
    userId: query.internal_user_id,
    teamId: query.team_id,
    endUserId: query.customer_id,
  };
}

/** The map's value for `key`, made by `make` on first use. */
function entryOf<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

const toGroupByDay = (day: string) => `${day}T00:00:00+00:00`;

/** Per day, team (or customer), model and key; group totals summed by Postgres. */
async function reportByTeamOrCustomer(query: Query, by: 'team' | 'customer', filter: ReportFilter) {
  const rows = await teamOrCustomerReportRows(query, by, filter);
  const days = new Map<
    string,
    Map<string | null, { total_spend: number; metadata: z.output<typeof perModelAndKey>[] }>
  >();
  for (const row of rows) {
    const groups = entryOf(days, row.day, () => new Map());
    const entry = entryOf(groups, row.name, () => ({
      total_spend: toUsdNumber(row.group_spend),
      metadata: [],
    }));
    entry.metadata.push({
      model: row.model,
      api_key: row.api_key,
      spend: toUsdNumber(row.spend),
      total_tokens: row.total_tokens,
    });
  }
  const perDay = [...days.entries()];
  if (by === 'team') {
    return perDay.map(([day, groups]) => ({
      group_by_day: toGroupByDay(day),
      teams: [...groups.entries()].map(([name, entry]) => ({
        team_name: name ?? 'Unassigned Team',
        ...entry,
      })),
    })) satisfies z.output<typeof teamReportSchema>;
  }
  return perDay.map(([day, groups]) => ({
    group_by_day: toGroupByDay(day),
    customers: [...groups.entries()].map(([name, entry]) => ({ customer: name, ...entry })),
  })) satisfies z.output<typeof customerReportSchema>;
}

/** Per key and model, keys ordered by cost (most first); key totals summed by Postgres. */
async function reportByApiKey(
  query: Query,
  filter: ReportFilter,
): Promise<z.output<typeof apiKeyReportSchema>> {
  const rows = await apiKeyReportRows(query, filter);
  const keys = new Map<string, z.output<typeof apiKeyReportSchema>[number]>();
  for (const row of rows) {
    const entry = entryOf(keys, row.api_key, () => ({
      api_key: row.api_key,
      total_cost: toUsdNumber(row.key_cost),
      total_input_tokens: row.key_input_tokens,
      total_output_tokens: row.key_output_tokens,
      model_details: [],
    }));
    entry.model_details.push({
      model: row.model,
      total_cost: toUsdNumber(row.cost),
      total_input_tokens: row.input_tokens,
      total_output_tokens: row.output_tokens,
    });
  }
  return [...keys.values()];
}

/** Per day and group value, for one of our groupings; groups ordered by spend (most first). */
async function reportByExtensionGroup(query: Query, group: ExtensionGroup, filter: ReportFilter) {
  const { list } = extensionGroups[group];
  const rows = await groupReportRows(query, group, filter);
  const days = new Map<string, Record<string, unknown>[]>();
  for (const { day, name, total_spend, ...tokens } of rows) {
    entryOf(days, day, () => []).push({ [group]: name, total_spend: toUsdNumber(total_spend), ...tokens });
  }
  return [...days.entries()].map(([day, groups]) => ({ group_by_day: toGroupByDay(day), [list]: groups }));
}

// ---------------------------------------------------------------------------------------------
// GET /{user,team,tag,customer}/daily/activity

const metricsSchema = z.object({
  spend: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cache_read_input_tokens: z.number(),
  cache_creation_input_tokens: z.number(),
  total_tokens: z.number().describe('prompt_tokens + completion_tokens'),
  api_requests: z.number(),
  successful_requests: z.number(),
  failed_requests: z.number(),
});
type Metrics = z.output<typeof metricsSchema>;

const breakdownEntrySchema = z.object({
  metrics: metricsSchema,
  metadata: z
    .record(z.string(), z.string().nullable())
    .describe('api_keys: key_alias and team_id; team entities: team_alias; else empty'),
});
const breakdownSchema = z.record(z.string(), breakdownEntrySchema);

const dailyActivitySchema = z.object({
  results: z.array(
    z.object({
      date: z.string().describe('UTC day, YYYY-MM-DD'),
      metrics: metricsSchema,
      breakdown: z.object({
        models: breakdownSchema,
        providers: breakdownSchema,
        api_keys: breakdownSchema,
        entities: breakdownSchema.describe('Per user, team, tag or end user, as the endpoint reports'),
      }),
    }),
  ),
  metadata: z.object({
    total_spend: z.number(),
    total_prompt_tokens: z.number(),
    total_completion_tokens: z.number(),
    total_tokens: z.number(),
    total_api_requests: z.number(),
    total_successful_requests: z.number(),
    total_failed_requests: z.number(),
    total_cache_read_input_tokens: z.number(),
    total_cache_creation_input_tokens: z.number(),
    page: z.number(),
    total_pages: z.number(),
    has_more: z.boolean(),
  }),
});

type MetricsRow = DailyMetricsRow;

const toMetrics = ({ spend, ...counts }: MetricsRow): Metrics => ({ spend: toUsdNumber(spend), ...counts });

/** Breakdown entries kept per day and dimension by default (`breakdown_limit`). */
const DEFAULT_BREAKDOWN_LIMIT = 100;

const pageFields = {
  page: z.coerce.number().int().min(1).default(1),
  page_size: z.coerce.number().int().min(1).max(1000).default(50).describe('Days per page'),
  breakdown_limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(DEFAULT_BREAKDOWN_LIMIT)
    .describe(
      'Ours: entries kept per day in each breakdown, largest spend first (a day of 10,000 end users would otherwise answer 10,000 of them); day totals always cover every row',
    ),
};

/** Comma-separated ids; blanks dropped, and none at all means no filter. */
const idList = z
  .string()
  .transform((value) => {
    const ids = value
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    return ids.length > 0 ? ids : undefined;
  })
  .optional();

/** A daily activity query once parsed, whatever its entity filter is called. */
interface DailyActivityQuery {
  start_date?: string | undefined;
  end_date?: string | undefined;
  page: number;
  page_size: number;
  breakdown_limit: number;
  entityIds: string[] | undefined;
}

/** One `LiteLLM_Daily*Spend` table (contract §3.8) behind a daily activity endpoint. */
interface DailyActivityEndpoint extends DailyActivityTable {
  path: string;
  summary: string;
  /** Validates the query; the entity filter keeps LiteLLM's parameter name. */
  query: z.ZodType<DailyActivityQuery>;
}

const dailyActivityEndpoints: DailyActivityEndpoint[] = [
  {
    path: '/user/daily/activity',
    summary: 'Daily spend, tokens and requests of internal users, by model, provider, key and user',
    table: 'LiteLLM_DailyUserSpend',
    entityColumn: 'user_id',
    query: z
      .object({ ...dateRange, ...pageFields, user_id: z.string().optional() })
      .transform(({ user_id, ...q }) => ({ ...q, entityIds: user_id ? [user_id] : undefined })),
  },
  {
    path: '/team/daily/activity',
    summary: 'Daily spend, tokens and requests of teams, by model, provider, key and team',
    table: 'LiteLLM_DailyTeamSpend',
    entityColumn: 'team_id',
    query: z
      .object({ ...dateRange, ...pageFields, team_ids: idList.describe('Comma-separated team ids') })
      .transform(({ team_ids, ...q }) => ({ ...q, entityIds: team_ids })),
  },
  {
    path: '/tag/daily/activity',
    summary: 'Daily spend, tokens and requests per request tag, by model, provider, key and tag',
    table: 'LiteLLM_DailyTagSpend',
    entityColumn: 'tag',
    query: z
      .object({ ...dateRange, ...pageFields, tags: idList.describe('Comma-separated tags') })
      .transform(({ tags, ...q }) => ({ ...q, entityIds: tags })),
  },
  {
    path: '/customer/daily/activity',
    summary: 'Daily spend, tokens and requests of end users, by model, provider, key and end user',
    table: 'LiteLLM_DailyEndUserSpend',
    entityColumn: 'end_user_id',
    query: z
      .object({ ...dateRange, ...pageFields, end_user_ids: idList.describe('Comma-separated end-user ids') })
      .transform(({ end_user_ids, ...q }) => ({ ...q, entityIds: end_user_ids })),
  },
];

/**
 * Daily activity of one table between two dates (inclusive), newest day first, a page of days
 * at a time; days without rows are left out. The metadata totals cover the whole range, not
 * just the page.
 */
async function dailyActivity(
  query: Query,
  endpoint: DailyActivityEndpoint,
  input: DailyActivityPage,
): Promise<z.output<typeof dailyActivitySchema>> {
  const { totals, pageDays, rows: found } = await dailyActivityRows(query, endpoint, input);
  const results = new Map<string, z.output<typeof dailyActivitySchema>['results'][number]>();
  if (pageDays.length > 0) {
    const rows = found.sort(
      (a, b) =>
        b.date.localeCompare(a.date) ||
        Number(b.spend) - Number(a.spend) ||
        (a.name ?? '').localeCompare(b.name ?? ''),
    );
    for (const date of pageDays) {
      results.set(date, {
        date,
        metrics: toMetrics(ZERO_METRICS_ROW),
        breakdown: { models: {}, providers: {}, api_keys: {}, entities: {} },
      });
    }
    const keyHashes = new Set<string>();
    const teamIds = new Set<string>();
    for (const { date, dimension, name, ...metrics } of rows) {
      const day = results.get(date);
      if (!day) continue;
      if (dimension === 'day') {
        day.metrics = toMetrics(metrics);
        continue;
      }
      // A NULL model or provider is kept under "" rather than dropped, so the breakdown adds up.
      const key = name ?? '';
      day.breakdown[dimension][key] = { metrics: toMetrics(metrics), metadata: {} };
      if (dimension === 'api_keys') keyHashes.add(key);
      if (dimension === 'entities' && endpoint.entityColumn === 'team_id') teamIds.add(key);
    }
    await addBreakdownMetadata(query, [...results.values()], keyHashes, teamIds);
  }

  const totalDays = totals?.days ?? 0;
  const total = toMetrics(totals ?? ZERO_METRICS_ROW);
  return {
    results: [...results.values()],
    metadata: {
      total_spend: total.spend,
      total_prompt_tokens: total.prompt_tokens,
      total_completion_tokens: total.completion_tokens,
      total_tokens: total.total_tokens,
      total_api_requests: total.api_requests,
      total_successful_requests: total.successful_requests,
      total_failed_requests: total.failed_requests,
      total_cache_read_input_tokens: total.cache_read_input_tokens,
      total_cache_creation_input_tokens: total.cache_creation_input_tokens,
      page: input.page,
      total_pages: Math.ceil(totalDays / input.pageSize),
      has_more: input.page * input.pageSize < totalDays,
    },
  };
}

const ZERO_METRICS_ROW: MetricsRow = {
  spend: '0',
  prompt_tokens: 0,
  completion_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
  total_tokens: 0,
  api_requests: 0,
  successful_requests: 0,
  failed_requests: 0,
};

/** Key aliases and teams on the `api_keys` entries, team aliases on team entities, as the UI shows them. */
async function addBreakdownMetadata(
  query: Query,
  days: z.output<typeof dailyActivitySchema>['results'],
  keyHashes: Set<string>,
  teamIds: Set<string>,
): Promise<void> {
  const keys = new Map(
    (await keyAliasesAndTeams(query, [...keyHashes])).map((row) => [
      row.token,
      { key_alias: row.key_alias, team_id: row.team_id },
    ]),
  );
  const teams = new Map(
    (await teamAliases(query, [...teamIds])).map((row) => [row.team_id, { team_alias: row.team_alias }]),
  );
  for (const day of days) {
    for (const [hash, entry] of Object.entries(day.breakdown.api_keys)) {
      entry.metadata = keys.get(hash) ?? { key_alias: null, team_id: null };
    }
    for (const [teamId, entry] of Object.entries(day.breakdown.entities)) {
      const team = teams.get(teamId);
      if (team) entry.metadata = team;
    }
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * The global spend views (contract §2.12), master key only: `GET /global/spend`,
 * `GET /global/spend/report` (from `gateway_daily_spend`; tags from `LiteLLM_SpendLogs`) and the daily activity endpoints (from
 * the `LiteLLM_Daily*Spend` tables). All money is summed by Postgres as `numeric` and rendered
 * as a JSON number once. Missing dates are a 400 `Please provide start_date and end_date`.
 */
export function registerSpendReportRoutes(api: AdminApi, deps: AppDeps): void {
  // Reports read through their own pool (see DatabaseHandle.reports).
  const query = deps.database.reports.query;

  api.route(
    {
      method: 'get',
      path: '/global/spend',
      tag: 'spend',
      summary: 'Total spend of the last 30 days (from midnight UTC 30 days ago)',
      access: 'admin',
      response: z.object({
        spend: z.number(),
        max_budget: z.number().nullable().describe('Proxy-wide budget; none is configurable yet, so null'),
      }),
    },
    async () => {
      const spend = await globalSpendLast30Days(query);
      return { spend: toUsdNumber(spend), max_budget: null };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/global/spend/report',
      tag: 'spend',
      summary:
        'Spend per day and team, customer, model, provider, end user or tag, or per key and model, between two dates (inclusive)',
      access: 'admin',
      query: z.object({
        ...dateRange,
        group_by: z
          .enum(reportGroups)
          .default('team')
          .describe(
            '`team`, `customer`, `api_key` as LiteLLM; `model`, `provider`, `end_user`, `tag` give ' +
              '`[{group_by_day, <models|providers|end_users|tags>: [{<model|provider|end_user|tag>, total_spend, total_input_tokens, total_output_tokens, api_requests}]}]`',
          ),
        api_key: z.string().min(1).optional().describe('Raw sk- key or its hash'),
        internal_user_id: z.string().min(1).optional(),
        team_id: z.string().min(1).optional(),
        customer_id: z.string().min(1).optional(),
      }),
      response: spendReportSchema,
    },
    async ({ query: q }) => {
      // Tags are kept per spend row only; every other grouping reads the daily aggregate.
      const filters = toReportFilter(requireDateRange(q), q);
      // Not enterprise-gated here, unlike LiteLLM.
      if (q.group_by === 'team' || q.group_by === 'customer' || q.group_by === 'api_key') {
        // As in LiteLLM, an `api_key` or `internal_user_id` filter turns its groupings into the
        // per-key report; our own groupings keep their shape under every filter.
        if (q.group_by === 'api_key' || q.api_key || q.internal_user_id)
          return reportByApiKey(query, filters);
        return reportByTeamOrCustomer(query, q.group_by, filters);
      }
      return reportByExtensionGroup(query, q.group_by, filters);
    },
  );

  for (const endpoint of dailyActivityEndpoints) {
    api.route(
      {
        method: 'get',
        path: endpoint.path,
        tag: 'spend',
        summary: endpoint.summary,
        access: 'admin',
        query: endpoint.query,
        response: dailyActivitySchema,
      },
      async ({ query: q }) => {
        const range = requireDateRange(q);
        return dailyActivity(query, endpoint, {
          ...range,
          entityIds: q.entityIds,
          page: q.page,
          pageSize: q.page_size,
          breakdownLimit: q.breakdown_limit,
        });
      },
    );
  }
}
