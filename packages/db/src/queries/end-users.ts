import { asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../client.ts';
import { type BudgetRow, budgets } from '../schema/budget.ts';
import { type EndUserRow, endUsers } from '../schema/end-user.ts';

export type NewEndUserRow = typeof endUsers.$inferInsert;
export type NewBudgetRow = typeof budgets.$inferInsert;

/** A customer with its budget row, if it has one. */
export interface EndUserWithBudget {
  endUser: EndUserRow;
  budget: BudgetRow | null;
}

/** Creates a customer, and its budget row first when one is given. Rejects on a duplicate id. */
export async function insertEndUser(
  db: Database,
  row: NewEndUserRow,
  budget: NewBudgetRow | undefined,
): Promise<EndUserWithBudget> {
  return db.transaction(async (tx) => {
    let budgetRow: BudgetRow | null = null;
    if (budget) {
      [budgetRow = null] = await tx.insert(budgets).values(budget).returning();
    }
    const [endUser] = await tx
      .insert(endUsers)
      .values({ ...row, ...(budgetRow ? { budgetId: budgetRow.budgetId } : {}) })
      .returning();
    if (!endUser) throw new Error('insert into LiteLLM_EndUserTable returned no row');
    return { endUser, budget: budgetRow };
  });
}

export async function findEndUser(db: Database, userId: string): Promise<EndUserWithBudget | undefined> {
  const [row] = await db
    .select({ endUser: endUsers, budget: budgets })
    .from(endUsers)
    .leftJoin(budgets, eq(budgets.budgetId, endUsers.budgetId))
    .where(eq(endUsers.userId, userId));
  return row;
}

export async function findEndUsers(db: Database, userIds: string[]): Promise<EndUserRow[]> {
  if (userIds.length === 0) return [];
  return db.select().from(endUsers).where(inArray(endUsers.userId, userIds));
}

/**
 * Changes a customer and, when `budgetPatch` is given, its budget row (created if it has none).
 * Returns undefined when there is no such customer.
 */
export async function updateEndUser(
  db: Database,
  userId: string,
  patch: Partial<NewEndUserRow>,
  budgetPatch: Partial<NewBudgetRow> | undefined,
  newBudgetId: () => string,
): Promise<EndUserWithBudget | undefined> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(endUsers).where(eq(endUsers.userId, userId)).for('update');
    if (!current) return undefined;
    let budgetId = patch.budgetId ?? current.budgetId;
    if (budgetPatch) {
      if (budgetId) {
        await tx
          .update(budgets)
          .set({ ...budgetPatch, updatedAt: new Date() })
          .where(eq(budgets.budgetId, budgetId));
      } else {
        budgetId = newBudgetId();
        await tx.insert(budgets).values({ ...budgetPatch, budgetId });
      }
    }
    await tx
      .update(endUsers)
      .set({ ...patch, budgetId })
      .where(eq(endUsers.userId, userId));
    const [row] = await tx
      .select({ endUser: endUsers, budget: budgets })
      .from(endUsers)
      .leftJoin(budgets, eq(budgets.budgetId, endUsers.budgetId))
      .where(eq(endUsers.userId, userId));
    return row;
  });
}

export async function deleteEndUsers(db: Database, userIds: string[]): Promise<number> {
  const deleted = await db
    .delete(endUsers)
    .where(inArray(endUsers.userId, userIds))
    .returning({ userId: endUsers.userId });
  return deleted.length;
}

export async function listEndUsers(db: Database): Promise<EndUserWithBudget[]> {
  return db
    .select({ endUser: endUsers, budget: budgets })
    .from(endUsers)
    .leftJoin(budgets, eq(budgets.budgetId, endUsers.budgetId))
    .orderBy(asc(endUsers.userId));
}

/** Sets `blocked` on customers, creating rows for ids not seen yet; returns the rows. */
export async function setEndUsersBlocked(
  db: Database,
  userIds: string[],
  blocked: boolean,
): Promise<EndUserRow[]> {
  if (userIds.length === 0) return [];
  return db
    .insert(endUsers)
    .values(userIds.map((userId) => ({ userId, blocked })))
    .onConflictDoUpdate({ target: endUsers.userId, set: { blocked } })
    .returning();
}
