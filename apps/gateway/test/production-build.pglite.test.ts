import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildGatewayAside } from '../scripts/build.ts';
import { startBuiltGateway } from './support/built-gateway.ts';

/**
 * The production build on the embedded default (no DATABASE_URL, no REDIS_URL, no config file):
 * what it leaves to Node at run time (PGlite, Swagger UI) and the migrations copied beside it
 * are found, a call through the demo model list is answered, and its spend is recorded.
 */
describe('the production build on the embedded default', () => {
  let buildDir: string | undefined;
  let dataDir: string;
  let child: ChildProcess;
  let url: string;
  let output: () => string;

  beforeAll(async () => {
    buildDir = await buildGatewayAside();
    dataDir = mkdtempSync(join(tmpdir(), 'gw-build-'));
    const env: NodeJS.ProcessEnv = { ...process.env, GATEWAY_DATA_DIR: dataDir };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    delete env.LITELLM_MASTER_KEY;
    ({ child, url, output } = await startBuiltGateway(buildDir, {
      env: { ...env, LOG_LEVEL: 'info' },
      cwd: dataDir,
    }));
  }, 60_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  it('answers a chat call with a generated key, records its spend and serves the API reference', async () => {
    const master = readFileSync(join(dataDir, 'master-key'), 'utf8').trim();
    const generated = await fetch(`${url}/key/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
      body: '{"key_alias":"built"}',
    });
    expect(generated.status).toBe(200);
    const { key } = (await generated.json()) as { key: string };

    const client = new OpenAI({ apiKey: key, baseURL: `${url}/v1` });
    const { data: completion, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] })
      .withResponse();
    const callId = response.headers.get('x-litellm-call-id');
    expect(completion.choices[0]?.message.content).toMatch(/mock provider/);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);

    await vi.waitFor(
      async () => {
        const logs = await fetch(`${url}/spend/logs?api_key=${encodeURIComponent(key)}`, {
          headers: { authorization: `Bearer ${master}` },
        });
        const rows = (await logs.json()) as {
          request_id: string;
          spend: number;
          completion_tokens: number;
        }[];
        expect(rows.map((row) => [row.request_id, row.completion_tokens])).toEqual([
          [callId, completion.usage?.completion_tokens],
        ]);
        expect(rows[0]!.spend).toBeGreaterThan(0);
      },
      { timeout: 10_000, interval: 200 },
    );

    const docs = await fetch(`${url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('<html');
    const asset = await fetch(`${url}/docs/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
  });

  it('prints the request log lines it was still holding when it stops', async () => {
    // Log lines are written in batches; the last ones must not die with the process.
    const master = readFileSync(join(dataDir, 'master-key'), 'utf8').trim();
    const answered = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] }),
    });
    expect(answered.status).toBe(200);
    await answered.text();
    const callId = answered.headers.get('x-litellm-call-id');
    expect(callId).toBeTruthy();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    const lines = output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { requestId?: string; msg: string });
    expect(lines.some((line) => line.requestId === callId && line.msg === 'request')).toBe(true);
    expect(lines.at(-1)?.msg).toBe('stopped');
  });
});
