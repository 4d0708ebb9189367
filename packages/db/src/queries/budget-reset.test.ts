import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../client.ts';
import { findDueBudgets, resetBudget } from './budget-reset.ts';
import { insertEndUser } from './end-users.ts';
import { insertKey } from './keys.ts';
import { writeSpendBatch } from './spend.ts';

describe('budget periods', () => {
  let database: DatabaseHandle;
  const past = new Date('2026-11-01T00:00:00.000Z');
  const now = new Date('2026-11-22T12:00:00.000Z');

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    await database.migrate();
    await insertKey(database.db, { token: 'due-key', budgetDuration: '1d', budgetResetAt: past });
    await insertKey(database.db, {
      token: 'later-key',
      budgetDuration: '1d',
      budgetResetAt: new Date('2026-12-01'),
    });
    await insertKey(database.db, {
      token: 'expired-key',
      budgetDuration: '1d',
      budgetResetAt: past,
      expires: new Date('2026-11-02'),
    });
    await insertEndUser(
      database.db,
      { userId: 'customer-1' },
      { budgetId: 'budget-1', maxBudget: '5', budgetDuration: '7d', budgetResetAt: past },
    );
    const row = (requestId: string, over: Record<string, unknown>) => ({
      requestId,
      callType: 'acompletion',
      spend: '0.25',
      startTime: past,
      endTime: past,
      status: 'success',
      ...over,
    });
    await writeSpendBatch(database.db, [
      row('r1', { apiKey: 'due-key' }),
      row('r2', { apiKey: 'later-key', endUser: 'customer-1' }),
    ]);
  });
  afterAll(async () => {
    await database.close();
  });

  it('finds the budgets whose period ended, keys only while they are valid', async () => {
    const due = await findDueBudgets(database.db, now);
    expect(due.map((d) => `${d.kind}:${d.id}`).sort()).toEqual(['budget:budget-1', 'key:due-key']);
    expect(due.find((d) => d.id === 'due-key')).toMatchObject({ duration: '1d', resetAt: past });
  });

  it('resets spend, keeps lifetime spend, and lets only the first of two instances do it', async () => {
    const due = await findDueBudgets(database.db, now);
    const next = new Date('2026-11-23T00:00:00.000Z');
    const key = due.find((d) => d.kind === 'key')!;
    const budget = due.find((d) => d.kind === 'budget')!;
    expect(await resetBudget(database.db, key, next)).toEqual({ reset: true, customerIds: [] });
    // A second instance that found the same due budget changes nothing.
    expect(await resetBudget(database.db, key, next)).toEqual({ reset: false, customerIds: [] });
    expect(await resetBudget(database.db, budget, next)).toEqual({
      reset: true,
      customerIds: ['customer-1'],
    });
    expect(await resetBudget(database.db, budget, next)).toEqual({ reset: false, customerIds: [] });

    const [k] = await database.query<{ spend: string; lifetime_spend: string; budget_reset_at: Date }>(
      `select spend::text, lifetime_spend::text, budget_reset_at from "LiteLLM_VerificationToken" where token = 'due-key'`,
    );
    expect(k).toMatchObject({ spend: '0', lifetime_spend: '0.25' });
    expect(new Date(k!.budget_reset_at)).toEqual(next);
    const [c] = await database.query<{ spend: string; lifetime_spend: string }>(
      `select spend::text, lifetime_spend::text from "LiteLLM_EndUserTable" where user_id = 'customer-1'`,
    );
    expect(c).toEqual({ spend: '0', lifetime_spend: '0.25' });
    expect(await findDueBudgets(database.db, now)).toEqual([]);
  });
});
