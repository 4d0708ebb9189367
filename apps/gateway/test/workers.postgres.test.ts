import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MockProvider, startMockProvider } from '@gateway/mock-provider';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildGatewayAside } from '../scripts/build.ts';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { createTestDatabase, type TestDatabase, testRedis } from './support/backing-services.ts';
import { startBuiltGateway, writeMockConfig } from './support/built-gateway.ts';

const gatewayDir = fileURLToPath(new URL('..', import.meta.url));
const MASTER = 'sk-workers-master-key';

/**
 * `WORKERS=2`: the production build as two processes on one port (node:cluster), on a fresh
 * database (both workers start together). Every call is served and billed once, both workers
 * serve, a budget holds across them, `/metrics` counts every worker's calls whichever worker
 * answers the scrape, and SIGTERM stops them all cleanly.
 */
describe('two workers on one port', () => {
  let mock: MockProvider;
  let database: TestDatabase;
  let dir: string;
  let buildDir: string;
  let client: pg.Client;
  let child: ChildProcess;
  let url: string;
  let output: () => string;

  beforeAll(async () => {
    buildDir = await buildGatewayAside();
    mock = await startMockProvider();
    database = await createTestDatabase();
    const redis = await testRedis();
    dir = mkdtempSync(join(tmpdir(), 'gw-workers-'));
    writeMockConfig(dir, { openaiBaseUrl: mock.openaiBaseUrl, masterKey: MASTER });
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    ({ child, url, output } = await startBuiltGateway(buildDir, {
      args: ['--config', join(dir, 'config.yaml')],
      cwd: gatewayDir,
      env: {
        ...process.env,
        LOG_LEVEL: 'info',
        WORKERS: '2',
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: redis.keyPrefix,
        MIGRATE_ON_START: 'true',
        GATEWAY_DATA_DIR: dir,
      },
    }));
  }, 120_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await client?.end();
    await mock?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  const admin = async (path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  const chat = async (key: string, stream: boolean) => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      // max_tokens as the mock's 20-token reply: the budget reservation bounds the call closely.
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        stream,
        max_tokens: 20,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    await response.text();
    return response.status;
  };
  const rowsOf = async (key: string) =>
    (
      await client.query<{ spend: string; instance: string }>(
        `select spend::text, metadata->>'gateway_instance' as instance from "LiteLLM_SpendLogs" where api_key = $1`,
        [hashKey(key)],
      )
    ).rows;

  it('starts once: one banner naming both workers, no partition made twice', () => {
    expect(output().match(/listening on/g)).toHaveLength(1);
    expect(output()).toContain('workers:    2 processes on this port');
    expect(output()).not.toContain('could not make them');
    expect(
      execFileSync('pgrep', ['-P', String(child.pid)])
        .toString()
        .trim()
        .split('\n'),
    ).toHaveLength(2);
  });

  it('serves and bills every call once, from both workers, and /metrics counts them all on every scrape', async () => {
    const key = (await admin('/key/generate', {})).key as string;
    const statuses: number[] = [];
    for (let round = 0; round < 5; round++)
      statuses.push(...(await Promise.all(Array.from({ length: 8 }, (_, i) => chat(key, i % 2 === 0)))));
    expect(statuses).toEqual(Array(40).fill(200));
    const rows = await vi.waitFor(
      async () => {
        const found = await rowsOf(key);
        if (found.length < 40) throw new Error(`${found.length} rows`);
        return found;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((row) => row.instance)).size).toBe(2);

    const series = new RegExp(
      `^litellm_proxy_total_requests_metric_total\\{[^}]*hashed_api_key="${hashKey(key)}"[^}]*status_code="200"[^}]*\\} (\\d+)$`,
      'm',
    );
    for (let scrape = 0; scrape < 6; scrape++) {
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(Number(series.exec(text)?.[1])).toBe(40);
    }
  });

  it('holds a budget across the workers: parallel calls overshoot it by at most one call', async () => {
    const probe = (await admin('/key/generate', {})).key as string;
    await chat(probe, false);
    const oneCall = await vi.waitFor(async () => {
      const [row] = await rowsOf(probe);
      if (!row) throw new Error('no row yet');
      return Number(row.spend);
    });
    const budget = oneCall * 4.5;
    const key = (await admin('/key/generate', { max_budget: budget })).key as string;
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(key, i % 2 === 0)));
    const admitted = statuses.filter((status) => status === 200).length;
    expect(admitted + statuses.filter((status) => status === 429).length).toBe(30);
    // A reservation errs high, so near the limit fewer may be admitted at once, never more.
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeLessThanOrEqual(5);
    const spent = await vi.waitFor(async () => {
      const rows = await rowsOf(key);
      if (rows.length < admitted) throw new Error('rows pending');
      return rows.reduce((sum, row) => sum + Number(row.spend), 0);
    });
    expect(spent).toBeLessThanOrEqual(budget + oneCall);
  });

  it('SIGTERM to the primary stops every worker and exits 0', async () => {
    const workers = execFileSync('pgrep', ['-P', String(child.pid)])
      .toString()
      .trim()
      .split('\n');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    for (const pid of workers) expect(() => process.kill(Number(pid), 0)).toThrow();
  }, 30_000);
});
