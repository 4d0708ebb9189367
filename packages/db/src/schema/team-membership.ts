import { pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { usd } from './columns.ts';

/** A user's membership of a team and their spend in it, as LiteLLM's `LiteLLM_TeamMembership`. */
export const teamMemberships = pgTable(
  'LiteLLM_TeamMembership',
  {
    userId: text('user_id').notNull(),
    teamId: text('team_id').notNull(),
    spend: usd('spend').notNull().default('0'),
    budgetId: text('budget_id'),
  },
  (t) => [primaryKey({ columns: [t.userId, t.teamId] })],
);

export type TeamMembershipRow = typeof teamMemberships.$inferSelect;
