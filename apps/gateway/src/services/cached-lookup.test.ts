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
    async close() {},
  };
};

const lookup = (bus: InvalidationBus) =>
  new CachedLookup<{ id: string }>({
    namespace: 'key',
    schema: z.object({ id: z.string() }),
    load: async (id) => ({ id }),
    memoryTtlMs: 10_000,
    missTtlMs: 1_000,
    bus,
  });

describe('CachedLookup.invalidate', () => {
  it('retries a revocation the bus could not deliver', async () => {
    const bus = failingBus(2);
    await lookup(bus).invalidate('abc');
    expect(bus.sent).toEqual(['key:abc']);
  });

  it('reports a revocation that could not be delivered at all', async () => {
    await expect(lookup(failingBus(10)).invalidate('abc')).rejects.toMatchObject({
      error: { kind: 'service_unavailable' },
    });
  });
});
