import { mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DatabaseHandle, openDatabase, writeSpendRowsJson } from '@gateway/db';
import type { MockProvider } from '@gateway/mock-provider';
import {
  adjustDeepSeekBody,
  adjustOpenRouterBody,
  createAnthropicAdapter,
  createAnthropicPassthrough,
  createOllamaAdapter,
  createOpenAICompatibleAdapter,
  openAICompatibleProviders,
  type ProviderAdapter,
  UpstreamPools,
} from '@gateway/providers';
import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { InProcessAdmissionLedger, RedisAdmissionLedger } from './admission/ledger.ts';
import { createApp } from './app.ts';
import { joinClusterMetrics } from './cluster.ts';
import { ConfigError } from './config/config-file.ts';
import { demoDeployments } from './config/demo.ts';
import type { Deployment, GatewayConfig } from './config/gateway-config.ts';
import { readOrCreateMasterKey } from './config/master-key.ts';
import {
  type InvalidationBus,
  LocalInvalidationBus,
  RedisInvalidationBus,
} from './lookups/invalidation-bus.ts';
import { createLookups } from './lookups/lookups.ts';
import { hashKey } from './lookups/virtual-key.ts';
import { GatewayMetrics } from './metrics/gateway-metrics.ts';
import { ModelRouter } from './model-call/model-router.ts';
import { drainUsageEstimates } from './model-call/usage-estimate.ts';
import { budgetResetJob } from './spend/budget-reset-job.ts';
import { RedisSpendBuffer } from './spend/redis-spend-buffer.ts';
import { createSoftBudgetAlerts } from './spend/soft-budget-alerts.ts';
import { spendPartitionJob } from './spend/spend-partition-job.ts';
import { readSpendQueueDurability } from './spend/spend-queue-durability.ts';
import { spendRetentionJob } from './spend/spend-retention-job.ts';
import { type SpendQueue, SpendWriter } from './spend/spend-writer.ts';
import { RedisOutage } from './support/redis-outage.ts';
import { GATEWAY_VERSION } from './version.ts';

const SPEND_DRAIN_DEADLINE_MS = 5_000;
/** After the connections closed, how long shutdown waits for cut streams to close their events. */
const IN_FLIGHT_EVENTS_DEADLINE_MS = 2_000;

/** Resolves once `done()` holds, or after `deadlineMs` (checked every 10 ms; shutdown only). */
async function waitUntil(done: () => boolean, deadlineMs: number): Promise<void> {
  for (const until = Date.now() + deadlineMs; !done() && Date.now() < until; ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface RunningGateway {
  /** `http://host:port` as bound. */
  url: string;
  port: number;
  masterKey: { key: string; path: string | undefined; created: boolean };
  database: DatabaseHandle;
  redis: Redis | undefined;
  /** Where spend rows wait to be written: a Redis stream when Redis is configured, else memory. */
  spendQueue: SpendQueue;
  deployments: Deployment[];
  /** The built-in mock, when serving the demo model list. */
  mock: MockProvider | undefined;
  /**
   * Graceful stop: refuse new connections, let in-flight requests finish (closing them after
   * a grace period), write queued spend rows, close pools. Resolves to the number of spend
   * rows that could not be written.
   */
  stop(): Promise<number>;
}

/**
 * Refuses a database migrated by a newer release (this code could corrupt it), and one that
 * needs migrations unless told to apply them: in a cluster a migration Job runs them once,
 * before the rollout, rather than every replica at start.
 */
export async function prepareSchema(
  database: DatabaseHandle,
  migrate: boolean,
  logger: Logger,
): Promise<void> {
  const status = await database.migrationStatus();
  if (status.newerThanCode) {
    await database.close();
    throw new ConfigError(
      'the database schema is newer than this gateway (it was migrated by a newer release); run that release or newer',
    );
  }
  if (status.pending.length === 0) return;
  if (!migrate) {
    await database.close();
    throw new ConfigError(
      `the database needs migrations (${status.pending.join(', ')}): run \`pnpm migrate\` (in Kubernetes, the migration Job) first, or start with --migrate or MIGRATE_ON_START=true on a single node`,
    );
  }
  await database.migrate();
  logger.info({ applied: status.pending }, 'database migrations applied');
}

/**
 * Builds every client once (database, Redis, upstream pools), applies migrations, and serves
 * the app. Used by main.ts and by the integration tests, so both run the same wiring.
 */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<RunningGateway> {
  mkdirSync(config.dataDir, { recursive: true });
  const masterKey = config.masterKey
    ? { key: config.masterKey, path: undefined, created: false }
    : readOrCreateMasterKey(config.dataDir);

  const database = await openDatabase(
    config.database.kind === 'postgres'
      ? {
          kind: 'postgres',
          url: config.database.url,
          poolMax: config.database.poolMax,
          ...(config.reportTimeoutMs ? { reportStatementTimeoutMs: config.reportTimeoutMs } : {}),
        }
      : { kind: 'pglite', dataDir: config.database.dataDir },
  );
  await prepareSchema(database, config.migrateOnStart, logger);

  let redis: Redis | undefined;
  if (config.redisUrl) {
    // Fail fast while Redis is away instead of queueing commands: no request waits on Redis.
    redis = new Redis(config.redisUrl, {
      keyPrefix: config.redisKeyPrefix,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 250,
      // A command that timed out has been answered already (by a fallback): resending it after
      // a reconnect would apply it twice.
      autoResendUnfulfilledCommands: false,
    });
    await redis
      .connect()
      .catch((error) => logger.warn({ err: error }, 'redis unreachable at start; continuing'));
  }

  // Redis failures make one log line per outage; each fallback is counted.
  const redisOutage = new RedisOutage(redis, logger);
  redis?.on('error', (error) => redisOutage.failed('connection', error));

  const pools = new UpstreamPools({
    headersTimeoutMs: config.upstreamTimeoutMs,
    bodyTimeoutMs: config.upstreamTimeoutMs,
  });
  // The mock is loaded only for the demo: it never sits on a configured gateway's request path.
  const mock = config.demo
    ? await (await import('@gateway/mock-provider')).startMockProvider({ keepRequests: 0 })
    : undefined;
  const deployments = mock ? demoDeployments(mock.openaiBaseUrl) : config.deployments;
  for (const warning of config.warnings ?? []) logger.warn(`config: ${warning}`);
  const adapters = new Map<string, ProviderAdapter>([
    ['openai', createOpenAICompatibleAdapter({ pools })],
    ...openAICompatibleProviders.map(
      (id) => [id, createOpenAICompatibleAdapter({ pools }, { id })] as [string, ProviderAdapter],
    ),
    ['anthropic', createAnthropicAdapter({ pools })],
    [
      'deepseek',
      createOpenAICompatibleAdapter({ pools }, { id: 'deepseek', adjustBody: adjustDeepSeekBody }),
    ],
    ['ollama', createOllamaAdapter({ pools }, { mode: 'generate' })],
    ['ollama_chat', createOllamaAdapter({ pools }, { mode: 'chat' })],
    [
      'openrouter',
      createOpenAICompatibleAdapter(
        { pools },
        { id: 'openrouter', adjustBody: adjustOpenRouterBody, headers: config.openRouterHeaders },
      ),
    ],
  ]);
  const unsupported = deployments.filter((d) => !adapters.has(d.provider));
  if (unsupported.length > 0) {
    logger.warn(
      { models: unsupported.map((d) => `${d.modelName} (${d.provider})`) },
      'these models use a provider this gateway does not support yet; calls to them get a 400',
    );
  }

  const spendWriter = new SpendWriter({
    write: (rowsJson) => writeSpendRowsJson(database.db, rowsJson),
    logger,
    flushIntervalMs: config.spendFlushIntervalMs,
  });
  let spendQueue: SpendQueue = spendWriter;
  if (redis) {
    const buffer = new RedisSpendBuffer({
      redis,
      streamKey: `${config.redisKeyPrefix}spend:rows`,
      writer: spendWriter,
      logger,
      flushIntervalMs: config.spendFlushIntervalMs,
      outage: redisOutage,
      ...(config.spendClaimIdleMs ? { claimIdleMs: config.spendClaimIdleMs } : {}),
    });
    await buffer.start();
    spendQueue = buffer;
  } else {
    spendWriter.start();
  }

  const onRedisError = (error: unknown) => redisOutage.failed('cache', error);
  const bus: InvalidationBus = redis
    ? await RedisInvalidationBus.connect(redis, `${config.redisKeyPrefix}invalidate`, onRedisError)
    : new LocalInvalidationBus();
  const lookups = createLookups({ db: database.db, bus, onRedisError, logger, ...(redis ? { redis } : {}) });
  lookups.start();

  const timings = { windowMs: config.rateLimitWindowMs, reservationTtlMs: 15 * 60_000 };
  const localAdmission = new InProcessAdmissionLedger(timings);
  const sharedAdmission = redis
    ? new RedisAdmissionLedger(redis, localAdmission, logger, timings, {
        admitAhead: true,
        outage: redisOutage,
      })
    : undefined;
  const admission = sharedAdmission ?? localAdmission;
  const budgetResets = budgetResetJob({
    db: database.db,
    lookups,
    logger,
    intervalMs: config.budgetResetIntervalMs,
  });
  budgetResets.start();
  // Today's spend-log partition and the week's ahead exist before the first row is written.
  const partitions = spendPartitionJob({ db: database.db, logger });
  await partitions.runOnce();
  partitions.start();
  const retentionPeriodMs = config.spendRetention?.periodMs;
  const retention = config.spendRetention
    ? spendRetentionJob({ db: database.db, logger, ...config.spendRetention })
    : undefined;
  retention?.start();

  const metrics = new GatewayMetrics(spendQueue, config.metrics);
  metrics.watchRedisOutage(redisOutage);
  if (redis) {
    // Checked at start and after every reconnect (a Redis restarted with other settings).
    const checkDurability = async () => {
      const { durable, problems } = await readSpendQueueDurability(redis);
      metrics.setSpendQueueDurable('redis', durable);
      for (const problem of problems)
        logger.warn(`SPEND QUEUE NOT DURABLE: ${problem}. Queued spend rows can be lost.`);
    };
    await checkDurability();
    redis.on('ready', () => void checkDurability());
  } else {
    metrics.setSpendQueueDurable('memory', false);
  }
  const lifecycle = { draining: false, open: 0 };
  const app = createApp({
    lifecycle,
    admission,
    masterKeyHash: hashKey(masterKey.key),
    database,
    lookups,
    spendQueue,
    metrics,
    metricsRequireAuth: config.metrics.requireAuth,
    metricsText: joinClusterMetrics(metrics.registry),
    maxRequestBytes: config.maxRequestBytes,
    onSoftBudgetCrossed: createSoftBudgetAlerts({
      registry: metrics.registry,
      logger,
      webhookUrl: config.alertWebhookUrl,
    }),
    router: new ModelRouter(deployments),
    adapters,
    logger,
    clientUpstreams: config.clientUpstreams,
    endUserHeaders: config.endUserHeaders,
    includeCostInStreamingUsage: config.includeCostInStreamingUsage,
    anthropicPassthrough: {
      client: createAnthropicPassthrough({ pools }),
      apiBase: config.anthropicPassthrough.apiBase,
      apiKey: config.anthropicPassthrough.apiKey,
    },
    cacheKind: redis ? 'redis' : null,
    // Reconciliation leaves out what retention may have pruned.
    ...(retentionPeriodMs !== undefined
      ? { retainedFrom: () => new Date(Date.now() - retentionPeriodMs) }
      : {}),
    version: GATEWAY_VERSION,
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const requestTimeoutMs = config.requestTimeoutMs ?? 60_000;
    const started = serve(
      {
        fetch: app.fetch,
        port: config.port,
        hostname: config.host,
        // A client trickling its request (Node waits 300 s by default) holds a connection and
        // its buffers: it is cut with a 408 once the request has not all arrived in time.
        serverOptions: {
          requestTimeout: requestTimeoutMs,
          headersTimeout: Math.min(60_000, requestTimeoutMs),
          connectionsCheckingInterval: Math.min(30_000, Math.max(100, requestTimeoutMs / 4)),
        },
      },
      () => resolve(started),
    );
    // A port in use (EADDRINUSE) must fail the start, not crash later as an unhandled event.
    started.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  // Responses still being written, so that shutdown can end their connections after them.
  const responding = new Set<ServerResponse>();
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    // Once draining, every answer says `Connection: close` and its connection ends after it:
    // a client that keeps its connection busy cannot hold the process for the grace period.
    if (lifecycle.draining) res.shouldKeepAlive = false;
    responding.add(res);
    res.once('close', () => responding.delete(res));
  });
  /** Ends keep-alive for the answers in flight: before their headers, or after they finish. */
  const closeAfterResponding = () => {
    for (const res of responding) {
      if (!res.headersSent) res.shouldKeepAlive = false;
      else res.once('finish', () => res.socket?.end());
    }
  };
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;

  let stopping: Promise<number> | undefined;
  async function stop(): Promise<number> {
    // Not ready from now on (a load balancer stops sending), while in-flight requests finish.
    lifecycle.draining = true;
    closeAfterResponding();
    // Write what is queued now, while in-flight requests finish: a SIGKILL may follow.
    void spendQueue.flush();
    // Keep serving while load balancers notice (Kubernetes removes the pod from its Service
    // asynchronously); only then stop accepting connections.
    if (config.shutdownDelayMs > 0)
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    const force = setTimeout(() => {
      logger.warn('in-flight requests did not finish in time; closing their connections');
      if ('closeAllConnections' in server) server.closeAllConnections();
    }, config.shutdownGraceMs);
    force.unref();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    clearTimeout(force);
    // Streams cut at the deadline close their wide events as their connections go: their
    // spend rows must be queued before the last flush.
    await waitUntil(() => lifecycle.open <= 0, IN_FLIGHT_EVENTS_DEADLINE_MS);
    await budgetResets.stop();
    await retention?.stop();
    await partitions.stop();
    await lookups.close();
    // No call arrives any more: calls admitted ahead are handed back.
    await sharedAdmission?.handBackTickets();
    // Rows of streams that ended last may still be counting their tokens.
    await drainUsageEstimates();
    const unwritten = await spendQueue.stop(SPEND_DRAIN_DEADLINE_MS);
    await pools.close();
    await mock?.close();
    await bus.close();
    redisOutage.stop();
    await redis?.quit().catch(() => {});
    await database.close();
    return unwritten;
  }

  return {
    url: `http://${host}:${port}`,
    port,
    masterKey,
    database,
    redis,
    spendQueue,
    deployments,
    mock,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}
