import { bigint, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { instant, usd } from './columns.ts';

/** The counters every daily aggregate keeps (contract §3.8), and its row times. */
function dailyCounters() {
  const count = (name: string) => bigint(name, { mode: 'number' }).notNull().default(0);
  return {
    promptTokens: count('prompt_tokens'),
    completionTokens: count('completion_tokens'),
    cacheReadInputTokens: count('cache_read_input_tokens'),
    cacheCreationInputTokens: count('cache_creation_input_tokens'),
    spend: usd('spend').notNull().default('0'),
    apiRequests: count('api_requests'),
    successfulRequests: count('successful_requests'),
    failedRequests: count('failed_requests'),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  };
}

/**
 * LiteLLM's daily aggregate tables share one shape: an entity column plus per day, key, model
 * and provider counters. Upserts on the unique tuple increment the counters.
 */
function dailySpendTable<const TName extends string, const TEntity extends string>(
  tableName: TName,
  entityColumn: TEntity,
) {
  return pgTable(
    tableName,
    {
      id: uuid('id').primaryKey().defaultRandom(),
      entityId: text(entityColumn),
      /** UTC day, `YYYY-MM-DD`. */
      date: text('date').notNull(),
      apiKey: text('api_key').notNull(),
      model: text('model'),
      modelGroup: text('model_group'),
      customLlmProvider: text('custom_llm_provider'),
      ...dailyCounters(),
    },
    (t) => [
      // The upsert target; NULL model/provider values must still collide.
      unique(`${tableName}_entity_date_key_model_provider_key`)
        .on(t.entityId, t.date, t.apiKey, t.model, t.customLlmProvider)
        .nullsNotDistinct(),
    ],
  );
}

export const dailyUserSpend = dailySpendTable('LiteLLM_DailyUserSpend', 'user_id');
export const dailyTeamSpend = dailySpendTable('LiteLLM_DailyTeamSpend', 'team_id');
export const dailyEndUserSpend = dailySpendTable('LiteLLM_DailyEndUserSpend', 'end_user_id');
export const dailyTagSpend = dailySpendTable('LiteLLM_DailyTagSpend', 'tag');

/**
 * The gateway's own complete daily aggregate (not a LiteLLM table): every spend row counted once
 * per UTC day, key, owner, team, end user, model and provider. LiteLLM's tables above skip rows
 * without their entity (no user, team, end user or tag), so totals and reports over many days
 * could only sum the raw rows; they read this instead. Empty text stands for "none", so the
 * unique key compares plainly.
 */
export const dailySpend = pgTable(
  'gateway_daily_spend',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** UTC day, `YYYY-MM-DD`. */
    date: text('date').notNull(),
    apiKey: text('api_key').notNull(),
    user: text('user').notNull().default(''),
    teamId: text('team_id').notNull().default(''),
    endUser: text('end_user').notNull().default(''),
    model: text('model').notNull().default(''),
    modelGroup: text('model_group'),
    customLlmProvider: text('custom_llm_provider').notNull().default(''),
    totalTokens: bigint('total_tokens', { mode: 'number' }).notNull().default(0),
    ...dailyCounters(),
  },
  (t) => [
    // The upsert target; date first, so day ranges (every report) read a slice of it.
    unique('gateway_daily_spend_day_key').on(
      t.date,
      t.apiKey,
      t.user,
      t.teamId,
      t.endUser,
      t.model,
      t.customLlmProvider,
    ),
  ],
);
