import { randomUUID } from 'node:crypto';
import {
  addTeamMembers,
  deleteTeams,
  findTeam,
  insertTeam,
  keysOfTeam,
  listTeams,
  type NewTeamRow,
  removeTeamMember,
  rowToJson,
  type TeamMember,
  type TeamRow,
  teamMemberships,
  teamMembershipsOf,
  teams,
  updateTeam,
  users,
} from '@gateway/db';
import { z } from 'zod';
import type { AppDeps } from '../../app-env.ts';
import { GatewayHttpError, isUniqueViolation } from '../../errors.ts';
import { addDuration } from '../../support/duration.ts';
import type { AdminApi } from './admin-api.ts';
import { keyJsonSchema, mergeMetadata, toKeyJson } from './key-fields.ts';

const member = z
  .object({
    role: z.enum(['admin', 'user']).default('user'),
    user_id: z.string().min(1).nullish(),
    user_email: z.string().min(1).nullish(),
  })
  .refine((m) => m.user_id || m.user_email, { message: 'a member needs user_id or user_email' });

const usd = z.number().nonnegative().nullish();
const count = z.number().int().nonnegative().nullish();

/** Team fields settable on create and update (contract §2.9). */
const teamFields = {
  team_alias: z.string().nullish(),
  organization_id: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  tags: z.array(z.string()).nullish(),
  models: z.array(z.string()).nullish(),
  max_budget: usd,
  soft_budget: usd,
  budget_duration: z.string().nullish(),
  tpm_limit: count,
  rpm_limit: count,
  max_parallel_requests: count,
  model_rpm_limit: z.record(z.string(), z.number().int().nonnegative()).nullish(),
  model_tpm_limit: z.record(z.string(), z.number().int().nonnegative()).nullish(),
  blocked: z.boolean().nullish(),
};
type TeamFields = z.output<z.ZodObject<typeof teamFields>>;

export const teamJsonSchema = z.looseObject({
  team_id: z.string(),
  team_alias: z.string().nullable(),
  organization_id: z.string().nullable(),
  admins: z.array(z.string()),
  members: z.array(z.string()),
  members_with_roles: z.array(z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
  models: z.array(z.string()),
  max_budget: z.number().nullable(),
  soft_budget: z.number().nullable(),
  spend: z.number(),
  tpm_limit: z.number().nullable(),
  rpm_limit: z.number().nullable(),
  max_parallel_requests: z.number().nullable(),
  budget_duration: z.string().nullable(),
  budget_reset_at: z.string().nullable(),
  blocked: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});

const teamJson = (row: TeamRow) => rowToJson(teams, row);

function teamNotFound(teamId: string): GatewayHttpError {
  return new GatewayHttpError({
    kind: 'not_found',
    param: 'team_id',
    message: `Team not found, passed team_id=${teamId}`,
  });
}

function toTeamPatch(
  input: TeamFields,
  now: Date,
  existingMetadata: Record<string, unknown> = {},
): Partial<NewTeamRow> {
  const patch: Partial<NewTeamRow> = {};
  if (input.team_alias !== undefined) patch.teamAlias = input.team_alias;
  if (input.organization_id !== undefined) patch.organizationId = input.organization_id;
  if (input.models !== undefined) patch.models = input.models ?? [];
  if (input.max_budget !== undefined)
    patch.maxBudget = input.max_budget === null ? null : String(input.max_budget);
  if (input.soft_budget !== undefined)
    patch.softBudget = input.soft_budget === null ? null : String(input.soft_budget);
  if (input.tpm_limit !== undefined) patch.tpmLimit = input.tpm_limit;
  if (input.rpm_limit !== undefined) patch.rpmLimit = input.rpm_limit;
  if (input.max_parallel_requests !== undefined) patch.maxParallelRequests = input.max_parallel_requests;
  if (input.blocked !== undefined) patch.blocked = input.blocked ?? false;
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
  const metadata = mergeMetadata(input, existingMetadata);
  if (metadata) patch.metadata = metadata;
  return patch;
}

/** The team endpoints (contract §2.9). Changes invalidate the team (and deleted keys) everywhere. */
export function registerTeamRoutes(api: AdminApi, deps: AppDeps): void {
  const db = deps.database.db;

  async function ensureUsers(members: TeamMember[]): Promise<void> {
    const ids = members.map((m) => m.user_id).filter((id): id is string => !!id);
    if (ids.length > 0)
      await db
        .insert(users)
        .values(ids.map((userId) => ({ userId })))
        .onConflictDoNothing();
  }

  api.route(
    {
      method: 'post',
      path: '/team/new',
      tag: 'teams',
      summary: 'Create a team',
      access: 'admin',
      body: z.object({
        team_id: z.string().min(1).optional(),
        members_with_roles: z.array(member).default([]),
        admins: z.array(z.string()).default([]),
        members: z.array(z.string()).default([]),
        ...teamFields,
      }),
      response: teamJsonSchema,
    },
    async ({ body }) => {
      const now = new Date();
      const teamId = body.team_id ?? randomUUID();
      const membersWithRoles: TeamMember[] = [
        ...body.members_with_roles,
        ...body.admins.map((userId) => ({ role: 'admin' as const, user_id: userId })),
        ...body.members.map((userId) => ({ role: 'user' as const, user_id: userId })),
      ];
      const ids = (role?: 'admin') => [
        ...new Set(
          membersWithRoles
            .filter((m) => !role || m.role === role)
            .map((m) => m.user_id)
            .filter((id): id is string => !!id),
        ),
      ];
      await ensureUsers(membersWithRoles);
      try {
        const row = await deps.lookups.change({ teams: [teamId] }, (tx) =>
          insertTeam(
            tx,
            {
              ...toTeamPatch(body, now),
              teamId,
              membersWithRoles,
              members: ids(),
              admins: ids('admin'),
              createdAt: now,
              updatedAt: now,
            },
            membersWithRoles,
          ),
        );
        return teamJson(row);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        throw new GatewayHttpError({
          kind: 'invalid_request',
          param: 'team_id',
          message: `Team id = ${teamId} already exists. Please use a different team id.`,
        });
      }
    },
  );

  api.route(
    {
      method: 'post',
      path: '/team/update',
      tag: 'teams',
      summary: 'Change the fields given in the body',
      access: 'admin',
      body: z.object({ team_id: z.string().min(1), ...teamFields }),
      response: z.object({ team_id: z.string(), data: teamJsonSchema }),
    },
    async ({ body }) => {
      const existing = await findTeam(db, body.team_id);
      if (!existing) throw teamNotFound(body.team_id);
      const row = await deps.lookups.change({ teams: [body.team_id] }, async (tx) => {
        const updated = await updateTeam(tx, body.team_id, toTeamPatch(body, new Date(), existing.metadata));
        if (!updated) throw teamNotFound(body.team_id);
        return updated;
      });
      return { team_id: body.team_id, data: teamJson(row) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/team/delete',
      tag: 'teams',
      summary: 'Delete teams with their keys and memberships',
      access: 'admin',
      body: z.object({ team_ids: z.array(z.string().min(1)).min(1) }),
      response: z.object({ deleted_teams: z.array(z.string()), deleted_keys: z.number() }),
    },
    async ({ body }) => {
      for (const teamId of body.team_ids) if (!(await findTeam(db, teamId))) throw teamNotFound(teamId);
      const keyHashes = (await keysOfTeamIds(body.team_ids)).map((k) => k.token);
      await deps.lookups.change({ teams: body.team_ids, keys: keyHashes }, (tx) =>
        deleteTeams(tx, body.team_ids),
      );
      // A team created again under the same id starts from its own (zero) spend.
      await deps.admission.forget(body.team_ids.map((id) => `team:${id}`));
      return { deleted_teams: body.team_ids, deleted_keys: keyHashes.length };
    },
  );

  async function keysOfTeamIds(teamIds: string[]) {
    return (await Promise.all(teamIds.map((id) => keysOfTeam(db, id)))).flat();
  }

  const membershipJson = z.object({
    user_id: z.string(),
    team_id: z.string(),
    spend: z.number(),
    budget_id: z.string().nullable(),
  });

  api.route(
    {
      method: 'get',
      path: '/team/info',
      tag: 'teams',
      summary: 'A team with its keys and memberships',
      access: 'admin',
      query: z.object({ team_id: z.string().optional() }),
      response: z.object({
        team_id: z.string(),
        team_info: teamJsonSchema,
        keys: z.array(keyJsonSchema),
        team_memberships: z.array(membershipJson),
      }),
    },
    async ({ query }) => {
      if (!query.team_id) {
        throw new GatewayHttpError({
          kind: 'validation_error',
          param: 'team_id',
          message: 'Malformed request. No team id passed in.',
        });
      }
      const team = await findTeam(db, query.team_id);
      if (!team) {
        throw new GatewayHttpError({
          kind: 'not_found',
          param: 'team_id',
          message: `Team not found, passed team id: ${query.team_id}.`,
        });
      }
      const [keys, memberships] = await Promise.all([
        keysOfTeam(db, team.teamId),
        teamMembershipsOf(db, team.teamId),
      ]);
      return {
        team_id: team.teamId,
        team_info: teamJson(team),
        keys: keys.map(toKeyJson),
        team_memberships: memberships.map((m) => rowToJson(teamMemberships, m)),
      };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/team/list',
      tag: 'teams',
      summary: 'Teams sorted by alias, with their keys and memberships',
      access: 'admin',
      query: z.object({ user_id: z.string().optional(), organization_id: z.string().optional() }),
      response: z.array(
        teamJsonSchema.extend({ keys: z.array(keyJsonSchema), team_memberships: z.array(membershipJson) }),
      ),
    },
    async ({ query }) => {
      const rows = await listTeams(db, {
        ...(query.user_id ? { userId: query.user_id } : {}),
        ...(query.organization_id ? { organizationId: query.organization_id } : {}),
      });
      return Promise.all(
        rows.map(async (team) => {
          const [keys, memberships] = await Promise.all([
            keysOfTeam(db, team.teamId),
            teamMembershipsOf(db, team.teamId),
          ]);
          return {
            ...teamJson(team),
            keys: keys.map(toKeyJson),
            team_memberships: memberships.map((m) => rowToJson(teamMemberships, m)),
          };
        }),
      );
    },
  );

  api.route(
    {
      method: 'post',
      path: '/team/member_add',
      tag: 'teams',
      summary: 'Add one member or several',
      access: 'admin',
      body: z.object({ team_id: z.string().min(1), member: z.union([member, z.array(member).min(1)]) }),
      response: teamJsonSchema,
    },
    async ({ body }) => {
      const members = Array.isArray(body.member) ? body.member : [body.member];
      await ensureUsers(members);
      const row = await deps.lookups.change({ teams: [body.team_id] }, async (tx) => {
        const updated = await addTeamMembers(tx, body.team_id, members);
        if (!updated) throw teamNotFound(body.team_id);
        return updated;
      });
      return teamJson(row);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/team/member_delete',
      tag: 'teams',
      summary: 'Remove a member by user_id or user_email',
      access: 'admin',
      body: z
        .object({
          team_id: z.string().min(1),
          user_id: z.string().nullish(),
          user_email: z.string().nullish(),
        })
        .refine((b) => b.user_id || b.user_email, { message: 'user_id or user_email is required' }),
      response: teamJsonSchema,
    },
    async ({ body }) => {
      const team = await deps.lookups.change({ teams: [body.team_id] }, async (tx) => {
        const result = await removeTeamMember(tx, body.team_id, body);
        if (!result) throw teamNotFound(body.team_id);
        if (!result.removed) {
          throw new GatewayHttpError({
            kind: 'invalid_request',
            param: body.user_id ? 'user_id' : 'user_email',
            message: `User=${body.user_id ?? body.user_email} is not a member of team=${body.team_id}`,
          });
        }
        return result.team;
      });
      return teamJson(team);
    },
  );

  for (const blocked of [true, false]) {
    api.route(
      {
        method: 'post',
        path: blocked ? '/team/block' : '/team/unblock',
        tag: 'teams',
        summary: blocked ? 'Block a team: its keys are refused at once everywhere' : 'Unblock a team',
        access: 'admin',
        body: z.object({ team_id: z.string().min(1) }),
        response: teamJsonSchema,
      },
      async ({ body }) => {
        const row = await deps.lookups.change({ teams: [body.team_id] }, async (tx) => {
          const updated = await updateTeam(tx, body.team_id, { blocked });
          if (!updated) throw teamNotFound(body.team_id);
          return updated;
        });
        return teamJson(row);
      },
    );
  }
}
