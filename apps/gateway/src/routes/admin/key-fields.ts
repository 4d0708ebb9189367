import type { NewVerificationTokenRow, VerificationTokenRow } from '@gateway/db';
import { z } from 'zod';
import { GatewayHttpError } from '../../errors.ts';
import { addDuration, isDuration } from '../../support/duration.ts';

/** A USD amount small enough to count in nano-dollars (a negative one gets LiteLLM's message below). */
const usdAmount = z.union([z.number().max(1e12), z.literal('').transform(() => null)]).nullish();
const count = z.number().int().nonnegative().nullish();
const durationString = z.string().nullish();

/**
 * The settable fields of a key (contract §2.1), shared by generate, update and regenerate.
 * Absent means "leave as is" (update) or "default" (generate); null clears.
 */
export const keyFields = {
  key_alias: z.string().min(1).max(255).nullish(),
  duration: durationString,
  /** An explicit expiry instant; `duration` wins when both are given. */
  expires: z.iso.datetime({ offset: true }).nullish(),
  models: z.array(z.string()).nullish(),
  aliases: z.record(z.string(), z.string()).nullish(),
  config: z.record(z.string(), z.unknown()).nullish(),
  spend: z.number().nonnegative().nullish(),
  max_budget: usdAmount,
  soft_budget: usdAmount,
  budget_duration: durationString,
  user_id: z.string().nullish(),
  team_id: z.string().nullish(),
  organization_id: z.string().nullish(),
  max_parallel_requests: count,
  tpm_limit: count,
  rpm_limit: count,
  metadata: z.record(z.string(), z.unknown()).nullish(),
  tags: z.array(z.string()).nullish(),
  /** Flags such as `allow_client_side_credentials`: true or false, nothing that merely looks like it. */
  permissions: z.record(z.string(), z.boolean()).nullish(),
  /** `{"<model>": {"budget_limit": 0.5, "time_period": "1d"}}`; the period defaults to 30 days. */
  model_max_budget: z
    .record(
      z.string(),
      z.looseObject({
        budget_limit: z.number().min(0).max(1e12),
        time_period: z.string().refine(isDuration, 'not a duration (30s, 30m, 30h, 1d, 2w, 1mo)').optional(),
      }),
    )
    .nullish(),
  model_rpm_limit: z.record(z.string(), z.number().int().nonnegative()).nullish(),
  model_tpm_limit: z.record(z.string(), z.number().int().nonnegative()).nullish(),
  allowed_cache_controls: z.array(z.string()).nullish(),
  allowed_routes: z.array(z.string()).nullish(),
  blocked: z.boolean().nullish(),
};

const keyFieldsObject = z.object(keyFields);
export type KeyFields = z.output<typeof keyFieldsObject>;

function badRequest(message: string, param: string): GatewayHttpError {
  return new GatewayHttpError({ kind: 'invalid_request', message, param });
}

/**
 * The row changes a request's key fields ask for; fields the request does not name are not
 * in the result. `existingMetadata` is the row's current metadata, into which LiteLLM's
 * metadata shortcuts (`tags`, `model_rpm_limit`, `model_tpm_limit`) are merged.
 */
export function toKeyPatch(
  input: KeyFields,
  now: Date,
  existingMetadata: Record<string, unknown> = {},
): Partial<NewVerificationTokenRow> {
  const patch: Partial<NewVerificationTokenRow> = {};
  for (const field of ['max_budget', 'soft_budget'] as const) {
    const value = input[field];
    if (typeof value === 'number' && value < 0)
      throw badRequest(`${field} cannot be negative. Received: ${value}`, field);
  }
  if (input.key_alias !== undefined) patch.keyAlias = input.key_alias;
  if (input.expires !== undefined) patch.expires = input.expires === null ? null : new Date(input.expires);
  if (input.duration !== undefined) {
    if (input.duration === null || input.duration === '-1') patch.expires = null;
    else {
      const expires = addDuration(now, input.duration);
      if (!expires) throw badRequest(`Invalid duration: ${input.duration}`, 'duration');
      patch.expires = expires;
    }
  }
  if (input.budget_duration !== undefined) {
    if (input.budget_duration === null) {
      patch.budgetDuration = null;
      patch.budgetResetAt = null;
    } else {
      const resetAt = addDuration(now, input.budget_duration);
      if (!resetAt) throw badRequest(`Invalid budget_duration: ${input.budget_duration}`, 'budget_duration');
      patch.budgetDuration = input.budget_duration;
      patch.budgetResetAt = resetAt;
    }
  }
  if (input.models !== undefined) patch.models = input.models ?? [];
  if (input.aliases !== undefined) patch.aliases = input.aliases ?? {};
  if (input.config !== undefined) patch.config = input.config ?? {};
  if (input.permissions !== undefined) patch.permissions = input.permissions ?? {};
  if (input.model_max_budget !== undefined) patch.modelMaxBudget = input.model_max_budget ?? {};
  if (input.allowed_cache_controls !== undefined)
    patch.allowedCacheControls = input.allowed_cache_controls ?? [];
  if (input.allowed_routes !== undefined) patch.allowedRoutes = input.allowed_routes ?? [];
  if (input.spend !== undefined) patch.spend = String(input.spend ?? 0);
  if (input.max_budget !== undefined)
    patch.maxBudget = input.max_budget === null ? null : String(input.max_budget);
  if (input.soft_budget !== undefined)
    patch.softBudget = input.soft_budget === null ? null : String(input.soft_budget);
  if (input.user_id !== undefined) patch.userId = input.user_id;
  if (input.team_id !== undefined) patch.teamId = input.team_id;
  if (input.organization_id !== undefined) patch.organizationId = input.organization_id;
  if (input.max_parallel_requests !== undefined) patch.maxParallelRequests = input.max_parallel_requests;
  if (input.tpm_limit !== undefined) patch.tpmLimit = input.tpm_limit;
  if (input.rpm_limit !== undefined) patch.rpmLimit = input.rpm_limit;
  if (input.blocked !== undefined) patch.blocked = input.blocked;

  const metadata = mergeMetadata(input, existingMetadata);
  if (metadata) patch.metadata = metadata;
  return patch;
}

/**
 * The metadata an update asks for, or undefined when it does not touch metadata: `metadata`
 * replaces the stored object (absent keeps it), then LiteLLM's metadata shortcuts (`tags`,
 * `model_rpm_limit`, `model_tpm_limit`, contract §2.0) are merged in; a null shortcut removes it.
 */
export function mergeMetadata(
  input: {
    metadata?: Record<string, unknown> | null | undefined;
    tags?: string[] | null | undefined;
    model_rpm_limit?: Record<string, number> | null | undefined;
    model_tpm_limit?: Record<string, number> | null | undefined;
  },
  existing: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const shortcuts = {
    tags: input.tags,
    model_rpm_limit: input.model_rpm_limit,
    model_tpm_limit: input.model_tpm_limit,
  };
  if (input.metadata === undefined && Object.values(shortcuts).every((v) => v === undefined))
    return undefined;
  const metadata: Record<string, unknown> = {
    ...(input.metadata === undefined ? existing : (input.metadata ?? {})),
  };
  for (const [name, value] of Object.entries(shortcuts)) {
    if (value === null) delete metadata[name];
    else if (value !== undefined) metadata[name] = value;
  }
  return metadata;
}

const money = (value: string | null) => (value === null ? null : Number(value));
const iso = (value: Date | null) => (value === null ? null : value.toISOString());

/** A key row as LiteLLM's admin API shows it: hash under `token`, never the raw key. */
export function toKeyJson(row: VerificationTokenRow) {
  const metadata = row.metadata;
  return {
    key_name: row.keyName,
    key_alias: row.keyAlias,
    token: row.token,
    token_id: row.token,
    spend: Number(row.spend),
    max_budget: money(row.maxBudget),
    soft_budget: money(row.softBudget),
    expires: iso(row.expires),
    models: row.models,
    aliases: row.aliases,
    config: row.config,
    user_id: row.userId,
    team_id: row.teamId,
    organization_id: row.organizationId,
    budget_id: row.budgetId,
    permissions: row.permissions,
    max_parallel_requests: row.maxParallelRequests,
    metadata,
    tags: Array.isArray(metadata.tags) ? (metadata.tags as string[]) : null,
    blocked: row.blocked,
    tpm_limit: row.tpmLimit,
    rpm_limit: row.rpmLimit,
    budget_duration: row.budgetDuration,
    budget_reset_at: iso(row.budgetResetAt),
    allowed_cache_controls: row.allowedCacheControls,
    allowed_routes: row.allowedRoutes,
    model_spend: row.modelSpend,
    model_max_budget: row.modelMaxBudget,
    model_rpm_limit: (metadata.model_rpm_limit as Record<string, number> | undefined) ?? null,
    model_tpm_limit: (metadata.model_tpm_limit as Record<string, number> | undefined) ?? null,
    litellm_budget_table: null,
    created_at: iso(row.createdAt),
    created_by: row.createdBy,
    updated_at: iso(row.updatedAt),
    updated_by: row.updatedBy,
    last_active: iso(row.lastActive),
  };
}

/** The key object of the admin API, for the OpenAPI description. */
export const keyJsonSchema = z.looseObject({
  key_name: z.string().nullable(),
  key_alias: z.string().nullable(),
  token: z.string().describe('SHA-256 hex of the key: its stable id'),
  token_id: z.string(),
  spend: z.number(),
  max_budget: z.number().nullable(),
  soft_budget: z.number().nullable(),
  expires: z.string().nullable(),
  models: z.array(z.string()),
  user_id: z.string().nullable(),
  team_id: z.string().nullable(),
  organization_id: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  tags: z.array(z.string()).nullable(),
  blocked: z.boolean().nullable(),
  tpm_limit: z.number().nullable(),
  rpm_limit: z.number().nullable(),
  max_parallel_requests: z.number().nullable(),
  budget_duration: z.string().nullable(),
  budget_reset_at: z.string().nullable(),
  created_at: z.string().nullable(),
  updated_at: z.string().nullable(),
});
