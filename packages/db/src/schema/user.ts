import { sql } from 'drizzle-orm';
import { bigint, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { instant, usd } from './columns.ts';

/** Internal users (key owners), as LiteLLM's `LiteLLM_UserTable`. */
export const users = pgTable('LiteLLM_UserTable', {
  userId: text('user_id').primaryKey(),
  userAlias: text('user_alias'),
  teamId: text('team_id'),
  organizationId: text('organization_id'),
  teams: text('teams').array().notNull().default(sql`'{}'::text[]`),
  userRole: text('user_role'),
  maxBudget: usd('max_budget'),
  softBudget: usd('soft_budget'),
  spend: usd('spend').notNull().default('0'),
  /** Ours: all-time spend, never reset by `budget_duration` (reconciliation compares it with the rows). */
  lifetimeSpend: usd('lifetime_spend').notNull().default('0'),
  userEmail: text('user_email'),
  models: text('models').array().notNull().default(sql`'{}'::text[]`),
  metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
  maxParallelRequests: integer('max_parallel_requests'),
  tpmLimit: bigint('tpm_limit', { mode: 'number' }),
  rpmLimit: bigint('rpm_limit', { mode: 'number' }),
  budgetDuration: text('budget_duration'),
  budgetResetAt: instant('budget_reset_at'),
  modelSpend: jsonb('model_spend').$type<Record<string, number>>().notNull().default({}),
  modelMaxBudget: jsonb('model_max_budget').$type<Record<string, unknown>>().notNull().default({}),
  createdAt: instant('created_at').notNull().defaultNow(),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

export type UserRow = typeof users.$inferSelect;
