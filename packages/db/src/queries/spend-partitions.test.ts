import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, defaultMigrationsFolder, openDatabase } from '../client.ts';
import type { NewSpendLogRow } from '../schema/spend-logs.ts';
import { reconcileSpend } from './reconcile.ts';
import { dropSpendPartitionsBefore } from './retention.ts';
import { writeSpendBatch } from './spend.ts';
import { ensureSpendPartitions, spendDayPartitions, spendPartitionName } from './spend-partitions.ts';

const DAY_MS = 86_400_000;
const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
const dayAt = (offset: number, hour = 12) => new Date(today.getTime() + offset * DAY_MS + hour * 3600_000);

const row = (requestId: string, startTime: Date, spend = '0.001'): NewSpendLogRow => ({
  requestId,
  callType: 'acompletion',
  apiKey: 'hash-p',
  endUser: 'eu-p',
  model: 'gpt-4o-mini',
  customLlmProvider: 'openai',
  spend,
  startTime,
  endTime: new Date(startTime.getTime() + 1000),
  status: 'success',
});

/** Which partition holds each request id. */
async function partitionsOf(database: DatabaseHandle): Promise<Record<string, string>> {
  const found = await database.query<{ request_id: string; partition: string }>(
    'select request_id, tableoid::regclass::text as partition from "LiteLLM_SpendLogs"',
  );
  return Object.fromEntries(found.map((r) => [r.request_id, r.partition.replaceAll('"', '')]));
}

describe('the spend log partitioned by day', () => {
  let database: DatabaseHandle;
  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    await database.migrate();
  });
  afterAll(async () => {
    await database.close();
  });

  it('makes a partition per day, once', async () => {
    const made = await ensureSpendPartitions(database.db, dayAt(-1), 5);
    expect(made).toEqual([-1, 0, 1, 2, 3].map((d) => spendPartitionName(dayAt(d))));
    expect(await ensureSpendPartitions(database.db, dayAt(-1), 5)).toEqual([]);
    expect((await spendDayPartitions(database.db)).map((p) => p.name)).toEqual(made);
  });

  it('puts each row in its day, a day without a partition in the default one, and moves it when that day gets one', async () => {
    await writeSpendBatch(database.db, [
      row('p-today', dayAt(0)),
      row('p-2', dayAt(2)),
      row('p-10', dayAt(10)),
    ]);
    expect(await partitionsOf(database)).toMatchObject({
      'p-today': spendPartitionName(dayAt(0)),
      'p-2': spendPartitionName(dayAt(2)),
      'p-10': 'LiteLLM_SpendLogs_default',
    });
    await ensureSpendPartitions(database.db, dayAt(10), 1);
    expect((await partitionsOf(database))['p-10']).toBe(spendPartitionName(dayAt(10)));
    // A row written twice is still written once.
    expect(await writeSpendBatch(database.db, [row('p-2', dayAt(2)), row('p-10', dayAt(10))])).toBe(0);
  });

  it('retention drops whole days, keeping their spend for reconciliation', async () => {
    await writeSpendBatch(database.db, [row('p-1a', dayAt(1, 1)), row('p-1b', dayAt(1, 2), '0.002')]);
    const cutoff = new Date(today.getTime() + 3 * DAY_MS);
    // Days -1 to 2 end by the cutoff: four rows go with them.
    expect(await dropSpendPartitionsBefore(database.db, cutoff)).toBe(4);
    const left = await partitionsOf(database);
    expect(Object.keys(left).sort()).toEqual(['p-10']);
    expect((await spendDayPartitions(database.db)).map((p) => p.name)).toEqual([
      spendPartitionName(dayAt(3)),
      spendPartitionName(dayAt(10)),
    ]);
    const [pruned] = await database.query<{ spend: string }>(
      `select spend::text as spend from gateway_pruned_spend where entity = 'key' and id = 'hash-p'`,
    );
    expect(pruned?.spend).toBe('0.005');
    const report = await reconcileSpend(database.db, { retainedFrom: cutoff });
    expect(report.counters.find((c) => c.entity === 'end_user')?.mismatches).toEqual([]);
  });
});

describe('migrating a spend log that already holds rows', () => {
  it('keeps every row, readable and unique, in the first partition', async () => {
    // The migrations up to the one before partitioning.
    const folder = mkdtempSync(join(tmpdir(), 'gw-migrations-'));
    cpSync(defaultMigrationsFolder, folder, { recursive: true });
    const journalPath = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    const at = journal.entries.findIndex((e) => e.tag === '0009_spend_partitions');
    journal.entries = journal.entries.slice(0, at);
    writeFileSync(journalPath, JSON.stringify(journal));
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-pglite-'));
    try {
      const before = await openDatabase({ kind: 'pglite', dataDir }, folder);
      await before.migrate();
      await before.query(
        `insert into "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, "startTime", "endTime", status)
         values ('old-1', 'acompletion', 'k', 0.5, now() - interval '40 days', now() - interval '40 days', 'success'),
                ('old-2', 'acompletion', 'k', 0.25, now(), now(), 'success')`,
      );
      await before.close();
      const after = await openDatabase({ kind: 'pglite', dataDir });
      try {
        await after.migrate();
        expect(await partitionsOf(after)).toEqual({
          'old-1': 'LiteLLM_SpendLogs_legacy',
          'old-2': 'LiteLLM_SpendLogs_legacy',
        });
        // Written again by a redelivery: still one row.
        expect(
          await writeSpendBatch(after.db, [
            {
              ...row('old-2', new Date()),
              startTime: (
                await after.query<{ t: Date }>(
                  `select "startTime" as t from "LiteLLM_SpendLogs" where request_id = 'old-2'`,
                )
              )[0]!.t,
            },
          ]),
        ).toBe(0);
      } finally {
        await after.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
