import { findKeyByHash, insertKey, type VerificationTokenRow } from '@gateway/db';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { GatewayHttpError } from '../errors.ts';
import { authenticate, requireAdmin } from '../middleware/authenticate.ts';
import { addDuration } from '../services/duration.ts';
import { displayKeyName, generateRawKey, hashKey, maskKey, toKeyHash } from '../services/virtual-key.ts';
import { parseJsonBody } from './parse-json-body.ts';

const usdAmount = z.union([z.number(), z.literal('').transform(() => null)]).nullish();
const count = z.number().int().nonnegative().nullish();

/** `POST /key/generate` body: LiteLLM's fields (contract §2.1); unknown fields are ignored. */
const generateKeySchema = z.looseObject({
  key: z.string().min(1).optional(),
  key_alias: z.string().min(1).nullish(),
  duration: z.string().nullish(),
  models: z.array(z.string()).default([]),
  aliases: z.record(z.string(), z.string()).default({}),
  config: z.record(z.string(), z.unknown()).default({}),
  spend: z.number().nonnegative().default(0),
  max_budget: usdAmount,
  soft_budget: usdAmount,
  budget_duration: z.string().nullish(),
  user_id: z.string().nullish(),
  team_id: z.string().nullish(),
  organization_id: z.string().nullish(),
  max_parallel_requests: count,
  tpm_limit: count,
  rpm_limit: count,
  metadata: z.record(z.string(), z.unknown()).default({}),
  tags: z.array(z.string()).nullish(),
  permissions: z.record(z.string(), z.unknown()).default({}),
  model_max_budget: z.record(z.string(), z.unknown()).default({}),
  model_rpm_limit: z.record(z.string(), z.number()).nullish(),
  model_tpm_limit: z.record(z.string(), z.number()).nullish(),
  allowed_cache_controls: z.array(z.string()).default([]),
  allowed_routes: z.array(z.string()).default([]),
  blocked: z.boolean().nullish(),
});

const money = (value: string | null) => (value === null ? null : Number(value));
const iso = (value: Date | null) => (value === null ? null : value.toISOString());

/** A key row as LiteLLM's admin API shows it (hash under `token`, never the raw key). */
function toKeyJson(row: VerificationTokenRow) {
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
    tags: Array.isArray(metadata.tags) ? metadata.tags : null,
    blocked: row.blocked,
    tpm_limit: row.tpmLimit,
    rpm_limit: row.rpmLimit,
    budget_duration: row.budgetDuration,
    budget_reset_at: iso(row.budgetResetAt),
    allowed_cache_controls: row.allowedCacheControls,
    allowed_routes: row.allowedRoutes,
    model_spend: row.modelSpend,
    model_max_budget: row.modelMaxBudget,
    model_rpm_limit: metadata.model_rpm_limit ?? null,
    model_tpm_limit: metadata.model_tpm_limit ?? null,
    litellm_budget_table: null,
    created_at: iso(row.createdAt),
    created_by: row.createdBy,
    updated_at: iso(row.updatedAt),
    updated_by: row.updatedBy,
    last_active: iso(row.lastActive),
  };
}

function badRequest(message: string, param?: string): GatewayHttpError {
  return new GatewayHttpError({ kind: 'invalid_request', message, ...(param ? { param } : {}) });
}

/** Postgres unique violation on the alias index (the error may be wrapped by drizzle). */
function isAliasConflict(error: unknown): boolean {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const { code, constraint } = e as { code?: string; constraint?: string };
    if (code === '23505')
      return constraint === 'LiteLLM_VerificationToken_key_alias_key' || constraint === undefined;
  }
  return false;
}

/** `POST /key/generate` and `GET /key/info` (contract §2.1, §2.3). */
export function keyRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use('/key/*', authenticate(deps));

  app.post('/key/generate', requireAdmin(), async (c) => {
    const body = generateKeySchema.safeParse(await parseJsonBody(c.req.raw));
    if (!body.success) {
      const issue = body.error.issues[0];
      const param = issue?.path.join('.');
      throw badRequest(
        `Invalid request body: ${param ? `${param}: ` : ''}${issue?.message ?? 'invalid'}`,
        param,
      );
    }
    const input = body.data;
    if (input.key !== undefined && !input.key.startsWith('sk-')) {
      throw badRequest(
        `Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: ${maskKey(input.key)}`,
        'key',
      );
    }
    for (const field of ['max_budget', 'soft_budget'] as const) {
      const value = input[field];
      if (typeof value === 'number' && value < 0) {
        throw badRequest(`${field} cannot be negative. Received: ${value}`, field);
      }
    }
    const now = new Date();
    const expires = input.duration ? addDuration(now, input.duration) : null;
    if (input.duration && !expires) throw badRequest(`Invalid duration: ${input.duration}`, 'duration');
    const budgetResetAt = input.budget_duration ? addDuration(now, input.budget_duration) : null;
    if (input.budget_duration && !budgetResetAt) {
      throw badRequest(`Invalid budget_duration: ${input.budget_duration}`, 'budget_duration');
    }
    // LiteLLM keeps these "metadata fields" inside metadata (contract §2.0).
    const metadata: Record<string, unknown> = { ...input.metadata };
    if (input.tags) metadata.tags = input.tags;
    if (input.model_rpm_limit) metadata.model_rpm_limit = input.model_rpm_limit;
    if (input.model_tpm_limit) metadata.model_tpm_limit = input.model_tpm_limit;

    const rawKey = input.key ?? generateRawKey();
    let row: VerificationTokenRow;
    try {
      row = await insertKey(deps.database.db, {
        token: hashKey(rawKey),
        keyName: displayKeyName(rawKey),
        keyAlias: input.key_alias ?? null,
        spend: String(input.spend),
        expires,
        models: input.models,
        aliases: input.aliases,
        config: input.config,
        userId: input.user_id ?? null,
        teamId: input.team_id ?? null,
        organizationId: input.organization_id ?? null,
        permissions: input.permissions,
        maxParallelRequests: input.max_parallel_requests ?? null,
        metadata,
        blocked: input.blocked ?? null,
        tpmLimit: input.tpm_limit ?? null,
        rpmLimit: input.rpm_limit ?? null,
        maxBudget: input.max_budget != null ? String(input.max_budget) : null,
        softBudget: input.soft_budget != null ? String(input.soft_budget) : null,
        budgetDuration: input.budget_duration ?? null,
        budgetResetAt,
        allowedCacheControls: input.allowed_cache_controls,
        allowedRoutes: input.allowed_routes,
        modelMaxBudget: input.model_max_budget,
        createdAt: now,
        updatedAt: now,
        createdBy: 'default_user_id',
        updatedBy: 'default_user_id',
      });
    } catch (error) {
      if (input.key_alias && isAliasConflict(error)) {
        throw badRequest(
          `Key with alias '${input.key_alias}' already exists. Unique key aliases across all keys are required.`,
          'key_alias',
        );
      }
      if (isAliasConflict(error)) throw badRequest('This key already exists.', 'key');
      throw error;
    }
    return c.json({ key: rawKey, ...toKeyJson(row) });
  });

  app.get('/key/info', async (c) => {
    const caller = c.get('caller');
    const asked = c.req.query('key');
    const tokenHash = asked ? toKeyHash(asked) : caller.kind === 'virtual' ? caller.key.tokenHash : undefined;
    if (!tokenHash) throw badRequest('Pass the key to look up as ?key=', 'key');
    if (caller.kind === 'virtual' && caller.key.tokenHash !== tokenHash) {
      throw new GatewayHttpError({
        kind: 'forbidden',
        message: "You are not allowed to access this key's info. Your role=internal_user",
      });
    }
    // Read from the database, not the caches: spend must be the written total.
    const row = await findKeyByHash(deps.database.db, tokenHash);
    if (!row)
      throw new GatewayHttpError({ kind: 'not_found', message: 'Key not found in database', param: 'key' });
    const { token: _hash, token_id: _id, ...info } = toKeyJson(row);
    return c.json({ key: asked ?? tokenHash, info });
  });
  return app;
}
