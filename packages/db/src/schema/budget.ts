import { sql } from 'drizzle-orm';
import { bigint, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { instant, usd } from './columns.ts';

/** Reusable budgets referenced by keys, end users and tags, as LiteLLM's `LiteLLM_BudgetTable`. */
export const budgets = pgTable('LiteLLM_BudgetTable', {
  budgetId: text('budget_id').primaryKey(),
  maxBudget: usd('max_budget'),
  softBudget: usd('soft_budget'),
  maxParallelRequests: integer('max_parallel_requests'),
  tpmLimit: bigint('tpm_limit', { mode: 'number' }),
  rpmLimit: bigint('rpm_limit', { mode: 'number' }),
  modelMaxBudget: jsonb('model_max_budget').$type<Record<string, unknown>>(),
  budgetDuration: text('budget_duration'),
  budgetResetAt: instant('budget_reset_at'),
  allowedModels: text('allowed_models').array().notNull().default(sql`'{}'::text[]`),
  createdAt: instant('created_at').notNull().defaultNow(),
  createdBy: text('created_by'),
  updatedAt: instant('updated_at').notNull().defaultNow(),
  updatedBy: text('updated_by'),
});

export type BudgetRow = typeof budgets.$inferSelect;
