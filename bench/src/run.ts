import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { buildGatewayAside, PRODUCTION_NODE_FLAGS } from '../../apps/gateway/scripts/build.ts';
import { type OpenLoopResult, openLoop } from './open-loop.ts';

// `pnpm bench`: the mock provider alone, the floor (a bare node:http + undici pass-through) and
// the gateway (a virtual key with a budget and limits, spend recorded, metrics on) on PGlite
// and on Postgres + Redis, side by side in one run. See bench/README.md.

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rate: { type: 'string', default: '500' },
    quick: { type: 'boolean', default: false },
    soak: { type: 'boolean', default: false },
    out: { type: 'string' },
    /** Which gateways to measure: `pglite`, `postgres` or both (the mock and the floor always run). */
    gateways: { type: 'string', default: 'pglite,postgres' },
    /** The virtual key has no budget and no limits (what the checks cost: compare with a default run). */
    'open-key': { type: 'boolean', default: false },
  },
});
const GATEWAYS = new Set((flags.gateways ?? '').split(',').map((g) => g.trim()));
const DURATION_S = flags.quick ? 3 : Number(flags.duration);
const RATE = Number(flags.rate);
const root = fileURLToPath(new URL('../../', import.meta.url));
const MASTER = `sk-bench-${randomBytes(8).toString('hex')}`;

type TargetName = 'direct' | 'floor' | 'gateway (PGlite)' | 'gateway (Postgres+Redis)';
interface Target {
  name: TargetName;
  origin: string;
  /** Bearer key for the target (the mock and the floor take anything). */
  key: string;
  process?: ChildProcess;
  requests: number;
  peakRssMb: number;
  rssSamples: NodeJS.Timeout | undefined;
}

const MODES = {
  chat: {
    path: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] },
  },
  stream: {
    path: '/v1/chat/completions',
    body: {
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Hello' }],
    },
  },
  // The gateway translates Anthropic's format to the OpenAI-format upstream; direct and floor
  // go to the mock's own Anthropic route.
  messages: {
    path: '/v1/messages',
    body: { model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] },
  },
} as const;
type Mode = keyof typeof MODES;

function headersFor(target: Target, mode: Mode): Record<string, string> {
  return mode === 'messages'
    ? { 'content-type': 'application/json', 'x-api-key': target.key, 'anthropic-version': '2023-06-01' }
    : { 'content-type': 'application/json', authorization: `Bearer ${target.key}` };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Runs a script with node: TypeScript sources through tsx, the built gateway with its production flags. */
function startNode(script: string, env: Record<string, string>, args: string[] = []): ChildProcess {
  const nodeArgs = script.endsWith('.ts') ? ['--import', 'tsx'] : PRODUCTION_NODE_FLAGS;
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) console.error(`${script} exited with ${code}`);
  });
  return child;
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not come up`);
}

function rssMb(pid: number | undefined): { rss: number; peak: number } {
  if (!pid) return { rss: 0, peak: 0 };
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Data folders of the gateways started, removed at the end. */
const dataDirs: string[] = [];

/** The production build of the gateway (`pnpm build`), made once per run. */
let builtGateway: Promise<string> | undefined;

async function startGateway(
  name: TargetName,
  mockOrigin: string,
  env: Record<string, string>,
): Promise<Target> {
  builtGateway ??= buildGatewayAside().then((dir) => {
    dataDirs.push(dir);
    return join(dir, 'main.js');
  });
  const main = await builtGateway;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
  dataDirs.push(dir);
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'model_list:',
      '  - model_name: gpt-4o-mini',
      '    litellm_params:',
      '      model: openai/gpt-4o-mini',
      `      api_base: ${mockOrigin}/v1`,
      '      api_key: sk-mock',
      'general_settings:',
      '  master_key: os.environ/LITELLM_MASTER_KEY',
      '',
    ].join('\n'),
  );
  const child = startNode(
    main,
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      LITELLM_MASTER_KEY: MASTER,
      GATEWAY_DATA_DIR: dir,
      MIGRATE_ON_START: 'true',
      LOG_LEVEL: 'info',
      ...env,
    },
    ['--config', config],
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(`${origin}/health/readiness`);
  // A virtual key with every check on (a budget, rpm, tpm and parallel limits), or none with --open-key.
  const response = await fetch(`${origin}/key/generate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify(
      flags['open-key']
        ? { key_alias: 'bench' }
        : {
            key_alias: 'bench',
            max_budget: 1_000_000,
            rpm_limit: 1_000_000_000,
            tpm_limit: 1_000_000_000_000,
            max_parallel_requests: 100_000,
          },
    ),
  });
  if (!response.ok) throw new Error(`key/generate answered ${response.status}: ${await response.text()}`);
  const { key } = (await response.json()) as { key: string };
  const target: Target = {
    name,
    origin,
    key,
    process: child,
    requests: 0,
    peakRssMb: 0,
    rssSamples: undefined,
  };
  target.rssSamples = setInterval(() => {
    try {
      target.peakRssMb = Math.max(target.peakRssMb, rssMb(child.pid).peak);
    } catch {
      // exited
    }
  }, 500);
  return target;
}

interface ClosedLoopRow {
  target: TargetName;
  mode: Mode;
  connections: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU time (user + system) of the target's own process per request, µs. */
  cpuUsPerRequest: number | null;
  /**
   * For the Postgres+Redis gateway, when Redis and Postgres run on this machine: their servers'
   * CPU time per request, µs (what each call costs the shared services besides the gateway).
   */
  redisCpuUs?: number | null;
  postgresCpuUs?: number | null;
}

/**
 * CPU time a process has used so far, ms (utime + stime from /proc; Linux, 100 ticks a second).
 * Steadier than throughput on a shared machine: it counts the target's own work only.
 */
function cpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/**
 * CPU time used so far by every process of this machine with this command name (`redis-server`,
 * `postgres`), ms, or null when none runs here.
 */
function serviceCpuMs(command: string): number | null {
  let total: number | null = null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== command) continue;
    } catch {
      continue; // exited meanwhile
    }
    const ms = cpuMs(Number(entry));
    if (ms !== null) total = (total ?? 0) + ms;
  }
  return total;
}

/**
 * Waits until every process the run started is nearly idle (together under 5% of a core for
 * half a second; at most 60 s): a gateway still writing the spend rows of the last measurement,
 * or one measured earlier still draining its backlog, would otherwise share the two cores with
 * the next measurement.
 */
async function quiet(): Promise<void> {
  const used = () => children.reduce((sum, child) => sum + (cpuMs(child.pid) ?? 0), 0);
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const before = used();
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (used() - before <= 25) return;
  }
  console.log('processes still busy after 60 s; measuring anyway');
}

async function closedLoop(
  target: Target,
  mode: Mode,
  connections: number,
  seconds: number,
): Promise<ClosedLoopRow> {
  const spec = MODES[mode];
  const services = target.name === 'gateway (Postgres+Redis)' ? ['redis-server', 'postgres'] : [];
  const servicesBefore = services.map(serviceCpuMs);
  const cpuBefore = cpuMs(target.process?.pid);
  const result = await autocannon({
    url: `${target.origin}${spec.path}`,
    method: 'POST',
    headers: headersFor(target, mode),
    body: JSON.stringify(spec.body),
    connections,
    duration: seconds,
  });
  // Work the load left behind (spend rows written after it stopped) is part of its cost.
  await quiet();
  const cpuAfter = cpuMs(target.process?.pid);
  /** CPU time between two readings (ms) per request of this measurement, µs. */
  const perRequestUs = (before: number | null | undefined, after: number | null) =>
    before != null && after !== null && result.requests.total > 0
      ? Math.round(((after - before) * 1000) / result.requests.total)
      : null;
  const [redisCpuUs, postgresCpuUs] = services.map((command, i) =>
    perRequestUs(servicesBefore[i], serviceCpuMs(command)),
  );
  target.requests += result.requests.total;
  return {
    target: target.name,
    mode,
    connections,
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    cpuUsPerRequest: perRequestUs(cpuBefore, cpuAfter),
    ...(services.length > 0 ? { redisCpuUs, postgresCpuUs } : {}),
  };
}

async function requestsUntil(target: Target, total: number): Promise<void> {
  const missing = total - target.requests;
  if (missing <= 0) return;
  const result = await autocannon({
    url: `${target.origin}${MODES.chat.path}`,
    method: 'POST',
    headers: headersFor(target, 'chat'),
    body: JSON.stringify(MODES.chat.body),
    connections: 64,
    amount: missing,
  });
  target.requests += result.requests.total;
}

/** Every process the run started, stopped at its end whatever happened. */
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGTERM');
});

async function main(): Promise<void> {
  const started = new Date();
  const mockPort = await freePort();
  const mock = startNode('packages/mock-provider/src/cli.ts', { PORT: String(mockPort), HOST: '127.0.0.1' });
  const mockOrigin = `http://127.0.0.1:${mockPort}`;
  await waitFor(`${mockOrigin}/health`);
  const floorPort = await freePort();
  const floor = startNode('bench/src/floor.ts', { PORT: String(floorPort), UPSTREAM: mockOrigin });
  const floorOrigin = `http://127.0.0.1:${floorPort}`;
  await waitFor(`${floorOrigin}/health`);

  const targets: Target[] = [
    {
      name: 'direct',
      origin: mockOrigin,
      key: 'sk-mock',
      process: mock,
      requests: 0,
      peakRssMb: 0,
      rssSamples: undefined,
    },
    {
      name: 'floor',
      origin: floorOrigin,
      key: 'sk-mock',
      process: floor,
      requests: 0,
      peakRssMb: 0,
      rssSamples: undefined,
    },
  ];
  let database: { admin: string; name: string } | undefined;
  const redisPrefix = `bench-${randomBytes(4).toString('hex')}:`;
  const closed: ClosedLoopRow[] = [];
  const open: (OpenLoopResult & { target: TargetName; mode: Mode })[] = [];
  try {
    // Embedded: no Postgres and no Redis, whatever this shell has set.
    if (GATEWAYS.has('pglite'))
      targets.push(await startGateway('gateway (PGlite)', mockOrigin, { DATABASE_URL: '', REDIS_URL: '' }));
    if (GATEWAYS.has('postgres') && process.env.DATABASE_URL && process.env.REDIS_URL) {
      const name = `bench_${randomBytes(4).toString('hex')}`;
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      await client.query(`create database ${name}`);
      await client.end();
      database = { admin: process.env.DATABASE_URL, name };
      const url = new URL(process.env.DATABASE_URL);
      url.pathname = `/${name}`;
      targets.push(
        await startGateway('gateway (Postgres+Redis)', mockOrigin, {
          DATABASE_URL: url.toString(),
          REDIS_KEY_PREFIX: redisPrefix,
        }),
      );
    } else if (GATEWAYS.has('postgres')) {
      console.log('DATABASE_URL and REDIS_URL unset: the Postgres+Redis gateway is not measured.');
    }

    // Warm up: connections, JIT, caches.
    for (const target of targets) await closedLoop(target, 'chat', 16, 2);
    // Each measurement is taken on every target in turn, so that the targets it compares are
    // measured minutes apart at most: this kind of machine changes speed by half between runs,
    // and sometimes within one.
    for (const mode of Object.keys(MODES) as Mode[]) {
      for (const connections of [10, 64]) {
        for (const target of targets) {
          await quiet();
          const row = await closedLoop(target, mode, connections, DURATION_S);
          closed.push(row);
          console.log(
            `closed loop ${row.target} ${mode} c=${connections}: ${row.rps} req/s p50 ${row.p50Ms} ms p99 ${row.p99Ms} ms`,
          );
        }
      }
    }
    for (const mode of ['chat', 'stream'] as Mode[]) {
      const spec = MODES[mode];
      for (const target of targets) {
        await quiet();
        const result = await openLoop({
          origin: target.origin,
          path: spec.path,
          headers: headersFor(target, mode),
          body: JSON.stringify(spec.body),
          rate: RATE,
          durationMs: DURATION_S * 1000,
        });
        target.requests += result.sent;
        open.push({ ...result, target: target.name, mode });
        console.log(
          `open loop ${target.name} ${mode} @${RATE}/s: p50 ${result.latency.p50} µs p99 ${result.latency.p99} µs p99.9 ${result.latency.p999} µs`,
        );
      }
    }
    const memory: Record<string, { peakRssMb: number; after100kMb?: number; after1mMb?: number }> = {};
    for (const target of targets.filter((t) => t.name.startsWith('gateway'))) {
      const entry: (typeof memory)[string] = { peakRssMb: 0 };
      if (!flags.quick) {
        await requestsUntil(target, 100_000);
        entry.after100kMb = rssMb(target.process?.pid).rss;
        if (flags.soak) {
          await requestsUntil(target, 1_000_000);
          entry.after1mMb = rssMb(target.process?.pid).rss;
        }
      }
      entry.peakRssMb = Math.max(target.peakRssMb, rssMb(target.process?.pid).peak);
      memory[target.name] = entry;
    }
    report(started, closed, open, memory);
  } finally {
    for (const target of targets) if (target.rssSamples) clearInterval(target.rssSamples);
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    if (database && process.env.REDIS_URL) {
      // The Postgres+Redis gateway's keys: its spend stream, caches and counters.
      const redis = new Redis(process.env.REDIS_URL);
      const keys = await redis.keys(`${redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
    if (database) {
      const client = new pg.Client({ connectionString: database.admin });
      await client.connect();
      await client.query(`drop database if exists ${database.name} with (force)`);
      await client.end();
    }
  }
}

function report(
  started: Date,
  closed: ClosedLoopRow[],
  open: (OpenLoopResult & { target: TargetName; mode: Mode })[],
  memory: Record<string, { peakRssMb: number; after100kMb?: number; after1mMb?: number }>,
): void {
  console.log('\nClosed loop (autocannon)');
  console.table(closed.map((r) => ({ ...r })));
  const direct = (mode: Mode) => open.find((r) => r.target === 'direct' && r.mode === mode);
  console.log(
    `\nOpen loop at ${RATE} req/s (µs from each request's due time, or its sending if earlier; added = over direct)`,
  );
  console.table(
    open.map((r) => ({
      target: r.target,
      mode: r.mode,
      failed: r.failed,
      p50: r.latency.p50,
      p99: r.latency.p99,
      'p99.9': r.latency.p999,
      'added p50': r.latency.p50 - (direct(r.mode)?.latency.p50 ?? 0),
      'added p99': r.latency.p99 - (direct(r.mode)?.latency.p99 ?? 0),
      'first byte p50': r.firstByte.p50,
      'added first byte p50': r.firstByte.p50 - (direct(r.mode)?.firstByte.p50 ?? 0),
    })),
  );
  console.log('\nGateway memory (MB)');
  console.table(memory);

  // The targets of the performance issue, as ratios within this one run.
  const rps = (target: TargetName, mode: Mode) =>
    closed.find((r) => r.target === target && r.mode === mode && r.connections === 64)?.rps ?? 0;
  const checks: { target: string; check: string; value: string; ok: boolean }[] = [];
  for (const gateway of ['gateway (PGlite)', 'gateway (Postgres+Redis)'] as TargetName[]) {
    if (!closed.some((r) => r.target === gateway)) continue;
    for (const mode of ['chat', 'stream'] as Mode[]) {
      const ratio = rps(gateway, mode) / Math.max(1, rps('floor', mode));
      checks.push({
        target: gateway,
        check: `${mode} throughput ≥ 60% of floor (c=64)`,
        value: `${Math.round(ratio * 100)}%`,
        ok: ratio >= 0.6,
      });
    }
    const chat = open.find((r) => r.target === gateway && r.mode === 'chat');
    const stream = open.find((r) => r.target === gateway && r.mode === 'stream');
    if (chat && direct('chat')) {
      const p50 = (chat.latency.p50 - direct('chat')!.latency.p50) / 1000;
      const p99 = (chat.latency.p99 - direct('chat')!.latency.p99) / 1000;
      checks.push({
        target: gateway,
        check: `added p50 ≤ 1 ms at ${RATE}/s`,
        value: `${p50.toFixed(2)} ms`,
        ok: p50 <= 1,
      });
      checks.push({
        target: gateway,
        check: `added p99 ≤ 5 ms at ${RATE}/s`,
        value: `${p99.toFixed(2)} ms`,
        ok: p99 <= 5,
      });
    }
    if (stream && direct('stream')) {
      const ttfb = (stream.firstByte.p50 - direct('stream')!.firstByte.p50) / 1000;
      checks.push({
        target: gateway,
        check: 'stream: added first byte p50 ≤ 1 ms',
        value: `${ttfb.toFixed(2)} ms`,
        ok: ttfb <= 1,
      });
    }
    const mem = memory[gateway];
    if (mem) {
      checks.push({
        target: gateway,
        check: 'peak RSS ≤ 200 MB',
        value: `${mem.peakRssMb.toFixed(0)} MB`,
        ok: mem.peakRssMb <= 200,
      });
      if (mem.after100kMb && mem.after1mMb) {
        const growth = mem.after1mMb / mem.after100kMb - 1;
        checks.push({
          target: gateway,
          check: 'RSS after 1M within 10% of after 100k',
          value: `${(growth * 100).toFixed(1)}%`,
          ok: growth <= 0.1,
        });
      }
    }
  }
  console.log('\nTargets');
  console.table(checks);

  // CPU per call against the floor's, at 64 connections: steadier than throughput ratios when
  // the machine changes speed during a run (both move with it).
  const cpu = (target: TargetName, mode: Mode) =>
    closed.find((r) => r.target === target && r.mode === mode && r.connections === 64)?.cpuUsPerRequest;
  const relative = [];
  for (const gateway of ['gateway (PGlite)', 'gateway (Postgres+Redis)'] as TargetName[]) {
    for (const mode of Object.keys(MODES) as Mode[]) {
      const own = cpu(gateway, mode);
      const floor = cpu('floor', mode);
      if (own && floor)
        relative.push({
          target: gateway,
          mode,
          cpuUs: own,
          floorCpuUs: floor,
          times: +(own / floor).toFixed(1),
        });
    }
  }
  console.log('\nCPU per call against the floor (c=64)');
  console.table(relative);

  const out = flags.out ?? join(root, 'bench', 'results', 'latest.json');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        started: started.toISOString(),
        machine: {
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model,
          memoryGb: Math.round(totalmem() / 2 ** 30),
          node: process.version,
        },
        settings: {
          durationSeconds: DURATION_S,
          openLoopRate: RATE,
          quick: flags.quick,
          soak: flags.soak,
          gateways: [...GATEWAYS],
        },
        closed,
        open,
        memory,
        checks,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwritten to ${out}`);
}

await main();
