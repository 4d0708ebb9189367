import { type Database, dropSpendPartitionsBefore, pruneSpendLogs } from '@gateway/db';
import type { Logger } from 'pino';
import { PeriodicJob } from '../support/periodic-job.ts';

/** Rows deleted per statement: each is a short transaction that never holds the table long. */
const BATCH_ROWS = 5_000;
/** A pause between batches, so retention yields to the spend writer and the reports. */
const PAUSE_MS = 50;

/**
 * `general_settings.maximum_spend_logs_retention_period`: spend rows older than the period are
 * removed every `maximum_spend_logs_retention_interval`, one instance at a time (the others find
 * the lock held and skip): whole day partitions are dropped, and what no whole day covers (rows
 * from before partitioning, the default partition) is deleted in bounded batches. What goes is
 * added to `gateway_pruned_spend` first, so reconciliation still balances; the daily aggregates
 * and every spend counter are kept.
 */
export interface SpendRetentionOptions {
  db: Database;
  logger: Logger;
  periodMs: number;
  intervalMs: number;
}

/** The retention pass every interval, the first 5 s after start. */
export function spendRetentionJob(options: SpendRetentionOptions): PeriodicJob<number> {
  const job: PeriodicJob<number> = new PeriodicJob(
    () => removeOldSpend(options, job),
    options.intervalMs,
    5_000,
  );
  return job;
}

/** One pass: whole days dropped, then batches until nothing older is left. Resolves to the rows removed. */
async function removeOldSpend(
  { db, logger, periodMs }: SpendRetentionOptions,
  job: PeriodicJob<number>,
): Promise<number> {
  const before = new Date(Date.now() - periodMs);
  let total = 0;
  try {
    const dropped = await dropSpendPartitionsBefore(db, before);
    if (dropped === undefined) return 0;
    total += dropped;
    while (!job.stopped) {
      const deleted = await pruneSpendLogs(db, before, BATCH_ROWS);
      if (deleted === undefined) break;
      total += deleted;
      if (deleted < BATCH_ROWS) break;
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
    if (total > 0) logger.info({ deleted: total, before }, 'spend log retention: old rows deleted');
  } catch (error) {
    logger.warn({ err: error, deleted: total }, 'spend log retention failed; trying again next interval');
  }
  return total;
}
