import { randomUUID } from 'node:crypto';
import {
  addTeamMembers,
  deleteUsers,
  findTeam,
  findUser,
  findUserByEmail,
  insertKey,
  insertUser,
  keysOfUser,
  listUsers,
  type NewUserRow,
  rowToJson,
  teams,
  type UserRow,
  updateUser,
  users,
  type VerificationTokenRow,
} from '@gateway/db';
import { z } from 'zod';
import type { AppDeps } from '../../app-env.ts';
import { GatewayHttpError, isUniqueViolation } from '../../errors.ts';
import { displayKeyName, generateRawKey, hashKey } from '../../lookups/virtual-key.ts';
import { addDuration } from '../../support/duration.ts';
import type { AdminApi } from './admin-api.ts';
import { type KeyFields, keyFields, keyJsonSchema, toKeyJson, toKeyPatch } from './key-fields.ts';

const roles = ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer'] as const;

/** User fields settable on create and update (contract §2.10). */
const userFields = {
  user_email: z.string().min(1).nullish(),
  user_alias: z.string().nullish(),
  user_role: z.enum(roles).nullish(),
  max_budget: z.number().nonnegative().nullish(),
  soft_budget: z.number().nonnegative().nullish(),
  budget_duration: z.string().nullish(),
  models: z.array(z.string()).nullish(),
  tpm_limit: z.number().int().nonnegative().nullish(),
  rpm_limit: z.number().int().nonnegative().nullish(),
  max_parallel_requests: z.number().int().nonnegative().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  organization_id: z.string().nullish(),
};
type UserFields = z.output<z.ZodObject<typeof userFields>>;

export const userJsonSchema = z.looseObject({
  user_id: z.string(),
  user_email: z.string().nullable(),
  user_alias: z.string().nullable(),
  user_role: z.string().nullable(),
  teams: z.array(z.string()),
  max_budget: z.number().nullable(),
  spend: z.number(),
  models: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  tpm_limit: z.number().nullable(),
  rpm_limit: z.number().nullable(),
  budget_duration: z.string().nullable(),
  budget_reset_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

const userJson = (row: UserRow) => rowToJson(users, row);

function toUserPatch(input: UserFields, now: Date): Partial<NewUserRow> {
  const patch: Partial<NewUserRow> = {};
  if (input.user_email !== undefined) patch.userEmail = input.user_email;
  if (input.user_alias !== undefined) patch.userAlias = input.user_alias;
  if (input.user_role !== undefined) patch.userRole = input.user_role;
  if (input.max_budget !== undefined)
    patch.maxBudget = input.max_budget === null ? null : String(input.max_budget);
  if (input.soft_budget !== undefined)
    patch.softBudget = input.soft_budget === null ? null : String(input.soft_budget);
  if (input.models !== undefined) patch.models = input.models ?? [];
  if (input.tpm_limit !== undefined) patch.tpmLimit = input.tpm_limit;
  if (input.rpm_limit !== undefined) patch.rpmLimit = input.rpm_limit;
  if (input.max_parallel_requests !== undefined) patch.maxParallelRequests = input.max_parallel_requests;
  if (input.metadata !== undefined) patch.metadata = input.metadata ?? {};
  if (input.organization_id !== undefined) patch.organizationId = input.organization_id;
  if (input.budget_duration !== undefined) {
    patch.budgetDuration = input.budget_duration;
    patch.budgetResetAt = input.budget_duration ? (addDuration(now, input.budget_duration) ?? null) : null;
    if (input.budget_duration && !patch.budgetResetAt) {
      throw new GatewayHttpError({
        kind: 'invalid_request',
        param: 'budget_duration',
        message: `Invalid budget_duration: ${input.budget_duration}`,
      });
    }
  }
  return patch;
}

function userNotFound(userId: string): GatewayHttpError {
  return new GatewayHttpError({ kind: 'not_found', param: 'user_id', message: `User ${userId} not found` });
}

/**
 * The key created with a user takes these key fields of the body; its budget and limits
 * fields (`max_budget`, `budget_duration`, `models`, ...) are the user's own (contract §2.10).
 */
const autoKeyFields = z.object(keyFields).pick({
  key_alias: true,
  duration: true,
  aliases: true,
  config: true,
  permissions: true,
  tags: true,
  allowed_cache_controls: true,
  allowed_routes: true,
  blocked: true,
}).shape;

function autoKeyFieldsOf(body: Partial<Record<keyof typeof autoKeyFields, unknown>>): KeyFields {
  const picked: Record<string, unknown> = {};
  for (const field of Object.keys(autoKeyFields) as (keyof typeof autoKeyFields)[]) {
    if (body[field] !== undefined) picked[field] = body[field];
  }
  return picked as KeyFields;
}

/** The internal-user endpoints (contract §2.10). */
export function registerUserRoutes(api: AdminApi, deps: AppDeps): void {
  const db = deps.database.db;

  api.route(
    {
      method: 'post',
      path: '/user/new',
      tag: 'users',
      summary: 'Create an internal user, and by default a key for them',
      access: 'admin',
      body: z.object({
        user_id: z.string().min(1).optional(),
        teams: z
          .array(
            z.union([
              z.string(),
              z.object({ team_id: z.string(), user_role: z.enum(['admin', 'user']).default('user') }),
            ]),
          )
          .nullish(),
        auto_create_key: z.boolean().default(true),
        ...autoKeyFields,
        ...userFields,
      }),
      response: userJsonSchema.extend({ key: z.string().nullable(), key_name: z.string().nullable() }),
    },
    async ({ body }) => {
      const now = new Date();
      const userId = body.user_id ?? randomUUID();
      if (await findUser(db, userId)) {
        throw new GatewayHttpError({
          kind: 'conflict',
          param: 'user_id',
          message: `User with id ${userId} already exists`,
        });
      }
      if (body.user_email && (await findUserByEmail(db, body.user_email))) {
        throw new GatewayHttpError({
          kind: 'conflict',
          param: 'user_email',
          message: `User with email ${body.user_email} already exists`,
        });
      }
      const memberships = (body.teams ?? []).map((t) =>
        typeof t === 'string' ? { team_id: t, user_role: 'user' as const } : t,
      );
      for (const m of memberships) {
        if (!(await findTeam(db, m.team_id))) {
          throw new GatewayHttpError({
            kind: 'invalid_request',
            param: 'teams',
            message: `Team not found, passed team_id=${m.team_id}`,
          });
        }
      }
      const rawKey = body.auto_create_key ? generateRawKey() : undefined;
      const keyHash = rawKey ? hashKey(rawKey) : undefined;
      let created: { user: UserRow; key: VerificationTokenRow | undefined };
      try {
        // One transaction: a user made by two concurrent calls with one id is made once, and
        // the other call gets the 409 below instead of a half-made user.
        created = await deps.lookups.change(
          { users: [userId], teams: memberships.map((m) => m.team_id), keys: keyHash ? [keyHash] : [] },
          async (tx) => {
            let user = await insertUser(tx, {
              ...toUserPatch(body, now),
              userId,
              createdAt: now,
              updatedAt: now,
            });
            for (const m of memberships) {
              await addTeamMembers(tx, m.team_id, [{ role: m.user_role, user_id: userId }]);
            }
            if (memberships.length > 0) user = (await findUser(tx, userId)) ?? user;
            const key =
              rawKey && keyHash
                ? await insertKey(tx, {
                    ...toKeyPatch(autoKeyFieldsOf(body), now),
                    models: body.models ?? [],
                    token: keyHash,
                    keyName: displayKeyName(rawKey),
                    userId,
                    createdAt: now,
                    updatedAt: now,
                    createdBy: 'default_user_id',
                    updatedBy: 'default_user_id',
                  })
                : undefined;
            return { user, key };
          },
        );
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        throw new GatewayHttpError({
          kind: 'conflict',
          param: 'user_id',
          message: `User with id ${userId} already exists`,
        });
      }
      const user = created.user;
      let key: { key: string; key_name: string | null; expires: string | null; token: string } | undefined;
      if (rawKey && created.key) {
        const json = toKeyJson(created.key);
        key = { key: rawKey, key_name: json.key_name, expires: json.expires, token: json.token };
      }
      return {
        ...userJson(user),
        key: key?.key ?? null,
        key_name: key?.key_name ?? null,
        expires: key?.expires ?? null,
        token: key?.token ?? null,
      };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/user/info',
      tag: 'users',
      summary: 'A user with their keys and teams',
      access: 'admin',
      query: z.object({ user_id: z.string().min(1) }),
      response: z.object({
        user_id: z.string(),
        user_info: userJsonSchema,
        keys: z.array(keyJsonSchema),
        teams: z.array(z.record(z.string(), z.unknown())),
      }),
    },
    async ({ query }) => {
      const user = await findUser(db, query.user_id);
      if (!user) throw userNotFound(query.user_id);
      const keys = await keysOfUser(db, user.userId);
      const teamRows = (await Promise.all(user.teams.map((id) => findTeam(db, id)))).filter(
        (t) => t !== undefined,
      );
      return {
        user_id: user.userId,
        user_info: userJson(user),
        keys: keys.map(toKeyJson),
        teams: teamRows.map((t) => rowToJson(teams, t)),
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/user/update',
      tag: 'users',
      summary: 'Change the fields given in the body; the user is found by user_id or user_email',
      access: 'admin',
      body: z
        .object({ user_id: z.string().min(1).optional(), ...userFields })
        .refine((b) => b.user_id || b.user_email, { message: 'user_id or user_email is required' }),
      response: userJsonSchema,
    },
    async ({ body }) => {
      const existing = body.user_id
        ? await findUser(db, body.user_id)
        : await findUserByEmail(db, body.user_email!);
      if (!existing) throw userNotFound(body.user_id ?? body.user_email!);
      const patch = toUserPatch(body, new Date());
      if (!body.user_id) delete patch.userEmail;
      const row = await deps.lookups.change({ users: [existing.userId] }, async (tx) => {
        const updated = await updateUser(tx, existing.userId, patch);
        if (!updated) throw userNotFound(existing.userId);
        return updated;
      });
      return userJson(row);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/user/delete',
      tag: 'users',
      summary: 'Delete users with their keys and team memberships',
      access: 'admin',
      body: z.object({ user_ids: z.array(z.string().min(1)).min(1) }),
      response: z.object({ deleted_users: z.array(z.string()), deleted_keys: z.number() }),
    },
    async ({ body }) => {
      for (const userId of body.user_ids) if (!(await findUser(db, userId))) throw userNotFound(userId);
      const keyHashes = (await Promise.all(body.user_ids.map((id) => keysOfUser(db, id))))
        .flat()
        .map((k) => k.token);
      await deps.lookups.change({ users: body.user_ids, keys: keyHashes }, (tx) =>
        deleteUsers(tx, body.user_ids),
      );
      await deps.admission.forget(body.user_ids.map((id) => `user:${id}`));
      return { deleted_users: body.user_ids, deleted_keys: keyHashes.length };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/user/list',
      tag: 'users',
      summary: 'Users, a page at a time',
      access: 'admin',
      query: z.object({
        page: z.coerce.number().int().min(1).default(1),
        page_size: z.coerce.number().int().min(1).max(100).default(25),
      }),
      response: z.object({
        users: z.array(userJsonSchema),
        total: z.number(),
        page: z.number(),
        page_size: z.number(),
        total_pages: z.number(),
      }),
    },
    async ({ query }) => {
      const { rows, total } = await listUsers(db, query.page, query.page_size);
      return {
        users: rows.map(userJson),
        total,
        page: query.page,
        page_size: query.page_size,
        total_pages: Math.ceil(total / query.page_size),
      };
    },
  );
}
