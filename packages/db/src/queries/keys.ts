import { eq } from 'drizzle-orm';
import type { Database } from '../client.ts';
import {
  type NewVerificationTokenRow,
  type VerificationTokenRow,
  verificationTokens,
} from '../schema/verification-token.ts';

/** Inserts a key row; rejects on a duplicate hash or alias (unique violations). */
export async function insertKey(db: Database, row: NewVerificationTokenRow): Promise<VerificationTokenRow> {
  const [inserted] = await db.insert(verificationTokens).values(row).returning();
  if (!inserted) throw new Error('insert into LiteLLM_VerificationToken returned no row');
  return inserted;
}

/** The key with this SHA-256 hex hash, or undefined. */
export async function findKeyByHash(
  db: Database,
  tokenHash: string,
): Promise<VerificationTokenRow | undefined> {
  const [row] = await db.select().from(verificationTokens).where(eq(verificationTokens.token, tokenHash));
  return row;
}
