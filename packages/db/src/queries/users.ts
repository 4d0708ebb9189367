import { asc, count, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../client.ts';
import { teams } from '../schema/team.ts';
import { teamMemberships } from '../schema/team-membership.ts';
import { type UserRow, users } from '../schema/user.ts';
import { type VerificationTokenRow, verificationTokens } from '../schema/verification-token.ts';

export type NewUserRow = typeof users.$inferInsert;

export async function insertUser(db: Database, row: NewUserRow): Promise<UserRow> {
  const [user] = await db.insert(users).values(row).returning();
  if (!user) throw new Error('insert into LiteLLM_UserTable returned no row');
  return user;
}

export async function findUser(db: Database, userId: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.userId, userId));
  return row;
}

/** Emails are compared case-insensitively, as LiteLLM does for duplicates. */
export async function findUserByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(sql`lower(${users.userEmail}) = lower(${email})`);
  return row;
}

export async function updateUser(
  db: Database,
  userId: string,
  patch: Partial<NewUserRow>,
): Promise<UserRow | undefined> {
  const [row] = await db
    .update(users)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(users.userId, userId))
    .returning();
  return row;
}

/** Deletes users, their keys and their team memberships; returns the deleted keys' hashes. */
export async function deleteUsers(db: Database, userIds: string[]): Promise<string[]> {
  return db.transaction(async (tx) => {
    const keys = await tx
      .delete(verificationTokens)
      .where(inArray(verificationTokens.userId, userIds))
      .returning({ token: verificationTokens.token });
    await tx.delete(teamMemberships).where(inArray(teamMemberships.userId, userIds));
    for (const userId of userIds) {
      await tx
        .update(teams)
        .set({
          members: sql`array_remove(${teams.members}, ${userId})`,
          admins: sql`array_remove(${teams.admins}, ${userId})`,
        })
        .where(sql`${userId} = any(${teams.members}) or ${userId} = any(${teams.admins})`);
    }
    await tx.delete(users).where(inArray(users.userId, userIds));
    return keys.map((k) => k.token);
  });
}

export async function listUsers(
  db: Database,
  page: number,
  pageSize: number,
): Promise<{ rows: UserRow[]; total: number }> {
  const [rows, [counted]] = await Promise.all([
    db
      .select()
      .from(users)
      .orderBy(asc(users.createdAt), asc(users.userId))
      .limit(pageSize)
      .offset((page - 1) * pageSize),
    db.select({ total: count() }).from(users),
  ]);
  return { rows, total: counted?.total ?? 0 };
}

export async function keysOfUser(db: Database, userId: string): Promise<VerificationTokenRow[]> {
  return db.select().from(verificationTokens).where(eq(verificationTokens.userId, userId));
}
