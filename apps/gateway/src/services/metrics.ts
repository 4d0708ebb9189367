import { Gauge, Registry } from 'prom-client';
import type { SpendQueue } from './spend-writer.ts';

/**
 * The gateway's Prometheus registry, built once per process. Metric names follow LiteLLM's
 * (contract §6.1) so existing dashboards keep working.
 */
export function createMetrics(spendQueue: Pick<SpendQueue, 'depths'>): Registry {
  const registry = new Registry();
  // Both depths come from one read per scrape, shared by the two gauges.
  let depths: ReturnType<SpendQueue['depths']> | undefined;
  const readDepths = () => {
    depths ??= spendQueue.depths().finally(() => {
      depths = undefined;
    });
    return depths;
  };
  new Gauge({
    name: 'litellm_in_memory_spend_update_queue_size',
    help: 'Spend rows waiting in this process to be written to the database',
    registers: [registry],
    async collect() {
      this.set((await readDepths()).memory);
    },
  });
  new Gauge({
    name: 'litellm_redis_spend_update_queue_size',
    help: 'Spend rows waiting in the Redis stream to be written to the database (0 without Redis)',
    registers: [registry],
    async collect() {
      const { redis } = await readDepths();
      // While Redis is unreachable the last value read stays.
      if (redis !== null) this.set(redis);
    },
  });
  return registry;
}
