import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LatestGauge, SummedCounter } from './metrics.ts';

const series = async (registry: Registry, name: string) =>
  (await registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]);

describe('metrics fed per label combination', () => {
  it('a gauge shows the value set last, whichever combinations set it', async () => {
    const registry = new Registry();
    const gauge = new LatestGauge({ name: 'left', help: 'h', labelNames: ['key'], registers: [registry] });
    const key = () => ({ key: 'k1' });
    // Two combinations of a request's values (say a 200 and a 429 of one key) share the series.
    gauge.set('["k1","200"]', key, 5);
    gauge.set('["k1","429"]', key, 4);
    gauge.set('["k1","429"]', key, 3);
    gauge.set('["k1","200"]', key, 2);
    expect(await series(registry, 'left')).toEqual([[{ key: 'k1' }, 2]]);
    gauge.set('["k1","200"]', key, 1);
    expect(await series(registry, 'left')).toEqual([[{ key: 'k1' }, 1]]);
    // Nothing set since the last scrape: the value stays.
    expect(await series(registry, 'left')).toEqual([[{ key: 'k1' }, 1]]);
  });

  it('a counter counts every add exactly once across scrapes', async () => {
    const registry = new Registry();
    const counter = new SummedCounter({
      name: 'calls',
      help: 'h',
      labelNames: ['key'],
      registers: [registry],
    });
    counter.add('a', () => ({ key: 'a' }));
    counter.add('a', () => ({ key: 'a' }), 2);
    counter.add('b', () => ({ key: 'b' }));
    expect(await series(registry, 'calls')).toEqual([
      [{ key: 'a' }, 3],
      [{ key: 'b' }, 1],
    ]);
    counter.add('a', () => ({ key: 'a' }));
    expect(await series(registry, 'calls')).toEqual([
      [{ key: 'a' }, 4],
      [{ key: 'b' }, 1],
    ]);
    // A zero (a call that cost nothing) still makes its series, as prom-client's inc(labels, 0).
    counter.add('c', () => ({ key: 'c' }), 0);
    expect(await series(registry, 'calls')).toEqual([
      [{ key: 'a' }, 4],
      [{ key: 'b' }, 1],
      [{ key: 'c' }, 0],
    ]);
  });
});
