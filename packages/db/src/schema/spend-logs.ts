import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { instant, usd } from './columns.ts';

/** How a row's cost was computed, so it can be recomputed or audited later. */
export interface SpendPricing {
  source: string;
  catalogModelId?: string;
  /** USD per million tokens, exact decimal strings. */
  unitPrices?: Record<string, string>;
  /** Token buckets the provider never reported and that were counted by the gateway instead. */
  estimatedUsage?: string[];
  /** Why the row has no cost (`unknown_model`, `unknown_usage`, ...). */
  unpricedReason?: string;
}

/**
 * One row per request, as LiteLLM's `LiteLLM_SpendLogs`, plus explicit cache and reasoning
 * token columns and the unit prices used. Deviations from LiteLLM: `spend` is NULL when the
 * request could not be priced (never a silent 0), token counts are NULL when the provider did
 * not report them, and `request_id` is the gateway's call id (the provider's response id is in
 * `metadata.provider_response_id`) so that a retried write can never count a request twice.
 * The table is partitioned by UTC day of `startTime` (see `spend-partitions.ts`): drizzle-kit
 * does not model partitions, so migration 0009 was written by hand.
 */
export const spendLogs = pgTable(
  'LiteLLM_SpendLogs',
  {
    requestId: text('request_id').notNull(),
    callType: text('call_type').notNull(),
    /** SHA-256 hex of the virtual key (or of the master key). */
    apiKey: text('api_key').notNull().default(''),
    spend: usd('spend'),
    totalTokens: integer('total_tokens'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    cacheReadInputTokens: integer('cache_read_input_tokens'),
    cacheCreationInputTokens: integer('cache_creation_input_tokens'),
    cacheCreation1hInputTokens: integer('cache_creation_1h_input_tokens'),
    reasoningTokens: integer('reasoning_tokens'),
    startTime: instant('startTime').notNull(),
    endTime: instant('endTime').notNull(),
    completionStartTime: instant('completionStartTime'),
    requestDurationMs: integer('request_duration_ms'),
    model: text('model').notNull().default(''),
    modelId: text('model_id').default(''),
    modelGroup: text('model_group').default(''),
    customLlmProvider: text('custom_llm_provider').default(''),
    apiBase: text('api_base').default(''),
    /** Internal user id of the key owner (not the end user). */
    user: text('user').default(''),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    pricing: jsonb('pricing').$type<SpendPricing>(),
    cacheHit: text('cache_hit').default('False'),
    requestTags: jsonb('request_tags').$type<string[]>().notNull().default([]),
    teamId: text('team_id'),
    organizationId: text('organization_id'),
    endUser: text('end_user'),
    sessionId: text('session_id'),
    status: text('status').notNull(),
  },
  (t) => [
    // Partitioned by day on startTime (migration 0009), so the key must hold it; a row sent
    // again is the same JSON, start time included, so it still collides and is written once.
    primaryKey({ columns: [t.requestId, t.startTime] }),
    // /spend/logs date ranges and the global activity views.
    index('LiteLLM_SpendLogs_startTime_idx').on(t.startTime),
    index('LiteLLM_SpendLogs_startTime_request_id_idx').on(t.startTime, t.requestId),
    // /customer/info and end-user reports.
    index('LiteLLM_SpendLogs_end_user_idx').on(t.endUser),
    index('LiteLLM_SpendLogs_session_id_idx').on(t.sessionId),
    // /spend/logs?api_key= and per-key reconciliation.
    index('LiteLLM_SpendLogs_api_key_startTime_idx').on(t.apiKey, t.startTime),
    // /spend/logs/ui?team_id= (LiteLLM's UI filters by team).
    index('LiteLLM_SpendLogs_team_id_startTime_idx').on(t.teamId, t.startTime),
    // /spend/logs?request_id= with the response id a client saw (the provider's).
    index('LiteLLM_SpendLogs_provider_response_id_idx').on(sql`(${t.metadata}->>'provider_response_id')`),
  ],
);

export type SpendLogRow = typeof spendLogs.$inferSelect;
export type NewSpendLogRow = typeof spendLogs.$inferInsert;
