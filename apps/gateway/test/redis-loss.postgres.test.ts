import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UrlProxy } from './support/tcp-proxy.ts';
import { startBehindDatabaseProxy, startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * A Redis that keeps nothing on disk loses the spend rows still queued in it when it restarts.
 * The gateway cannot prevent that (it warns at start); it must make the loss visible:
 * /spend/reconcile finds the calls that never reached the spend log as holes in the process's
 * row numbering.
 */
describe('spend rows lost with a Redis restarted without persistence', () => {
  let owner: TestGateway;
  let t: TestGateway;
  let toPostgres: UrlProxy;
  let redis: { url: string; keyPrefix: string };

  beforeAll(async () => {
    // The first instance makes and migrates the database, then stops (its database stays), so
    // the one under test is the only reader of the spend stream.
    owner = await startTestGateway('postgres+redis');
    await owner.gateway.stop();
    redis = owner.redis!;
    ({ t, toPostgres } = await startBehindDatabaseProxy(owner));
  });
  afterAll(async () => {
    toPostgres?.restore();
    await t?.close();
    await owner?.close();
    await toPostgres?.close();
  });

  const call = async (key: string, i: number) => {
    const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `call ${i}` }] }),
    });
    await response.text();
    expect(response.status).toBe(200);
    return response.headers.get('x-litellm-call-id')!;
  };

  it('reconciliation reports the calls whose rows were lost', async () => {
    const key = await t.createKey();
    for (let i = 0; i < 3; i++) await call(key, i);
    await t.gateway.spendQueue.flush(5_000);
    // Postgres away: rows wait in the Redis stream.
    toPostgres.cut();
    const queued: string[] = [];
    for (let i = 3; i < 8; i++) queued.push(await call(key, i));
    const direct = new Redis(redis.url);
    try {
      await vi.waitFor(async () =>
        expect(await direct.xlen(`${redis.keyPrefix}spend:rows`)).toBeGreaterThan(0),
      );
      // What a restart of a Redis without persistence does to the queue.
      await direct.del(`${redis.keyPrefix}spend:rows`);
    } finally {
      direct.disconnect();
    }
    toPostgres.restore();
    for (let i = 8; i < 11; i++) await call(key, i);
    const reconcile = await vi.waitFor(
      async () => {
        const response = await fetch(`${t.gateway.url}/spend/reconcile`, {
          headers: { authorization: `Bearer ${t.masterKey}` },
        });
        const body = (await response.json()) as {
          ok: boolean;
          sequences: { missing: number; gaps: { missing: number }[] };
        };
        // The calls made after the loss are written, so the hole lies between rows.
        expect(body.sequences.missing).toBeGreaterThan(0);
        return body;
      },
      { timeout: 15_000, interval: 250 },
    );
    const rows = await t.query<{ n: number }>(
      'select count(*)::int as n from "LiteLLM_SpendLogs" where request_id = any($1::text[])',
      [queued],
    );
    console.log(`rows lost with the stream: ${reconcile.sequences.missing} of ${queued.length} queued`);
    // Every queued row that is not in the log is counted as missing, no more.
    expect(reconcile.sequences.missing).toBe(queued.length - rows[0]!.n);
    expect(reconcile.ok).toBe(false);
  });
});
