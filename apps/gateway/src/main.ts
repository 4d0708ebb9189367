import { mkdirSync } from 'node:fs';
import { relative } from 'node:path';
import { openDatabase, writeSpendBatch } from '@gateway/db';
import { createOpenAICompatibleAdapter, type ProviderAdapter, UpstreamPools } from '@gateway/providers';
import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createApp } from './app.ts';
import { ConfigError } from './config/config-file.ts';
import { demoDeployments } from './config/demo.ts';
import { loadGatewayConfig } from './config/gateway-config.ts';
import { readOrCreateMasterKey } from './config/master-key.ts';
import { MemoryKeyCache, RedisKeyCache } from './services/key-cache.ts';
import { KeyService } from './services/key-service.ts';
import { ModelRouter } from './services/model-router.ts';
import { SpendWriter } from './services/spend-writer.ts';
import { hashKey } from './services/virtual-key.ts';
import { GATEWAY_VERSION } from './version.ts';

const SHUTDOWN_GRACE_MS = 30_000;

let config: ReturnType<typeof loadGatewayConfig>;
try {
  config = loadGatewayConfig(process.env, process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const logger = pino({ level: config.logLevel, base: { service: 'llm-gateway' } });
mkdirSync(config.dataDir, { recursive: true });

const master = config.masterKey
  ? { key: config.masterKey, path: undefined, created: false }
  : readOrCreateMasterKey(config.dataDir);

const database = await openDatabase(
  config.database.kind === 'postgres'
    ? { kind: 'postgres', url: config.database.url, poolMax: config.database.poolMax }
    : { kind: 'pglite', dataDir: config.database.dataDir },
);
await database.migrate();

let redis: Redis | undefined;
if (config.redisUrl) {
  // Fail fast while Redis is away instead of queueing commands: no request waits on Redis.
  redis = new Redis(config.redisUrl, {
    keyPrefix: config.redisKeyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 250,
  });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis error'));
  await redis
    .connect()
    .catch((error) => logger.warn({ err: error }, 'redis unreachable at start; continuing'));
}

const pools = new UpstreamPools({
  headersTimeoutMs: config.upstreamTimeoutMs,
  bodyTimeoutMs: config.upstreamTimeoutMs,
});
// The mock is loaded only for the demo: it never sits on a configured gateway's request path.
const mock = config.demo
  ? await (await import('@gateway/mock-provider')).startMockProvider({ keepRequests: 0 })
  : undefined;
const deployments = mock ? demoDeployments(mock.openaiBaseUrl) : config.deployments;
const adapters = new Map<string, ProviderAdapter>([['openai', createOpenAICompatibleAdapter({ pools })]]);
const unsupported = deployments.filter((d) => !adapters.has(d.provider));
if (unsupported.length > 0) {
  logger.warn(
    { models: unsupported.map((d) => `${d.modelName} (${d.provider})`) },
    'these models use a provider this gateway does not support yet; calls to them get a 400',
  );
}

const spendWriter = new SpendWriter({
  write: (rows) => writeSpendBatch(database.db, rows),
  logger,
  flushIntervalMs: config.spendFlushIntervalMs,
});
spendWriter.start();

const keys = new KeyService(
  database.db,
  new MemoryKeyCache(5_000),
  redis
    ? new RedisKeyCache(redis, 60, (error) => logger.warn({ err: error }, 'redis key cache unavailable'))
    : undefined,
);

const app = createApp({
  masterKeyHash: hashKey(master.key),
  database,
  keys,
  spendWriter,
  router: new ModelRouter(deployments),
  adapters,
  logger,
  cacheKind: redis ? 'redis' : null,
  version: GATEWAY_VERSION,
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${info.port}`;
  const masterLine = master.path
    ? `${master.key}   (${master.created ? 'generated and saved to' : 'read from'} ${relative(process.cwd(), master.path)})`
    : `from ${process.env.LITELLM_MASTER_KEY ? 'LITELLM_MASTER_KEY' : 'config general_settings.master_key'} (sk-...${master.key.slice(-4)})`;
  const lines = [
    `LLM gateway ${GATEWAY_VERSION} listening on ${url}`,
    `  database:   ${database.kind === 'pglite' ? `PGlite, embedded (${relative(process.cwd(), config.database.kind === 'pglite' ? config.database.dataDir : '')})` : 'Postgres'}`,
    `  cache:      ${redis ? 'Redis' : 'in-process'}`,
    `  master key: ${masterLine}`,
    `  models:     ${new ModelRouter(deployments).modelNames().join(', ')}${mock ? '  (demo: answered offline by the built-in mock provider)' : ''}`,
  ];
  if (master.path) {
    lines.push(
      '',
      'Try it:',
      `  curl -s ${url}/v1/chat/completions -H "Authorization: Bearer ${master.key}" -H "Content-Type: application/json" -d '{"model":"${deployments[0]?.modelName ?? 'gpt-4o-mini'}","messages":[{"role":"user","content":"Hello"}]}'`,
    );
  }
  console.log(lines.join('\n'));
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
  const force = setTimeout(() => {
    logger.warn('in-flight requests did not finish in time; closing their connections');
    if ('closeAllConnections' in server) server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  force.unref();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  clearTimeout(force);
  const unwritten = await spendWriter.stop(10_000);
  await pools.close();
  await mock?.close();
  await redis?.quit().catch(() => {});
  await database.close();
  logger.info({ unwrittenSpendRows: unwritten }, 'stopped');
  process.exit(unwritten > 0 ? 1 : 0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
