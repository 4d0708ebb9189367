import { sql } from 'drizzle-orm';
import { pgTable, text } from 'drizzle-orm/pg-core';
import { instant, usd } from './columns.ts';

/** Tags seen on requests, with their spend, as LiteLLM's `LiteLLM_TagTable` (rows made on first sight). */
export const tags = pgTable('LiteLLM_TagTable', {
  tagName: text('tag_name').primaryKey(),
  description: text('description'),
  models: text('models').array().notNull().default(sql`'{}'::text[]`),
  spend: usd('spend').notNull().default('0'),
  budgetId: text('budget_id'),
  createdAt: instant('created_at').notNull().defaultNow(),
  createdBy: text('created_by'),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

export type TagRow = typeof tags.$inferSelect;
