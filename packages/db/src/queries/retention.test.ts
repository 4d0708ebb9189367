import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../client.ts';
import type { NewSpendLogRow } from '../schema/spend-logs.ts';
import { insertKey } from './keys.ts';
import { reconcileSpend } from './reconcile.ts';
import { pruneSpendLogs } from './retention.ts';
import { writeSpendBatch } from './spend.ts';
import { insertTeam } from './teams.ts';

describe('pruneSpendLogs', () => {
  let database: DatabaseHandle;
  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
    await database.migrate();
    await insertTeam(database.db, { teamId: 'team-r' }, []);
    await insertKey(database.db, { token: 'hash-r', teamId: 'team-r' });
  });
  afterAll(async () => {
    await database.close();
  });

  const row = (requestId: string, day: string, seq: number): NewSpendLogRow => ({
    requestId,
    callType: 'acompletion',
    apiKey: 'hash-r',
    teamId: 'team-r',
    endUser: 'eu-r',
    requestTags: ['old-tag'],
    model: 'gpt-4o-mini',
    customLlmProvider: 'openai',
    spend: '0.001',
    startTime: new Date(`${day}T12:00:00Z`),
    endTime: new Date(`${day}T12:00:01Z`),
    status: 'success',
    metadata: { gateway_instance: 'proc-r', gateway_seq: seq },
  });

  it('deletes old rows in batches, keeps their spend for reconciliation, and leaves newer rows', async () => {
    const rows = [
      ...Array.from({ length: 7 }, (_, i) => row(`old-${i}`, '2026-01-10', i + 1)),
      ...Array.from({ length: 3 }, (_, i) => row(`new-${i}`, '2026-03-10', i + 8)),
    ];
    await writeSpendBatch(database.db, rows);
    const cutoff = new Date('2026-02-01T00:00:00Z');
    expect(await pruneSpendLogs(database.db, cutoff, 5)).toBe(5);
    expect(await pruneSpendLogs(database.db, cutoff, 5)).toBe(2);
    expect(await pruneSpendLogs(database.db, cutoff, 5)).toBe(0);
    const left = await database.query<{ request_id: string }>(
      'select request_id from "LiteLLM_SpendLogs" order by request_id',
    );
    expect(left.map((r) => r.request_id)).toEqual(['new-0', 'new-1', 'new-2']);
    const pruned = await database.query<{ entity: string; id: string; spend: string }>(
      'select entity, id, spend::text as spend from gateway_pruned_spend order by entity, id',
    );
    expect(pruned).toEqual([
      { entity: 'end_user', id: 'eu-r', spend: '0.007' },
      { entity: 'key', id: 'hash-r', spend: '0.007' },
      { entity: 'tag', id: 'old-tag', spend: '0.007' },
      { entity: 'team', id: 'team-r', spend: '0.007' },
    ]);
    // Counters still hold all ten rows' spend: the kept rows plus what was pruned balance them.
    const report = await reconcileSpend(database.db, { retainedFrom: cutoff });
    expect(report.difference).toBe('0');
    expect(report.sequences.missing).toBe(0);
    expect(report.ok).toBe(true);
    // Without knowing about retention the daily aggregates of the pruned day would not match.
    expect((await reconcileSpend(database.db)).ok).toBe(false);
  });
});
