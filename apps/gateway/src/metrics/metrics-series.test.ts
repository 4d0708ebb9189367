import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS } from './gateway-metrics.ts';
import { LatestGauge, SummedCounter, SummedHistogram } from './summed-metrics.ts';

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

  it('a histogram prints what prom-client prints for the same observations, across scrapes', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const names = ['model', 'key'];
    const histogram = new SummedHistogram({
      name: 'latency',
      help: 'h',
      labelNames: names,
      buckets: LATENCY_BUCKETS,
      registers: [ours],
    });
    const reference = new Histogram({
      name: 'latency',
      help: 'h',
      labelNames: names,
      buckets: LATENCY_BUCKETS,
      registers: [theirs],
    });
    // Three request combinations, two of which share the histogram's labels (they differ in a
    // label this histogram does not have, say the status). Values on bounds, between them,
    // above the last, zero; and ones prom-client refuses, which must not count.
    const calls: [string, Record<string, string>, number][] = [
      ['["m1","k1","200"]', { model: 'm1', key: 'k1' }, 0.005],
      ['["m1","k1","429"]', { model: 'm1', key: 'k1' }, 0.0051],
      ['["m2","k\\"2","200"]', { model: 'm2', key: 'k"2' }, 0],
      ['["m1","k1","200"]', { model: 'm1', key: 'k1' }, 301],
      ['["m2","k\\"2","200"]', { model: 'm2', key: 'k"2' }, 1.25],
    ];
    const observeAll = () => {
      for (const [combination, labels, value] of calls) {
        histogram.observe(combination, () => labels, value);
        reference.observe(labels, value);
      }
    };
    observeAll();
    histogram.observe('["m1","k1","200"]', () => ({ model: 'm1', key: 'k1' }), Number.NaN);
    histogram.observe('["m1","k1","200"]', () => ({ model: 'm1', key: 'k1' }), Number.POSITIVE_INFINITY);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // As objects too (prom-client adds empty exemplars).
    const json = async (registry: Registry) =>
      (await registry.getMetricsAsJSON()).map((metric) => ({
        ...metric,
        values: metric.values.map((v) => ({
          labels: v.labels,
          value: v.value,
          metricName: (v as { metricName?: string }).metricName,
        })),
      }));
    expect(await json(ours)).toEqual(await json(theirs));
    // After a scrape the same combinations land in the same series.
    observeAll();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect((await ours.metrics()).match(/^latency_count\{.*$/gm)).toEqual([
      'latency_count{model="m1",key="k1"} 6',
      'latency_count{model="m2",key="k\\"2"} 4',
    ]);
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
