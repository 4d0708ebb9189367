import { pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { usd } from './columns.ts';

/**
 * The gateway's own record of spend rows removed by retention (not a LiteLLM table): per key,
 * team, user, end user and tag, the spend of the rows deleted. Each delete adds to it in the
 * same statement, so the all-time counters still reconcile with the rows plus what was pruned.
 */
export const prunedSpend = pgTable(
  'gateway_pruned_spend',
  {
    /** `key`, `team`, `user`, `end_user` or `tag`. */
    entity: text('entity').notNull(),
    id: text('id').notNull(),
    spend: usd('spend').notNull().default('0'),
  },
  (t) => [primaryKey({ columns: [t.entity, t.id] })],
);
