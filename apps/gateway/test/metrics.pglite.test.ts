import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { LITELLM_METRICS } from './fixtures/litellm-metrics.ts';
import { type Exposition, parseExposition, sumOf } from './support/prometheus-text.ts';
import { whyNoSeries } from './support/promql.ts';
import { adminPost, startTestGateway, type TestGateway } from './support/test-gateway.ts';

async function scrape(t: TestGateway, key?: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${t.gateway.url}/metrics`, {
    ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}),
  });
  return { status: response.status, text: await response.text() };
}

/** The label names of a family's samples (histograms without `le`), one set per sample. */
function labelSetsOf(exposition: Exposition, family: string, type: string): string[][] {
  const names = type === 'histogram' ? [`${family}_bucket`, `${family}_sum`, `${family}_count`] : [family];
  return exposition.samples
    .filter((s) => names.includes(s.name))
    .map((s) =>
      Object.keys(s.labels)
        .filter((l) => l !== 'le')
        .sort(),
    );
}

/**
 * `/metrics` after scripted traffic: LiteLLM's names, types and labels (contract §6.1), and
 * counters equal to what the spend log holds.
 */
describe('Prometheus metrics', () => {
  let t: TestGateway;
  let teamKey: string;
  let soloKey: string;
  let text: string;
  let exposition: Exposition;
  let rows: {
    spend: string | null;
    prompt_tokens: number | null;
    completion_tokens: number | null;
    cache_read_input_tokens: number | null;
    cache_creation_input_tokens: number | null;
    status: string;
  }[];

  beforeAll(async () => {
    t = await startTestGateway('pglite');
    await adminPost(t, '/team/new', {
      team_id: 'metrics-team',
      team_alias: 'Metrics Team',
      max_budget: 50,
      budget_duration: '30d',
    });
    await adminPost(t, '/user/new', {
      user_id: 'metrics-owner',
      max_budget: 40,
      budget_duration: '7d',
      auto_create_key: false,
    });
    teamKey = await t.createKey({
      team_id: 'metrics-team',
      key_alias: 'metrics-key',
      max_budget: 10,
      budget_duration: '1d',
      metadata: { model_rpm_limit: { 'gpt-4o-mini': 100 }, model_tpm_limit: { 'gpt-4o-mini': 100_000 } },
    });
    soloKey = await t.createKey({ user_id: 'metrics-owner', key_alias: 'solo-key' });

    const openai = new OpenAI({ apiKey: teamKey, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'Hello [mock:cached_tokens=4]' }];
    await openai.chat.completions.create({ model: 'gpt-4o-mini', user: 'metrics-eu', messages });
    await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      ...({ litellm_metadata: { tags: ['metrics-tag'] } } as object),
    });
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Stream [mock:reply_tokens=5]' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) {
      // drain
    }
    await expect(
      openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: '[mock:error=429]' }],
      }),
    ).rejects.toMatchObject({ status: 429 });
    const anthropic = new Anthropic({ apiKey: soloKey, baseURL: t.gateway.url, maxRetries: 0 });
    await anthropic.messages.create({
      model: 'claude-sonnet',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'Cache me [mock:cached_tokens=30] [mock:cache_write_tokens=20]' }],
    });
    // Refused before any model call: unknown key.
    const refused = await fetch(`${t.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-not-a-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
    });
    expect(refused.status).toBe(401);

    await t.gateway.spendQueue.flush();
    rows = await t.query(
      'select spend, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens, status from "LiteLLM_SpendLogs"',
    );
    const scraped = await scrape(t);
    expect(scraped.status).toBe(200);
    text = scraped.text;
    exposition = parseExposition(text);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('exports every metric of the contract’s table under its name, type and label set', () => {
    const missing: string[] = [];
    for (const [name, { type, labels }] of Object.entries(LITELLM_METRICS)) {
      // prom-client declares a counter's TYPE under its full name (`..._total`).
      if (exposition.types.get(name) !== type) {
        missing.push(`${name} (${exposition.types.get(name) ?? 'absent'}, expected ${type})`);
        continue;
      }
      const sets = labelSetsOf(exposition, name, type);
      expect(sets.length, `${name} has samples after the traffic`).toBeGreaterThan(0);
      for (const set of sets) expect(set, name).toEqual([...labels].sort());
    }
    expect(missing).toEqual([]);
  });

  it('counts what the spend log holds: spend, tokens and cache tokens, to the nano-dollar', () => {
    const total = (pick: (row: (typeof rows)[number]) => number | string | null) =>
      rows.reduce((sum, row) => sum + Number(pick(row) ?? 0), 0);
    expect(rows.length).toBe(5);
    expect(sumOf(exposition, 'litellm_spend_metric_total')).toBeCloseTo(
      total((r) => r.spend),
      9,
    );
    expect(total((r) => r.spend)).toBeGreaterThan(0);
    expect(sumOf(exposition, 'litellm_input_tokens_metric_total')).toBe(total((r) => r.prompt_tokens));
    expect(sumOf(exposition, 'litellm_output_tokens_metric_total')).toBe(total((r) => r.completion_tokens));
    expect(sumOf(exposition, 'litellm_total_tokens_metric_total')).toBe(
      total((r) => r.prompt_tokens) + total((r) => r.completion_tokens),
    );
    expect(sumOf(exposition, 'gateway_cache_read_input_tokens_total')).toBe(
      total((r) => r.cache_read_input_tokens),
    );
    expect(sumOf(exposition, 'gateway_cache_read_input_tokens_total')).toBe(4 + 4 + 30);
    expect(sumOf(exposition, 'gateway_cache_creation_input_tokens_total')).toBe(
      total((r) => r.cache_creation_input_tokens),
    );
  });

  it('reconciles: the spend counter of this process equals the rows it wrote', async () => {
    const response = await fetch(`${t.gateway.url}/spend/reconcile`, {
      headers: { authorization: `Bearer ${t.masterKey}` },
    });
    const report = (await response.json()) as {
      ok: boolean;
      prometheus: {
        counted: { rows: number; spend: string };
        written: { rows: number; spend: string };
        difference: string;
      };
    };
    expect(report.prometheus.counted).toEqual(report.prometheus.written);
    expect(report.prometheus.written.rows).toBe(5);
    expect(report.prometheus.difference).toBe('0');
    expect(report.ok).toBe(true);
  });

  it('counts requests by status and failures by class, per key and team', () => {
    const teamHash = hashKey(teamKey);
    const byKey = {
      hashed_api_key: teamHash,
      api_key_alias: 'metrics-key',
      team: 'metrics-team',
      team_alias: 'Metrics Team',
    };
    expect(
      sumOf(exposition, 'litellm_proxy_total_requests_metric_total', { ...byKey, status_code: '200' }),
    ).toBe(3);
    expect(
      sumOf(exposition, 'litellm_proxy_total_requests_metric_total', { ...byKey, status_code: '429' }),
    ).toBe(1);
    expect(
      sumOf(exposition, 'litellm_proxy_failed_requests_metric_total', {
        ...byKey,
        exception_class: 'Openai.RateLimitError',
        exception_status: '429',
      }),
    ).toBe(1);
    expect(
      sumOf(exposition, 'litellm_proxy_failed_requests_metric_total', {
        exception_class: 'ProxyException',
        exception_status: '401',
        route: '/v1/chat/completions',
      }),
    ).toBe(1);
    expect(
      sumOf(exposition, 'litellm_deployment_success_responses_total', { model_id: 'test-gpt-4o-mini' }),
    ).toBe(3);
    expect(
      sumOf(exposition, 'litellm_deployment_failure_responses_total', { model_id: 'test-gpt-4o-mini' }),
    ).toBe(1);
    // The end user label is on (the test gateway sets the LiteLLM setting).
    expect(sumOf(exposition, 'litellm_requests_metric_total', { end_user: 'metrics-eu' })).toBe(1);
    expect(sumOf(exposition, 'litellm_llm_api_time_to_first_token_metric_count')).toBe(1);
    expect(sumOf(exposition, 'litellm_request_total_latency_metric_count')).toBe(6);
  });

  it('reports budgets and limits left, and never a raw key', () => {
    const key = { hashed_api_key: hashKey(teamKey), api_key_alias: 'metrics-key' };
    expect(sumOf(exposition, 'litellm_api_key_max_budget_metric', key)).toBe(10);
    const remaining = sumOf(exposition, 'litellm_remaining_api_key_budget_metric', key);
    expect(remaining).toBeLessThan(10);
    expect(remaining).toBeGreaterThan(9.9);
    const hours = sumOf(exposition, 'litellm_api_key_budget_remaining_hours_metric', key);
    expect(hours).toBeGreaterThan(23);
    expect(hours).toBeLessThanOrEqual(24);
    expect(sumOf(exposition, 'litellm_team_max_budget_metric', { team: 'metrics-team' })).toBe(50);
    expect(sumOf(exposition, 'litellm_user_max_budget_metric', { user: 'metrics-owner' })).toBe(40);
    expect(
      sumOf(exposition, 'litellm_remaining_api_key_requests_for_model', { ...key, model: 'gpt-4o-mini' }),
    ).toBeGreaterThan(90);
    expect(sumOf(exposition, 'litellm_remaining_requests_metric', { model_group: 'gpt-4o-mini' })).toBe(9999);
    for (const raw of [teamKey, soloKey, t.masterKey, 'sk-not-a-key']) expect(text).not.toContain(raw);
  });

  it('also exports the older names LiteLLM’s dashboards query, tags, and what cache reads saved', () => {
    expect(sumOf(exposition, 'litellm_total_tokens_total')).toBe(
      sumOf(exposition, 'litellm_total_tokens_metric_total'),
    );
    expect(sumOf(exposition, 'litellm_remaining_requests', { model_group: 'gpt-4o-mini' })).toBe(9999);
    expect(sumOf(exposition, 'litellm_self_latency_count', { self: 'self' })).toBe(6);
    expect(sumOf(exposition, 'gateway_tag_requests_total', { tag: 'metrics-tag' })).toBe(1);
    const tagged = sumOf(exposition, 'gateway_tag_spend_usd_total', { tag: 'metrics-tag' });
    expect(tagged).toBeGreaterThan(0);
    expect(tagged).toBeLessThan(sumOf(exposition, 'litellm_spend_metric_total'));
    // Cache reads cost less than input: each saved (input - cache read price) per token.
    expect(sumOf(exposition, 'gateway_cache_read_savings_usd_total')).toBeGreaterThan(0);
  });

  it('keeps counting across scrapes: each call counted once, whenever it is scraped', async () => {
    const byKey = { hashed_api_key: hashKey(teamKey), status_code: '200' };
    const before = parseExposition((await scrape(t)).text);
    const counted = sumOf(before, 'litellm_proxy_total_requests_metric_total', byKey);
    expect(counted).toBe(sumOf(exposition, 'litellm_proxy_total_requests_metric_total', byKey));
    const openai = new OpenAI({ apiKey: teamKey, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'once more' }],
    });
    const after = parseExposition((await scrape(t)).text);
    expect(sumOf(after, 'litellm_proxy_total_requests_metric_total', byKey)).toBe(counted + 1);
    expect(sumOf(after, 'litellm_output_tokens_metric_total', { hashed_api_key: byKey.hashed_api_key })).toBe(
      sumOf(before, 'litellm_output_tokens_metric_total', { hashed_api_key: byKey.hashed_api_key }) +
        answer.usage!.completion_tokens,
    );
  });
});

/** The queries of LiteLLM's published Grafana dashboards (contract §6.2). */
const LITELLM_DASHBOARD_QUERIES = [
  'sum(rate(litellm_proxy_total_requests_metric_total[2m]))',
  'sum(rate(litellm_proxy_failed_requests_metric_total[2m])) by (exception_class)',
  'sum(rate(litellm_request_total_latency_metric_sum[2m])) / sum(rate(litellm_request_total_latency_metric_count[2m]))',
  'histogram_quantile(0.5, sum(rate(litellm_request_total_latency_metric_bucket[2m])) by (le))',
  'sum(rate(litellm_proxy_total_requests_metric_total[2m])) by (api_key_alias)',
  'sum(rate(litellm_proxy_total_requests_metric_total[2m])) by (team_alias)',
  'topk(5, sort(litellm_remaining_requests))',
  'topk(5, sort(litellm_remaining_tokens))',
  'sum(increase(litellm_spend_metric_total[30d])) by (hashed_api_key)',
  'sum(increase(litellm_spend_metric_total[30d])) by (model)',
  'sum by (model) (increase(litellm_requests_metric_total[5m]))',
  'sum(increase(litellm_llm_api_failed_requests_metric_total[1h]))',
  'sum(increase(litellm_total_tokens_total[5m])) by (model)',
  'histogram_quantile(0.99, sum(rate(litellm_self_latency_bucket{self="self"}[1m])) by (le))',
];

describe('Grafana dashboards against a live /metrics', () => {
  let t: TestGateway;
  let exposition: Exposition;
  beforeAll(async () => {
    t = await startTestGateway('pglite');
    await adminPost(t, '/team/new', { team_id: 'dash-team', team_alias: 'Dash', max_budget: 5 });
    await adminPost(t, '/user/new', { user_id: 'dash-owner', max_budget: 5, auto_create_key: false });
    const key = await t.createKey({
      team_id: 'dash-team',
      key_alias: 'dash-key',
      max_budget: 5,
      tags: ['dash-tag'],
    });
    const ownKey = await t.createKey({ user_id: 'dash-owner', key_alias: 'dash-own' });
    const openai = new OpenAI({ apiKey: key, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
    await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      user: 'dash-eu',
      messages: [{ role: 'user', content: 'Hi [mock:cached_tokens=4]' }],
    });
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) {
      // drain
    }
    await expect(
      openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: '[mock:error=500]' }],
      }),
    ).rejects.toMatchObject({ status: 500 });
    const anthropic = new Anthropic({ apiKey: ownKey, baseURL: t.gateway.url, maxRetries: 0 });
    await anthropic.messages.create({
      model: 'claude-sonnet',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'Hi [mock:cache_write_tokens=10]' }],
    });
    // The native pass-through, a call retried twice before failing for good, and a path that
    // is no model route (refused without a key).
    const relayed = await fetch(`${t.gateway.url}/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': ownKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 20,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    });
    expect(relayed.status).toBe(200);
    await expect(
      openai.chat.completions.create({
        model: 'gpt-4o-mini-retried',
        messages: [{ role: 'user', content: '[mock:error=503]' }],
      }),
    ).rejects.toMatchObject({ status: 503 });
    expect((await fetch(`${t.gateway.url}/anthropic/v1/some-random-path-1234`)).status).toBe(401);
    exposition = parseExposition((await scrape(t)).text);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('times the pass-through, counts each failed attempt, and labels only model routes', () => {
    const relayed = { route: '/anthropic/v1/messages' };
    expect(
      sumOf(exposition, 'litellm_proxy_total_requests_metric_total', { ...relayed, status_code: '200' }),
    ).toBe(1);
    expect(
      sumOf(exposition, 'litellm_llm_api_latency_metric_count', { model_id: 'anthropic-passthrough' }),
    ).toBe(1);
    expect(
      sumOf(exposition, 'litellm_overhead_latency_metric_count', { model_id: 'anthropic-passthrough' }),
    ).toBe(1);
    const retried = { model_id: 'test-gpt-4o-mini-retried' };
    expect(sumOf(exposition, 'litellm_deployment_total_requests_total', retried)).toBe(3);
    expect(
      sumOf(exposition, 'litellm_deployment_failure_responses_total', {
        ...retried,
        exception_status: '503',
        exception_class: 'Openai.ServiceUnavailableError',
      }),
    ).toBe(3);
    expect(
      sumOf(exposition, 'litellm_proxy_failed_requests_metric_total', {
        requested_model: 'gpt-4o-mini-retried',
      }),
    ).toBe(1);
    expect(exposition.samples.some((s) => s.labels.route?.includes('some-random-path'))).toBe(false);
  });

  it('our dashboard: every query returns series after traffic', () => {
    const dashboard = JSON.parse(
      readFileSync(new URL('../../../deploy/grafana/dashboards/llm-gateway.json', import.meta.url), 'utf8'),
    ) as {
      panels: {
        title: string;
        type: string;
        gridPos: { x: number; y: number; w: number; h: number };
        targets?: { expr: string }[];
      }[];
    };
    const queries = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((target) => ({ panel: p.title, expr: target.expr })),
    );
    expect(queries.length).toBeGreaterThan(20);
    // No two panels overlap.
    const cells = new Set<string>();
    for (const { gridPos, title } of dashboard.panels)
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++)
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
    const empty = queries
      .map(({ panel, expr }) => ({ panel, expr, why: whyNoSeries(exposition, expr) }))
      .filter((q) => q.why !== undefined);
    expect(empty).toEqual([]);
  });

  it('LiteLLM’s published dashboards: every query returns series', () => {
    const empty = LITELLM_DASHBOARD_QUERIES.map((expr) => ({
      expr,
      why: whyNoSeries(exposition, expr),
    })).filter((q) => q.why !== undefined);
    expect(empty).toEqual([]);
  });

  it('the checker itself notices a query that returns nothing', () => {
    expect(whyNoSeries(exposition, 'sum(rate(litellm_no_such_metric_total[1m]))')).toBeDefined();
    expect(whyNoSeries(exposition, 'sum by (no_such_label) (litellm_spend_metric_total)')).toBeDefined();
    expect(whyNoSeries(exposition, 'litellm_spend_metric_total{model="no-such-model"}')).toBeDefined();
  });
});

describe('Prometheus metrics settings', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway('pglite', {
      metrics: { requireAuth: true, maxLabelValues: 2, endUserLabels: false },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('asks for a key when configured, and folds label values past the cap into "other"', async () => {
    expect((await scrape(t)).status).toBe(401);
    const keys = [await t.createKey(), await t.createKey(), await t.createKey()];
    for (const key of keys) {
      const openai = new OpenAI({ apiKey: key, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
      await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        user: 'someone',
        messages: [{ role: 'user', content: 'Hi' }],
      });
    }
    const scraped = await scrape(t, keys[0]);
    expect(scraped.status).toBe(200);
    const exposition = parseExposition(scraped.text);
    const hashes = new Set(
      exposition.samples
        .filter((s) => s.name === 'litellm_proxy_total_requests_metric_total')
        .map((s) => s.labels.hashed_api_key),
    );
    expect(hashes).toEqual(new Set([hashKey(keys[0]!), hashKey(keys[1]!), 'other']));
    expect(sumOf(exposition, 'gateway_label_values_folded_total', { label: 'hashed_api_key' })).toBe(1);
    // end_user stays empty unless the LiteLLM setting turns it on.
    expect(exposition.samples.some((s) => s.labels.end_user === 'someone')).toBe(false);
  });
});
