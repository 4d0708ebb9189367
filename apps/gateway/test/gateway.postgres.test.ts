import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { defineGatewaySuite } from './support/gateway-suite.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

// Production shape: Postgres through a pg pool and Redis as the shared key cache.
defineGatewaySuite('postgres+redis');

describe('spend queue durability', () => {
  it("warns loudly and reports 0 unless Redis keeps the stream on disk, as Redis's settings say", async () => {
    const logLines: string[] = [];
    const t = await startTestGateway('postgres+redis', { logLines });
    try {
      const [, appendonly] = (await t.gateway.redis!.config('GET', 'appendonly')) as string[];
      const [, policy] = (await t.gateway.redis!.config('GET', 'maxmemory-policy')) as string[];
      const durable = appendonly === 'yes' && (policy === 'noeviction' || policy!.startsWith('volatile-'));
      const metrics = await fetch(`${t.gateway.url}/metrics`).then((r) => r.text());
      expect(metrics).toContain(`litellm_spend_queue_durable{queue="redis"} ${durable ? 1 : 0}`);
      const warned = logLines.filter((line) => line.includes('SPEND QUEUE NOT DURABLE'));
      if (durable) expect(warned).toEqual([]);
      else if (appendonly !== 'yes') expect(warned.join()).toContain('appendonly is \\"no\\"');
      else expect(warned.join()).toContain('maxmemory-policy');
    } finally {
      await t.close();
    }
  });
});

describe('key cache on Redis', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway('postgres+redis');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('caches a verified key in Redis under its hash, never the raw key', async () => {
    const generated = await fetch(`${t.gateway.url}/key/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.masterKey}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const { key } = (await generated.json()) as { key: string };
    const models = await fetch(`${t.gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    const redis = t.gateway.redis!;
    const cached = await redis.get(`key:${hashKey(key)}`);
    expect(cached && JSON.parse(cached)).toMatchObject({ tokenHash: hashKey(key) });
    // Nothing under this gateway's prefix names or holds the raw key.
    const prefix = t.redis!.keyPrefix;
    const names = (await redis.call('keys', `${prefix}*`)) as string[];
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect(name).not.toContain(key);
      const value = (await redis.call('get', name)) as string | null;
      expect(value ?? '').not.toContain(key);
    }
  });
});
