import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { instant, usd } from './columns.ts';

/**
 * Virtual keys, named and shaped like LiteLLM's `LiteLLM_VerificationToken` so existing SQL
 * and dashboards keep working. Only the SHA-256 hex of the raw key is stored (`token`).
 */
export const verificationTokens = pgTable(
  'LiteLLM_VerificationToken',
  {
    token: text('token').primaryKey(),
    /** Display form `sk-...XXXX` (last four characters of the raw key). */
    keyName: text('key_name'),
    keyAlias: text('key_alias'),
    softBudgetCooldown: boolean('soft_budget_cooldown').notNull().default(false),
    spend: usd('spend').notNull().default('0'),
    /** Ours: all-time spend, never reset by `budget_duration` (reconciliation compares it with the rows). */
    lifetimeSpend: usd('lifetime_spend').notNull().default('0'),
    expires: instant('expires'),
    models: text('models').array().notNull().default(sql`'{}'::text[]`),
    aliases: jsonb('aliases').$type<Record<string, string>>().notNull().default({}),
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    userId: text('user_id'),
    teamId: text('team_id'),
    organizationId: text('organization_id'),
    budgetId: text('budget_id'),
    permissions: jsonb('permissions').$type<Record<string, unknown>>().notNull().default({}),
    maxParallelRequests: integer('max_parallel_requests'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    blocked: boolean('blocked'),
    tpmLimit: bigint('tpm_limit', { mode: 'number' }),
    rpmLimit: bigint('rpm_limit', { mode: 'number' }),
    maxBudget: usd('max_budget'),
    softBudget: usd('soft_budget'),
    budgetDuration: text('budget_duration'),
    budgetResetAt: instant('budget_reset_at'),
    allowedCacheControls: text('allowed_cache_controls').array().notNull().default(sql`'{}'::text[]`),
    allowedRoutes: text('allowed_routes').array().notNull().default(sql`'{}'::text[]`),
    modelSpend: jsonb('model_spend').$type<Record<string, number>>().notNull().default({}),
    modelMaxBudget: jsonb('model_max_budget').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
    createdBy: text('created_by'),
    updatedBy: text('updated_by'),
    lastActive: instant('last_active'),
  },
  (t) => [
    // /key/list filters by user and team.
    index('LiteLLM_VerificationToken_user_id_team_id_idx').on(t.userId, t.teamId),
    index('LiteLLM_VerificationToken_team_id_idx').on(t.teamId),
    // The budget reset job selects keys whose reset time has passed.
    index('LiteLLM_VerificationToken_budget_reset_at_expires_idx').on(t.budgetResetAt, t.expires),
    // Aliases are unique across keys (LiteLLM newer versions enforce this too).
    uniqueIndex('LiteLLM_VerificationToken_key_alias_key').on(t.keyAlias),
  ],
);

export type VerificationTokenRow = typeof verificationTokens.$inferSelect;
export type NewVerificationTokenRow = typeof verificationTokens.$inferInsert;
