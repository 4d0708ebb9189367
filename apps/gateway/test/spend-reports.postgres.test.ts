import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { toNanoUsd } from './support/money.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/** One `LiteLLM_SpendLogs` row as the assertions read it: money as exact decimal text. */
interface SpendRow {
  request_id: string;
  day: string;
  api_key: string;
  spend: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cache_read_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
  model: string;
  custom_llm_provider: string;
  user: string;
  team_id: string | null;
  end_user: string | null;
  request_tags: string[];
  status: string;
}

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary JSON
  body: any;
}

const TEAM_ALIAS = 'reports-team';
const OWNER = 'report-owner';
const CALLS = 6;

let t: TestGateway;
let teamId: string;
let teamKey: { key: string; token: string };
let ownerKey: { key: string; token: string };
let rows: SpendRow[];
let firstDay: string;
let lastDay: string;

async function call(path: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<Reply> {
  const response = await fetch(`${t.gateway.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${t.masterKey}`, 'content-type': 'application/json' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: response.status, body: await response.json() };
}

const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });

beforeAll(async () => {
  t = await startTestGateway('postgres+redis');
  teamId = (await call('/team/new', { method: 'POST', body: { team_alias: TEAM_ALIAS } })).body.team_id;
  teamKey = (await call('/key/generate', { method: 'POST', body: { team_id: teamId } })).body;
  ownerKey = (await call('/key/generate', { method: 'POST', body: { user_id: OWNER } })).body;

  const inTeam = client(teamKey.key);
  const owned = client(ownerKey.key);
  await inTeam.chat.completions.create(
    {
      model: 'gpt-4o-mini',
      user: 'end-user-x',
      messages: [{ role: 'user', content: 'Summarise the quarter. [mock:cached_tokens=16]' }],
    },
    { headers: { 'x-litellm-tags': 'a,b' } },
  );
  await inTeam.chat.completions.create({
    model: 'priced-by-config',
    // Our tags ride in `metadata.tags`, which the OpenAI types declare as string values only.
    metadata: { tags: ['b'] } as unknown as Record<string, string>,
    messages: [{ role: 'user', content: 'hello there' }],
  });
  // No price anywhere: counted, with spend NULL.
  await inTeam.chat.completions.create({
    model: 'mock-unpriced',
    messages: [{ role: 'user', content: 'hi' }],
  });
  await owned.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'a longer question [mock:reply_tokens=40]' }],
  });
  await owned.chat.completions.create(
    { model: 'priced-by-config', user: 'end-user-x', messages: [{ role: 'user', content: 'hi again' }] },
    { headers: { 'x-litellm-tags': 'c' } },
  );
  await expect(
    owned.chat.completions.create({
      model: 'gpt-4o-mini',
      user: 'end-user-y',
      messages: [{ role: 'user', content: 'fail please [mock:error=429]' }],
    }),
  ).rejects.toMatchObject({ status: 429 });

  await t.gateway.spendQueue.flush();
  rows = await vi.waitFor(
    async () => {
      const found = await t.query<SpendRow>(
        `select request_id, to_char("startTime" at time zone 'UTC', 'YYYY-MM-DD') as day, api_key,
           spend::text as spend, prompt_tokens, completion_tokens, total_tokens, cache_read_input_tokens,
           cache_creation_input_tokens, model, custom_llm_provider, "user", team_id, end_user, request_tags, status
         from "LiteLLM_SpendLogs"`,
      );
      if (found.length < CALLS) throw new Error(`${found.length} of ${CALLS} spend rows so far`);
      return found;
    },
    { timeout: 5_000, interval: 50 },
  );
  const days = rows.map((row) => row.day).sort();
  firstDay = days[0]!;
  lastDay = days.at(-1)!;
}, 30_000);

afterAll(async () => {
  await t?.close();
});

// --- expected values, computed from the spend rows with exact integers -----------------------

/** A JSON USD number back to nano-USD; exact for costs with at most 9 decimals. */
const nanos = (usd: number): bigint => toNanoUsd(usd.toFixed(9));
const spendNanos = (of: SpendRow[]) =>
  of.reduce((sum, row) => sum + (row.spend ? toNanoUsd(row.spend) : 0n), 0n);
const tokenSum = (of: SpendRow[], field: 'prompt_tokens' | 'completion_tokens' | 'total_tokens') =>
  of.reduce((sum, row) => sum + (row[field] ?? 0), 0);
const cacheSum = (of: SpendRow[], field: 'cache_read_input_tokens' | 'cache_creation_input_tokens') =>
  of.reduce((sum, row) => sum + (row[field] ?? 0), 0);

/** Rows by one or more keys each (a row with two tags lands in both groups). */
function groupBy<K>(of: SpendRow[], keysOf: (row: SpendRow) => K[]): Map<K, SpendRow[]> {
  const groups = new Map<K, SpendRow[]>();
  for (const row of of) {
    for (const key of keysOf(row)) groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return groups;
}

const MONEY_FIELDS = new Set(['spend', 'total_spend', 'total_cost']);

/**
 * A response or expectation in a comparable form: money fields as nano-USD, array order
 * ignored (order is asserted separately where the contract fixes it).
 */
function canonical(value: unknown, key?: string): unknown {
  if (typeof value === 'number' && key && MONEY_FIELDS.has(key)) return nanos(value);
  if (Array.isArray(value)) {
    return value.map((item) => canonical(item)).sort((a, b) => stringify(a).localeCompare(stringify(b)));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonical(v, k)]));
  }
  return value;
}
const stringify = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

const inRange = (query = '') => `start_date=${firstDay}&end_date=${lastDay}${query}`;

/** The daily activity metrics of a set of spend rows, as the daily tables add them up. */
function metricsOf(of: SpendRow[]) {
  const prompt = tokenSum(of, 'prompt_tokens');
  const completion = tokenSum(of, 'completion_tokens');
  return {
    spend: spendNanos(of),
    prompt_tokens: prompt,
    completion_tokens: completion,
    cache_read_input_tokens: cacheSum(of, 'cache_read_input_tokens'),
    cache_creation_input_tokens: cacheSum(of, 'cache_creation_input_tokens'),
    total_tokens: prompt + completion,
    api_requests: of.length,
    successful_requests: of.filter((row) => row.status === 'success').length,
    failed_requests: of.filter((row) => row.status !== 'success').length,
  };
}

/**
 * `{results, metadata}` as a daily activity endpoint should answer for these entities. The
 * daily tables hold one row per entity, so a request with two of the tags counts twice.
 */
function expectedActivity(entitiesOf: (row: SpendRow) => string[], keep: (entity: string) => boolean) {
  const pairs = rows.flatMap((row) =>
    entitiesOf(row)
      .filter(keep)
      .map((entity) => ({ row, entity })),
  );
  const attributed = pairs.map((pair) => pair.row);
  const days = [...new Set(attributed.map((row) => row.day))].sort().reverse();
  const results = days.map((date) => {
    const ofDay = pairs.filter((pair) => pair.row.day === date);
    const breakdown = (keyOf: (pair: { row: SpendRow; entity: string }) => string) => {
      const groups = new Map<string, SpendRow[]>();
      for (const pair of ofDay) groups.set(keyOf(pair), [...(groups.get(keyOf(pair)) ?? []), pair.row]);
      return Object.fromEntries([...groups].map(([key, of]) => [key, { metrics: metricsOf(of) }]));
    };
    return {
      date,
      metrics: metricsOf(ofDay.map((pair) => pair.row)),
      breakdown: {
        models: breakdown(({ row }) => row.model),
        providers: breakdown(({ row }) => row.custom_llm_provider),
        api_keys: breakdown(({ row }) => row.api_key),
        entities: breakdown(({ entity }) => entity),
      },
    };
  });
  const total = metricsOf(attributed);
  return {
    results,
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
      page: 1,
      total_pages: results.length > 0 ? 1 : 0,
      has_more: false,
    },
  };
}

/** Money as nano-USD in a daily activity body; breakdown metadata left out (checked apart). */
function activityAsNanos(body: {
  // biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary JSON
  results: any[];
  metadata: Record<string, unknown>;
}) {
  const metrics = (m: Record<string, number>) => ({ ...m, spend: nanos(m.spend!) });
  const breakdown = (entries: Record<string, { metrics: Record<string, number> }>) =>
    Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, { metrics: metrics(v.metrics) }]));
  return {
    results: body.results.map((day) => ({
      date: day.date,
      metrics: metrics(day.metrics),
      breakdown: {
        models: breakdown(day.breakdown.models),
        providers: breakdown(day.breakdown.providers),
        api_keys: breakdown(day.breakdown.api_keys),
        entities: breakdown(day.breakdown.entities),
      },
    })),
    metadata: { ...body.metadata, total_spend: nanos(body.metadata.total_spend as number) },
  };
}

// --- the tests ---------------------------------------------------------------------------------

describe('the recorded calls', () => {
  it('left one spend row each, spread over keys, a team, end users, tags, a failure and an unpriced model', () => {
    expect(rows).toHaveLength(CALLS);
    expect(rows.filter((row) => row.team_id === teamId)).toHaveLength(3);
    expect(rows.filter((row) => row.user === OWNER)).toHaveLength(3);
    expect(rows.filter((row) => row.status !== 'success')).toHaveLength(1);
    expect(rows.filter((row) => row.spend === null)).toHaveLength(1);
    expect(rows.find((row) => row.request_tags.includes('a'))?.cache_read_input_tokens).toBe(16);
    expect(spendNanos(rows)).toBeGreaterThan(0n);
  });
});

describe('GET /global/spend', () => {
  it('is the exact sum of the spend rows of the last 30 days, with no proxy budget', async () => {
    const reply = await call('/global/spend');
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual(['max_budget', 'spend']);
    expect(reply.body.max_budget).toBeNull();
    expect(nanos(reply.body.spend)).toBe(spendNanos(rows));
  });
});

describe('start_date and end_date are required', () => {
  const paths = [
    '/global/spend/report',
    '/user/daily/activity',
    '/team/daily/activity',
    '/tag/daily/activity',
    '/customer/daily/activity',
  ];

  it('a missing date is a 400 with the contract message, on the report and every daily activity endpoint', async () => {
    for (const path of paths) {
      for (const query of ['', `?start_date=${firstDay}`, `?end_date=${lastDay}`]) {
        const reply = await call(`${path}${query}`);
        expect(reply.status, `${path}${query}`).toBe(400);
        expect(reply.body.error).toMatchObject({
          message: 'Please provide start_date and end_date',
          type: 'invalid_request_error',
          code: '400',
        });
      }
    }
  });

  it('a date that is not a calendar day, an unknown group_by or a page too large is a 422 naming the field', async () => {
    const invalid = async (path: string) => (await call(path)).body.error;
    expect(await invalid('/global/spend/report?start_date=2025-02-30&end_date=2025-03-01')).toMatchObject({
      param: 'start_date',
      code: '422',
    });
    expect(await invalid(`/global/spend/report?${inRange('&group_by=planet')}`)).toMatchObject({
      param: 'group_by',
      code: '422',
    });
    expect(await invalid(`/team/daily/activity?${inRange('&page_size=1001')}`)).toMatchObject({
      param: 'page_size',
      code: '422',
    });
  });
});

describe('GET /global/spend/report', () => {
  /** The team and customer shapes: per day, group, and (model, key) with spend and tokens. */
  function expectedDailyGroups(list: 'teams' | 'customers', nameOf: (row: SpendRow) => string | null) {
    const field = list === 'teams' ? 'team_name' : 'customer';
    return [...groupBy(rows, (row) => [row.day])].map(([day, ofDay]) => ({
      group_by_day: `${day}T00:00:00+00:00`,
      [list]: [...groupBy(ofDay, (row) => [nameOf(row)])].map(([name, of]) => ({
        [field]: name,
        total_spend: spendNanos(of),
        metadata: [...groupBy(of, (row) => [`${row.model} ${row.api_key}`])].map(([, same]) => ({
          model: same[0]!.model,
          api_key: same[0]!.api_key,
          spend: spendNanos(same),
          total_tokens: tokenSum(same, 'total_tokens'),
        })),
      })),
    }));
  }

  it('groups by team by default: per day and team alias (else Unassigned Team), spend and tokens per model and key', async () => {
    const reply = await call(`/global/spend/report?${inRange()}`);
    expect(reply.status).toBe(200);
    const expected = expectedDailyGroups('teams', (row) =>
      row.team_id === teamId ? TEAM_ALIAS : 'Unassigned Team',
    );
    expect(canonical(reply.body)).toEqual(canonical(expected));
    expect(canonical(await call(`/global/spend/report?${inRange('&group_by=team')}`))).toEqual(
      canonical(reply),
    );
    // Teams of a day come most expensive first.
    for (const day of reply.body) {
      const spends = day.teams.map((team: { total_spend: number }) => nanos(team.total_spend));
      expect(spends).toEqual([...spends].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    }
  });

  it('groups by customer: per day and end user (null when none)', async () => {
    const reply = await call(`/global/spend/report?${inRange('&group_by=customer')}`);
    expect(reply.status).toBe(200);
    expect(canonical(reply.body)).toEqual(canonical(expectedDailyGroups('customers', (row) => row.end_user)));
  });

  function expectedByKey(of: SpendRow[]) {
    return [...groupBy(of, (row) => [row.api_key])]
      .map(([apiKey, ofKey]) => ({
        api_key: apiKey,
        total_cost: spendNanos(ofKey),
        total_input_tokens: tokenSum(ofKey, 'prompt_tokens'),
        total_output_tokens: tokenSum(ofKey, 'completion_tokens'),
        model_details: [...groupBy(ofKey, (row) => [row.model])].map(([model, ofModel]) => ({
          model,
          total_cost: spendNanos(ofModel),
          total_input_tokens: tokenSum(ofModel, 'prompt_tokens'),
          total_output_tokens: tokenSum(ofModel, 'completion_tokens'),
        })),
      }))
      .sort((a, b) => (a.total_cost < b.total_cost ? 1 : a.total_cost > b.total_cost ? -1 : 0));
  }

  it('groups by api_key: per key and model, keys most expensive first', async () => {
    const reply = await call(`/global/spend/report?${inRange('&group_by=api_key')}`);
    expect(reply.status).toBe(200);
    const expected = expectedByKey(rows);
    expect(canonical(reply.body)).toEqual(canonical(expected));
    expect(reply.body.map((entry: { api_key: string }) => entry.api_key)).toEqual(
      expected.map((entry) => entry.api_key),
    );
  });

  it('an api_key (raw or hash) or internal_user_id filter gives the per-key report of those rows, as LiteLLM', async () => {
    const teamRows = rows.filter((row) => row.api_key === teamKey.token);
    expect(teamKey.token).toBe(hashKey(teamKey.key));
    for (const apiKey of [teamKey.key, teamKey.token]) {
      const reply = await call(`/global/spend/report?${inRange(`&api_key=${apiKey}`)}`);
      expect(reply.status).toBe(200);
      expect(canonical(reply.body)).toEqual(canonical(expectedByKey(teamRows)));
    }
    const owned = await call(`/global/spend/report?${inRange(`&internal_user_id=${OWNER}`)}`);
    expect(canonical(owned.body)).toEqual(canonical(expectedByKey(rows.filter((row) => row.user === OWNER))));
  });

  it('team_id and customer_id filter the rows of a grouping', async () => {
    const byTeam = await call(`/global/spend/report?${inRange(`&group_by=customer&team_id=${teamId}`)}`);
    const teamRows = rows.filter((row) => row.team_id === teamId);
    expect(canonical(byTeam.body)).toEqual(
      canonical(
        [...groupBy(teamRows, (row) => [row.day])].map(([day, ofDay]) => ({
          group_by_day: `${day}T00:00:00+00:00`,
          customers: [...groupBy(ofDay, (row) => [row.end_user])].map(([customer, of]) => ({
            customer,
            total_spend: spendNanos(of),
            metadata: of.map((row) => ({
              model: row.model,
              api_key: row.api_key,
              spend: row.spend ? toNanoUsd(row.spend) : 0n,
              total_tokens: row.total_tokens ?? 0,
            })),
          })),
        })),
      ),
    );
    const byCustomer = await call(`/global/spend/report?${inRange('&group_by=team&customer_id=end-user-x')}`);
    const customerRows = rows.filter((row) => row.end_user === 'end-user-x');
    expect(customerRows.length).toBe(2);
    const teams = byCustomer.body.flatMap((day: { teams: unknown[] }) => day.teams);
    expect(canonical(teams.map((team: { team_name: string }) => team.team_name))).toEqual(
      canonical([TEAM_ALIAS, 'Unassigned Team']),
    );
    expect(
      teams.reduce((sum: bigint, team: { total_spend: number }) => sum + nanos(team.total_spend), 0n),
    ).toBe(spendNanos(customerRows));
  });

  /** Our flat shape: per day and group value, spend, input and output tokens and requests. */
  function expectedFlat(
    list: string,
    field: string,
    groupsOf: (row: SpendRow) => (string | null)[],
    of = rows,
  ) {
    return [...groupBy(of, (row) => [row.day])].map(([day, ofDay]) => ({
      group_by_day: `${day}T00:00:00+00:00`,
      [list]: [...groupBy(ofDay, groupsOf)].map(([value, ofGroup]) => ({
        [field]: value,
        total_spend: spendNanos(ofGroup),
        total_input_tokens: tokenSum(ofGroup, 'prompt_tokens'),
        total_output_tokens: tokenSum(ofGroup, 'completion_tokens'),
        api_requests: ofGroup.length,
      })),
    }));
  }

  it('groups by model, provider, end_user and tag in the flat per-day shape', async () => {
    const cases = [
      { groupBy: 'model', list: 'models', groupsOf: (row: SpendRow) => [row.model] },
      { groupBy: 'provider', list: 'providers', groupsOf: (row: SpendRow) => [row.custom_llm_provider] },
      { groupBy: 'end_user', list: 'end_users', groupsOf: (row: SpendRow) => [row.end_user] },
      {
        groupBy: 'tag',
        list: 'tags',
        groupsOf: (row: SpendRow) => (row.request_tags.length > 0 ? row.request_tags : [null]),
      },
    ];
    for (const { groupBy: by, list, groupsOf } of cases) {
      const reply = await call(`/global/spend/report?${inRange(`&group_by=${by}`)}`);
      expect(reply.status, by).toBe(200);
      expect(canonical(reply.body), by).toEqual(canonical(expectedFlat(list, by, groupsOf)));
    }
    // Tag b is on two requests and tag a on one: each request counts towards each of its tags.
    const tags = (await call(`/global/spend/report?${inRange('&group_by=tag')}`)).body.flatMap(
      (day: { tags: { tag: string | null; api_requests: number }[] }) => day.tags,
    );
    expect(tags.find((entry: { tag: string | null }) => entry.tag === 'b')?.api_requests).toBe(2);
  });

  it('our groupings honour every filter, api_key and internal_user_id included', async () => {
    const filtered = async (query: string) =>
      canonical((await call(`/global/spend/report?${inRange(query)}`)).body);
    expect(await filtered(`&group_by=model&team_id=${teamId}`)).toEqual(
      canonical(
        expectedFlat(
          'models',
          'model',
          (row) => [row.model],
          rows.filter((row) => row.team_id === teamId),
        ),
      ),
    );
    expect(await filtered(`&group_by=tag&api_key=${ownerKey.key}`)).toEqual(
      canonical(
        expectedFlat(
          'tags',
          'tag',
          (row) => (row.request_tags.length > 0 ? row.request_tags : [null]),
          rows.filter((row) => row.api_key === ownerKey.token),
        ),
      ),
    );
    expect(await filtered(`&group_by=provider&internal_user_id=${OWNER}&customer_id=end-user-x`)).toEqual(
      canonical(
        expectedFlat(
          'providers',
          'provider',
          (row) => [row.custom_llm_provider],
          rows.filter((row) => row.user === OWNER && row.end_user === 'end-user-x'),
        ),
      ),
    );
  });

  it('counts the whole end date, and a range without rows is empty', async () => {
    const oneDay = await call(
      `/global/spend/report?start_date=${lastDay}&end_date=${lastDay}&group_by=model`,
    );
    expect(oneDay.body).toHaveLength(1);
    expect(oneDay.body[0].group_by_day).toBe(`${lastDay}T00:00:00+00:00`);
    expect((await call('/global/spend/report?start_date=2020-01-01&end_date=2020-01-31')).body).toEqual([]);
  });
});

describe('daily activity', () => {
  const tagsOf = (row: SpendRow) => row.request_tags;
  const cases = [
    {
      path: '/user/daily/activity',
      entitiesOf: (row: SpendRow) => (row.user ? [row.user] : []),
      filter: () => `&user_id=${OWNER}`,
      kept: (entity: string) => entity === OWNER,
    },
    {
      path: '/team/daily/activity',
      entitiesOf: (row: SpendRow) => (row.team_id ? [row.team_id] : []),
      filter: () => `&team_ids=${teamId},no-such-team`,
      kept: (entity: string) => entity === teamId,
    },
    {
      path: '/tag/daily/activity',
      entitiesOf: tagsOf,
      filter: () => '&tags=a, c',
      kept: (entity: string) => entity === 'a' || entity === 'c',
    },
    {
      path: '/customer/daily/activity',
      entitiesOf: (row: SpendRow) => (row.end_user ? [row.end_user] : []),
      filter: () => '&end_user_ids=end-user-y',
      kept: (entity: string) => entity === 'end-user-y',
    },
  ];

  it('each endpoint reports per day the exact sums of the attributed spend rows, with breakdowns', async () => {
    for (const { path, entitiesOf } of cases) {
      const reply = await call(`${path}?${inRange()}`);
      expect(reply.status, path).toBe(200);
      expect(activityAsNanos(reply.body), path).toEqual(expectedActivity(entitiesOf, () => true));
    }
  });

  it('breakdown_limit keeps the largest entries per day of each breakdown, day totals whole', async () => {
    for (const { path } of cases) {
      const whole = activityAsNanos((await call(`${path}?${inRange()}`)).body);
      const limited = activityAsNanos((await call(`${path}?${inRange('&breakdown_limit=1')}`)).body);
      expect(limited.metadata, path).toEqual(whole.metadata);
      for (const [i, day] of limited.results.entries()) {
        const full = whole.results[i]!;
        expect(day.metrics, path).toEqual(full.metrics);
        for (const dimension of ['models', 'providers', 'api_keys', 'entities'] as const) {
          const kept = Object.entries(day.breakdown[dimension]);
          const all = Object.entries(full.breakdown[dimension]);
          expect(kept.length, `${path} ${dimension}`).toBe(Math.min(1, all.length));
          if (kept.length === 0) continue;
          const top = Math.max(...all.map(([, v]) => Number(v.metrics.spend)));
          expect(Number(kept[0]![1].metrics.spend), `${path} ${dimension}`).toBe(top);
        }
      }
    }
  });

  it('each endpoint filters by its entity parameter', async () => {
    for (const { path, entitiesOf, filter, kept } of cases) {
      const reply = await call(`${path}?${inRange(filter())}`);
      expect(reply.status, path).toBe(200);
      const expected = expectedActivity(entitiesOf, kept);
      expect(expected.results.length, path).toBeGreaterThan(0);
      expect(activityAsNanos(reply.body), path).toEqual(expected);
    }
  });

  it('names the key alias and team of each key, and the alias of each team', async () => {
    const reply = await call(`/team/daily/activity?${inRange()}`);
    const day = reply.body.results[0];
    expect(day.breakdown.api_keys[teamKey.token].metadata).toEqual({ key_alias: null, team_id: teamId });
    expect(day.breakdown.entities[teamId].metadata).toEqual({ team_alias: TEAM_ALIAS });
    const owner = await call(`/user/daily/activity?${inRange()}`);
    expect(owner.body.results[0].breakdown.api_keys[ownerKey.token].metadata).toEqual({
      key_alias: null,
      team_id: null,
    });
  });

  it('pages over days, newest first, leaves out days without rows and totals the whole range', async () => {
    // Two earlier days of a team with no spend rows, straight into the aggregate table.
    for (const [date, spend, requests] of [
      ['2020-01-03', '0.000000125', 3],
      ['2020-01-01', '1.5', 1],
    ] as const) {
      await t.query(
        `insert into "LiteLLM_DailyTeamSpend" (team_id, date, api_key, model, custom_llm_provider,
           prompt_tokens, completion_tokens, spend, api_requests, successful_requests)
         values ('paging-team', $1, 'paging-key', 'gpt-4o-mini', 'openai', 10, 5, $2, $3, $3)`,
        [date, spend, requests],
      );
    }
    const page = async (n: number) =>
      (
        await call(
          `/team/daily/activity?start_date=2020-01-01&end_date=2020-01-31&team_ids=paging-team&page_size=1&page=${n}`,
        )
      ).body;
    const first = await page(1);
    expect(first.results.map((day: { date: string }) => day.date)).toEqual(['2020-01-03']);
    expect(first.results[0].metrics).toMatchObject({ spend: 1.25e-7, api_requests: 3, total_tokens: 15 });
    expect(first.metadata).toMatchObject({ page: 1, total_pages: 2, has_more: true, total_api_requests: 4 });
    expect(nanos(first.metadata.total_spend)).toBe(toNanoUsd('1.500000125'));
    const second = await page(2);
    expect(second.results.map((day: { date: string }) => day.date)).toEqual(['2020-01-01']);
    expect(second.metadata).toMatchObject({ page: 2, total_pages: 2, has_more: false });
    const past = await page(3);
    expect(past.results).toEqual([]);
    expect(past.metadata).toMatchObject({ page: 3, total_pages: 2, has_more: false });
  });
});
