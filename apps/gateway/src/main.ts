import cluster from 'node:cluster';
import { relative } from 'node:path';
import { pino } from 'pino';
import { printsBanner, runPrimary } from './cluster.ts';
import { ConfigError } from './config/config-file.ts';
import { type GatewayConfig, loadGatewayConfig } from './config/gateway-config.ts';
import { type RunningGateway, startGateway } from './gateway.ts';
import { ModelRouter } from './model-call/model-router.ts';
import { GATEWAY_VERSION } from './version.ts';

let config: GatewayConfig;
try {
  config = loadGatewayConfig(process.env, process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

// Log lines leave in batches (up to 4 KB, at least every 250 ms) instead of one write(2) per
// request (that syscall was about 3% of the gateway's CPU at 500 req/s); pino writes what is
// buffered when the process exits. If stdout stops taking lines, at most 16 MB wait for it and
// later lines are dropped rather than growing the heap without end.
const logger = pino(
  { level: config.logLevel, base: { service: 'llm-gateway' } },
  pino.destination({
    dest: 1,
    sync: false,
    minLength: 4096,
    maxLength: 16 * 1024 * 1024,
    periodicFlush: 250,
  }),
);
if (config.workers > 1 && cluster.isPrimary) {
  try {
    await runPrimary(config, logger);
  } catch (error) {
    console.error(`Cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
} else {
  await serve();
}

/** Starts the gateway in this process (alone, or as one worker of a cluster) until SIGTERM. */
async function serve(): Promise<void> {
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(config, logger);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === 'EADDRINUSE'
        ? `Cannot start: port ${config.port} is already in use (set PORT to another one).`
        : `Cannot start: ${(error as Error).message}`,
    );
    process.exit(1);
  }
  if (printsBanner()) console.log(banner(gateway, config));

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const unwritten = await gateway.stop();
    logger.info({ unwrittenSpendRows: unwritten }, 'stopped');
    process.exit(unwritten > 0 ? 1 : 0);
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  // A bug must not silently lose the queued spend rows: log it, then stop gracefully.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  process.once('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; shutting down');
    void shutdown('uncaughtException');
  });
}

/** What a person starting the gateway needs: where it is, what it uses, and a first call. */
function banner(gateway: RunningGateway, config: GatewayConfig): string {
  const { masterKey } = gateway;
  const masterLine = masterKey.path
    ? `${masterKey.key}   (${masterKey.created ? 'generated and saved to' : 'read from'} ${relative(process.cwd(), masterKey.path)})`
    : `set by ${process.env.LITELLM_MASTER_KEY ? 'LITELLM_MASTER_KEY' : 'general_settings.master_key'} (sk-...${masterKey.key.slice(-4)})`;
  const database =
    config.database.kind === 'pglite'
      ? `PGlite, embedded (${relative(process.cwd(), config.database.dataDir)})`
      : 'Postgres';
  const models = new ModelRouter(gateway.deployments).modelNames();
  const lines = [
    `LLM gateway ${GATEWAY_VERSION} listening on ${gateway.url}`,
    `  database:   ${database}`,
    `  cache:      ${gateway.redis ? 'Redis' : 'in-process'}`,
    ...(config.workers > 1 ? [`  workers:    ${config.workers} processes on this port (WORKERS)`] : []),
    `  master key: ${masterLine}`,
    `  models:     ${models.join(', ')}${gateway.mock ? '  (demo: answered offline by the built-in mock provider)' : ''}`,
  ];
  // Only a key we generated is printed whole; an operator's key is never echoed to logs.
  const shownKey = masterKey.path ? masterKey.key : '$LITELLM_MASTER_KEY';
  lines.push(
    '',
    'Try it:',
    `  curl -s ${gateway.url}/v1/chat/completions -H "Authorization: Bearer ${shownKey}" -H "Content-Type: application/json" -d '{"model":"${models[0] ?? 'gpt-4o-mini'}","messages":[{"role":"user","content":"Hello"}]}'`,
  );
  return lines.join('\n');
}
