import { Counter, Gauge, type Histogram, type Registry } from 'prom-client';

// Stand-ins for prom-client's counter, gauge and histogram on the per-request path: a request's
// values are kept per combination of its label values (one map lookup), and reach prom-client
// (or the registry) at scrape time, in the shapes prom-client prints and a cluster aggregates.

/**
 * A prom-client counter fed in sums. A request's increments are added up per combination of its
 * label values, one map lookup each (the same key string for every counter of a request), and
 * handed to prom-client when the registry is read (`collect`), which empties the map. Per call,
 * prom-client would build and hash a string of up to 14 labels and check every name, for each of
 * about a dozen counters. The exported values are the same (a zero added still makes a series);
 * they reach prom-client at scrape time.
 */
export class SummedCounter {
  readonly #sums = new Map<string, { labels: Record<string, string>; value: number }>();

  constructor(config: { name: string; help: string; labelNames: readonly string[]; registers: Registry[] }) {
    const sums = this.#sums;
    new Counter({
      ...config,
      collect() {
        // prom-client keeps each series from here; the map holds only what came since.
        for (const sum of sums.values()) this.inc(sum.labels, sum.value);
        sums.clear();
      },
    });
  }

  /** Adds `value` to the series of `combination`; `labels()` is asked once per scrape interval. */
  add(combination: string, labels: () => Record<string, string>, value = 1): void {
    const sum = this.#sums.get(combination);
    if (sum) sum.value += value;
    else this.#sums.set(combination, { labels: labels(), value });
  }
}

/** Orders the values set on every LatestGauge, so the last one set wins at scrape time. */
let setOrder = 0;

/**
 * A prom-client gauge set the same way: each request's value is kept per combination of its
 * label values, with the order it was set in, and at scrape time (`collect`) the values set
 * since the last one reach prom-client in that order, so each series shows the latest; the map
 * is emptied then. Across the workers of a cluster the smallest value wins (see the constructor).
 */
export class LatestGauge {
  readonly #latest = new Map<string, { labels: Record<string, string>; value: number; order: number }>();

  constructor(config: { name: string; help: string; labelNames: readonly string[]; registers: Registry[] }) {
    const latest = this.#latest;
    new Gauge({
      ...config,
      // Every such gauge says what is left (or a budget's size): across the workers of a
      // cluster the smallest any of them saw, the most recent while a window or period runs.
      aggregator: 'min',
      collect() {
        // In the order they were set; prom-client keeps each series from here.
        for (const entry of [...latest.values()].sort((a, b) => a.order - b.order))
          this.set(entry.labels, entry.value);
        latest.clear();
      },
    });
  }

  /** Sets the series of `combination`; `labels()` is asked once per scrape interval. */
  set(combination: string, labels: () => Record<string, string>, value: number): void {
    setOrder += 1;
    const entry = this.#latest.get(combination);
    if (entry) {
      entry.value = value;
      entry.order = setOrder;
    } else this.#latest.set(combination, { labels: labels(), value, order: setOrder });
  }
}

/** One series of a SummedHistogram: its labels, observations per bucket (not cumulative), sum and count. */
interface HistogramSeries {
  labels: Record<string, string>;
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * A histogram kept here and read by the registry like prom-client's own (the same lines, `le`
 * first). prom-client's `observe` builds, checks and hashes a label string on every call, for
 * each of five histograms a request feeds; here an observation is one map lookup by the
 * request's combination of label values (see SummedCounter) and a bucket search. That index is
 * emptied at each scrape; the series themselves are kept, as a histogram's must be.
 */
export class SummedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #names: readonly string[];
  readonly #bounds: readonly number[];
  /** By this histogram's own label values. */
  #series = new Map<string, HistogramSeries>();
  /** By request combination, since the last scrape. */
  readonly #byCombination = new Map<string, HistogramSeries>();

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly string[];
    buckets: readonly number[];
    registers: Registry[];
  }) {
    this.name = config.name;
    this.help = config.help;
    this.#names = config.labelNames;
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
    // The registry reads any metric through `get()`; prom-client's types name only its own.
    for (const registry of config.registers) registry.registerMetric(this as unknown as Histogram);
  }

  /** Counts `value` in the series of `combination`; `labels()` is asked once per scrape interval. */
  observe(combination: string, labels: () => Record<string, string>, value: number): void {
    // prom-client threw on these; a request's metrics must not fail it.
    if (!Number.isFinite(value)) return;
    let series = this.#byCombination.get(combination);
    if (!series) {
      const own = labels();
      const key = JSON.stringify(this.#names.map((name) => own[name] ?? ''));
      series = this.#series.get(key);
      if (!series) {
        series = { labels: own, buckets: new Array<number>(this.#bounds.length).fill(0), sum: 0, count: 0 };
        this.#series.set(key, series);
      }
      this.#byCombination.set(combination, series);
    }
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i += 1;
    // Above the last bound: only in `+Inf` (the count).
    if (i < bounds.length) series.buckets[i]! += 1;
    series.sum += value;
    series.count += 1;
  }

  /** What the registry prints: per series, cumulative buckets, `+Inf`, sum and count. */
  async get() {
    this.#byCombination.clear();
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (const [i, le] of this.#bounds.entries()) {
        cumulative += series.buckets[i]!;
        values.push({
          labels: { le, ...series.labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push(
        { labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: `${this.name}_bucket` },
        { labels: series.labels, value: series.sum, metricName: `${this.name}_sum` },
        { labels: series.labels, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#series = new Map();
    this.#byCombination.clear();
  }
}
