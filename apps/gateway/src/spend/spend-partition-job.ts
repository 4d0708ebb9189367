import { type Database, ensureSpendPartitions } from '@gateway/db';
import type { Logger } from 'pino';
import { PeriodicJob } from '../support/periodic-job.ts';

/** Days of spend-log partitions kept ready ahead of today (a day behind is made too). */
const DAYS_AHEAD = 7;
const EVERY_MS = 3600_000;

/**
 * Keeps the spend log's day partitions made ahead of time: at start (before serving) and every
 * hour, on every instance (making one that exists is a no-op). A row whose day has no partition
 * still lands, in the default partition, and moves into its day's partition when that is made.
 */
export function spendPartitionJob(options: { db: Database; logger: Logger }): PeriodicJob<void> {
  return new PeriodicJob(() => makeSpendPartitions(options), EVERY_MS);
}

/** One pass (yesterday to a week ahead); failures are logged and tried again next hour. */
async function makeSpendPartitions({ db, logger }: { db: Database; logger: Logger }): Promise<void> {
  try {
    const made = await ensureSpendPartitions(db, new Date(Date.now() - 86_400_000), DAYS_AHEAD + 2);
    if (made.length > 0) logger.info({ made }, 'spend log partitions made');
  } catch (error) {
    logger.warn({ err: error }, 'spend log partitions: could not make them; trying again in an hour');
  }
}
