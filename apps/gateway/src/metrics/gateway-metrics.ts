import { randomUUID } from 'node:crypto';
import type { NewSpendLogRow } from '@gateway/db';
import { addUsd } from '@gateway/pricing';
import { Counter, Gauge, Registry } from 'prom-client';
import type { GatewayError } from '../errors.ts';
import { statusOf } from '../errors.ts';
import type { RequestEvent } from '../request/request-event.ts';
import type { SpendQueue } from '../spend/spend-writer.ts';
import type { RedisOutage } from '../support/redis-outage.ts';
import { LatestGauge, SummedCounter, SummedHistogram } from './summed-metrics.ts';

/** LiteLLM's `LATENCY_BUCKETS` (seconds, contract §6). */
export const LATENCY_BUCKETS = [
  0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8,
  8.5, 9, 9.5, 10, 15, 20, 25, 30, 60, 120, 180, 240, 300,
];

export interface MetricsOptions {
  /** `litellm_settings.prometheus_latency_buckets`. */
  latencyBuckets?: number[] | undefined;
  /** `litellm_settings.enable_end_user_cost_tracking_prometheus_only`: `end_user` is filled in. */
  endUserLabels?: boolean | undefined;
  /** Ours: `hashed_api_key` and `api_key_alias` are left empty (on by default, as LiteLLM). */
  keyLabels?: boolean | undefined;
  /**
   * Ours: distinct values kept per high-cardinality label (`end_user`, `hashed_api_key`,
   * `api_key_alias`, `user`, `team`, `team_alias`); later values are folded into `other`.
   */
  maxLabelValues?: number | undefined;
}

/** What a request's metrics are labelled with (strings; empty when unknown). */
interface RequestLabels {
  end_user: string;
  hashed_api_key: string;
  api_key_alias: string;
  requested_model: string;
  team: string;
  team_alias: string;
  user: string;
  user_email: string;
  route: string;
  model: string;
  model_id: string;
  api_base: string;
  api_provider: string;
  litellm_model_name: string;
}

// Label sets per metric, as LiteLLM's newest versions export them (contract §6.1), without
// `client_ip` and `user_agent` (unbounded values, no dashboard of LiteLLM's reads them).
const KEY_TEAM_USER = ['end_user', 'hashed_api_key', 'api_key_alias', 'team', 'team_alias', 'user'] as const;
const LABELS = {
  totalRequests: [...KEY_TEAM_USER, 'requested_model', 'status_code', 'user_email', 'route', 'model_id'],
  failedRequests: [
    ...KEY_TEAM_USER,
    'requested_model',
    'user_email',
    'exception_status',
    'exception_class',
    'route',
    'model_id',
  ],
  totalLatency: [...KEY_TEAM_USER, 'requested_model', 'model', 'model_id'],
  apiLatency: [
    'model',
    'hashed_api_key',
    'api_key_alias',
    'team',
    'team_alias',
    'requested_model',
    'end_user',
    'user',
    'model_id',
  ],
  overhead: [
    'model_group',
    'api_provider',
    'api_base',
    'litellm_model_name',
    'hashed_api_key',
    'api_key_alias',
    'model_id',
  ],
  spend: [...KEY_TEAM_USER, 'model', 'user_email', 'model_id'],
  tokens: [...KEY_TEAM_USER, 'model', 'user_email', 'requested_model', 'model_id'],
  legacyFailed: [...KEY_TEAM_USER, 'model', 'model_id'],
  deployment: [
    'requested_model',
    'litellm_model_name',
    'model_id',
    'api_base',
    'api_provider',
    'hashed_api_key',
    'api_key_alias',
    'team',
    'team_alias',
  ],
  perOutputToken: [
    'litellm_model_name',
    'model_id',
    'api_base',
    'api_provider',
    'hashed_api_key',
    'api_key_alias',
    'team',
    'team_alias',
  ],
  providerRemaining: [
    'model_group',
    'api_provider',
    'api_base',
    'litellm_model_name',
    'hashed_api_key',
    'api_key_alias',
    'model_id',
  ],
  keyModelRemaining: ['hashed_api_key', 'api_key_alias', 'model', 'model_id'],
} as const;

/** The legacy self-latency histogram's one series. */
const SELF = () => ({ self: 'self' });

const DEPLOYMENT_FAILURE = [...LABELS.deployment, 'exception_status', 'exception_class'] as const;

/** Labels whose values grow with use, and so are capped. */
const CAPPED = new Set([
  'end_user',
  'hashed_api_key',
  'api_key_alias',
  'user',
  'team',
  'team_alias',
  'tag',
  // Clients choose model names (wildcard routes accept any): capped too.
  'requested_model',
  'model',
]);

/** The model routes requests are counted on (a fixed set: the route label stays bounded). */
const MODEL_ROUTE =
  /^(?:\/v1)?\/(?:chat\/completions|completions|embeddings|images\/generations|messages|responses)$|^\/anthropic\/v1\/messages$/;

/** Python-style class names of upstream errors, as LiteLLM labels them (`Openai.RateLimitError`). */
const UPSTREAM_ERROR_CLASSES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  403: 'PermissionDeniedError',
  404: 'NotFoundError',
  408: 'Timeout',
  422: 'UnprocessableEntityError',
  429: 'RateLimitError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

export function exceptionClassOf(error: GatewayError | undefined): string {
  if (!error) return 'None';
  const provider = (name: string) => name.charAt(0).toUpperCase() + name.slice(1).toLowerCase();
  switch (error.kind) {
    case 'upstream_error':
      return `${provider(error.provider)}.${UPSTREAM_ERROR_CLASSES[error.status] ?? 'APIError'}`;
    case 'upstream_timeout':
      return `${provider(error.provider)}.Timeout`;
    case 'rate_limited':
      return error.type === 'budget_exceeded' ? 'BudgetExceededError' : 'ProxyException';
    default:
      return 'ProxyException';
  }
}

/**
 * The gateway's Prometheus metrics, under LiteLLM's names, types, labels and buckets (contract
 * §6.1), so its dashboards keep working. Each request is recorded once, from its wide event,
 * when it ends: the counters follow exactly what the spend log receives.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  /** This process, as its spend rows name it (`metadata.gateway_instance`). */
  readonly instanceId = randomUUID();
  readonly #options: Required<Omit<MetricsOptions, 'latencyBuckets'>>;
  readonly #seen = new Map<string, Set<string>>();
  readonly #folded: Counter;
  readonly #totalRequests: SummedCounter;
  readonly #failedRequests: SummedCounter;
  readonly #totalLatency: SummedHistogram;
  readonly #apiLatency: SummedHistogram;
  readonly #ttft: SummedHistogram;
  readonly #overhead: SummedHistogram;
  readonly #spend: SummedCounter;
  readonly #totalTokens: SummedCounter;
  readonly #inputTokens: SummedCounter;
  readonly #outputTokens: SummedCounter;
  readonly #cacheReadTokens: SummedCounter;
  readonly #cacheWriteTokens: SummedCounter;
  readonly #requests: SummedCounter;
  readonly #legacyFailed: SummedCounter;
  readonly #deploymentSuccess: SummedCounter;
  readonly #deploymentFailure: SummedCounter;
  readonly #deploymentTotal: SummedCounter;
  readonly #perOutputToken: SummedHistogram;
  readonly #providerRemainingRequests: LatestGauge;
  readonly #providerRemainingTokens: LatestGauge;
  readonly #keyModelRemainingRequests: LatestGauge;
  readonly #keyModelRemainingTokens: LatestGauge;
  readonly #budget: Record<
    'key' | 'team' | 'user',
    { remaining: LatestGauge; max: LatestGauge; hours: LatestGauge }
  >;
  readonly #cacheSavings: SummedCounter;
  readonly #tagSpend: Counter;
  readonly #tagTokens: Counter;
  readonly #tagRequests: Counter;
  /** Older names LiteLLM's published dashboards still query (contract §6.2). */
  readonly #legacy: {
    totalTokens: SummedCounter;
    remainingRequests: LatestGauge;
    remainingTokens: LatestGauge;
    selfLatency: SummedHistogram;
  };
  /** Spend counted, exactly (USD decimal), for reconciliation with the spend log. */
  #spendTotal = '0';
  #rowsCounted = 0;

  constructor(spendQueue: Pick<SpendQueue, 'depths'>, options: MetricsOptions = {}) {
    this.#options = {
      endUserLabels: options.endUserLabels ?? false,
      keyLabels: options.keyLabels ?? true,
      maxLabelValues: options.maxLabelValues ?? 1_000,
    };
    const registers = [this.registry];
    const buckets = options.latencyBuckets ?? LATENCY_BUCKETS;
    // Exported as LiteLLM's Python client exports counters: the name plus `_total`.
    const counter = (name: string, help: string, labelNames: readonly string[]) =>
      new Counter({ name: `${name}_total`, help, labelNames, registers });
    const summed = (name: string, help: string, labelNames: readonly string[]) =>
      new SummedCounter({ name: `${name}_total`, help, labelNames, registers });
    const histogram = (name: string, help: string, labelNames: readonly string[], withBuckets = buckets) =>
      new SummedHistogram({ name, help, labelNames, buckets: withBuckets, registers });
    const latest = (name: string, help: string, labelNames: readonly string[]) =>
      new LatestGauge({ name, help, labelNames, registers });

    this.#folded = counter(
      'gateway_label_values_folded',
      'Label values folded into "other" because the label reached its cap of distinct values',
      ['label'],
    );
    // A zero series per label from the start, so `increase()` sees the first fold.
    for (const label of CAPPED) this.#folded.inc({ label }, 0);
    this.#totalRequests = summed(
      'litellm_proxy_total_requests_metric',
      'Client requests to model routes, by status',
      LABELS.totalRequests,
    );
    this.#failedRequests = summed(
      'litellm_proxy_failed_requests_metric',
      'Client requests to model routes that failed (auth, budget and limit refusals included)',
      LABELS.failedRequests,
    );
    this.#totalLatency = histogram(
      'litellm_request_total_latency_metric',
      'Total time of a request in the gateway, seconds',
      LABELS.totalLatency,
    );
    this.#apiLatency = histogram(
      'litellm_llm_api_latency_metric',
      'Time of the upstream call, seconds',
      LABELS.apiLatency,
    );
    this.#ttft = histogram(
      'litellm_llm_api_time_to_first_token_metric',
      'Time to the first token of a streamed call, seconds',
      LABELS.apiLatency,
    );
    this.#overhead = histogram(
      'litellm_overhead_latency_metric',
      'Time the gateway added to a call (total minus upstream), seconds',
      LABELS.overhead,
    );
    this.#spend = summed('litellm_spend_metric', 'Spend, USD (as recorded in the spend log)', LABELS.spend);
    this.#totalTokens = summed('litellm_total_tokens_metric', 'Input + output tokens', LABELS.tokens);
    this.#inputTokens = summed(
      'litellm_input_tokens_metric',
      'Input tokens (cache reads and writes included)',
      LABELS.tokens,
    );
    this.#outputTokens = summed('litellm_output_tokens_metric', 'Output tokens', LABELS.tokens);
    this.#cacheReadTokens = summed(
      'gateway_cache_read_input_tokens',
      'Input tokens read from the provider’s prompt cache',
      LABELS.tokens,
    );
    this.#cacheWriteTokens = summed(
      'gateway_cache_creation_input_tokens',
      'Input tokens written to the provider’s prompt cache',
      LABELS.tokens,
    );
    this.#requests = summed('litellm_requests_metric', 'Successful model calls (legacy)', LABELS.spend);
    this.#legacyFailed = summed(
      'litellm_llm_api_failed_requests_metric',
      'Failed model calls (legacy)',
      LABELS.legacyFailed,
    );
    this.#deploymentSuccess = summed(
      'litellm_deployment_success_responses',
      'Successful calls per deployment',
      LABELS.deployment,
    );
    this.#deploymentFailure = summed(
      'litellm_deployment_failure_responses',
      'Failed calls per deployment',
      DEPLOYMENT_FAILURE,
    );
    this.#deploymentTotal = summed(
      'litellm_deployment_total_requests',
      'Calls per deployment',
      LABELS.deployment,
    );
    this.#perOutputToken = histogram(
      'litellm_deployment_latency_per_output_token',
      'Upstream latency divided by output tokens, seconds',
      LABELS.perOutputToken,
      // Python prometheus_client's default buckets, as LiteLLM exports this one.
      [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    );
    this.#providerRemainingRequests = latest(
      'litellm_remaining_requests_metric',
      'Requests the provider says are left (its x-ratelimit-remaining-requests)',
      LABELS.providerRemaining,
    );
    this.#providerRemainingTokens = latest(
      'litellm_remaining_tokens_metric',
      'Tokens the provider says are left (its x-ratelimit-remaining-tokens)',
      LABELS.providerRemaining,
    );
    this.#keyModelRemainingRequests = latest(
      'litellm_remaining_api_key_requests_for_model',
      'Requests left in the window for a key on a model (its model_rpm_limit)',
      LABELS.keyModelRemaining,
    );
    this.#keyModelRemainingTokens = latest(
      'litellm_remaining_api_key_tokens_for_model',
      'Tokens left in the window for a key on a model (its model_tpm_limit)',
      LABELS.keyModelRemaining,
    );
    const budgetGauges = (prefix: string, entity: string, labelNames: readonly string[]) => ({
      remaining: latest(
        `litellm_remaining_${prefix}_budget_metric`,
        `${entity} max budget minus spend, USD`,
        labelNames,
      ),
      max: latest(`litellm_${prefix}_max_budget_metric`, `${entity} max budget, USD`, labelNames),
      hours: latest(
        `litellm_${prefix}_budget_remaining_hours_metric`,
        `Hours until the ${entity.toLowerCase()} budget resets`,
        labelNames,
      ),
    });
    this.#budget = {
      key: budgetGauges('api_key', 'Key', ['hashed_api_key', 'api_key_alias']),
      team: budgetGauges('team', 'Team', ['team', 'team_alias']),
      user: budgetGauges('user', 'User', ['user']),
    };
    this.#cacheSavings = summed(
      'gateway_cache_read_savings_usd',
      'What prompt-cache reads saved over the full input price, USD',
      LABELS.spend,
    );
    this.#tagSpend = counter('gateway_tag_spend_usd', 'Spend per request tag, USD', ['tag']);
    this.#tagTokens = counter('gateway_tag_tokens', 'Input + output tokens per request tag', ['tag']);
    this.#tagRequests = counter('gateway_tag_requests', 'Model calls per request tag', ['tag']);
    this.#legacy = {
      totalTokens: summed('litellm_total_tokens', 'Input + output tokens (legacy name)', LABELS.tokens),
      remainingRequests: latest(
        'litellm_remaining_requests',
        'Requests the provider says are left (legacy name)',
        LABELS.providerRemaining,
      ),
      remainingTokens: latest(
        'litellm_remaining_tokens',
        'Tokens the provider says are left (legacy name)',
        LABELS.providerRemaining,
      ),
      selfLatency: histogram('litellm_self_latency', 'Total request time, seconds (legacy name)', ['self']),
    };
    this.#queueGauges(spendQueue);
  }

  /** The spend counted so far, exactly (the counter itself is a float), and over how many rows. */
  get counted(): { rows: number; spend: string } {
    return { rows: this.#rowsCounted, spend: this.#spendTotal };
  }

  readonly #durable = new Gauge({
    name: 'litellm_spend_queue_durable',
    // Across the workers of a cluster: durable only if every worker's queue is.
    aggregator: 'min',
    help: 'Ours: 1 when queued spend rows survive a restart of what holds them (a Redis stream with appendonly and a non-evicting policy), 0 when a restart or eviction can lose them (process memory, or Redis without persistence)',
    labelNames: ['queue'],
    registers: [this.registry],
  });

  /** Exports a Redis outage's state and fallbacks (`litellm_redis_outage`, `litellm_redis_fallbacks_total`). */
  watchRedisOutage(outage: RedisOutage): void {
    new Gauge({
      name: 'litellm_redis_outage',
      aggregator: 'max',
      help: 'Ours: 1 while Redis is failing and this instance falls back (database lookups, its own counters, spend rows in memory)',
      registers: [this.registry],
      collect() {
        this.set(outage.ongoing ? 1 : 0);
      },
    });
    new Counter({
      name: 'litellm_redis_fallbacks_total',
      help: 'Ours: Redis operations that failed and fell back, by operation (cache, admission, settle, spend append, connection, …)',
      labelNames: ['operation'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [operation, count] of outage.fallbacks) this.inc({ operation }, count);
      },
    });
  }

  /** Records whether the spend queue is durable (`litellm_spend_queue_durable`). */
  setSpendQueueDurable(queue: 'redis' | 'memory', durable: boolean): void {
    this.#durable.reset();
    this.#durable.set({ queue }, durable ? 1 : 0);
  }

  #queueGauges(spendQueue: Pick<SpendQueue, 'depths'>): void {
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
      registers: [this.registry],
      async collect() {
        this.set((await readDepths()).memory);
      },
    });
    new Gauge({
      name: 'litellm_redis_spend_update_queue_size',
      // One stream, seen alike by every worker of a cluster: not a sum.
      aggregator: 'max',
      help: 'Entries waiting in the Redis spend stream to be written to the database, each holding the spend rows of one event-loop turn (0 without Redis)',
      registers: [this.registry],
      async collect() {
        const { redis } = await readDepths();
        // While Redis is unreachable the last value read stays.
        if (redis !== null) this.set(redis);
      },
    });
  }

  /** A label value, or `other` once the label holds its cap of distinct values. */
  #capped(label: string, value: string): string {
    if (value === '' || !CAPPED.has(label)) return value;
    let seen = this.#seen.get(label);
    if (!seen) {
      seen = new Set();
      this.#seen.set(label, seen);
    }
    if (seen.has(value)) return value;
    if (seen.size >= this.#options.maxLabelValues) {
      this.#folded.inc({ label });
      return 'other';
    }
    seen.add(value);
    return value;
  }

  #labelsOf(event: RequestEvent): RequestLabels {
    const call = event.call;
    const keyLabels = this.#options.keyLabels;
    return {
      end_user: this.#capped('end_user', this.#options.endUserLabels ? (call?.endUser ?? '') : ''),
      hashed_api_key: this.#capped('hashed_api_key', keyLabels ? (event.keyHash ?? '') : ''),
      api_key_alias: this.#capped('api_key_alias', keyLabels ? (event.keyAlias ?? '') : ''),
      requested_model: this.#capped('requested_model', call?.modelGroup ?? event.requestedModel ?? ''),
      team: this.#capped('team', event.teamId ?? ''),
      team_alias: this.#capped('team_alias', event.teamAlias ?? ''),
      user: this.#capped('user', event.userId ?? ''),
      user_email: '',
      route: event.path,
      model: this.#capped('model', call ? (call.responseModel ?? call.upstreamModel) : ''),
      model_id: call?.deploymentId ?? '',
      api_base: call?.apiBase ?? '',
      api_provider: call?.provider ?? '',
      litellm_model_name: call ? `${call.provider}/${call.upstreamModel}` : '',
    };
  }

  /**
   * Records a request that ended (called once per request, with its spend row when it has one:
   * the metrics count exactly what the spend log receives).
   */
  record(event: RequestEvent, status: number, row: NewSpendLogRow | undefined): void {
    const spendUsd = row?.spend;
    if (row) {
      this.#rowsCounted += 1;
      // Which process counted the row, and in what order (reconciliation reads both).
      row.metadata = { ...row.metadata, gateway_instance: this.instanceId, gateway_seq: this.#rowsCounted };
    }
    if (!MODEL_ROUTE.test(event.path)) return;
    const l = this.#labelsOf(event);
    const values = l as unknown as Record<string, string>;
    /** The values of a metric's labels: this request's, or `extra`'s where it has them. */
    const pick = (names: readonly string[], extra: Record<string, string> = {}) => {
      const labels: Record<string, string> = {};
      for (const name of names) labels[name] = extra[name] ?? values[name] ?? '';
      return labels;
    };
    // A stream that failed or was left after its headers went out counts as what ended it.
    const effective =
      event.outcome === 'client_closed'
        ? 499
        : event.outcome === 'failure' && status < 400 && event.error
          ? statusOf(event.error)
          : status;
    const statusCode = String(effective);
    const failed = effective >= 400 || event.outcome === 'failure';
    const exception = {
      exception_status: statusCode,
      exception_class: exceptionClassOf(event.error),
      status_code: statusCode,
      model_group: l.requested_model,
    };
    // Counters are summed per combination of this request's label values (see SummedCounter).
    // JSON keeps it unambiguous whatever a value holds (a client chooses end users and tags).
    const combination = JSON.stringify([...Object.values(l), statusCode, exception.exception_class]);
    const add = (counter: SummedCounter, names: readonly string[], value = 1) =>
      counter.add(combination, () => pick(names, exception), value);
    add(this.#totalRequests, LABELS.totalRequests);
    if (failed) add(this.#failedRequests, LABELS.failedRequests);
    const endedAt = event.endedAt ?? new Date();
    const totalSeconds = (endedAt.getTime() - event.startedAt.getTime()) / 1000;
    this.#totalLatency.observe(combination, () => pick(LABELS.totalLatency), totalSeconds);
    this.#legacy.selfLatency.observe('self', SELF, totalSeconds);

    const call = event.call;
    if (!call) return;
    // Attempts that failed and were retried: each a failed request to the deployment.
    for (const attempt of call.failedAttempts ?? []) {
      add(this.#deploymentTotal, LABELS.deployment);
      const failure = {
        exception_status: String(attempt.status),
        exception_class: exceptionClassOf(
          attempt.error ?? {
            kind: 'upstream_error',
            provider: call.provider,
            status: attempt.status,
            message: '',
            retryable: true,
          },
        ),
      };
      this.#deploymentFailure.add(
        `${combination}\u0001${failure.exception_status}\u0001${failure.exception_class}`,
        () => pick(DEPLOYMENT_FAILURE, failure),
      );
    }
    add(this.#deploymentTotal, LABELS.deployment);
    if (failed) {
      add(this.#deploymentFailure, DEPLOYMENT_FAILURE);
      add(this.#legacyFailed, LABELS.legacyFailed);
    } else {
      add(this.#deploymentSuccess, LABELS.deployment);
      add(this.#requests, LABELS.spend);
    }
    if (call.upstreamStartedAt) {
      const upstreamEnd = call.upstreamEndedAt ?? endedAt;
      const upstreamSeconds = Math.max(0, (upstreamEnd.getTime() - call.upstreamStartedAt.getTime()) / 1000);
      this.#apiLatency.observe(combination, () => pick(LABELS.apiLatency), upstreamSeconds);
      // Failed attempts and waits between retries are neither upstream time nor the gateway's.
      const retriedSeconds = (call.retriedMs ?? 0) / 1000;
      this.#overhead.observe(
        combination,
        () => pick(LABELS.overhead, exception),
        Math.max(0, totalSeconds - upstreamSeconds - retriedSeconds),
      );
      const output = call.usage.outputTokens;
      if (output && output > 0)
        this.#perOutputToken.observe(
          combination,
          () => pick(LABELS.perOutputToken),
          upstreamSeconds / output,
        );
      if (call.stream && call.firstTokenAt)
        this.#ttft.observe(
          combination,
          () => pick(LABELS.apiLatency),
          Math.max(0, (call.firstTokenAt.getTime() - call.upstreamStartedAt.getTime()) / 1000),
        );
    }
    const spent = spendUsd !== null && spendUsd !== undefined ? Number(spendUsd) : 0;
    if (spendUsd !== null && spendUsd !== undefined) {
      add(this.#spend, LABELS.spend, spent);
      this.#spendTotal = addUsd(this.#spendTotal, spendUsd);
    }
    const { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens } = call.usage;
    const totalTokens = (inputTokens ?? 0) + (outputTokens ?? 0);
    if (inputTokens) add(this.#inputTokens, LABELS.tokens, inputTokens);
    if (outputTokens) add(this.#outputTokens, LABELS.tokens, outputTokens);
    if (totalTokens > 0) {
      add(this.#totalTokens, LABELS.tokens, totalTokens);
      add(this.#legacy.totalTokens, LABELS.tokens, totalTokens);
    }
    if (cacheReadTokens) add(this.#cacheReadTokens, LABELS.tokens, cacheReadTokens);
    if (cacheWriteTokens) add(this.#cacheWriteTokens, LABELS.tokens, cacheWriteTokens);
    const prices = call.price?.priced ? call.price.unitPrices : undefined;
    if (cacheReadTokens && prices) {
      const saved = (cacheReadTokens * (Number(prices.input) - Number(prices.cacheRead))) / 1e6;
      if (saved > 0) add(this.#cacheSavings, LABELS.spend, saved);
    }
    for (const name of new Set(call.tags)) {
      const tag = { tag: this.#capped('tag', name) };
      this.#tagRequests.inc(tag);
      if (spent > 0) this.#tagSpend.inc(tag, spent);
      if (totalTokens > 0) this.#tagTokens.inc(tag, totalTokens);
    }

    const remaining = call.upstreamRemaining;
    const provider = () => pick(LABELS.providerRemaining, exception);
    if (remaining?.requests !== undefined) {
      this.#providerRemainingRequests.set(combination, provider, remaining.requests);
      this.#legacy.remainingRequests.set(combination, provider, remaining.requests);
    }
    if (remaining?.tokens !== undefined) {
      this.#providerRemainingTokens.set(combination, provider, remaining.tokens);
      this.#legacy.remainingTokens.set(combination, provider, remaining.tokens);
    }
    const left = event.keyModelRemaining;
    if (left) {
      const labels = () => pick(LABELS.keyModelRemaining, { model: l.requested_model });
      if (left.requests !== undefined)
        this.#keyModelRemainingRequests.set(combination, labels, left.requests);
      if (left.tokens !== undefined) this.#keyModelRemainingTokens.set(combination, labels, left.tokens);
    }
    for (const budget of event.budgets ?? []) {
      // Without key labels every key's gauge would be one series: none.
      if (budget.entity === 'key' && !this.#options.keyLabels) continue;
      const gauges = this.#budget[budget.entity];
      const labels = (): Record<string, string> =>
        budget.entity === 'key'
          ? { hashed_api_key: l.hashed_api_key, api_key_alias: l.api_key_alias }
          : budget.entity === 'team'
            ? { team: l.team, team_alias: l.team_alias }
            : { user: l.user };
      gauges.max.set(combination, labels, budget.maxBudgetUsd);
      gauges.remaining.set(combination, labels, budget.maxBudgetUsd - (budget.spentUsd + spent));
      if (budget.resetAtMs !== null)
        gauges.hours.set(
          combination,
          labels,
          Math.max(0, (budget.resetAtMs - endedAt.getTime()) / 3_600_000),
        );
    }
  }
}
