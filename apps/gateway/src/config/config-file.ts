import { readFileSync } from 'node:fs';
import { priceOverrideFields } from '@gateway/pricing';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const ENV_REFERENCE = /^os\.environ\/([A-Za-z_][A-Za-z0-9_]*)$/;

const priceFields = Object.fromEntries(
  priceOverrideFields.map((field) => [field, z.coerce.number().nonnegative().optional()]),
) as Record<(typeof priceOverrideFields)[number], z.ZodOptional<z.ZodCoercedNumber>>;

/** One `model_list` entry, LiteLLM format (contract §8.2). Unknown fields are kept, not refused. */
const modelEntrySchema = z.object({
  model_name: z.string().min(1),
  litellm_params: z.looseObject({
    model: z.string().min(1),
    api_base: z.url().optional(),
    api_key: z.string().optional(),
    /** Seconds until the upstream's response headers (a stream's first byte). */
    timeout: z.coerce.number().positive().optional(),
    /** Longest silence between two chunks of a stream, seconds. */
    stream_timeout: z.coerce.number().positive().optional(),
    /** Retries of a retryable failure (429, 5xx, unreachable) before any output was sent. */
    num_retries: z.coerce.number().int().nonnegative().optional(),
    /** Headers added to every request to this deployment's upstream. */
    extra_headers: z.record(z.string(), z.string()).optional(),
    /** The model whose catalog prices apply (after `model_info.base_model`). */
    base_model: z.string().min(1).optional(),
    ...priceFields,
  }),
  model_info: z
    .looseObject({
      id: z.string().optional(),
      /** The model whose catalog prices apply (LiteLLM's field; `openai/gpt-4.1-mini` or `gpt-4.1-mini`). */
      base_model: z.string().min(1).optional(),
      // Prices here too, LiteLLM's documented place; `litellm_params` wins where both set one.
      ...priceFields,
      /** The most a call can output (LiteLLM's field); reserves the worst case on budgets. */
      max_output_tokens: z.number().int().positive().optional(),
      max_tokens: z.number().int().positive().optional(),
    })
    .optional(),
});

/** The parts of LiteLLM's `config.yaml` the gateway reads. */
export const configFileSchema = z.looseObject({
  model_list: z.array(modelEntrySchema).default([]),
  general_settings: z
    .looseObject({
      master_key: z.string().min(1).optional(),
      database_url: z.string().min(1).optional(),
      database_connection_pool_limit: z.coerce.number().int().positive().optional(),
      /** Seconds between spend batch writes (LiteLLM default 10; ours 1). */
      proxy_batch_write_at: z.coerce.number().positive().optional(),
      max_request_size_mb: z.coerce.number().positive().optional(),
      /** Spend rows older than this (`30d`, `12w`, `6mo`) are deleted (LiteLLM's setting). */
      maximum_spend_logs_retention_period: z.string().optional(),
      /** How often retention runs (LiteLLM's setting; default `1d`). */
      maximum_spend_logs_retention_interval: z.string().optional(),
      /** Let every key send `api_base`/`api_key` in request bodies (LiteLLM's name). */
      allow_client_side_credentials: z.boolean().optional(),
      /** URL prefixes a caller-chosen `api_base` must start with. */
      client_api_base_allowlist: z.array(z.string()).optional(),
      /** `/metrics` asks for a key (any valid virtual key or the master key). */
      require_auth_for_metrics_endpoint: z.boolean().optional(),
      /** Alert channels; `webhook` POSTs soft-budget alerts to `WEBHOOK_URL`. */
      alerting: z.array(z.string()).optional(),
      /** A header naming the end user (LiteLLM's older, deprecated setting). */
      user_header_name: z.string().min(1).optional(),
      /** Headers naming who calls; those with `litellm_user_role: customer` name the end user. */
      user_header_mappings: z
        .array(z.looseObject({ header_name: z.string().min(1), litellm_user_role: z.string().optional() }))
        .optional(),
    })
    .default({}),
  litellm_settings: z
    .looseObject({
      /** Fill the `end_user` label of the Prometheus metrics (LiteLLM's setting; off by default). */
      enable_end_user_cost_tracking_prometheus_only: z.boolean().optional(),
      /** Latency histogram buckets, seconds (LiteLLM's setting). */
      prometheus_latency_buckets: z.array(z.number().positive()).min(1).optional(),
      /** Ours: leave `hashed_api_key` and `api_key_alias` empty in metrics. */
      prometheus_disable_key_labels: z.boolean().optional(),
      /** Ours: distinct values kept per high-cardinality metric label before folding into `other`. */
      prometheus_max_label_values: z.number().int().positive().optional(),
      /** A stream's final usage chunk carries the call's cost as `usage.cost` (LiteLLM's setting; off by default). */
      include_cost_in_streaming_usage: z.boolean().optional(),
    })
    .default({}),
  router_settings: z
    .looseObject({
      /** Upstream timeout, seconds. */
      timeout: z.coerce.number().positive().optional(),
      stream_timeout: z.coerce.number().positive().optional(),
      num_retries: z.coerce.number().int().nonnegative().optional(),
    })
    .default({}),
  environment_variables: z.record(z.string(), z.string()).default({}),
});
export type ConfigFile = z.infer<typeof configFileSchema>;
export type ModelEntry = z.infer<typeof modelEntrySchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Replaces every `os.environ/NAME` string, at any depth, with the environment variable NAME.
 * A reference to an unset variable is an error naming both the field and the variable.
 */
export function resolveEnvReferences(value: unknown, env: NodeJS.ProcessEnv, path: string[] = []): unknown {
  if (typeof value === 'string') {
    const match = ENV_REFERENCE.exec(value);
    if (!match) return value;
    const name = match[1]!;
    const resolved = env[name];
    if (resolved === undefined) {
      throw new ConfigError(`${path.join('.') || 'value'}: environment variable ${name} is not set`);
    }
    return resolved;
  }
  if (Array.isArray(value))
    return value.map((item, i) => resolveEnvReferences(item, env, [...path, String(i)]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveEnvReferences(item, env, [...path, key])]),
    );
  }
  return value;
}

/** Parses and validates config text; errors name the offending field, e.g. `model_list.0.model_name`. */
export function parseConfigFile(text: string, env: NodeJS.ProcessEnv, source = 'config'): ConfigFile {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  // `environment_variables` are set before any reference is resolved, as LiteLLM does.
  const declared =
    raw && typeof raw === 'object' && 'environment_variables' in raw ? raw.environment_variables : undefined;
  const mergedEnv = {
    ...env,
    ...(declared && typeof declared === 'object' ? (declared as Record<string, string>) : {}),
  };
  const resolved = resolveEnvReferences(raw, mergedEnv);
  const parsed = configFileSchema.safeParse(resolved);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(`${source} is invalid:\n  ${issues.join('\n  ')}`);
  }
  return parsed.data;
}

export function readConfigFile(path: string, env: NodeJS.ProcessEnv): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  return parseConfigFile(text, env, path);
}
