import type { Exposition } from './prometheus-text.ts';

/** A metric selector in a PromQL expression: `name{label="value", ...}`. */
export interface Selector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

const SELECTOR = /\b((?:litellm|gateway)_[a-zA-Z0-9_:]*)\s*(?:\{([^}]*)\})?/g;
const MATCHER = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;
const GROUPING = /\b(?:by|without)\s*\(([^)]*)\)/g;

/** The gateway's metric selectors an expression reads (enough PromQL for dashboards' queries). */
export function selectorsOf(expr: string): Selector[] {
  return [...expr.matchAll(SELECTOR)].map(([, metric = '', body = '']) => ({
    metric,
    matchers: [...body.matchAll(MATCHER)].map(([, label = '', op = '', value = '']) => ({
      label,
      op,
      value,
    })),
  }));
}

/** Labels an expression groups by. */
export function groupingLabelsOf(expr: string): string[] {
  return [...expr.matchAll(GROUPING)].flatMap(([, list = '']) =>
    list
      .split(',')
      .map((label) => label.trim())
      .filter(Boolean),
  );
}

function matches(value: string, op: string, pattern: string): boolean {
  const regex = () => new RegExp(`^(?:${pattern})$`);
  if (op === '=') return value === pattern;
  if (op === '!=') return value !== pattern;
  if (op === '=~') return regex().test(value);
  return !regex().test(value);
}

/**
 * Why an expression would return no series from this scrape (a selector with no matching
 * sample, or a grouping label none of its metrics carries), or undefined when it would.
 */
export function whyNoSeries(exposition: Exposition, expr: string): string | undefined {
  const selectors = selectorsOf(expr);
  if (selectors.length === 0) return 'no metric in the expression';
  const labelsSeen = new Set<string>();
  for (const { metric, matchers } of selectors) {
    const samples = exposition.samples.filter(
      (s) => s.name === metric && matchers.every((m) => matches(s.labels[m.label] ?? '', m.op, m.value)),
    );
    if (samples.length === 0) return `${metric}${matchers.length ? ' with its matchers' : ''} has no samples`;
    for (const sample of samples) for (const label of Object.keys(sample.labels)) labelsSeen.add(label);
  }
  const missing = groupingLabelsOf(expr).filter((label) => !labelsSeen.has(label));
  return missing.length > 0 ? `grouped by ${missing.join(', ')}, which its metrics lack` : undefined;
}
