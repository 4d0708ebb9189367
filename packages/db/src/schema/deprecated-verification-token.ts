import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { instant } from './columns.ts';

/**
 * Old key hashes kept alive after `/key/regenerate` with a `grace_period`, as LiteLLM's
 * `LiteLLM_DeprecatedVerificationToken`: until `revoke_at`, the old key acts as the new one.
 */
export const deprecatedVerificationTokens = pgTable(
  'LiteLLM_DeprecatedVerificationToken',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** SHA-256 hex of the old key. */
    token: text('token').notNull().unique(),
    /** Hash of the key that replaced it. */
    activeTokenId: text('active_token_id').notNull(),
    revokeAt: instant('revoke_at').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  // Deleting a key also drops the old hashes that stood for it.
  (t) => [index('LiteLLM_DeprecatedVerificationToken_active_token_id_idx').on(t.activeTokenId)],
);

export type DeprecatedVerificationTokenRow = typeof deprecatedVerificationTokens.$inferSelect;
