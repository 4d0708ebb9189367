import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { instant, usd } from './columns.ts';

/** Teams, as LiteLLM's `LiteLLM_TeamTable`. */
export const teams = pgTable(
  'LiteLLM_TeamTable',
  {
    teamId: text('team_id').primaryKey(),
    teamAlias: text('team_alias'),
    organizationId: text('organization_id'),
    admins: text('admins').array().notNull().default(sql`'{}'::text[]`),
    members: text('members').array().notNull().default(sql`'{}'::text[]`),
    membersWithRoles: jsonb('members_with_roles').$type<unknown[]>().notNull().default([]),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    maxBudget: usd('max_budget'),
    softBudget: usd('soft_budget'),
    spend: usd('spend').notNull().default('0'),
    /** Ours: all-time spend, never reset by `budget_duration` (reconciliation compares it with the rows). */
    lifetimeSpend: usd('lifetime_spend').notNull().default('0'),
    models: text('models').array().notNull().default(sql`'{}'::text[]`),
    maxParallelRequests: integer('max_parallel_requests'),
    tpmLimit: bigint('tpm_limit', { mode: 'number' }),
    rpmLimit: bigint('rpm_limit', { mode: 'number' }),
    budgetDuration: text('budget_duration'),
    budgetResetAt: instant('budget_reset_at'),
    blocked: boolean('blocked').notNull().default(false),
    modelSpend: jsonb('model_spend').$type<Record<string, number>>().notNull().default({}),
    modelMaxBudget: jsonb('model_max_budget').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('LiteLLM_TeamTable_organization_id_idx').on(t.organizationId),
    // /team/list filters and sorts by alias and creation time.
    index('LiteLLM_TeamTable_team_alias_idx').on(t.teamAlias),
    index('LiteLLM_TeamTable_created_at_idx').on(t.createdAt),
  ],
);

export type TeamRow = typeof teams.$inferSelect;
