import { and, eq, inArray, isNotNull, sql, sum } from 'drizzle-orm';
import type { Database } from '../client.ts';
import { type NewSpendLogRow, spendLogs } from '../schema/spend-logs.ts';
import { verificationTokens } from '../schema/verification-token.ts';

/**
 * Writes a batch of spend rows and adds their cost to each key, in one transaction.
 * Idempotent: a row whose `request_id` already exists is skipped, and only rows inserted by
 * this call add to key spend, so retrying a batch after a failure never double counts.
 * Returns how many rows were new.
 */
export async function writeSpendBatch(db: Database, rows: NewSpendLogRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(spendLogs)
      .values(rows)
      .onConflictDoNothing({ target: spendLogs.requestId })
      .returning({ requestId: spendLogs.requestId });
    if (inserted.length === 0) return 0;
    const insertedIds = inserted.map((r) => r.requestId);

    // Postgres sums the numeric costs, so totals stay exact decimals.
    const perKey = tx
      .select({ apiKey: spendLogs.apiKey, total: sum(spendLogs.spend).as('total') })
      .from(spendLogs)
      .where(and(inArray(spendLogs.requestId, insertedIds), isNotNull(spendLogs.spend)))
      .groupBy(spendLogs.apiKey)
      .as('per_key');
    await tx
      .update(verificationTokens)
      .set({ spend: sql`${verificationTokens.spend} + ${perKey.total}`, lastActive: sql`now()` })
      .from(perKey)
      .where(eq(verificationTokens.token, perKey.apiKey));
    return inserted.length;
  });
}

/** Spend rows of one key, newest first. */
export async function listSpendLogsForKey(db: Database, tokenHash: string) {
  return db
    .select()
    .from(spendLogs)
    .where(eq(spendLogs.apiKey, tokenHash))
    .orderBy(sql`${spendLogs.startTime} desc`);
}
