import { type SQL, sql } from 'drizzle-orm';
import { type Database, queryRows as rows } from '../client.ts';

/** Inclusive UTC days, `YYYY-MM-DD`; either end may be open. */
export interface ReconcileRange {
  startDate?: string | undefined;
  endDate?: string | undefined;
  /**
   * With retention on, the oldest instant whose rows are all still kept: days before it are
   * left out of the daily checks, and row numbering is checked only on rows ended an hour
   * after it (a call that started before it may be pruned while its neighbours are kept).
   */
  retainedFrom?: Date | undefined;
}

export interface CounterMismatch {
  id: string;
  /** Sum of the entity's spend rows (decimal string). */
  expected: string;
  /** The entity's `spend` column. */
  actual: string;
}

export interface CounterCheck {
  entity: 'key' | 'team' | 'user' | 'end_user' | 'tag';
  table: string;
  /** Entities whose counter was compared. */
  checked: number;
  mismatches: CounterMismatch[];
  /**
   * Spend rows attributed to an id with no counter row: a deleted key, team or user, or the
   * master key. Reported, not a difference, except for end users and tags, whose rows the
   * writer creates on first sight (a missing one there is a difference).
   */
  withoutCounter: { id: string; spend: string }[];
}

export interface DailyMismatch {
  entity: string;
  date: string;
  apiKey: string;
  model: string;
  provider: string;
  /** Field → [expected from spend rows, actual in the aggregate]; only differing fields. */
  fields: Record<string, [string | null, string | null]>;
}

export interface DailyCheck {
  table: string;
  checked: number;
  mismatches: DailyMismatch[];
}

/** A gateway process whose spend rows have holes in their sequence: rows that never arrived. */
export interface SequenceGap {
  instance: string;
  /** Rows of the process in the spend log. */
  rows: number;
  firstSeq: number;
  lastSeq: number;
  /** Sequence numbers between the first and the last with no row. */
  missing: number;
}

export interface ReconcileReport {
  spendLogs: { rows: number; spend: string };
  /**
   * Every process numbers the rows it makes (`metadata.gateway_seq`, per
   * `metadata.gateway_instance`); a hole between its first and last row is a call that ended
   * but never reached the spend log (lost with a Redis that kept nothing on restart, say).
   */
  sequences: { instances: number; missing: number; gaps: SequenceGap[] };
  counters: CounterCheck[];
  daily: DailyCheck[];
  /** Sum of absolute spend differences over every check (decimal string); "0" when all agree. */
  difference: string;
  /** True when every counter and aggregate matches its spend rows exactly. */
  ok: boolean;
}

const SHOWN = 100;

/** How a spend row maps to each entity: the id expression, and the join it needs (tags). */
const TAG_JOIN = sql.raw('cross join lateral jsonb_array_elements_text(r.request_tags) as tag(name)');
const ENTITIES = [
  {
    entity: 'key',
    table: 'LiteLLM_VerificationToken',
    idColumn: 'token',
    spendColumn: 'lifetime_spend',
    rowId: 'r.api_key',
  },
  {
    entity: 'team',
    table: 'LiteLLM_TeamTable',
    idColumn: 'team_id',
    spendColumn: 'lifetime_spend',
    rowId: 'r.team_id',
  },
  {
    entity: 'user',
    table: 'LiteLLM_UserTable',
    idColumn: 'user_id',
    spendColumn: 'lifetime_spend',
    rowId: 'r."user"',
  },
  {
    entity: 'end_user',
    table: 'LiteLLM_EndUserTable',
    idColumn: 'user_id',
    spendColumn: 'lifetime_spend',
    rowId: 'r.end_user',
    createdOnFirstSight: true,
  },
  {
    entity: 'tag',
    table: 'LiteLLM_TagTable',
    idColumn: 'tag_name',
    // Tags have no budget period: their spend is all-time.
    spendColumn: 'spend',
    rowId: 'tag.name',
    join: TAG_JOIN,
    createdOnFirstSight: true,
  },
] as const;

const DAILY = [
  { table: 'LiteLLM_DailyUserSpend', entity: 'a."user_id"', rowId: 'r."user"' },
  { table: 'LiteLLM_DailyTeamSpend', entity: 'a."team_id"', rowId: 'r.team_id' },
  { table: 'LiteLLM_DailyEndUserSpend', entity: 'a."end_user_id"', rowId: 'r.end_user' },
  { table: 'LiteLLM_DailyTagSpend', entity: 'a."tag"', rowId: 'tag.name', join: TAG_JOIN },
  // Every row: its entity is the owner, team and end user together (never empty).
  {
    table: 'gateway_daily_spend',
    entity: `a."user" || '/' || a.team_id || '/' || a.end_user`,
    rowId: `coalesce(r."user", '') || '/' || coalesce(r.team_id, '') || '/' || coalesce(r.end_user, '')`,
  },
] as const;

const DAILY_FIELDS = [
  'spend',
  'api_requests',
  'successful_requests',
  'failed_requests',
  'prompt_tokens',
  'completion_tokens',
  'cache_read_input_tokens',
  'cache_creation_input_tokens',
] as const;

const rowDay = sql.raw(`to_char(r."startTime" at time zone 'UTC', 'YYYY-MM-DD')`);

function dayFilter(day: SQL, range: ReconcileRange): SQL {
  const parts: SQL[] = [sql`true`];
  if (range.startDate) parts.push(sql`${day} >= ${range.startDate}`);
  if (range.endDate) parts.push(sql`${day} <= ${range.endDate}`);
  return sql.join(parts, sql` and `);
}

/**
 * Compares the spend rows with everything derived from them: each key's, team's, user's, end
 * user's and tag's `spend` (all time, as those counters are), and the daily aggregates in the
 * range. The writer updates all of them in the transaction that inserts the rows, so any
 * difference means a lost or doubled update, or a manual change to a counter.
 */
export async function reconcileSpend(db: Database, wanted: ReconcileRange = {}): Promise<ReconcileReport> {
  // Days retention has started to prune are no longer whole: the daily checks start after them.
  const firstWholeDay = wanted.retainedFrom
    ? new Date(wanted.retainedFrom.getTime() + 86_400_000).toISOString().slice(0, 10)
    : undefined;
  const range: ReconcileRange = {
    ...wanted,
    ...(firstWholeDay && (!wanted.startDate || wanted.startDate < firstWholeDay)
      ? { startDate: firstWholeDay }
      : {}),
  };
  let difference = 0n;
  let ok = true;
  const addDifference = (expected: string | null, actual: string | null) => {
    const units = toUnits(expected ?? '0') - toUnits(actual ?? '0');
    difference += units < 0n ? -units : units;
  };

  const [totals] = await rows<{ rows: number; spend: string }>(
    db,
    sql`select count(*)::int as rows, coalesce(sum(spend), 0)::text as spend
        from "LiteLLM_SpendLogs" r where ${dayFilter(rowDay, range)}`,
  );

  const counters: CounterCheck[] = [];
  for (const e of ENTITIES) {
    const table = sql.raw(`"${e.table}"`);
    const idColumn = sql.raw(`c."${e.idColumn}"`);
    const spendColumn = sql.raw(`c."${e.spendColumn}"`);
    const rowId = sql.raw(e.rowId);
    const join = 'join' in e ? e.join : sql``;
    // The rows still in the log, plus what retention removed (gateway_pruned_spend).
    const expected = sql`select id, sum(spend) as spend from (
        select ${rowId} as id, sum(r.spend) as spend from "LiteLLM_SpendLogs" r ${join}
          where r.spend is not null and ${rowId} is not null and ${rowId} <> '' group by 1
        union all
        select p.id, p.spend from gateway_pruned_spend p where p.entity = ${e.entity}) as both_sums
      group by id`;
    const [{ checked } = { checked: 0 }] = await rows<{ checked: number }>(
      db,
      sql`select count(*)::int as checked from ${table}`,
    );
    const mismatches = await rows<CounterMismatch>(
      db,
      sql`with x as (${expected})
          select ${idColumn} as id, coalesce(x.spend, 0)::text as expected, ${spendColumn}::text as actual
          from ${table} c left join x on x.id = ${idColumn}
          where coalesce(x.spend, 0) <> ${spendColumn} order by 1`,
    );
    for (const m of mismatches) addDifference(m.expected, m.actual);
    const orphans = await rows<{ id: string; spend: string }>(
      db,
      sql`with x as (${expected}) select x.id, x.spend::text as spend from x
          where not exists (select 1 from ${table} c where ${idColumn} = x.id) order by x.spend desc limit ${SHOWN}`,
    );
    if ('createdOnFirstSight' in e) for (const o of orphans) addDifference(o.spend, '0');
    if (mismatches.length > 0 || ('createdOnFirstSight' in e && orphans.length > 0)) ok = false;
    counters.push({
      entity: e.entity,
      table: e.table,
      checked,
      mismatches: mismatches.slice(0, SHOWN),
      withoutCounter: orphans,
    });
  }

  const daily: DailyCheck[] = [];
  for (const d of DAILY) {
    const table = sql.raw(`"${d.table}"`);
    const rowId = sql.raw(d.rowId);
    const join = 'join' in d ? d.join : sql``;
    const entityColumn = sql.raw(d.entity);
    const found = await rows<Record<string, string | null>>(
      db,
      sql`with e as (
            select ${rowId} as entity, ${rowDay} as date, r.api_key, coalesce(r.model, '') as model,
              coalesce(r.custom_llm_provider, '') as provider,
              coalesce(sum(r.spend), 0) as spend, count(*) as api_requests,
              count(*) filter (where r.status = 'success') as successful_requests,
              count(*) filter (where r.status <> 'success') as failed_requests,
              coalesce(sum(r.prompt_tokens), 0) as prompt_tokens,
              coalesce(sum(r.completion_tokens), 0) as completion_tokens,
              coalesce(sum(r.cache_read_input_tokens), 0) as cache_read_input_tokens,
              coalesce(sum(r.cache_creation_input_tokens), 0) as cache_creation_input_tokens
            from "LiteLLM_SpendLogs" r ${join}
            where ${rowId} is not null and ${rowId} <> '' and ${dayFilter(rowDay, range)}
            group by 1, 2, 3, 4, 5),
          a as (
            select ${entityColumn} as entity, a.date, a.api_key, coalesce(a.model, '') as model,
              coalesce(a.custom_llm_provider, '') as provider, a.spend, a.api_requests, a.successful_requests,
              a.failed_requests, a.prompt_tokens, a.completion_tokens, a.cache_read_input_tokens,
              a.cache_creation_input_tokens
            from ${table} a where ${dayFilter(sql.raw('a.date'), range)}),
          j as (
            select coalesce(e.entity, a.entity) as entity, coalesce(e.date, a.date) as date,
              coalesce(e.api_key, a.api_key) as api_key, coalesce(e.model, a.model) as model,
              coalesce(e.provider, a.provider) as provider,
              ${sql.join(
                DAILY_FIELDS.map(
                  (f) =>
                    sql`e.${sql.raw(f)}::text as ${sql.raw(`e_${f}`)}, a.${sql.raw(f)}::text as ${sql.raw(`a_${f}`)}`,
                ),
                sql`, `,
              )}
            from e full join a on e.entity = a.entity and e.date = a.date and e.api_key = a.api_key
              and e.model = a.model and e.provider = a.provider)
          select * from j
          where ${sql.join(
            DAILY_FIELDS.map(
              (f) => sql`${sql.raw(`e_${f}`)}::numeric is distinct from ${sql.raw(`a_${f}`)}::numeric`,
            ),
            sql` or `,
          )}
          limit ${SHOWN}`,
    );
    const [{ checked } = { checked: 0 }] = await rows<{ checked: number }>(
      db,
      sql`select count(*)::int as checked from ${table} a where ${dayFilter(sql.raw('a.date'), range)}`,
    );
    const mismatches = found.map((m) => {
      const fields: DailyMismatch['fields'] = {};
      for (const f of DAILY_FIELDS) {
        const expected = m[`e_${f}`] ?? null;
        const actual = m[`a_${f}`] ?? null;
        if (expected === actual || toUnits(expected ?? '0') === toUnits(actual ?? '0')) continue;
        fields[f] = [expected, actual];
      }
      if (fields.spend) addDifference(...fields.spend);
      return {
        entity: String(m.entity),
        date: String(m.date),
        apiKey: String(m.api_key),
        model: String(m.model),
        provider: String(m.provider),
        fields,
      };
    });
    if (mismatches.length > 0) ok = false;
    daily.push({ table: d.table, checked, mismatches });
  }

  const sequences = await sequenceGaps(
    db,
    wanted.retainedFrom ? new Date(wanted.retainedFrom.getTime() + 3600_000) : undefined,
  );
  if (sequences.missing > 0) ok = false;

  return {
    spendLogs: { rows: totals?.rows ?? 0, spend: totals?.spend ?? '0' },
    sequences,
    counters,
    daily,
    difference: fromUnits(difference),
    ok,
  };
}

/**
 * Holes in each process's row numbering, over the whole log (a day range would cut it), or over
 * the rows that ended after `endedAfter` (numbers follow the order calls ended in).
 */
async function sequenceGaps(
  db: Database,
  endedAfter: Date | undefined,
): Promise<ReconcileReport['sequences']> {
  const found = await rows<{ instance: string; rows: string; first: string; last: string }>(
    db,
    sql`select metadata->>'gateway_instance' as instance,
          count(distinct (metadata->>'gateway_seq')::bigint)::text as rows,
          min((metadata->>'gateway_seq')::bigint)::text as first,
          max((metadata->>'gateway_seq')::bigint)::text as last
        from "LiteLLM_SpendLogs" where metadata ? 'gateway_seq' and metadata ? 'gateway_instance'
          ${endedAfter ? sql`and "endTime" >= ${endedAfter.toISOString()}::timestamptz` : sql``}
        group by 1`,
  );
  let missing = 0;
  const gaps: SequenceGap[] = [];
  for (const f of found) {
    const gap = {
      instance: f.instance,
      rows: Number(f.rows),
      firstSeq: Number(f.first),
      lastSeq: Number(f.last),
      missing: Number(f.last) - Number(f.first) + 1 - Number(f.rows),
    };
    if (gap.missing <= 0) continue;
    missing += gap.missing;
    gaps.push(gap);
  }
  gaps.sort((a, b) => b.missing - a.missing);
  return { instances: found.length, missing, gaps: gaps.slice(0, SHOWN) };
}

// Exact decimal arithmetic on the sums Postgres returns: units of 1e-24 USD, far below any
// price step (a cost has at most a few more digits than its per-token price).
const SCALE = 24;
const ONE = 10n ** BigInt(SCALE);

function toUnits(value: string): bigint {
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? value.slice(1) : value).split('.');
  const units = BigInt(whole) * ONE + BigInt(fraction.padEnd(SCALE, '0').slice(0, SCALE));
  return negative ? -units : units;
}

function fromUnits(units: bigint): string {
  const fraction = (units % ONE).toString().padStart(SCALE, '0').replace(/0+$/, '');
  return fraction ? `${units / ONE}.${fraction}` : `${units / ONE}`;
}

/**
 * Rows and spend one gateway process wrote (its instance id in `metadata.gateway_instance`),
 * up to its `upTo`-th row (`metadata.gateway_seq`), to compare with that process's own
 * Prometheus spend counter as it stood at that row.
 */
export async function spendOfInstance(
  db: Database,
  instance: string,
  upTo: number,
): Promise<{ rows: number; spend: string }> {
  const [row] = await rows<{ rows: number | string; spend: string | null }>(
    db,
    sql`select count(*) as rows, sum(spend)::text as spend from "LiteLLM_SpendLogs"
        where metadata->>'gateway_instance' = ${instance} and (metadata->>'gateway_seq')::bigint <= ${upTo}`,
  );
  return { rows: Number(row?.rows ?? 0), spend: row?.spend ?? '0' };
}
