import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../src/services/virtual-key.ts';
import { defineGatewaySuite } from './support/gateway-suite.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

// Production shape: Postgres through a pg pool and Redis as the shared key cache.
defineGatewaySuite('postgres+redis');

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
