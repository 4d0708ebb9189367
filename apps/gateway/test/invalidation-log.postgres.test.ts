import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UrlProxy } from './support/tcp-proxy.ts';
import {
  chatStatus,
  startBehindDatabaseProxy,
  startTestGateway,
  type TestGateway,
} from './support/test-gateway.ts';

/**
 * The invalidation log reaches instances the Redis channel missed; it must not drop again what
 * the channel already delivered. If it did, every key made or changed would leave the caches a
 * second or so later, and a Postgres outage just then would leave those keys unverifiable.
 */
describe('the invalidation log after the channel delivered', () => {
  let owner: TestGateway;
  let t: TestGateway;
  let toPostgres: UrlProxy;

  beforeAll(async () => {
    owner = await startTestGateway('postgres+redis');
    ({ t, toPostgres } = await startBehindDatabaseProxy(owner));
  });
  afterAll(async () => {
    toPostgres?.restore();
    await t?.close();
    await owner?.close();
    await toPostgres?.close();
  });

  it('keeps a key made on another instance cached through a Postgres outage that follows', async () => {
    const key = await owner.createKey();
    // A change is dropped everywhere a second time 300 ms after it (against a stale copy put
    // back meanwhile); past that, verified once on t: cached there (memory) and in Redis.
    await new Promise((r) => setTimeout(r, 500));
    expect(await chatStatus(t, key)).toBe(200);
    // Past the log's polls that read the key's creation (every second).
    await new Promise((r) => setTimeout(r, 2_500));
    toPostgres.cut();
    try {
      expect(await chatStatus(t, key)).toBe(200);
    } finally {
      toPostgres.restore();
    }
  });
});
