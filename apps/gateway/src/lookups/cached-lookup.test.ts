import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CachedLookup } from './cached-lookup.ts';
import type { InvalidationBus } from './invalidation-bus.ts';

const failingBus = (failures: number): InvalidationBus & { sent: string[] } => {
  let left = failures;
  const sent: string[] = [];
  return {
    sent,
    async publish(entry) {
      if (left-- > 0) throw new Error('redis down');
      sent.push(entry);
    },
    subscribe() {},
    onResync() {},
    async close() {},
  };
};

/** A Redis stand-in holding strings; `down` makes every command fail as a cut connection does. */
const fakeRedis = () => {
  const store = new Map<string, string>();
  const state = { down: false, gets: 0 };
  const fail = () => Promise.reject(new Error('Connection is closed.'));
  const redis = {
    async get(k: string) {
      if (state.down) return fail();
      state.gets++;
      return store.get(k) ?? null;
    },
    async set(k: string, v: string) {
      if (state.down) return fail();
      store.set(k, v);
      return 'OK';
    },
    async del(...ks: string[]) {
      if (state.down) return fail();
      return ks.filter((k) => store.delete(k)).length;
    },
  };
  return { store, state, redis: redis as unknown as Redis };
};

const lookup = (bus: InvalidationBus, load = async (id: string) => ({ id, v: 1 }), redis?: Redis) =>
  new CachedLookup<{ id: string; v: number }>({
    namespace: 'key',
    schema: z.object({ id: z.string(), v: z.number() }),
    load,
    memoryTtlMs: 10_000,
    missTtlMs: 1_000,
    bus,
    ...(redis ? { shared: { redis, ttlSeconds: 60, onError: () => {} } } : {}),
  });

describe('CachedLookup.invalidate', () => {
  it('retries a revocation the bus could not deliver', async () => {
    const bus = failingBus(2);
    expect(await lookup(bus).invalidate('abc')).toBe(true);
    expect(bus.sent).toEqual(['key:abc']);
  });

  it('answers false, never throws, when the bus could not deliver it at all', async () => {
    expect(await lookup(failingBus(10)).invalidate('abc')).toBe(false);
  });

  it('reads an id from the database, not a possibly stale Redis copy, until its Redis copy is dropped', async () => {
    const { store, state, redis } = fakeRedis();
    let version = 1;
    const cache = lookup(failingBus(0), async (id) => ({ id, v: version }), redis);
    expect(await cache.get('abc')).toEqual({ id: 'abc', v: 1 });
    await new Promise((r) => setTimeout(r, 10));
    expect(store.get('key:abc')).toBe('{"id":"abc","v":1}');

    // The change happens while Redis is away: the Redis copy cannot be dropped.
    version = 2;
    state.down = true;
    expect(await cache.invalidate('abc')).toBe(false);
    state.down = false;
    // Redis is back with the old copy in it; this instance must not believe it.
    const getsBefore = state.gets;
    expect(await cache.get('abc')).toEqual({ id: 'abc', v: 2 });
    expect(state.gets).toBe(getsBefore);
    expect(store.get('key:abc')).toBe('{"id":"abc","v":1}');

    // The next pass of the invalidation log drops it; Redis is trusted again.
    await cache.retryUnconfirmed();
    expect(store.has('key:abc')).toBe(false);
    cache.evictLocal('abc');
    expect(await cache.get('abc')).toEqual({ id: 'abc', v: 2 });
    expect(state.gets).toBe(getsBefore + 1);
  });

  it('applies an entry read from the log: drops it here and in Redis', async () => {
    const { store, redis } = fakeRedis();
    let version = 1;
    const cache = lookup(failingBus(0), async (id) => ({ id, v: version }), redis);
    await cache.get('abc');
    await new Promise((r) => setTimeout(r, 10));
    version = 2;
    await cache.applyLogged(['abc']);
    expect(store.has('key:abc')).toBe(false);
    expect(await cache.get('abc')).toEqual({ id: 'abc', v: 2 });
  });
});
