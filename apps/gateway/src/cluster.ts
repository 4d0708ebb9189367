import cluster, { type Worker } from 'node:cluster';
import { openDatabase } from '@gateway/db';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { GatewayConfig } from './config/gateway-config.ts';
import { readOrCreateMasterKey } from './config/master-key.ts';
import { prepareSchema } from './gateway.ts';

/**
 * `WORKERS=N`: one process per core on one port (node:cluster). The primary serves nothing
 * itself: it migrates the database once, makes sure every worker uses the same master key,
 * forks the workers (the first prints the banner), restarts one that dies, aggregates their
 * metrics for a scrape, and on SIGTERM stops them all and waits for each to finish its
 * requests and write its spend rows. Workers share the rest through Postgres and Redis.
 */

const METRICS_REQUEST = 'gateway:metrics-request';
const METRICS_ANSWER = 'gateway:metrics-answer';
/** Set in a worker's environment: its metrics answer for all workers. */
const WORKER_ENV = 'GATEWAY_CLUSTER_WORKER';
/** Set in the environment of the worker that prints the banner. */
const BANNER_ENV = 'GATEWAY_CLUSTER_BANNER';
/** A worker that died is started again after this long (a crash loop does not spin). */
const RESTART_DELAY_MS = 1_000;

export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

/** Whether this process prints the start banner (always, unless it is a worker other than the first). */
export function printsBanner(): boolean {
  return !isClusterWorker() || process.env[BANNER_ENV] === '1';
}

let nextRequest = 0;

/**
 * In a worker: answers the primary's metric requests from `registry`, and returns what
 * `/metrics` serves: every worker's metrics aggregated by the primary (the worker's own alone
 * if the primary does not answer within 5 s). Outside a cluster: undefined.
 */
export function joinClusterMetrics(registry: Registry): (() => Promise<string>) | undefined {
  if (!isClusterWorker()) return undefined;
  // The constructor registers prom-client's answer to the primary's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const answers = new Map<number, (text: string | undefined) => void>();
  process.on('message', (message: { type?: string; id?: number; text?: string }) => {
    if (message?.type !== METRICS_ANSWER || message.id === undefined) return;
    answers.get(message.id)?.(message.text);
    answers.delete(message.id);
  });
  return () =>
    new Promise<string>((resolve) => {
      const id = nextRequest++;
      const timer = setTimeout(() => {
        answers.delete(id);
        resolve(registry.metrics());
      }, 5_000);
      answers.set(id, (text) => {
        clearTimeout(timer);
        resolve(text ?? registry.metrics());
      });
      process.send?.({ type: METRICS_REQUEST, id });
    });
}

/** Runs the primary of a `WORKERS=N` cluster until SIGTERM/SIGINT; exits with the workers' worst code. */
export async function runPrimary(config: GatewayConfig, logger: Logger): Promise<void> {
  // Before any worker starts: one migration, one master key for all.
  if (!config.masterKey) readOrCreateMasterKey(config.dataDir);
  if (config.database.kind === 'postgres') {
    const database = await openDatabase({ kind: 'postgres', url: config.database.url, poolMax: 1 });
    await prepareSchema(database, config.migrateOnStart, logger);
    await database.close();
  }

  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: { type?: string; id?: number }) => {
    if (message?.type !== METRICS_REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_ANSWER, id: message.id, text }),
      (error: Error) => {
        logger.warn({ err: error }, 'metrics: a worker did not answer; this scrape shows one worker');
        worker.send({ type: METRICS_ANSWER, id: message.id });
      },
    );
  });

  let stopping = false;
  let worstCode = 0;
  const fork = (banner: boolean) =>
    cluster.fork({ [WORKER_ENV]: '1', [BANNER_ENV]: banner ? '1' : '0', MIGRATE_ON_START: 'false' });
  cluster.on('exit', (worker, code, signal) => {
    worstCode = Math.max(worstCode, code ?? 1);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        logger.info({ code: worstCode }, 'all workers stopped');
        process.exit(worstCode);
      }
      return;
    }
    logger.error(
      { worker: worker.process.pid, code, signal },
      `a worker exited; starting another in ${RESTART_DELAY_MS} ms`,
    );
    setTimeout(() => {
      if (!stopping) fork(false);
    }, RESTART_DELAY_MS);
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: config.workers }, 'stopping the workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(worstCode);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < config.workers; i++) fork(i === 0);
}
