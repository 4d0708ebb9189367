import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../client.ts';
import { insertKey } from './keys.ts';
import { writeSpendBatch } from './spend.ts';

describe('writeSpendBatch', () => {
  let database: DatabaseHandle;
  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    await database.migrate();
    await insertKey(database.db, { token: 'hash-a' });
    await insertKey(database.db, { token: 'hash-b' });
  });
  afterAll(async () => {
    await database.close();
  });

  const row = (requestId: string, apiKey: string, spend: string | null) => ({
    requestId,
    callType: 'acompletion',
    apiKey,
    spend,
    startTime: new Date(),
    endTime: new Date(),
    status: 'success',
  });

  it('adds exact decimal costs to each key and never counts a retried row twice', async () => {
    const batch = [
      row('r1', 'hash-a', '0.1'),
      row('r2', 'hash-a', '0.2'),
      row('r3', 'hash-b', '0.000000001'),
    ];
    expect(await writeSpendBatch(database.db, batch)).toBe(3);
    // The same batch again, as after a failure whose commit was not acknowledged.
    expect(await writeSpendBatch(database.db, [...batch, row('r4', 'hash-b', null)])).toBe(1);
    const spends = await database.query<{ token: string; spend: string }>(
      'select token, spend::text as spend from "LiteLLM_VerificationToken" order by token',
    );
    expect(spends).toEqual([
      { token: 'hash-a', spend: '0.3' },
      { token: 'hash-b', spend: '0.000000001' },
    ]);
    const [count] = await database.query<{ n: number }>('select count(*)::int as n from "LiteLLM_SpendLogs"');
    expect(count!.n).toBe(4);
  });
});

describe('writeSpendBatch attribution', () => {
  let database: DatabaseHandle;
  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    await database.migrate();
    await insertKey(database.db, { token: 'k1', teamId: 't1', userId: 'u1' });
    await database.query(`insert into "LiteLLM_TeamTable" (team_id) values ('t1')`);
    await database.query(`insert into "LiteLLM_UserTable" (user_id) values ('u1')`);
  });
  afterAll(async () => {
    await database.close();
  });

  const row = (requestId: string, spend: string | null, status = 'success') => ({
    requestId,
    callType: 'acompletion',
    apiKey: 'k1',
    spend,
    teamId: 't1',
    user: 'u1',
    endUser: 'customer-9',
    requestTags: ['prod', 'chat'],
    model: 'gpt-4o-mini',
    customLlmProvider: 'openai',
    promptTokens: 10,
    completionTokens: 5,
    startTime: new Date('2026-11-22T10:00:00Z'),
    endTime: new Date('2026-11-22T10:00:01Z'),
    status,
  });

  it('adds spend to the team, the owner, the end user and each tag, and to the daily aggregates, once', async () => {
    const batch = [row('a1', '0.25'), row('a2', '0.5'), row('a3', '0', 'failure')];
    await writeSpendBatch(database.db, batch);
    await writeSpendBatch(database.db, batch);
    const spend = async (sqlText: string) => (await database.query<{ spend: string }>(sqlText))[0]?.spend;
    expect(await spend(`select spend::text from "LiteLLM_TeamTable" where team_id = 't1'`)).toBe('0.75');
    expect(await spend(`select spend::text from "LiteLLM_UserTable" where user_id = 'u1'`)).toBe('0.75');
    expect(await spend(`select spend::text from "LiteLLM_EndUserTable" where user_id = 'customer-9'`)).toBe(
      '0.75',
    );
    expect(
      await database.query(`select tag_name, spend::text as spend from "LiteLLM_TagTable" order by tag_name`),
    ).toEqual([
      { tag_name: 'chat', spend: '0.75' },
      { tag_name: 'prod', spend: '0.75' },
    ]);
    const [daily] = await database.query<Record<string, unknown>>(
      `select date, api_key, model, spend::text as spend, prompt_tokens::int as prompt, api_requests::int as requests,
              successful_requests::int as ok, failed_requests::int as failed
       from "LiteLLM_DailyTeamSpend" where team_id = 't1'`,
    );
    expect(daily).toEqual({
      date: '2026-11-22',
      api_key: 'k1',
      model: 'gpt-4o-mini',
      spend: '0.75',
      prompt: 30,
      requests: 3,
      ok: 2,
      failed: 1,
    });
    const tagDays = await database.query<{ tag: string; requests: number }>(
      `select tag, api_requests::int as requests from "LiteLLM_DailyTagSpend" order by tag`,
    );
    expect(tagDays).toEqual([
      { tag: 'chat', requests: 3 },
      { tag: 'prod', requests: 3 },
    ]);
  });
});
