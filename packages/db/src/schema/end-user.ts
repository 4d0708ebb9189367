import { boolean, pgTable, text } from 'drizzle-orm/pg-core';
import { usd } from './columns.ts';

/** End users (customers) seen in requests, as LiteLLM's `LiteLLM_EndUserTable`. */
export const endUsers = pgTable('LiteLLM_EndUserTable', {
  userId: text('user_id').primaryKey(),
  alias: text('alias'),
  spend: usd('spend').notNull().default('0'),
  /** Ours: all-time spend, never reset by `budget_duration` (reconciliation compares it with the rows). */
  lifetimeSpend: usd('lifetime_spend').notNull().default('0'),
  allowedModelRegion: text('allowed_model_region'),
  defaultModel: text('default_model'),
  budgetId: text('budget_id'),
  blocked: boolean('blocked').notNull().default(false),
});

export type EndUserRow = typeof endUsers.$inferSelect;
