import { bigserial, index, pgTable, text } from 'drizzle-orm/pg-core';
import { instant } from './columns.ts';

/**
 * The gateway's own log of admin changes that make cached entries stale (not a LiteLLM table).
 * A change and its rows commit together, so a revocation is durable before any cache hears of
 * it; every instance reads the log every second, which reaches instances the Redis channel
 * could not (Redis down, a lost message). Rows are kept for an hour.
 */
export const cacheInvalidations = pgTable(
  'gateway_cache_invalidations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** `<namespace>:<id>`, as on the Redis channel: `key:<hash>`, `team:<id>`, … */
    entry: text('entry').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  // The poll reads the last seconds' rows; pruning deletes by age.
  (t) => [index('gateway_cache_invalidations_created_at_idx').on(t.createdAt)],
);
