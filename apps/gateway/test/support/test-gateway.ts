import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockProvider, startMockProvider } from '@gateway/mock-provider';
import { pino } from 'pino';
import { vi } from 'vitest';
import {
  DEFAULT_MAX_REQUEST_BYTES,
  type Deployment,
  type GatewayConfig,
} from '../../src/config/gateway-config.ts';
import { type RunningGateway, startGateway } from '../../src/gateway.ts';
import { createTestDatabase, type TestDatabase, testRedis } from './backing-services.ts';
import { startProxyFor, type UrlProxy } from './tcp-proxy.ts';

/** `postgres` is Postgres without Redis: in-process caches and spend queue. */
export type Backend = 'postgres+redis' | 'postgres' | 'pglite';

export interface TestGateway {
  gateway: RunningGateway;
  mock: MockProvider;
  masterKey: string;
  databaseUrl: string | undefined;
  redis: { url: string; keyPrefix: string } | undefined;
  /** A new virtual key made with the master key; `body` is `/key/generate`'s. */
  createKey(body?: Record<string, unknown>): Promise<string>;
  /** The spend row of the request with this call id, once the writer has written it. */
  spendRow<T = Record<string, unknown>>(callId: string | null): Promise<T>;
  /** Raw SQL against the gateway's own database. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export const MASTER_KEY = 'sk-test-master-key-0123456789';

/**
 * A gateway on its own database (a fresh Postgres database, or an in-memory PGlite) with its
 * own Redis prefix, in front of a mock provider that serves:
 * - `gpt-4o-mini` (catalog price) and `mock-unpriced` (no price anywhere),
 * - `priced-by-config` with per-token overrides from config,
 * - `claude-sonnet` on the mock's Anthropic Messages API (catalog price of Claude Sonnet 4.5),
 * - `gpt-4o-mini-retried` (2 retries) and `gpt-4o-mini-impatient` (300 ms header timeout),
 * - `deepseek-chat`, `openrouter-gpt`, `llama-chat` (Ollama /api/chat), `llama-generate` (Ollama
 *   /api/generate), `text-embedding-3-small` and `instruct` (legacy completions) on the mock.
 */
export async function startTestGateway(
  backend: Backend,
  options: {
    shareWith?: TestGateway;
    /** The URL the gateway connects to, e.g. through a proxy that can cut the connection. */
    gatewayDatabaseUrl?: (url: string) => string;
    rateLimitWindowMs?: number;
    /** Where the gateway finds Redis (its key prefix stays this test's own), e.g. through a proxy. */
    redisUrl?: string;
    /** Where soft-budget alerts go. */
    alertWebhookUrl?: string;
    metrics?: Partial<GatewayConfig['metrics']>;
    migrateOnStart?: boolean;
    shutdownDelayMs?: number;
    /** How long in-flight requests may finish after stop() (default 5 s). */
    shutdownGraceMs?: number;
    /** Collects the gateway's log lines (level info) instead of silencing them. */
    logLines?: string[];
    /** This test's Redis and key prefix, when the test needs to read Redis itself. */
    redis?: { url: string; keyPrefix: string };
    /** Largest request body, bytes (default: the config's default). */
    maxRequestBytes?: number;
    /** A request not all received after this long is cut (default: the config's 60 s). */
    requestTimeoutMs?: number;
    /** A spend report's statement is cancelled after this long (default: the config's 300 s). */
    reportTimeoutMs?: number;
    /** Where `/anthropic/*` goes (default: the mock's Anthropic API). */
    anthropicPassthroughBase?: string;
    /** `litellm_settings.include_cost_in_streaming_usage` (default off, as LiteLLM). */
    includeCostInStreamingUsage?: boolean;
    /** More `model_list` entries, after the standard ones. */
    extraDeployments?: (mock: MockProvider) => Deployment[];
  } = {},
): Promise<TestGateway> {
  const mock = await startMockProvider({ apiKey: 'sk-upstream-secret' });
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-test-'));
  let database: TestDatabase | undefined;
  let redis: { url: string; keyPrefix: string } | undefined;
  if (options.shareWith) {
    // A second instance of the same deployment: same database, same Redis prefix.
    database = { url: options.shareWith.databaseUrl!, drop: async () => {} };
    redis = options.shareWith.redis;
  } else if (backend !== 'pglite') {
    database = await createTestDatabase();
    if (backend === 'postgres+redis') redis = options.redis ?? (await testRedis());
  }
  const deployment = (modelName: string, upstreamModel: string, priceOverrides = {}) => ({
    modelName,
    deploymentId: `test-${modelName}`,
    provider: 'openai' as Deployment['provider'],
    upstreamModel,
    apiBase: mock.openaiBaseUrl,
    apiKey: 'sk-upstream-secret',
    priceOverrides,
  });
  const anthropic = (modelName: string, upstreamModel: string) => ({
    ...deployment(modelName, upstreamModel),
    provider: 'anthropic' as const,
    apiBase: mock.anthropicBaseUrl,
  });
  const config: GatewayConfig = {
    port: 0,
    host: '127.0.0.1',
    masterKey: MASTER_KEY,
    database: database
      ? { kind: 'postgres', url: options.gatewayDatabaseUrl?.(database.url) ?? database.url, poolMax: 5 }
      : { kind: 'pglite', dataDir: 'memory://' },
    dataDir,
    redisUrl: redis ? (options.redisUrl ?? redis.url) : undefined,
    redisKeyPrefix: redis?.keyPrefix ?? 'unused:',
    deployments: [
      deployment('gpt-4o-mini', 'gpt-4o-mini'),
      deployment('mock-unpriced', 'mock-unpriced'),
      deployment('priced-by-config', 'my-finetune', {
        input_cost_per_token: 2e-6,
        output_cost_per_token: 8e-6,
      }),
      anthropic('claude-sonnet', 'claude-sonnet-4-5-20250929'),
      { ...anthropic('claude-retried', 'claude-sonnet-4-5-20250929'), numRetries: 2 },
      { ...deployment('gpt-4o-mini-retried', 'gpt-4o-mini'), numRetries: 2 },
      { ...deployment('gpt-4o-mini-impatient', 'gpt-4o-mini'), timeoutMs: 300 },
      {
        ...deployment('deepseek-chat', 'deepseek-chat'),
        provider: 'deepseek',
        apiBase: mock.deepseekBaseUrl,
      },
      {
        ...deployment('openrouter-gpt', 'openai/gpt-4o'),
        provider: 'openrouter',
        apiBase: mock.openrouterBaseUrl,
      },
      { ...deployment('llama-chat', 'llama3.1'), provider: 'ollama_chat', apiBase: mock.ollamaBaseUrl },
      { ...deployment('llama-generate', 'qwen2.5-coder'), provider: 'ollama', apiBase: mock.ollamaBaseUrl },
      deployment('text-embedding-3-small', 'text-embedding-3-small'),
      deployment('instruct', 'gpt-3.5-turbo-instruct'),
      ...(options.extraDeployments?.(mock) ?? []),
    ],
    demo: false,
    // Short, so tests see rows quickly; the writer's batching is the same.
    spendFlushIntervalMs: 50,
    maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.reportTimeoutMs ? { reportTimeoutMs: options.reportTimeoutMs } : {}),
    upstreamTimeoutMs: 10_000,
    shutdownGraceMs: options.shutdownGraceMs ?? 5_000,
    migrateOnStart: options.migrateOnStart ?? true,
    workers: 1,
    shutdownDelayMs: options.shutdownDelayMs ?? 0,
    // Short, so tests can cross a rate-limit window's edge quickly.
    rateLimitWindowMs: options.rateLimitWindowMs ?? 60_000,
    budgetResetIntervalMs: 200,
    alertWebhookUrl: options.alertWebhookUrl,
    metrics: { requireAuth: false, endUserLabels: true, ...options.metrics },
    anthropicPassthrough: {
      apiBase: options.anthropicPassthroughBase ?? mock.anthropicBaseUrl,
      apiKey: 'sk-upstream-secret',
    },
    clientUpstreams: { allowAllKeys: false, allowlist: [mock.deepseekBaseUrl] },
    endUserHeaders: ['x-litellm-customer-id', 'x-litellm-end-user-id'],
    includeCostInStreamingUsage: options.includeCostInStreamingUsage ?? false,
    openRouterHeaders: {},
    logLevel: 'silent',
  };
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    const logger = options.logLines
      ? pino({ level: 'info' }, { write: (line: string) => void options.logLines?.push(line) })
      : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    gateway = await startGateway(config, logger);
  } catch (error) {
    // A refused start leaves nothing behind.
    await mock.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    gateway,
    mock,
    masterKey: MASTER_KEY,
    databaseUrl: database?.url,
    redis,
    query: (sql, params) => gateway.database.query(sql, params),
    async createKey(body = {}) {
      const response = await fetch(`${gateway.url}/key/generate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`key/generate answered ${response.status}`);
      return ((await response.json()) as { key: string }).key;
    },
    async spendRow<T>(callId: string | null) {
      if (!callId) throw new Error('the response carried no x-litellm-call-id');
      return vi.waitFor(
        async () => {
          const [row] = await gateway.database.query<T>(
            'select * from "LiteLLM_SpendLogs" where request_id = $1',
            [callId],
          );
          if (!row) throw new Error('no spend row yet');
          return row;
        },
        { timeout: 5_000, interval: 50 },
      );
    },
    async close() {
      await gateway.stop();
      await mock.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** POSTs to an admin route with the master key, expects 200, and returns the JSON answer. */
// biome-ignore lint/suspicious/noExplicitAny: admin answers are read field by field in tests
export async function adminPost<T = any>(t: TestGateway, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${t.gateway.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.masterKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200)
    throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** The status of a small chat call (`gpt-4o-mini`) to `t` with `key`, its body read to the end. */
export async function chatStatus(t: TestGateway, key: string): Promise<number> {
  const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.text();
  return response.status;
}

/**
 * A second instance of `owner`'s deployment (same database and Redis prefix) that reaches
 * Postgres through a proxy the test can cut; `owner` made and migrated the database.
 */
export async function startBehindDatabaseProxy(
  owner: TestGateway,
): Promise<{ t: TestGateway; toPostgres: UrlProxy }> {
  const toPostgres = await startProxyFor(owner.databaseUrl!);
  const t = await startTestGateway('postgres+redis', {
    shareWith: owner,
    migrateOnStart: false,
    gatewayDatabaseUrl: toPostgres.through,
  });
  return { t, toPostgres };
}
