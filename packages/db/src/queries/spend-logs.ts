import { and, count, desc, eq, gte, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../client.ts';
import { dailySpend } from '../schema/daily-spend.ts';
import { type SpendLogRow, spendLogs } from '../schema/spend-logs.ts';

/** Which spend rows: every field given narrows the set; `to` is exclusive. */
export interface SpendLogFilter {
  apiKey?: string | undefined;
  user?: string | undefined;
  endUser?: string | undefined;
  teamId?: string | undefined;
  /** The call id, or the provider's response id the client saw. */
  requestId?: string | undefined;
  model?: string | undefined;
  status?: 'success' | 'failure' | undefined;
  minSpend?: number | undefined;
  maxSpend?: number | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

function whereOf(f: SpendLogFilter): SQL | undefined {
  const t = spendLogs;
  return and(
    f.apiKey !== undefined ? eq(t.apiKey, f.apiKey) : undefined,
    f.user !== undefined ? eq(t.user, f.user) : undefined,
    f.endUser !== undefined ? eq(t.endUser, f.endUser) : undefined,
    f.teamId !== undefined ? eq(t.teamId, f.teamId) : undefined,
    f.requestId !== undefined
      ? or(eq(t.requestId, f.requestId), sql`(${t.metadata}->>'provider_response_id') = ${f.requestId}`)
      : undefined,
    f.model !== undefined ? or(eq(t.model, f.model), eq(t.modelGroup, f.model)) : undefined,
    f.status !== undefined ? eq(t.status, f.status) : undefined,
    f.minSpend !== undefined ? gte(t.spend, String(f.minSpend)) : undefined,
    f.maxSpend !== undefined ? lte(t.spend, String(f.maxSpend)) : undefined,
    f.from !== undefined ? gte(t.startTime, f.from) : undefined,
    f.to !== undefined ? lt(t.startTime, f.to) : undefined,
  );
}

/** The most matching rows a page's total counts. */
const COUNT_CAP = 1_000_000;

/**
 * One page of spend rows, newest first (ties by request id, so pages never overlap). Reads one
 * row more than the page to say whether another follows, and counts the whole set only when
 * asked (`withTotal`), which on a large log costs a scan of every matching row; the count
 * stops at COUNT_CAP (then `totalCapped` is true).
 */
export async function pageSpendLogs(
  db: Database,
  filter: SpendLogFilter,
  page: { page: number; pageSize: number; withTotal?: boolean },
): Promise<{ rows: SpendLogRow[]; hasMore: boolean; total?: number; totalCapped?: boolean }> {
  const where = whereOf(filter);
  const found = await db
    .select()
    .from(spendLogs)
    .where(where)
    .orderBy(desc(spendLogs.startTime), desc(spendLogs.requestId))
    .limit(page.pageSize + 1)
    .offset((page.page - 1) * page.pageSize);
  const hasMore = found.length > page.pageSize;
  const rows = hasMore ? found.slice(0, page.pageSize) : found;
  if (!page.withTotal) return { rows, hasMore };
  const cap = COUNT_CAP;
  const capped = db
    .select({ one: sql`1` })
    .from(spendLogs)
    .where(where)
    .limit(cap + 1)
    .as('capped');
  const [counted] = await db.select({ total: count() }).from(capped);
  const total = Math.min(Number(counted?.total ?? 0), cap);
  return { rows, hasMore, total, totalCapped: Number(counted?.total ?? 0) > cap };
}

/** A day's spend of one key, user and model (the `/spend/logs` summary's unit). */
export interface DaySpend {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  api_key: string;
  user: string | null;
  model: string;
  /** Exact decimal. */
  spend: string;
}

/**
 * Spend summed per UTC day, key, user and model from the complete daily aggregate (so a month of
 * millions of rows is a few thousand aggregate rows). `from` and `to` are whole UTC days here.
 * Filters on key, user and end user only: the aggregate keeps nothing else a summary filters by.
 */
export async function spendByDay(
  db: Database,
  filter: Pick<SpendLogFilter, 'apiKey' | 'user' | 'endUser'> & { from: Date; to: Date },
): Promise<DaySpend[]> {
  const t = dailySpend;
  const day = (at: Date) => at.toISOString().slice(0, 10);
  const rows = await db
    .select({
      day: t.date,
      api_key: t.apiKey,
      user: t.user,
      model: t.model,
      spend: sql<string>`coalesce(sum(${t.spend}), 0)::text`,
    })
    .from(t)
    .where(
      and(
        gte(t.date, day(filter.from)),
        lt(t.date, day(filter.to)),
        filter.apiKey !== undefined ? eq(t.apiKey, filter.apiKey) : undefined,
        filter.user !== undefined ? eq(t.user, filter.user) : undefined,
        filter.endUser !== undefined ? eq(t.endUser, filter.endUser) : undefined,
      ),
    )
    .groupBy(t.date, t.apiKey, t.user, t.model);
  return rows.map((row) => ({ ...row, user: row.user === '' ? null : row.user }));
}
