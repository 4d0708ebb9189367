import { asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../client.ts';
import { type BudgetRow, budgets } from '../schema/budget.ts';
import { type TagRow, tags } from '../schema/tag.ts';
import type { NewBudgetRow } from './end-users.ts';

export type NewTagRow = typeof tags.$inferInsert;

/** A tag with its budget row, if it has one. */
export interface TagWithBudget {
  tag: TagRow;
  budget: BudgetRow | null;
}

export async function findTag(db: Database, name: string): Promise<TagWithBudget | undefined> {
  const [row] = await db
    .select({ tag: tags, budget: budgets })
    .from(tags)
    .leftJoin(budgets, eq(budgets.budgetId, tags.budgetId))
    .where(eq(tags.tagName, name));
  return row;
}

export async function listTags(db: Database): Promise<TagWithBudget[]> {
  return db
    .select({ tag: tags, budget: budgets })
    .from(tags)
    .leftJoin(budgets, eq(budgets.budgetId, tags.budgetId))
    .orderBy(asc(tags.tagName));
}

/**
 * Creates a tag or, for one already seen on requests, gives it its description, models and
 * budget (its spend so far stays). The budget row is created or changed in the same
 * transaction. Returns the tag as stored.
 */
export async function upsertTag(
  db: Database,
  row: NewTagRow,
  budgetPatch: Partial<NewBudgetRow> | undefined,
  newBudgetId: () => string,
): Promise<TagWithBudget> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(tags).where(eq(tags.tagName, row.tagName));
    let budgetId = existing?.budgetId ?? null;
    let budget: BudgetRow | null = null;
    if (budgetPatch) {
      if (budgetId) {
        [budget = null] = await tx
          .update(budgets)
          .set(budgetPatch)
          .where(eq(budgets.budgetId, budgetId))
          .returning();
      } else {
        budgetId = newBudgetId();
        [budget = null] = await tx
          .insert(budgets)
          .values({ ...budgetPatch, budgetId })
          .returning();
      }
    } else if (budgetId) {
      [budget = null] = await tx.select().from(budgets).where(eq(budgets.budgetId, budgetId));
    }
    const values = { ...row, budgetId, updatedAt: new Date() };
    const [tag] = await tx
      .insert(tags)
      .values(values)
      .onConflictDoUpdate({ target: tags.tagName, set: { ...values, tagName: undefined } })
      .returning();
    if (!tag) throw new Error('upsert into LiteLLM_TagTable returned no row');
    return { tag, budget };
  });
}

export async function deleteTags(db: Database, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const deleted = await db.delete(tags).where(inArray(tags.tagName, names)).returning({ name: tags.tagName });
  return deleted.map((d) => d.name);
}
