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
