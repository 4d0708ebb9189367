import { and, arrayContains, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../client.ts';
import { type TeamRow, teams } from '../schema/team.ts';
import { type TeamMembershipRow, teamMemberships } from '../schema/team-membership.ts';
import { users } from '../schema/user.ts';
import { type VerificationTokenRow, verificationTokens } from '../schema/verification-token.ts';

export type NewTeamRow = typeof teams.$inferInsert;

export interface TeamMember {
  role: 'admin' | 'user';
  user_id?: string | null;
  user_email?: string | null;
}

/** Creates a team and its members' memberships; rejects on a duplicate team id. */
export async function insertTeam(db: Database, row: NewTeamRow, members: TeamMember[]): Promise<TeamRow> {
  return db.transaction(async (tx) => {
    const [team] = await tx.insert(teams).values(row).returning();
    if (!team) throw new Error('insert into LiteLLM_TeamTable returned no row');
    await addMembershipRows(tx as unknown as Database, team.teamId, members);
    return team;
  });
}

async function addMembershipRows(db: Database, teamId: string, members: TeamMember[]): Promise<void> {
  const userIds = members.map((m) => m.user_id).filter((id): id is string => !!id);
  if (userIds.length === 0) return;
  await db
    .insert(teamMemberships)
    .values(userIds.map((userId) => ({ userId, teamId })))
    .onConflictDoNothing();
  // LiteLLM keeps the team ids on the user row too.
  await db
    .update(users)
    .set({ teams: sql`array_append(${users.teams}, ${teamId})` })
    .where(and(inArray(users.userId, userIds), sql`not (${teamId} = any(${users.teams}))`));
}

export async function findTeam(db: Database, teamId: string): Promise<TeamRow | undefined> {
  const [row] = await db.select().from(teams).where(eq(teams.teamId, teamId));
  return row;
}

export async function updateTeam(
  db: Database,
  teamId: string,
  patch: Partial<NewTeamRow>,
): Promise<TeamRow | undefined> {
  const [row] = await db
    .update(teams)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(teams.teamId, teamId))
    .returning();
  return row;
}

/** Deletes teams with their keys and memberships; returns the deleted keys' hashes. */
export async function deleteTeams(db: Database, teamIds: string[]): Promise<string[]> {
  return db.transaction(async (tx) => {
    const keys = await tx
      .delete(verificationTokens)
      .where(inArray(verificationTokens.teamId, teamIds))
      .returning({ token: verificationTokens.token });
    await tx.delete(teamMemberships).where(inArray(teamMemberships.teamId, teamIds));
    await tx.delete(teams).where(inArray(teams.teamId, teamIds));
    return keys.map((k) => k.token);
  });
}

/** Teams, sorted by alias, optionally only those a user belongs to or of one organization. */
export async function listTeams(
  db: Database,
  filter: { userId?: string; organizationId?: string },
): Promise<TeamRow[]> {
  const conditions = [];
  if (filter.userId) conditions.push(arrayContains(teams.members, [filter.userId]));
  if (filter.organizationId) conditions.push(eq(teams.organizationId, filter.organizationId));
  return db
    .select()
    .from(teams)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(asc(teams.teamAlias), asc(teams.teamId));
}

export async function teamMembershipsOf(db: Database, teamId: string): Promise<TeamMembershipRow[]> {
  return db.select().from(teamMemberships).where(eq(teamMemberships.teamId, teamId));
}

export async function keysOfTeam(db: Database, teamId: string): Promise<VerificationTokenRow[]> {
  return db.select().from(verificationTokens).where(eq(verificationTokens.teamId, teamId));
}

/** Adds members to a team (row lists and memberships); returns the updated team. */
export async function addTeamMembers(
  db: Database,
  teamId: string,
  members: TeamMember[],
): Promise<TeamRow | undefined> {
  return db.transaction(async (tx) => {
    const [team] = await tx.select().from(teams).where(eq(teams.teamId, teamId)).for('update');
    if (!team) return undefined;
    const existing = team.membersWithRoles as TeamMember[];
    const isNew = (m: TeamMember) =>
      !existing.some(
        (e) => (m.user_id && e.user_id === m.user_id) || (m.user_email && e.user_email === m.user_email),
      );
    const added = members.filter(isNew);
    const membersWithRoles = [...existing, ...added];
    const ids = (role?: 'admin') => [
      ...new Set(
        membersWithRoles
          .filter((m) => !role || m.role === role)
          .map((m) => m.user_id)
          .filter((id): id is string => !!id),
      ),
    ];
    const [updated] = await tx
      .update(teams)
      .set({ membersWithRoles, members: ids(), admins: ids('admin'), updatedAt: new Date() })
      .where(eq(teams.teamId, teamId))
      .returning();
    await addMembershipRows(tx as unknown as Database, teamId, added);
    return updated;
  });
}

/** Removes one member (by user id or email); returns the updated team, or undefined if no team. */
export async function removeTeamMember(
  db: Database,
  teamId: string,
  member: { user_id?: string | null; user_email?: string | null },
): Promise<{ team: TeamRow; removed: boolean } | undefined> {
  return db.transaction(async (tx) => {
    const [team] = await tx.select().from(teams).where(eq(teams.teamId, teamId)).for('update');
    if (!team) return undefined;
    const existing = team.membersWithRoles as TeamMember[];
    const matches = (m: TeamMember) =>
      (member.user_id && m.user_id === member.user_id) ||
      (member.user_email && m.user_email === member.user_email);
    const gone = existing.filter(matches);
    const membersWithRoles = existing.filter((m) => !matches(m));
    const goneIds = gone.map((m) => m.user_id).filter((id): id is string => !!id);
    const [updated] = await tx
      .update(teams)
      .set({
        membersWithRoles,
        members: team.members.filter((id) => !goneIds.includes(id)),
        admins: team.admins.filter((id) => !goneIds.includes(id)),
        updatedAt: new Date(),
      })
      .where(eq(teams.teamId, teamId))
      .returning();
    if (goneIds.length > 0) {
      await tx
        .delete(teamMemberships)
        .where(and(eq(teamMemberships.teamId, teamId), inArray(teamMemberships.userId, goneIds)));
      await tx
        .update(users)
        .set({ teams: sql`array_remove(${users.teams}, ${teamId})` })
        .where(inArray(users.userId, goneIds));
    }
    return { team: updated!, removed: gone.length > 0 };
  });
}
