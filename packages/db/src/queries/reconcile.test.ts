import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../client.ts';
import type { NewSpendLogRow } from '../schema/spend-logs.ts';
import { insertKey } from './keys.ts';
import { reconcileSpend } from './reconcile.ts';
import { writeSpendBatch } from './spend.ts';
import { insertTeam } from './teams.ts';
import { insertUser } from './users.ts';

describe('reconcileSpend', () => {
  let database: DatabaseHandle;
  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    await database.migrate();
    await insertTeam(database.db, { teamId: 'team-1' }, []);
    await insertUser(database.db, { userId: 'owner-1' });
    await insertKey(database.db, { token: 'hash-a', teamId: 'team-1', userId: 'owner-1' });
    await insertKey(database.db, { token: 'hash-b' });
  });
  afterAll(async () => {
    await database.close();
  });

  const row = (requestId: string, over: Partial<NewSpendLogRow>): NewSpendLogRow => ({
    requestId,
    callType: 'acompletion',
    apiKey: 'hash-a',
    model: 'gpt-4o-mini',
    customLlmProvider: 'openai',
    startTime: new Date('2026-11-20T12:00:00Z'),
    endTime: new Date('2026-11-20T12:00:01Z'),
    status: 'success',
    promptTokens: 10,
    completionTokens: 5,
    ...over,
  });

  it('finds nothing to report when every total came from the batch writer', async () => {
    await writeSpendBatch(database.db, [
      row('r1', {
        spend: '0.0000375',
        teamId: 'team-1',
        user: 'owner-1',
        endUser: 'eu-1',
        requestTags: ['a', 'b'],
      }),
      row('r2', { spend: '0.000000001', teamId: 'team-1', user: 'owner-1', requestTags: ['a'] }),
      row('r3', { apiKey: 'hash-b', spend: null, endUser: 'eu-2', status: 'failure' }),
      row('r4', {
        apiKey: 'hash-master',
        spend: '1.25',
        startTime: new Date('2026-11-21T00:00:00Z'),
        endUser: 'eu-1',
      }),
    ]);
    const report = await reconcileSpend(database.db);
    expect(report.ok).toBe(true);
    expect(report.difference).toBe('0');
    expect(report.spendLogs).toEqual({ rows: 4, spend: '1.250037501' });
    const keys = report.counters.find((c) => c.entity === 'key')!;
    expect(keys).toMatchObject({ checked: 2, mismatches: [] });
    // The master key has no key row: reported, not a difference.
    expect(keys.withoutCounter).toEqual([{ id: 'hash-master', spend: '1.25' }]);
    for (const check of report.daily) expect(check.mismatches).toEqual([]);
    expect(report.daily.find((d) => d.table === 'LiteLLM_DailyTagSpend')!.checked).toBe(2);

    // A range selects the days of the daily aggregates and the row totals.
    const day = await reconcileSpend(database.db, { startDate: '2026-11-21', endDate: '2026-11-21' });
    expect(day.spendLogs).toEqual({ rows: 1, spend: '1.25' });
    expect(day.ok).toBe(true);
  });

  it('reports a counter off by one nano-dollar, a lost aggregate and a missing tag row', async () => {
    await database.query(
      `update "LiteLLM_TeamTable" set lifetime_spend = lifetime_spend + 0.000000001 where team_id = 'team-1'`,
    );
    await database.query(
      `update "LiteLLM_DailyEndUserSpend" set api_requests = api_requests + 1 where end_user_id = 'eu-2'`,
    );
    await database.query(`delete from "LiteLLM_DailyUserSpend" where user_id = 'owner-1'`);
    await database.query(`delete from "LiteLLM_TagTable" where tag_name = 'b'`);

    const report = await reconcileSpend(database.db);
    expect(report.ok).toBe(false);
    const teams = report.counters.find((c) => c.entity === 'team')!;
    expect(teams.mismatches).toEqual([{ id: 'team-1', expected: '0.000037501', actual: '0.000037502' }]);
    expect(report.counters.find((c) => c.entity === 'tag')!.withoutCounter).toEqual([
      { id: 'b', spend: '0.0000375' },
    ]);
    const endUsers = report.daily.find((d) => d.table === 'LiteLLM_DailyEndUserSpend')!;
    expect(endUsers.mismatches).toEqual([
      expect.objectContaining({ entity: 'eu-2', fields: { api_requests: ['1', '2'] } }),
    ]);
    const users = report.daily.find((d) => d.table === 'LiteLLM_DailyUserSpend')!;
    expect(users.mismatches).toEqual([
      expect.objectContaining({
        entity: 'owner-1',
        date: '2026-11-20',
        fields: expect.objectContaining({ spend: ['0.000037501', null], api_requests: ['2', null] }),
      }),
    ]);
    // 1e-9 (team) + 0.0000375 (tag b) + 0.000037501 (the user's lost daily row).
    expect(report.difference).toBe('0.000075002');
  });

  it('finds rows that never arrived: holes in a process row numbering', async () => {
    const numbered = (id: string, instance: string, seq: number) =>
      row(id, { apiKey: 'hash-b', spend: null, metadata: { gateway_instance: instance, gateway_seq: seq } });
    await writeSpendBatch(database.db, [
      numbered('s1', 'proc-a', 1),
      numbered('s2', 'proc-a', 2),
      numbered('s5', 'proc-a', 5),
      numbered('t1', 'proc-b', 1),
      numbered('t2', 'proc-b', 2),
    ]);
    const report = await reconcileSpend(database.db);
    expect(report.sequences).toEqual({
      instances: 2,
      missing: 2,
      gaps: [{ instance: 'proc-a', rows: 3, firstSeq: 1, lastSeq: 5, missing: 2 }],
    });
    expect(report.ok).toBe(false);
  });
});
