import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MockProvider, startMockProvider } from '@gateway/mock-provider';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildGatewayAside } from '../scripts/build.ts';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { createTestDatabase, type TestDatabase, testRedis } from './support/backing-services.ts';
import { startBuiltGateway, writeMockConfig } from './support/built-gateway.ts';

const gatewayDir = fileURLToPath(new URL('..', import.meta.url));
const MASTER = 'sk-shutdown-test-master-key';

/**
 * The production build (`pnpm build`; `pnpm start:prod` and the Docker image run it) as a
 * process: a SIGTERM while a stream is in flight lets the stream finish, refuses new
 * connections, and writes the queued spend row before exiting 0. The batch interval is an
 * hour, so only the shutdown flush can have written the row.
 */
describe('graceful shutdown of the built gateway', () => {
  let mock: MockProvider;
  let database: TestDatabase;
  let dir: string;
  let child: ChildProcess | undefined;
  let buildDir: string | undefined;

  beforeAll(async () => {
    buildDir = await buildGatewayAside();
    mock = await startMockProvider({ chunkDelayMs: 50 });
    database = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'gw-shutdown-'));
    writeMockConfig(dir, {
      openaiBaseUrl: mock.openaiBaseUrl,
      masterKey: MASTER,
      generalSettings: ['proxy_batch_write_at: 3600'],
    });
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await mock?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  /** The built gateway as a child process on the test database; resolves once it listens. */
  function startProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
    return startBuiltGateway(buildDir!, {
      args: ['--config', join(dir, 'config.yaml')],
      cwd: gatewayDir,
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        MIGRATE_ON_START: 'true',
        GATEWAY_DATA_DIR: dir,
        ...env,
      },
    });
  }

  it('finishes the in-flight stream, refuses new connections and flushes spend before exiting', async () => {
    const started = await startProcess({ REDIS_URL: '' });
    child = started.child;
    const { url } = started;

    const generated = await fetch(`${url}/key/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const { key } = (await generated.json()) as { key: string };

    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let streamed = (await reader.read()).value ?? '';

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    await expect(fetch(`${url}/health/liveliness`)).rejects.toThrow();

    for (let next = await reader.read(); !next.done; next = await reader.read()) streamed += next.value;
    expect(streamed).toContain('"finish_reason":"stop"');
    expect(streamed.trimEnd().endsWith('data: [DONE]')).toBe(true);

    const [code] = await exited;
    expect(code).toBe(0);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const rows = await client.query(
        'select status, completion_tokens from "LiteLLM_SpendLogs" where api_key = $1',
        [hashKey(key)],
      );
      expect(rows.rows).toEqual([{ status: 'success', completion_tokens: 20 }]);
    } finally {
      await client.end();
    }
  });

  it('with Redis, a row queued when the process is killed (SIGKILL) is written by the next start', async () => {
    const redisTarget = await testRedis();
    const env = { REDIS_URL: redisTarget.url, REDIS_KEY_PREFIX: redisTarget.keyPrefix };
    const first = await startProcess(env);
    child = first.child;
    // Past the writer's first read: with an hour between batches, the row now waits in Redis.
    await new Promise((r) => setTimeout(r, 1_500));
    const generated = await fetch(`${first.url}/key/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const { key } = (await generated.json()) as { key: string };
    const answer = await fetch(`${first.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'keep me' }] }),
    });
    expect(answer.status).toBe(200);
    const cost = answer.headers.get('x-litellm-response-cost')!;
    await answer.text();

    const redis = new Redis(redisTarget.url, { keyPrefix: redisTarget.keyPrefix });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await vi.waitFor(async () => expect(await redis.xlen('spend:rows')).toBe(1));
      const rowsOf = async () =>
        (
          await client.query('select spend::text as spend from "LiteLLM_SpendLogs" where api_key = $1', [
            hashKey(key),
          ])
        ).rows;
      expect(await rowsOf()).toEqual([]);

      const killed = once(child, 'exit');
      child.kill('SIGKILL');
      await killed;

      const second = await startProcess(env);
      child = second.child;
      await vi.waitFor(async () => expect(await rowsOf()).toEqual([{ spend: cost }]), {
        timeout: 10_000,
        interval: 100,
      });
      const [token] = (
        await client.query('select spend::text as spend from "LiteLLM_VerificationToken" where token = $1', [
          hashKey(key),
        ])
      ).rows;
      expect(token).toEqual({ spend: cost });
      // Its entry is acknowledged and removed just after the write commits.
      await vi.waitFor(async () => expect(await redis.xlen('spend:rows')).toBe(0));
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
    } finally {
      redis.disconnect();
      await client.end();
    }
  });
});
