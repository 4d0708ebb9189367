import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../client.ts';
import { insertKey } from './keys.ts';
import { writeSpendBatch, writeSpendRowsJson } from './spend.ts';

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

describe('writeSpendRowsJson', () => {
  let database: DatabaseHandle;
  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    await database.migrate();
  });
  afterAll(async () => {
    await database.close();
  });

  it('reads rows as JSON.stringify writes them: absent fields take defaults, nulls stay null', async () => {
    const full = {
      requestId: 'j1',
      callType: 'acompletion',
      apiKey: 'hash-j',
      spend: '0.000123456789',
      promptTokens: 12,
      startTime: new Date('2026-11-22T10:00:00.123Z'),
      endTime: new Date('2026-11-22T10:00:01.456Z'),
      modelId: null,
      metadata: { gateway_instance: 'i-1', quote: "it's" },
      pricing: null,
      requestTags: ['a'],
      status: 'success',
    };
    const sparse = {
      requestId: 'j2',
      callType: 'acompletion',
      startTime: new Date('2026-11-22T10:00:02Z'),
      endTime: new Date('2026-11-22T10:00:03Z'),
      status: 'failure',
    };
    // Two arrays joined as the stream reader joins entries, without parsing them.
    const joined = `[${JSON.stringify([full]).slice(1, -1)},${JSON.stringify([sparse]).slice(1, -1)}]`;
    expect(await writeSpendRowsJson(database.db, joined)).toBe(2);
    const rows = await database.query<Record<string, unknown>>(
      `select request_id, api_key, spend::text as spend, prompt_tokens, completion_tokens,
         "startTime", "endTime", model, model_id, model_group, cache_hit, metadata, pricing,
         request_tags, status
       from "LiteLLM_SpendLogs" order by request_id`,
    );
    expect(rows).toEqual([
      {
        request_id: 'j1',
        api_key: 'hash-j',
        spend: '0.000123456789',
        prompt_tokens: 12,
        completion_tokens: null,
        startTime: new Date('2026-11-22T10:00:00.123Z'),
        endTime: new Date('2026-11-22T10:00:01.456Z'),
        model: '',
        model_id: null,
        model_group: '',
        cache_hit: 'False',
        metadata: { gateway_instance: 'i-1', quote: "it's" },
        pricing: null,
        request_tags: ['a'],
        status: 'success',
      },
      {
        request_id: 'j2',
        api_key: '',
        spend: null,
        prompt_tokens: null,
        completion_tokens: null,
        startTime: new Date('2026-11-22T10:00:02Z'),
        endTime: new Date('2026-11-22T10:00:03Z'),
        model: '',
        model_id: '',
        model_group: '',
        cache_hit: 'False',
        metadata: {},
        pricing: null,
        request_tags: [],
        status: 'failure',
      },
    ]);
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
