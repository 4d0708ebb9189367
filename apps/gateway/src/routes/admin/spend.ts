import { reconcileSpend, spendLogs, spendOfInstance, sqlRowToJson } from '@gateway/db';
import { addUsd } from '@gateway/pricing';
import { z } from 'zod';
import type { AppDeps } from '../../app-env.ts';
import { GatewayHttpError } from '../../errors.ts';
import { toKeyHash } from '../../services/virtual-key.ts';
import { type AdminApi, queryBoolean } from './admin-api.ts';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
/** Without a filter LiteLLM returns every row; we return the newest ones, a page at most. */
const UNFILTERED_LIMIT = 100;

const spendRowSchema = z.record(z.string(), z.unknown());

/** Day-by-day totals between two dates, days without spend included (contract §2.12). */
function summarize(rows: Record<string, unknown>[], start: string, end: string) {
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
    const day = days.get(String(row.day));
    if (!day) continue;
    const spend = Number(row.spend ?? 0);
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
  const query = deps.database.query;

  api.route(
    {
      method: 'get',
      path: '/spend/logs',
      tag: 'spend',
      summary: 'Spend rows by key, user or request id, or day-by-day totals between two dates',
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
      }),
      response: z.array(spendRowSchema),
    },
    async ({ query: q }) => {
      const toJson = (rows: Record<string, unknown>[]) => rows.map((row) => sqlRowToJson(spendLogs, row));
      if (q.start_date || q.end_date) {
        if (!q.start_date || !q.end_date) {
          throw new GatewayHttpError({
            kind: 'invalid_request',
            param: q.start_date ? 'end_date' : 'start_date',
            message: 'Please provide start_date and end_date',
          });
        }
        const filters: string[] = [`"startTime" >= $1::date`, `"startTime" < $2::date + 1`];
        const params: unknown[] = [q.start_date, q.end_date];
        if (q.api_key) {
          params.push(toKeyHash(q.api_key));
          filters.push(`api_key = $${params.length}`);
        }
        if (q.user_id) {
          params.push(q.user_id);
          filters.push(`"user" = $${params.length}`);
        }
        if (q.end_user) {
          params.push(q.end_user);
          filters.push(`end_user = $${params.length}`);
        }
        const where = filters.join(' and ');
        if (!q.summarize) {
          return toJson(
            await query(`select * from "LiteLLM_SpendLogs" where ${where} order by "startTime" desc`, params),
          );
        }
        const rows = await query(
          `select to_char("startTime" at time zone 'UTC', 'YYYY-MM-DD') as day, api_key, "user", model, spend::text as spend
           from "LiteLLM_SpendLogs" where ${where}`,
          params,
        );
        return summarize(rows, q.start_date, q.end_date);
      }
      if (q.request_id) {
        // The gateway's call id (x-litellm-call-id), or the response id the client saw (the provider's).
        return toJson(
          await query(
            `select * from "LiteLLM_SpendLogs" where request_id = $1
             union all
             select * from "LiteLLM_SpendLogs" where metadata->>'provider_response_id' = $1 and request_id <> $1`,
            [q.request_id],
          ),
        );
      }
      if (q.api_key) {
        return toJson(
          await query(`select * from "LiteLLM_SpendLogs" where api_key = $1 order by "startTime" desc`, [
            toKeyHash(q.api_key),
          ]),
        );
      }
      if (q.user_id) {
        return toJson(
          await query(`select * from "LiteLLM_SpendLogs" where "user" = $1 order by "startTime" desc`, [
            q.user_id,
          ]),
        );
      }
      if (q.end_user) {
        return toJson(
          await query(`select * from "LiteLLM_SpendLogs" where end_user = $1 order by "startTime" desc`, [
            q.end_user,
          ]),
        );
      }
      return toJson(
        await query(`select * from "LiteLLM_SpendLogs" order by "startTime" desc limit ${UNFILTERED_LIMIT}`),
      );
    },
  );

  api.route(
    {
      method: 'get',
      path: '/spend/tags',
      tag: 'spend',
      summary: 'All-time spend and request count per request tag',
      access: 'admin',
      query: z.object({ start_date: date.optional(), end_date: date.optional() }),
      response: z.array(
        z.object({ individual_request_tag: z.string(), log_count: z.number(), total_spend: z.number() }),
      ),
    },
    async () => {
      const rows = await query<{ tag: string; log_count: number; total_spend: string | null }>(
        `select tag.name as tag, count(*)::int as log_count, sum(spend)::text as total_spend
         from "LiteLLM_SpendLogs" cross join lateral jsonb_array_elements_text(request_tags) as tag(name)
         group by tag.name order by sum(spend) desc nulls last`,
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
      await deps.spendQueue.flush(5_000);
      const report = await reconcileSpend(deps.database.db, { startDate: q.start_date, endDate: q.end_date });
      const written = await spendOfInstance(deps.database.db, deps.metrics.instanceId, counted.rows);
      const prometheusDifference = addUsd(counted.spend, `-${written.spend}`).replace(/^-/, '');
      const prometheusOk = prometheusDifference === '0' && counted.rows === written.rows;
      return {
        ok: report.ok && prometheusOk,
        difference: addUsd(report.difference, prometheusDifference),
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
