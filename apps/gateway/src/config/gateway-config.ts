import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { type PriceOverrides, priceOverrideFields } from '@gateway/pricing';
import { type ProviderId, parseProviderModel } from '@gateway/providers';
import { z } from 'zod';
import type { MetricsOptions } from '../metrics/gateway-metrics.ts';
import { DEFAULT_END_USER_HEADERS } from '../model-call/request-attribution.ts';
import { addDuration } from '../support/duration.ts';
import { ConfigError, type ConfigFile, type ModelEntry, readConfigFile } from './config-file.ts';

/** `general_settings.max_request_size_mb` when unset, in bytes. */
export const DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024;

/** One upstream deployment behind a public model name. */
export interface Deployment {
  /** The public name clients send as `model`. */
  modelName: string;
  /** A stable id (`model_info.id`, else derived from the entry's position). */
  deploymentId: string;
  provider: ProviderId;
  /** The provider-facing model id, without the provider prefix. */
  upstreamModel: string;
  apiBase: string;
  apiKey?: string;
  priceOverrides: PriceOverrides;
  /**
   * The provider and model whose catalog prices apply, from `model_info.base_model` (else
   * `litellm_params.base_model`); the deployment's own otherwise.
   */
  pricedAs?: { provider: string; model: string };
  /** Headers added to every upstream request (`litellm_params.extra_headers`). */
  extraHeaders?: Record<string, string>;
  /** `model_info.max_output_tokens` (or `max_tokens`): the most a call can output. */
  maxOutputTokens?: number;
  /** Per-call upstream time limits, ms (the pools' defaults otherwise). */
  timeoutMs?: number;
  streamTimeoutMs?: number;
  /** Retries of a retryable failure before any output was sent. */
  numRetries?: number;
}

export interface GatewayConfig {
  port: number;
  host: string;
  /** From env or config; undefined means main.ts generates and persists one. */
  masterKey: string | undefined;
  database: { kind: 'postgres'; url: string; poolMax: number } | { kind: 'pglite'; dataDir: string };
  dataDir: string;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  deployments: Deployment[];
  /** What the config asks for that the gateway serves differently, to warn about at start. */
  warnings?: string[];
  /** No config file was given: main.ts serves the demo model list from the built-in mock. */
  demo: boolean;
  spendFlushIntervalMs: number;
  /**
   * Largest request body a model route reads (`general_settings.max_request_size_mb`). LiteLLM
   * has no limit unless it is set; ours defaults to 100 MB so one caller cannot fill the heap.
   */
  maxRequestBytes: number;
  upstreamTimeoutMs: number;
  /** Where `/anthropic/*` goes (`ANTHROPIC_API_BASE`) and with which key (`ANTHROPIC_API_KEY`). */
  anthropicPassthrough: { apiBase: string; apiKey: string | undefined };
  /**
   * Caller-chosen upstreams (`api_base`/`api_key` in a body): allowed for every key, or only
   * for keys whose `permissions.allow_client_side_credentials` is true; always limited to the
   * allowlisted URL prefixes.
   */
  clientUpstreams: { allowAllKeys: boolean; allowlist: string[] };
  /** Request headers that name the end user, lower case, first match wins. */
  endUserHeaders: string[];
  /** A stream's final usage chunk carries `usage.cost` (`litellm_settings.include_cost_in_streaming_usage`). */
  includeCostInStreamingUsage: boolean;
  /** OpenRouter's optional attribution headers (`HTTP-Referer`, `X-Title`). */
  openRouterHeaders: Record<string, string>;
  /** The sliding window of rpm and tpm limits. */
  rateLimitWindowMs: number;
  /** How often each instance looks for budgets whose period ended. */
  budgetResetIntervalMs: number;
  /** Spend-stream entries another process read and left unacknowledged this long are taken over. */
  spendClaimIdleMs?: number;
  /** A request whose headers and body have not all arrived after this long is cut (408). */
  requestTimeoutMs?: number;
  /** How long a spend report's statement may run before Postgres cancels it (default 300 s). */
  reportTimeoutMs?: number;
  /** Spend-row retention (`maximum_spend_logs_retention_period` / `_interval`); none by default. */
  spendRetention?: { periodMs: number; intervalMs: number };
  /** How `/metrics` labels and buckets its series, and whether it asks for a key. */
  metrics: MetricsOptions & { requireAuth: boolean };
  /** Where soft-budget alerts are POSTed: `WEBHOOK_URL` when `general_settings.alerting` lists `webhook`. */
  alertWebhookUrl: string | undefined;
  /**
   * Apply pending migrations at start (`--migrate` or `MIGRATE_ON_START=true`; always for the
   * embedded PGlite, which only this process uses). Otherwise a database that needs migrations
   * is refused: clusters migrate with `pnpm migrate` (the Kubernetes Job) before a rollout.
   */
  migrateOnStart: boolean;
  /**
   * Processes serving the port (`WORKERS`, a number or `auto` for one per core; default 1).
   * More than one needs Postgres and Redis, which every worker shares.
   */
  workers: number;
  /** How long in-flight requests may run after SIGTERM before their connections are closed. */
  shutdownGraceMs: number;
  /**
   * After SIGTERM, how long the gateway keeps accepting requests while `/health/readiness`
   * already fails, so a load balancer stops routing to it first (`SHUTDOWN_DELAY_SECONDS`).
   */
  shutdownDelayMs: number;
  logLevel: string;
}

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().min(1).optional(),
  REDIS_URL: z.string().min(1).optional(),
  REDIS_KEY_PREFIX: z.string().default('litellm-gw:'),
  LITELLM_MASTER_KEY: z.string().min(1).optional(),
  CONFIG_FILE: z.string().min(1).optional(),
  GATEWAY_DATA_DIR: z.string().min(1).default('.gateway'),
  // Keep it under the orchestrator's own stop timeout (compose: stop_grace_period).
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().nonnegative().default(20),
  SHUTDOWN_DELAY_SECONDS: z.coerce.number().nonnegative().default(0),
  /** The rate-limit window, seconds (LiteLLM's name and default). */
  LITELLM_RATE_LIMIT_WINDOW_SIZE: z.coerce.number().positive().default(60),
  /** Ours: how often budgets are checked for a period's end, seconds (LiteLLM: ~10 minutes). */
  BUDGET_RESET_CHECK_SECONDS: z.coerce.number().positive().default(10),
  SPEND_CLAIM_IDLE_SECONDS: z.coerce.number().positive().default(30),
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().positive().default(60),
  REPORT_TIMEOUT_SECONDS: z.coerce.number().positive().default(300),
  /** LiteLLM's webhook alerting target. */
  WEBHOOK_URL: z.string().url().optional(),
  /** Apply pending migrations at start (single node); clusters use `pnpm migrate` (a Job). */
  MIGRATE_ON_START: z.enum(['true', 'false']).default('false'),
  /** Processes on one port (node:cluster): a number, or `auto` for one per core. */
  WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(256)]).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ANTHROPIC_API_BASE: z.string().default('https://api.anthropic.com'),
  ANTHROPIC_API_KEY: z.string().optional(),
  OR_SITE_URL: z.string().optional(),
  OR_APP_NAME: z.string().optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_API_BASE: z.string().optional(),
});

/**
 * The default base URL and key variables of each provider, as in LiteLLM (the first key variable
 * that is set wins). A provider without a default base (`hosted_vllm`, `openai_like`) needs
 * `api_base` or its base variable.
 */
const providerDefaults: Record<
  ProviderId,
  { apiBase?: string; apiKeyEnv?: string | string[]; apiBaseEnv?: string }
> = {
  openai: {
    apiBase: 'https://api.openai.com/v1',
    apiKeyEnv: 'OPENAI_API_KEY',
    apiBaseEnv: 'OPENAI_API_BASE',
  },
  anthropic: {
    apiBase: 'https://api.anthropic.com',
    apiKeyEnv: 'ANTHROPIC_API_KEY',
    apiBaseEnv: 'ANTHROPIC_API_BASE',
  },
  // LiteLLM's default: the beta base also serves chat-prefix completion and FIM.
  deepseek: {
    apiBase: 'https://api.deepseek.com/beta',
    apiKeyEnv: 'DEEPSEEK_API_KEY',
    apiBaseEnv: 'DEEPSEEK_API_BASE',
  },
  openrouter: {
    apiBase: 'https://openrouter.ai/api/v1',
    apiKeyEnv: 'OPENROUTER_API_KEY',
    apiBaseEnv: 'OPENROUTER_API_BASE',
  },
  ollama: { apiBase: 'http://localhost:11434', apiBaseEnv: 'OLLAMA_API_BASE' },
  ollama_chat: { apiBase: 'http://localhost:11434', apiBaseEnv: 'OLLAMA_API_BASE' },
  groq: { apiBase: 'https://api.groq.com/openai/v1', apiKeyEnv: 'GROQ_API_KEY', apiBaseEnv: 'GROQ_API_BASE' },
  mistral: {
    apiBase: 'https://api.mistral.ai/v1',
    apiKeyEnv: 'MISTRAL_API_KEY',
    apiBaseEnv: 'MISTRAL_API_BASE',
  },
  xai: { apiBase: 'https://api.x.ai/v1', apiKeyEnv: 'XAI_API_KEY', apiBaseEnv: 'XAI_API_BASE' },
  together_ai: {
    apiBase: 'https://api.together.xyz/v1',
    apiKeyEnv: ['TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY', 'TOGETHERAI_API_KEY', 'TOGETHER_AI_TOKEN'],
    apiBaseEnv: 'TOGETHER_AI_API_BASE',
  },
  fireworks_ai: {
    apiBase: 'https://api.fireworks.ai/inference/v1',
    apiKeyEnv: ['FIREWORKS_API_KEY', 'FIREWORKS_AI_API_KEY', 'FIREWORKSAI_API_KEY', 'FIREWORKS_AI_TOKEN'],
    apiBaseEnv: 'FIREWORKS_AI_API_BASE',
  },
  perplexity: {
    apiBase: 'https://api.perplexity.ai',
    apiKeyEnv: ['PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_KEY'],
    apiBaseEnv: 'PERPLEXITY_API_BASE',
  },
  deepinfra: {
    apiBase: 'https://api.deepinfra.com/v1/openai',
    apiKeyEnv: 'DEEPINFRA_API_KEY',
    apiBaseEnv: 'DEEPINFRA_API_BASE',
  },
  cerebras: {
    apiBase: 'https://api.cerebras.ai/v1',
    apiKeyEnv: 'CEREBRAS_API_KEY',
    apiBaseEnv: 'CEREBRAS_API_BASE',
  },
  nvidia_nim: {
    apiBase: 'https://integrate.api.nvidia.com/v1',
    apiKeyEnv: 'NVIDIA_NIM_API_KEY',
    apiBaseEnv: 'NVIDIA_NIM_API_BASE',
  },
  sambanova: {
    apiBase: 'https://api.sambanova.ai/v1',
    apiKeyEnv: 'SAMBANOVA_API_KEY',
    apiBaseEnv: 'SAMBANOVA_API_BASE',
  },
  hosted_vllm: { apiKeyEnv: 'HOSTED_VLLM_API_KEY', apiBaseEnv: 'HOSTED_VLLM_API_BASE' },
  lm_studio: {
    apiBase: 'http://localhost:1234/v1',
    apiKeyEnv: 'LM_STUDIO_API_KEY',
    apiBaseEnv: 'LM_STUDIO_API_BASE',
  },
  openai_like: { apiKeyEnv: 'OPENAI_LIKE_API_KEY', apiBaseEnv: 'OPENAI_LIKE_API_BASE' },
};

/** The first of a provider's key variables that is set. */
function keyFromEnv(names: string | string[] | undefined, env: NodeJS.ProcessEnv): string | undefined {
  for (const name of typeof names === 'string' ? [names] : (names ?? [])) if (env[name]) return env[name];
  return undefined;
}

/** Every environment variable the gateway reads (config, provider keys and bases, migrations folder). */
export const GATEWAY_ENV_NAMES: readonly string[] = [
  ...new Set([
    ...Object.keys(envSchema.shape),
    ...Object.values(providerDefaults).flatMap((d) =>
      [d.apiKeyEnv, d.apiBaseEnv].flat().filter((n) => n !== undefined),
    ),
    'MIGRATIONS_DIR',
  ]),
];

/** `--config PATH` or `--config=PATH` from the command line. */
export function configPathFromArgs(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') {
      const next = argv[i + 1];
      if (!next) throw new ConfigError('--config needs a file path');
      return next;
    }
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

/**
 * Reads env, the `--config` flag (which wins over `CONFIG_FILE`) and the config file into one
 * validated config. Throws ConfigError with a message naming the bad field.
 */
export function loadGatewayConfig(env: NodeJS.ProcessEnv, argv: string[] = []): GatewayConfig {
  // An empty variable (`REDIS_URL=` in a compose file) means unset.
  const setEnv = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsedEnv = envSchema.safeParse(setEnv);
  if (!parsedEnv.success) {
    const issues = parsedEnv.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`environment is invalid:\n  ${issues.join('\n  ')}`);
  }
  const e = parsedEnv.data;
  const configPath = configPathFromArgs(argv) ?? e.CONFIG_FILE;
  const file: ConfigFile | undefined = configPath ? readConfigFile(configPath, env) : undefined;
  const general = file?.general_settings ?? {};
  const litellm = file?.litellm_settings ?? {};
  const databaseUrl = e.DATABASE_URL ?? general.database_url;
  const dataDir = resolve(e.GATEWAY_DATA_DIR);
  const warnings: string[] = [];
  return {
    port: e.PORT,
    host: e.HOST,
    masterKey: e.LITELLM_MASTER_KEY ?? general.master_key,
    database: databaseUrl
      ? { kind: 'postgres', url: databaseUrl, poolMax: general.database_connection_pool_limit ?? 10 }
      : { kind: 'pglite', dataDir: resolve(dataDir, 'pgdata') },
    dataDir,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    deployments: (file?.model_list ?? []).map((entry, index) =>
      toDeployment(entry, index, env, file?.router_settings ?? {}, warnings),
    ),
    warnings,
    demo: file === undefined,
    spendFlushIntervalMs: Math.round((general.proxy_batch_write_at ?? 1) * 1000),
    ...retentionOf(general),
    maxRequestBytes:
      general.max_request_size_mb === undefined
        ? DEFAULT_MAX_REQUEST_BYTES
        : Math.round(general.max_request_size_mb * 1024 * 1024),
    upstreamTimeoutMs: Math.round((file?.router_settings.timeout ?? 600) * 1000),
    migrateOnStart: e.MIGRATE_ON_START === 'true' || argv.includes('--migrate') || !databaseUrl,
    workers: workersOf(e.WORKERS, databaseUrl, e.REDIS_URL),
    shutdownGraceMs: Math.round(e.SHUTDOWN_GRACE_SECONDS * 1000),
    shutdownDelayMs: Math.round(e.SHUTDOWN_DELAY_SECONDS * 1000),
    rateLimitWindowMs: Math.round(e.LITELLM_RATE_LIMIT_WINDOW_SIZE * 1000),
    budgetResetIntervalMs: Math.round(e.BUDGET_RESET_CHECK_SECONDS * 1000),
    spendClaimIdleMs: Math.round(e.SPEND_CLAIM_IDLE_SECONDS * 1000),
    requestTimeoutMs: Math.round(e.REQUEST_TIMEOUT_SECONDS * 1000),
    reportTimeoutMs: Math.round(e.REPORT_TIMEOUT_SECONDS * 1000),
    alertWebhookUrl: general.alerting?.includes('webhook') ? e.WEBHOOK_URL : undefined,
    metrics: {
      requireAuth: general.require_auth_for_metrics_endpoint === true,
      latencyBuckets: litellm.prometheus_latency_buckets,
      endUserLabels: litellm.enable_end_user_cost_tracking_prometheus_only === true,
      keyLabels: litellm.prometheus_disable_key_labels !== true,
      maxLabelValues: litellm.prometheus_max_label_values,
    },
    anthropicPassthrough: { apiBase: e.ANTHROPIC_API_BASE, apiKey: e.ANTHROPIC_API_KEY },
    clientUpstreams: {
      allowAllKeys: general.allow_client_side_credentials === true,
      allowlist: general.client_api_base_allowlist ?? [],
    },
    endUserHeaders: endUserHeadersOf(general),
    includeCostInStreamingUsage: litellm.include_cost_in_streaming_usage === true,
    openRouterHeaders: {
      ...(e.OR_SITE_URL ? { 'HTTP-Referer': e.OR_SITE_URL } : {}),
      ...(e.OR_APP_NAME ? { 'X-Title': e.OR_APP_NAME } : {}),
    },
    logLevel: e.LOG_LEVEL,
  };
}

export function toDeployment(
  entry: ModelEntry,
  index: number,
  env: NodeJS.ProcessEnv,
  router: {
    timeout?: number | undefined;
    stream_timeout?: number | undefined;
    num_retries?: number | undefined;
  } = {},
  /** Collects what the start should warn about (an unknown prefix served as OpenAI-compatible). */
  warnings?: string[],
): Deployment {
  const params = entry.litellm_params;
  const where = `model_list.${index}.litellm_params`;
  let parsed = parseProviderModel(params.model);
  if (!parsed) {
    // An upstream of a prefix LiteLLM knows and this gateway does not, at a base the operator
    // gives: spoken to as OpenAI-compatible, the model sent as written (warned at start).
    if (!params.api_base) {
      throw new ConfigError(
        `${where}.model: unknown provider prefix in "${params.model}" (with an api_base it is served as OpenAI-compatible)`,
      );
    }
    warnings?.push(
      `${where}.model: unknown provider prefix in "${params.model}"; served as an OpenAI-compatible upstream at ${params.api_base}, the model sent as written`,
    );
    parsed = { provider: 'openai_like', model: params.model };
  }
  const defaults = providerDefaults[parsed.provider];
  const apiKey = params.api_key ?? keyFromEnv(defaults.apiKeyEnv, env);
  const apiBase =
    params.api_base ?? (defaults.apiBaseEnv ? env[defaults.apiBaseEnv] : undefined) ?? defaults.apiBase;
  if (apiBase === undefined) {
    throw new ConfigError(
      `${where}.api_base: ${parsed.provider}/ has no default base; set api_base${defaults.apiBaseEnv ? ` or ${defaults.apiBaseEnv}` : ''}`,
    );
  }
  // Prices from model_info, then litellm_params over them (LiteLLM copies litellm_params' into
  // model_info, so they win).
  const priceOverrides: PriceOverrides = {};
  for (const field of priceOverrideFields) {
    const value = params[field] ?? entry.model_info?.[field];
    if (value !== undefined) priceOverrides[field] = value;
  }
  const baseModel = entry.model_info?.base_model ?? params.base_model;
  const pricedAs = baseModel === undefined ? undefined : (parseProviderModel(baseModel) ?? undefined);
  if (baseModel !== undefined && !pricedAs)
    warnings?.push(
      `model_list.${index}.model_info.base_model: unknown provider prefix in "${baseModel}"; priced as ${params.model} instead`,
    );
  return {
    modelName: entry.model_name,
    deploymentId: entry.model_info?.id ?? `${entry.model_name}#${index}`,
    provider: parsed.provider,
    upstreamModel: parsed.model,
    apiBase,
    ...(apiKey !== undefined ? { apiKey } : {}),
    priceOverrides,
    ...(params.extra_headers ? { extraHeaders: params.extra_headers } : {}),
    // A base model with a prefix names its provider; a bare one is the deployment's own provider's.
    ...(pricedAs
      ? {
          pricedAs: {
            provider: baseModel!.includes('/') ? pricedAs.provider : parsed.provider,
            model: pricedAs.model,
          },
        }
      : {}),
    ...((entry.model_info?.max_output_tokens ?? entry.model_info?.max_tokens) !== undefined
      ? { maxOutputTokens: entry.model_info?.max_output_tokens ?? entry.model_info?.max_tokens }
      : {}),
    ...seconds('timeoutMs', params.timeout ?? router.timeout),
    ...seconds('streamTimeoutMs', params.stream_timeout ?? router.stream_timeout),
    ...((params.num_retries ?? router.num_retries) !== undefined
      ? { numRetries: params.num_retries ?? router.num_retries }
      : {}),
  };
}

function seconds<K extends string>(name: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [name]: Math.round(value * 1000) } as Record<K, number>);
}

/**
 * The end-user headers: `user_header_mappings` entries for customers and `user_header_name`
 * when either is set (an empty mapping list turns headers off), else LiteLLM's defaults.
 */
function endUserHeadersOf(general: ConfigFile['general_settings']): string[] {
  if (general.user_header_mappings === undefined && general.user_header_name === undefined)
    return [...DEFAULT_END_USER_HEADERS];
  const names = (general.user_header_mappings ?? [])
    .filter((mapping) => mapping.litellm_user_role === 'customer')
    .map((mapping) => mapping.header_name);
  if (general.user_header_name) names.push(general.user_header_name);
  return [...new Set(names.map((name) => name.toLowerCase()))];
}

/** A LiteLLM duration as milliseconds (a month as the one after January 1970), or a ConfigError naming the field. */
function durationMs(field: string, value: string): number {
  const ms = addDuration(new Date(0), value)?.getTime() ?? 0;
  if (ms <= 0) {
    throw new ConfigError(
      `general_settings.${field}: "${value}" is not a duration (30s, 30m, 12h, 30d, 4w, 6mo)`,
    );
  }
  return ms;
}

function retentionOf(general: ConfigFile['general_settings']): Pick<GatewayConfig, 'spendRetention'> {
  const period = general.maximum_spend_logs_retention_period;
  if (!period) return {};
  const interval = general.maximum_spend_logs_retention_interval ?? '1d';
  return {
    spendRetention: {
      periodMs: durationMs('maximum_spend_logs_retention_period', period),
      intervalMs: durationMs('maximum_spend_logs_retention_interval', interval),
    },
  };
}

/**
 * `WORKERS`: how many processes serve the port. Workers share budgets, limits, caches and the
 * spend queue through Redis and the data through Postgres; PGlite belongs to one process and
 * in-process limits to each, so more than one worker without both is refused.
 */
function workersOf(
  setting: number | 'auto',
  databaseUrl: string | undefined,
  redisUrl: string | undefined,
): number {
  const workers = setting === 'auto' ? availableParallelism() : setting;
  if (workers > 1 && (!databaseUrl || !redisUrl)) {
    throw new ConfigError(
      `WORKERS=${setting} needs DATABASE_URL (Postgres) and REDIS_URL: workers share the data through Postgres and budgets, limits, caches and the spend queue through Redis (the embedded PGlite belongs to one process, and in-process limits to each)`,
    );
  }
  return workers;
}
