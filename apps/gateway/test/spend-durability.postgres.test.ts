import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { toNanoUsd } from './support/money.ts';
import { startProxyFor, type UrlProxy } from './support/tcp-proxy.ts';
import { type Backend, startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * Spend under load and through a database outage: every accepted request leaves exactly one
 * row, and every counter and daily aggregate agrees with the rows (GET /spend/reconcile).
 */

interface Reconcile {
  ok: boolean;
  difference: string;
  spend_logs: { rows: number; spend: string };
  counters: { entity: string; checked: number; mismatches: unknown[] }[];
  daily: { table: string; checked: number; mismatches: unknown[] }[];
}

async function admin<T>(t: TestGateway, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${t.gateway.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${t.masterKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/**
 * A request of the mix: non-streamed, streamed, config-priced, with end users and tags. Every
 * tenth names an end user of its own, never seen before (so never cached).
 */
function modelCall(t: TestGateway, key: string, i: number, freshEndUsers = false): Promise<Response> {
  const stream = i % 5 === 0;
  return fetch(`${t.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(i % 3 === 0 ? { 'x-litellm-tags': `load,batch-${i % 4}` } : {}),
    },
    body: JSON.stringify({
      model: i % 7 === 0 ? 'priced-by-config' : 'gpt-4o-mini',
      stream,
      user: freshEndUsers && i % 10 === 0 ? `fresh-end-user-${i}` : `end-user-${i % 11}`,
      messages: [{ role: 'user', content: `request ${i} [mock:reply_tokens=${1 + (i % 9)}]` }],
    }),
  });
}

/** Reads a response to its end; returns its call id and, for a plain answer, its cost header. */
async function consume(response: Response): Promise<{ id: string; cost: string | null }> {
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return {
    id: response.headers.get('x-litellm-call-id')!,
    cost: response.headers.get('x-litellm-response-cost'),
  };
}

async function countRows(t: TestGateway, ids: string[]): Promise<{ rows: number; distinct: number }> {
  const [row] = await t.query<{ rows: number; distinct: number }>(
    `select count(*)::int as rows, count(distinct request_id)::int as distinct
     from "LiteLLM_SpendLogs" where request_id = any($1::text[])`,
    [ids],
  );
  return row!;
}

async function setUpKeys(t: TestGateway): Promise<string[]> {
  const team = await admin<{ team_id: string }>(t, 'POST', '/team/new', { team_alias: 'load-team' });
  const user = await admin<{ user_id: string }>(t, 'POST', '/user/new', { user_id: 'load-owner' });
  return Promise.all([
    t.createKey({ team_id: team.team_id, user_id: user.user_id, tags: ['team-key'] }),
    t.createKey({ team_id: team.team_id }),
    t.createKey({ user_id: user.user_id }),
    t.createKey({}),
  ]);
}

describe('1,000 concurrent requests', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway('postgres+redis');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('leave exactly 1,000 rows, and reconciliation finds no difference', async () => {
    const keys = await setUpKeys(t);
    const results = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => modelCall(t, keys[i % keys.length]!, i).then(consume)),
    );
    const ids = results.map((r) => r.id);
    expect(new Set(ids).size).toBe(1_000);

    await t.gateway.spendQueue.flush();
    expect(await countRows(t, ids)).toEqual({ rows: 1_000, distinct: 1_000 });

    // The plain answers' cost headers are exactly what their rows say.
    const headed = results.filter((r) => r.cost !== null);
    expect(headed.length).toBeGreaterThan(700);
    const [rowSum] = await t.query<{ spend: string }>(
      `select sum(spend)::text as spend from "LiteLLM_SpendLogs" where request_id = any($1::text[])`,
      [headed.map((r) => r.id)],
    );
    expect(toNanoUsd(rowSum!.spend)).toBe(headed.reduce((sum, r) => sum + toNanoUsd(r.cost!), 0n));

    const report = await admin<Reconcile>(t, 'GET', '/spend/reconcile');
    console.log(
      `reconcile after 1,000 concurrent requests: ${report.spend_logs.rows} rows, $${report.spend_logs.spend}, difference ${report.difference}`,
    );
    expect(report).toMatchObject({ ok: true, difference: '0', spend_logs: { rows: 1_000 } });
    for (const check of [...report.counters, ...report.daily]) expect(check.mismatches).toEqual([]);
    expect(report.counters.find((c) => c.entity === 'tag')!.checked).toBeGreaterThanOrEqual(5);
    expect(report.counters.find((c) => c.entity === 'end_user')!.checked).toBe(11);

    const metrics = await (await fetch(`${t.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/^litellm_redis_spend_update_queue_size 0$/m);
    expect(metrics).toMatch(/^litellm_in_memory_spend_update_queue_size 0$/m);
  }, 60_000);
});

for (const backend of ['postgres+redis', 'postgres'] as Backend[]) {
  describe(`Postgres connection cut under load (${backend})`, () => {
    let t: TestGateway;
    let proxy: UrlProxy;
    beforeAll(async () => {
      proxy = await startProxyFor(process.env.DATABASE_URL ?? 'postgres://127.0.0.1:5432/');
      t = await startTestGateway(backend, { gatewayDatabaseUrl: proxy.through });
    });
    afterAll(async () => {
      proxy?.restore();
      await t?.close();
      await proxy?.close();
    });

    it('keeps answering, then writes every row once when the database returns', async () => {
      const keys = await setUpKeys(t);
      // New keys are invalidated a second time 300 ms after creation (against stale caches);
      // then each key is used once while the database is up: from here on they come from caches.
      await new Promise((r) => setTimeout(r, 500));
      for (const [i, key] of keys.entries()) await consume(await modelCall(t, key, i));

      const ids: string[] = [];
      const failures: string[] = [];
      let queuedDuringOutage = 0;
      const started = Date.now();
      let sent = 0;
      const outage = (async () => {
        await new Promise((r) => setTimeout(r, 300));
        proxy.cut();
        await new Promise((r) => setTimeout(r, 1_500));
        const metrics = await (await fetch(`${t.gateway.url}/metrics`)).text();
        for (const match of metrics.matchAll(/^litellm_(?:in_memory|redis)_spend_update_queue_size (\d+)$/gm))
          queuedDuringOutage += Number(match[1]);
        await new Promise((r) => setTimeout(r, 1_500));
        proxy.restore();
      })();
      // 20 clients in a closed loop for 4.5 s: before, during and after a 3 s outage.
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (Date.now() - started < 4_500) {
            const i = sent++;
            try {
              ids.push((await consume(await modelCall(t, keys[i % keys.length]!, i, true))).id);
            } catch (error) {
              failures.push(String(error));
            }
          }
        }),
      );
      await outage;
      console.log(
        `outage (${backend}): ${ids.length} requests answered, ${failures.length} failed, ${queuedDuringOutage} rows queued mid-outage`,
      );
      expect(failures).toEqual([]);
      expect(queuedDuringOutage).toBeGreaterThan(0);

      await vi.waitFor(async () => expect((await countRows(t, ids)).rows).toBe(ids.length), {
        timeout: 30_000,
        interval: 250,
      });
      await t.gateway.spendQueue.flush();
      expect(await countRows(t, ids)).toEqual({ rows: ids.length, distinct: ids.length });
      const report = await admin<Reconcile>(t, 'GET', '/spend/reconcile');
      expect(report).toMatchObject({
        ok: true,
        difference: '0',
        spend_logs: { rows: ids.length + keys.length },
      });
    }, 60_000);
  });
}
