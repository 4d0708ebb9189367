import {
  type DaySpend,
  findKeysByAliases,
  pageSpendLogs,
  reconcileSpend,
  rowToJson,
  type SpendLogFilter,
  spendByDay,
  spendLogs,
  spendOfInstance,
} from '@gateway/db';
import { addUsd } from '@gateway/pricing';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../../app-env.ts';
import { GatewayHttpError } from '../../errors.ts';
import { toKeyHash } from '../../lookups/virtual-key.ts';
import { type AdminApi, queryBoolean } from './admin-api.ts';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
/** `/spend/logs/ui` dates: `YYYY-MM-DD HH:MM:SS` (UTC) as LiteLLM's UI sends them, or a day. */
const dateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$/, 'expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS');
/**
 * LiteLLM answers `/spend/logs` with every matching row, which on a log of millions builds an
 * answer of hundreds of megabytes: rows come a page at a time instead.
 */
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1_000;
/** Deep offsets scan every row before them: past this, narrow the filter or the dates. */
const MAX_PAGE = 10_000;
const MAX_SUMMARY_DAYS = 366;

/** A `/spend/logs/ui` date as an instant: a bare end day counts to its end. */
function toInstant(text: string, end: boolean): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const day = new Date(`${text}T00:00:00Z`);
    if (end) day.setUTCDate(day.getUTCDate() + 1);
    return day;
  }
  const at = new Date(`${text.replace(' ', 'T')}Z`);
  // An end time is inclusive to the second.
  return end ? new Date(at.getTime() + 1000) : at;
}

const spendRowSchema = z.record(z.string(), z.unknown());

/** Day-by-day totals between two dates, days without spend included (contract §2.12). */
function summarize(rows: DaySpend[], start: string, end: string) {
  const days = new Map<
    string,
    { spend: number; keys: Map<string, number>; users: Map<string, number>; models: Map<string, number> }
  >();
  for (
    let d = new Date(`${start}T00:00:00Z`);
    d <= new Date(`${end}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1)
  ) {
    days.set(d.toISOString().slice(0, 10), {
      spend: 0,
      keys: new Map(),
      users: new Map(),
      models: new Map(),
    });
  }
  for (const row of rows) {
    const day = days.get(row.day);
    if (!day) continue;
    const spend = Number(row.spend);
    day.spend += spend;
    const add = (map: Map<string, number>, name: unknown) => {
      if (typeof name === 'string' && name) map.set(name, (map.get(name) ?? 0) + spend);
    };
    add(day.keys, row.api_key);
    add(day.users, row.user);
    add(day.models, row.model);
  }
  return [...days.entries()].map(([startTime, day]) => ({
    startTime,
    spend: day.spend,
    ...Object.fromEntries(day.keys),
    users: Object.fromEntries(day.users),
    models: Object.fromEntries(day.models),
  }));
}

/** `GET /spend/logs`, `GET /spend/tags` (contract §2.12) and `GET /spend/reconcile`, master key only. */
export function registerSpendRoutes(api: AdminApi, deps: AppDeps): void {
  // Reports read through their own pool (see DatabaseHandle.reports).
  const reports = deps.database.reports;
  const query = reports.query;

  /** One page of rows as the admin API shows them, with a `link` to the next when there is one. */
  const pageOf = async (
    c: Context<AppEnv>,
    filter: SpendLogFilter,
    page: number,
    pageSize: number,
  ): Promise<Record<string, unknown>[]> => {
    const { rows, hasMore } = await pageSpendLogs(reports.db, filter, { page, pageSize });
    if (hasMore) {
      const next = new URL(c.req.url);
      next.searchParams.set('page', String(page + 1));
      next.searchParams.set('page_size', String(pageSize));
      c.header('link', `<${next.pathname}${next.search}>; rel="next"`);
    }
    return rows.map((row) => rowToJson(spendLogs, row));
  };

  api.route(
    {
      method: 'get',
      path: '/spend/logs',
      tag: 'spend',
      summary:
        'Spend rows by key, user, end user or request id, newest first, a page at a time (a `link` header names the next page); or day-by-day totals between two dates',
      access: 'admin',
      query: z.object({
        api_key: z.string().optional(),
        user_id: z.string().optional(),
        /** Ours (LiteLLM has it on `/spend/logs/ui`): rows of one end user. */
        end_user: z.string().optional(),
        /** The call id (`x-litellm-call-id`) or the provider's response id the client saw. */
        request_id: z.string().optional(),
        start_date: date.optional(),
        end_date: date.optional(),
        summarize: queryBoolean.default(true),
        /** Ours: LiteLLM answers every row at once, which a large log cannot. */
        page: z.coerce.number().int().min(1).max(MAX_PAGE).default(1),
        page_size: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
      }),
      response: z.array(spendRowSchema),
    },
    async ({ c, query: q }) => {
      const filter: SpendLogFilter = {
        apiKey: q.api_key ? toKeyHash(q.api_key) : undefined,
        user: q.user_id,
        endUser: q.end_user,
        requestId: q.request_id,
      };
      if (q.start_date || q.end_date) {
        if (!q.start_date || !q.end_date) {
          throw new GatewayHttpError({
            kind: 'invalid_request',
            param: q.start_date ? 'end_date' : 'start_date',
            message: 'Please provide start_date and end_date',
          });
        }
        const from = new Date(`${q.start_date}T00:00:00Z`);
        const to = new Date(`${q.end_date}T00:00:00Z`);
        to.setUTCDate(to.getUTCDate() + 1);
        // A request id names rows: they are answered as rows whatever `summarize` says.
        if (q.summarize && !q.request_id) {
          if (to.getTime() - from.getTime() > MAX_SUMMARY_DAYS * 86_400_000) {
            throw new GatewayHttpError({
              kind: 'invalid_request',
              param: 'end_date',
              message: `A day-by-day summary covers at most ${MAX_SUMMARY_DAYS} days.`,
            });
          }
          const sums = await spendByDay(reports.db, { ...filter, from, to });
          return summarize(sums, q.start_date, q.end_date);
        }
        return pageOf(c, { ...filter, from, to }, q.page, q.page_size);
      }
      return pageOf(c, filter, q.page, q.page_size);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/spend/logs/ui',
      tag: 'spend',
      summary: "Spend rows a page at a time with filters and a total, in LiteLLM's paged shape",
      access: 'admin',
      query: z.object({
        api_key: z.string().optional(),
        user_id: z.string().optional(),
        request_id: z.string().optional(),
        team_id: z.string().optional(),
        end_user: z.string().optional(),
        key_alias: z.string().optional(),
        model: z.string().optional(),
        status_filter: z.enum(['success', 'failure']).optional(),
        min_spend: z.coerce.number().optional(),
        max_spend: z.coerce.number().optional(),
        start_date: dateTime.optional(),
        end_date: dateTime.optional(),
        page: z.coerce.number().int().min(1).max(MAX_PAGE).default(1),
        page_size: z.coerce.number().int().min(1).max(100).default(50),
      }),
      response: z.object({
        data: z.array(spendRowSchema),
        total: z.number(),
        page: z.number(),
        page_size: z.number(),
        total_pages: z.number(),
        total_capped: z.boolean().optional(),
      }),
    },
    async ({ query: q }) => {
      let apiKey = q.api_key ? toKeyHash(q.api_key) : undefined;
      if (q.key_alias) {
        const [key] = await findKeysByAliases(deps.database.db, [q.key_alias]);
        // No such alias, or one of another key than `api_key` names: nothing matches.
        if (!key || (apiKey && apiKey !== key.token))
          return { data: [], total: 0, page: q.page, page_size: q.page_size, total_pages: 0 };
        apiKey = key.token;
      }
      const {
        rows,
        total = 0,
        totalCapped,
      } = await pageSpendLogs(
        reports.db,
        {
          apiKey,
          user: q.user_id,
          requestId: q.request_id,
          teamId: q.team_id,
          endUser: q.end_user,
          model: q.model,
          status: q.status_filter,
          minSpend: q.min_spend,
          maxSpend: q.max_spend,
          from: q.start_date ? toInstant(q.start_date, false) : undefined,
          to: q.end_date ? toInstant(q.end_date, true) : undefined,
        },
        { page: q.page, pageSize: q.page_size, withTotal: true },
      );
      return {
        data: rows.map((row) => rowToJson(spendLogs, row)),
        total,
        page: q.page,
        page_size: q.page_size,
        total_pages: Math.ceil(total / q.page_size),
        // Ours: counting stops at a million matching rows; `total` is then a lower bound.
        ...(totalCapped ? { total_capped: true } : {}),
      };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/spend/tags',
      tag: 'spend',
      summary:
        'Spend and request count per request tag: all time, or between the dates given (LiteLLM ignores them)',
      access: 'admin',
      query: z.object({ start_date: date.optional(), end_date: date.optional() }),
      response: z.array(
        z.object({ individual_request_tag: z.string(), log_count: z.number(), total_spend: z.number() }),
      ),
    },
    async ({ query: q }) => {
      // From the daily tag aggregate (one row per tag, day, key and model), not the spend rows;
      // its days make the dates LiteLLM accepts and ignores cheap to honour.
      const rows = await query<{ tag: string; log_count: number; total_spend: string | null }>(
        `select tag, sum(api_requests)::int as log_count, sum(spend)::text as total_spend
         from "LiteLLM_DailyTagSpend"
         where ($1::text is null or date >= $1) and ($2::text is null or date <= $2)
         group by tag order by sum(spend) desc nulls last`,
        [q.start_date ?? null, q.end_date ?? null],
      );
      return rows.map((row) => ({
        individual_request_tag: row.tag,
        log_count: row.log_count,
        total_spend: Number(row.total_spend ?? 0),
      }));
    },
  );

  const mismatch = z.object({ id: z.string(), expected: z.string(), actual: z.string() });
  api.route(
    {
      method: 'get',
      path: '/spend/reconcile',
      tag: 'spend',
      summary:
        'Compares the spend rows with the key, team, user, end-user and tag totals (all time), the daily aggregates (in the range) and this instance’s Prometheus spend counter, and finds rows that never arrived (holes in each process’s row numbering); exact decimals',
      access: 'admin',
      query: z.object({ start_date: date.optional(), end_date: date.optional() }),
      response: z.object({
        ok: z.boolean(),
        difference: z.string(),
        start_date: z.string().nullable(),
        end_date: z.string().nullable(),
        spend_logs: z.object({ rows: z.number(), spend: z.string() }),
        sequences: z.object({
          instances: z.number(),
          missing: z.number(),
          gaps: z.array(
            z.object({
              instance: z.string(),
              rows: z.number(),
              first_seq: z.number(),
              last_seq: z.number(),
              missing: z.number(),
            }),
          ),
        }),
        prometheus: z.object({
          instance: z.string(),
          counted: z.object({ rows: z.number(), spend: z.string() }),
          written: z.object({ rows: z.number(), spend: z.string() }),
          difference: z.string(),
        }),
        counters: z.array(
          z.object({
            entity: z.string(),
            table: z.string(),
            checked: z.number(),
            mismatches: z.array(mismatch),
            without_counter: z.array(z.object({ id: z.string(), spend: z.string() })),
          }),
        ),
        daily: z.array(
          z.object({
            table: z.string(),
            checked: z.number(),
            mismatches: z.array(
              z.object({
                entity: z.string(),
                date: z.string(),
                api_key: z.string(),
                model: z.string(),
                custom_llm_provider: z.string(),
                fields: z.record(z.string(), z.tuple([z.string().nullable(), z.string().nullable()])),
              }),
            ),
          }),
        ),
      }),
    },
    async ({ query: q }) => {
      // The spend counter of this process against the rows it wrote up to the same row (each
      // carries its order), once what it queued is written (for a few seconds at most).
      const counted = deps.metrics.counted;
      const retainedFrom = deps.retainedFrom?.();
      await deps.spendQueue.flush(5_000);
      const report = await reconcileSpend(reports.db, {
        startDate: q.start_date,
        endDate: q.end_date,
        retainedFrom,
      });
      const written = await spendOfInstance(reports.db, deps.metrics.instanceId, counted.rows);
      const prometheusDifference = addUsd(counted.spend, `-${written.spend}`).replace(/^-/, '');
      // Retention may have pruned rows of a process older than the retention period.
      const prometheusCompared = !retainedFrom || performance.timeOrigin > retainedFrom.getTime();
      const prometheusOk =
        !prometheusCompared || (prometheusDifference === '0' && counted.rows === written.rows);
      return {
        ok: report.ok && prometheusOk,
        difference: prometheusCompared ? addUsd(report.difference, prometheusDifference) : report.difference,
        start_date: q.start_date ?? null,
        end_date: q.end_date ?? null,
        spend_logs: report.spendLogs,
        sequences: {
          instances: report.sequences.instances,
          missing: report.sequences.missing,
          gaps: report.sequences.gaps.map(({ firstSeq, lastSeq, ...gap }) => ({
            ...gap,
            first_seq: firstSeq,
            last_seq: lastSeq,
          })),
        },
        prometheus: {
          instance: deps.metrics.instanceId,
          counted,
          written,
          difference: prometheusDifference,
        },
        counters: report.counters.map(({ withoutCounter, ...check }) => ({
          ...check,
          without_counter: withoutCounter,
        })),
        daily: report.daily.map((check) => ({
          ...check,
          mismatches: check.mismatches.map(({ apiKey, provider, ...m }) => ({
            ...m,
            api_key: apiKey,
            custom_llm_provider: provider,
          })),
        })),
      };
    },
  );
}
