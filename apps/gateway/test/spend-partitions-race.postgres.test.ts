import { type DatabaseHandle, ensureSpendPartitions, openDatabase, spendPartitionName } from '@gateway/db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/backing-services.ts';

/**
 * Instances that start together (replicas in a rollout, the workers of `WORKERS=N`) all make
 * the spend log's day partitions at once. Two sessions creating the same table collide in
 * Postgres's catalog with a unique violation rather than "already exists"; the partition job
 * must take turns, so that every instance starts cleanly and each day is made once.
 */
let database: TestDatabase;
let a: DatabaseHandle;
let b: DatabaseHandle;
beforeAll(async () => {
  database = await createTestDatabase();
  a = await openDatabase({ kind: 'postgres', url: database.url, poolMax: 2 });
  b = await openDatabase({ kind: 'postgres', url: database.url, poolMax: 2 });
  await a.migrate();
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await database?.drop();
});

it('two instances making the same day partitions at once both succeed, and each day is made once', async () => {
  const DAY_MS = 86_400_000;
  for (let round = 0; round < 8; round++) {
    const from = new Date(Date.UTC(2030, 0, 1) + round * 10 * DAY_MS);
    const [madeByA, madeByB] = await Promise.all([
      ensureSpendPartitions(a.db, from, 4),
      ensureSpendPartitions(b.db, from, 4),
    ]);
    const expected = [0, 1, 2, 3].map((d) => spendPartitionName(new Date(from.getTime() + d * DAY_MS)));
    expect([...madeByA, ...madeByB].sort()).toEqual(expected);
  }
});
