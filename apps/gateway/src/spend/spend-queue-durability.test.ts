import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { readSpendQueueDurability } from './spend-queue-durability.ts';

/** A Redis stand-in answering CONFIG GET from a table (or refusing it, as managed services do). */
const redisWith = (settings: Record<string, string> | 'refused') =>
  ({
    async config(_get: string, name: string) {
      if (settings === 'refused') throw new Error("ERR unknown command 'CONFIG'");
      return [name, settings[name]];
    },
  }) as unknown as Redis;

describe('readSpendQueueDurability', () => {
  it('is durable with an append-only file and a policy that never evicts the stream', async () => {
    for (const policy of ['noeviction', 'volatile-lru', 'volatile-ttl']) {
      expect(
        await readSpendQueueDurability(
          redisWith({ appendonly: 'yes', appendfsync: 'everysec', 'maxmemory-policy': policy }),
        ),
      ).toEqual({ durable: true, problems: [] });
    }
  });

  it('names each setting that can lose queued rows', async () => {
    const found = await readSpendQueueDurability(
      redisWith({ appendonly: 'no', appendfsync: 'everysec', 'maxmemory-policy': 'allkeys-lru' }),
    );
    expect(found.durable).toBe(false);
    expect(found.problems).toEqual([
      expect.stringContaining('appendonly is "no"'),
      expect.stringContaining('maxmemory-policy is "allkeys-lru"'),
    ]);
    const lazy = await readSpendQueueDurability(
      redisWith({ appendonly: 'yes', appendfsync: 'no', 'maxmemory-policy': 'noeviction' }),
    );
    expect(lazy.problems).toEqual([expect.stringContaining('appendfsync is "no"')]);
  });

  it('reports a Redis whose settings cannot be read as not durable', async () => {
    const found = await readSpendQueueDurability(redisWith('refused'));
    expect(found).toEqual({ durable: false, problems: [expect.stringContaining('could not be read')] });
  });
});
