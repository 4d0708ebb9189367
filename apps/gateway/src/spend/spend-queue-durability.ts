import type { Redis } from 'ioredis';

/** Whether the Redis spend stream survives a Redis restart and memory pressure, and why not. */
export interface SpendQueueDurability {
  durable: boolean;
  /** What makes it not durable, one sentence each, naming the setting and its fix. */
  problems: string[];
}

/**
 * Reads the Redis settings the spend stream's durability rests on: `appendonly` (without it a
 * restart loses every queued row), `appendfsync` (`no` leaves writes to the kernel for tens of
 * seconds) and `maxmemory-policy` (an `allkeys-*` policy may evict the stream). A Redis that
 * does not allow CONFIG GET (some managed services) is reported as unknown, not durable.
 */
export async function readSpendQueueDurability(redis: Redis): Promise<SpendQueueDurability> {
  const setting = async (name: string) => {
    const reply = (await redis.config('GET', name)) as string[];
    return reply[1];
  };
  const problems: string[] = [];
  try {
    const appendonly = await setting('appendonly');
    const appendfsync = await setting('appendfsync');
    const policy = await setting('maxmemory-policy');
    if (appendonly !== 'yes')
      problems.push(
        `appendonly is "${appendonly}": a Redis restart loses every spend row still queued (set appendonly yes)`,
      );
    else if (appendfsync === 'no')
      problems.push(
        'appendfsync is "no": a Redis crash can lose the spend rows of the last 30 seconds (set appendfsync everysec)',
      );
    if (policy !== undefined && policy !== 'noeviction' && !policy.startsWith('volatile-'))
      problems.push(
        `maxmemory-policy is "${policy}": under memory pressure Redis may evict the spend stream (set noeviction or a volatile-* policy)`,
      );
  } catch (error) {
    problems.push(
      `Redis's settings could not be read (CONFIG GET: ${error instanceof Error ? error.message : String(error)}), so the spend queue's durability is unknown`,
    );
  }
  return { durable: problems.length === 0, problems };
}
