import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildGatewayAside, PRODUCTION_NODE_FLAGS } from '../../apps/gateway/scripts/build.ts';

// `pnpm bench:reports`: the spend log at scale. Fills a Postgres database of its own with
// `--rows` spend rows (default 10 million, 30 days, 1,000 keys in 100 teams, 10,000 end users,
// 20 tags, 5 models) and the daily aggregates they imply, then times the admin API's spend pages
// and reports against it through the production build. The database is kept between runs
// (`--fresh` builds it again). See bench/README.md.

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    fresh: { type: 'boolean', default: false },
    repeats: { type: 'string', default: '5' },
    /** Also time retention (on a copy of the database) and a full reconciliation. */
    maintenance: { type: 'boolean', default: false },
  },
});
const ROWS = Number(flags.rows);
const REPEATS = Number(flags.repeats);
const DAYS = 30;
const root = fileURLToPath(new URL('../../', import.meta.url));
const MASTER = 'sk-bench-reports-master-key';
const base = process.env.DATABASE_URL;
if (!base) {
  console.error('DATABASE_URL (a role that may create databases) is needed');
  process.exit(1);
}
const name = `gw_bench_reports_${ROWS}`;
const url = new URL(base);
url.pathname = `/${name}`;

async function withClient<T>(connectionString: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Seconds since `started`, one decimal. */
const since = (started: number) => ((Date.now() - started) / 1000).toFixed(1);

async function prepareDatabase(): Promise<void> {
  const exists = await withClient(base!, async (c) => {
    if (flags.fresh) await c.query(`drop database if exists ${name} with (force)`);
    const found = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await c.query(`create database ${name}`);
    return found.rowCount !== 0 && !flags.fresh;
  });
  if (exists) {
    const n = await withClient(
      url.toString(),
      async (c) =>
        (await c.query<{ n: number }>('select count(*)::int as n from "LiteLLM_SpendLogs"')).rows[0]?.n,
    );
    if (n === ROWS) {
      console.log(`reusing ${name} (${n} spend rows); applying new migrations`);
      const started = Date.now();
      const { openDatabase } = await import('../../packages/db/src/client.ts');
      const handle = await openDatabase({ kind: 'postgres', url: url.toString() });
      await handle.migrate();
      await handle.close();
      await withClient(url.toString(), (c) => c.query('vacuum analyze'));
      console.log(`  migrated in ${since(started)} s`);
      return;
    }
    throw new Error(`${name} holds ${n} rows, not ${ROWS}: run with --fresh`);
  }
  // The schema as the gateway migrates it, and a partition for each day the rows fall on.
  const { openDatabase } = await import('../../packages/db/src/client.ts');
  const { ensureSpendPartitions } = await import('../../packages/db/src/queries/spend-partitions.ts');
  const handle = await openDatabase({ kind: 'postgres', url: url.toString() });
  await handle.migrate();
  await ensureSpendPartitions(handle.db, new Date(Date.now() - (DAYS + 1) * 86_400_000), DAYS + 3);
  await handle.close();
  await withClient(url.toString(), async (c) => {
    await c.query('set synchronous_commit = off');
    const started = Date.now();
    await c.query(`insert into "LiteLLM_TeamTable" (team_id, team_alias)
      select 'team-' || t, 'Team ' || t from generate_series(0, 99) t`);
    await c.query(`insert into "LiteLLM_VerificationToken" (token, key_alias, team_id, "user_id")
      select 'key-' || k, 'alias-' || k, 'team-' || (k % 100), 'user-' || (k % 200) from generate_series(0, 999) k`);
    const chunk = 1_000_000;
    for (let from = 0; from < ROWS; from += chunk) {
      const to = Math.min(ROWS, from + chunk) - 1;
      // Rows spread evenly over the last DAYS days; every column a report reads is filled.
      await c.query(
        `insert into "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, total_tokens, prompt_tokens,
           completion_tokens, "startTime", "endTime", model, model_group, custom_llm_provider, "user", metadata,
           request_tags, team_id, end_user, status)
         select 'bench-' || g, 'acompletion', 'key-' || (g % 1000),
           ((g % 997) * 0.000001)::numeric, 120 + g % 50, 100 + g % 40, 20 + g % 10,
           now() - ((g::float8 / $3) * $4 * interval '1 day'),
           now() - ((g::float8 / $3) * $4 * interval '1 day') + interval '800 milliseconds',
           (array['gpt-4o-mini','gpt-4o','claude-sonnet-4-5','deepseek-chat','llama3.1'])[1 + g % 5],
           (array['gpt-4o-mini','gpt-4o','claude-sonnet','deepseek-chat','llama-chat'])[1 + g % 5],
           (array['openai','openai','anthropic','deepseek','ollama_chat'])[1 + g % 5],
           'user-' || (g % 1000 % 200),
           jsonb_build_object('user_api_key', 'key-' || (g % 1000), 'provider_response_id', 'chatcmpl-' || g,
             'gateway_instance', 'bench', 'gateway_seq', g + 1),
           jsonb_build_array('tag-' || (g % 20)),
           'team-' || (g % 1000 % 100), 'customer-' || (g % 10000),
           case when g % 50 = 0 then 'failure' else 'success' end
         from generate_series($1::bigint, $2::bigint) g`,
        [from, to, ROWS, DAYS],
      );
      console.log(`  ${to + 1} rows (${since(started)} s)`);
    }
    // The aggregates the writer would have kept, and the counters.
    for (const [table, column, entity, join] of [
      ['LiteLLM_DailyUserSpend', 'user_id', 'r."user"', ''],
      ['LiteLLM_DailyTeamSpend', 'team_id', 'r.team_id', ''],
      ['LiteLLM_DailyEndUserSpend', 'end_user_id', 'r.end_user', ''],
      [
        'LiteLLM_DailyTagSpend',
        'tag',
        'tag.name',
        'cross join lateral jsonb_array_elements_text(r.request_tags) as tag(name)',
      ],
    ] as const) {
      await c.query(
        `insert into "${table}" ("${column}", date, api_key, model, model_group, custom_llm_provider, prompt_tokens,
           completion_tokens, spend, api_requests, successful_requests, failed_requests)
         select ${entity}, to_char(r."startTime" at time zone 'UTC', 'YYYY-MM-DD'), r.api_key, r.model,
           max(r.model_group), r.custom_llm_provider, sum(r.prompt_tokens), sum(r.completion_tokens),
           coalesce(sum(r.spend), 0), count(*), count(*) filter (where r.status = 'success'),
           count(*) filter (where r.status <> 'success')
         from "LiteLLM_SpendLogs" r ${join} group by 1, 2, 3, 4, 6`,
      );
      console.log(`  ${table} (${since(started)} s)`);
    }
    // The complete aggregate, as migration 0007 backfills it.
    await c.query(`insert into "gateway_daily_spend" (date, api_key, "user", team_id, end_user, model, model_group,
        custom_llm_provider, prompt_tokens, completion_tokens, total_tokens, cache_read_input_tokens,
        cache_creation_input_tokens, spend, api_requests, successful_requests, failed_requests)
      select to_char(r."startTime" at time zone 'UTC', 'YYYY-MM-DD'), r.api_key, coalesce(r."user", ''),
        coalesce(r.team_id, ''), coalesce(r.end_user, ''), coalesce(r.model, ''), max(r.model_group),
        coalesce(r.custom_llm_provider, ''), coalesce(sum(r.prompt_tokens), 0), coalesce(sum(r.completion_tokens), 0),
        coalesce(sum(r.total_tokens), 0), 0, 0, coalesce(sum(r.spend), 0), count(*),
        count(*) filter (where r.status = 'success'), count(*) filter (where r.status <> 'success')
      from "LiteLLM_SpendLogs" r group by 1, 2, 3, 4, 5, 6, 8`);
    console.log(`  gateway_daily_spend (${since(started)} s)`);
    await c.query(`update "LiteLLM_VerificationToken" k set spend = s.total, lifetime_spend = s.total
      from (select api_key, sum(spend) as total from "LiteLLM_SpendLogs" group by api_key) s where k.token = s.api_key`);
    await c.query('vacuum analyze');
    console.log(`built ${name}: ${ROWS} rows in ${since(started)} s`);
  });
}

async function startGateway(): Promise<{ child: ChildProcess; origin: string; dir: string }> {
  const buildDir = await buildGatewayAside();
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-reports-'));
  writeFileSync(join(dir, 'config.yaml'), `model_list: []\ngeneral_settings:\n  master_key: ${MASTER}\n`);
  const child = spawn(
    process.execPath,
    [...PRODUCTION_NODE_FLAGS, join(buildDir, 'main.js'), '--config', join(dir, 'config.yaml')],
    {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: url.toString(),
        REDIS_URL: '',
        PORT: '0',
        HOST: '127.0.0.1',
        GATEWAY_DATA_DIR: dir,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  const origin = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[\d.:]+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}): ${output}`)));
  });
  rmSync(buildDir, { recursive: true, force: true });
  return { child, origin, dir };
}

async function main(): Promise<void> {
  await prepareDatabase();
  const { child, origin, dir } = await startGateway();
  const today = new Date().toISOString().slice(0, 10);
  const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
  const cases: [string, string][] = [
    ['/spend/logs (newest page)', '/spend/logs'],
    ['/spend/logs?api_key, page 1', '/spend/logs?api_key=key-7'],
    ['/spend/logs?api_key, page 50', '/spend/logs?api_key=key-7&page=50'],
    ['/spend/logs?request_id (response id)', '/spend/logs?request_id=chatcmpl-123456'],
    [
      '/spend/logs 30 days, summarize=false, page 1',
      `/spend/logs?start_date=${daysAgo(30)}&end_date=${today}&summarize=false`,
    ],
    [
      '/spend/logs 30 days, summarize=false, page 1000',
      `/spend/logs?start_date=${daysAgo(30)}&end_date=${today}&summarize=false&page=1000`,
    ],
    [
      '/spend/logs?api_key 30 days, summarized',
      `/spend/logs?api_key=key-7&start_date=${daysAgo(30)}&end_date=${today}`,
    ],
    ['/spend/logs 1 day, summarized', `/spend/logs?start_date=${daysAgo(1)}&end_date=${today}`],
    ['/spend/logs 30 days, summarized', `/spend/logs?start_date=${daysAgo(30)}&end_date=${today}`],
    ['/spend/logs/ui?team_id (with total)', '/spend/logs/ui?team_id=team-3'],
    ['/spend/logs/ui 1 day (with total)', `/spend/logs/ui?start_date=${daysAgo(1)}`],
    ['/spend/tags', '/spend/tags'],
    ['/global/spend', '/global/spend'],
    ['/global/spend/report team, 7 days', `/global/spend/report?start_date=${daysAgo(7)}&end_date=${today}`],
    [
      '/global/spend/report customer, 7 days',
      `/global/spend/report?start_date=${daysAgo(7)}&end_date=${today}&group_by=customer`,
    ],
    [
      '/global/spend/report api_key, 7 days',
      `/global/spend/report?start_date=${daysAgo(7)}&end_date=${today}&group_by=api_key`,
    ],
    ['/team/daily/activity 30 days', `/team/daily/activity?start_date=${daysAgo(30)}&end_date=${today}`],
    [
      '/customer/daily/activity 30 days',
      `/customer/daily/activity?start_date=${daysAgo(30)}&end_date=${today}`,
    ],
    [
      '/customer/daily/activity 30 days, 7 a page',
      `/customer/daily/activity?start_date=${daysAgo(30)}&end_date=${today}&page_size=7`,
    ],
  ];
  const results: { name: string; status: number; bytes: number; medianMs: number; maxMs: number }[] = [];
  try {
    for (const [label, path] of cases) {
      const times: number[] = [];
      let status = 0;
      let bytes = 0;
      for (let i = 0; i < REPEATS; i++) {
        const started = performance.now();
        const response = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${MASTER}` } });
        bytes = (await response.arrayBuffer()).byteLength;
        status = response.status;
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const row = {
        name: label,
        status,
        bytes,
        medianMs: Math.round(times[Math.floor(times.length / 2)]!),
        maxMs: Math.round(times.at(-1)!),
      };
      results.push(row);
      console.log(
        `${row.name.padEnd(48)} ${String(row.status).padEnd(4)} ${String(row.medianMs).padStart(7)} ms median ${String(row.maxMs).padStart(7)} ms max ${String(row.bytes).padStart(9)} bytes`,
      );
    }
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const slow = results.filter((r) => r.medianMs >= 1000 || r.status !== 200);
  console.log(
    `\n${ROWS} rows: ${results.length - slow.length} of ${results.length} under 1 s with status 200`,
  );
  for (const r of slow) console.log(`  over: ${r.name} (${r.status}, ${r.medianMs} ms)`);
  if (flags.maintenance) await timeMaintenance();
}

/**
 * Retention with the rows older than 29 days to go, on a copy of the database (whole days
 * dropped, then the rest of the partly old day deleted in batches), and a reconciliation of the
 * whole log.
 */
async function timeMaintenance(): Promise<void> {
  const { openDatabase } = await import('../../packages/db/src/client.ts');
  const { dropSpendPartitionsBefore, pruneSpendLogs } = await import(
    '../../packages/db/src/queries/retention.ts'
  );
  const { reconcileSpend } = await import('../../packages/db/src/queries/reconcile.ts');
  const copy = `${name}_retention`;
  await withClient(base!, async (c) => {
    await c.query(`drop database if exists ${copy}`);
    await c.query(`create database ${copy} template ${name}`);
  });
  const copyUrl = new URL(url);
  copyUrl.pathname = `/${copy}`;
  const handle = await openDatabase({ kind: 'postgres', url: copyUrl.toString() });
  try {
    const before = new Date(Date.now() - 29 * 86_400_000);
    let started = performance.now();
    const dropped = await dropSpendPartitionsBefore(handle.db, before);
    const droppedMs = performance.now() - started;
    started = performance.now();
    const statements: number[] = [];
    let deleted = 0;
    for (;;) {
      const at = performance.now();
      const n = await pruneSpendLogs(handle.db, before, 5_000);
      statements.push(performance.now() - at);
      deleted += n ?? 0;
      if (!n || n < 5_000) break;
    }
    statements.sort((a, b) => a - b);
    console.log(
      `retention: dropped whole days holding ${dropped} rows in ${Math.round(droppedMs)} ms; deleted ${deleted} older rows in ${Math.round(performance.now() - started)} ms (5,000 a statement, median ${Math.round(statements[Math.floor(statements.length / 2)]!)} ms, max ${Math.round(statements.at(-1)!)} ms)`,
    );
    started = performance.now();
    const report = await reconcileSpend(handle.db);
    console.log(
      `reconciliation of the whole log: ${Math.round(performance.now() - started)} ms (ok: ${report.ok})`,
    );
  } finally {
    await handle.close();
    await withClient(base!, (c) => c.query(`drop database if exists ${copy}`));
  }
}

await main();
