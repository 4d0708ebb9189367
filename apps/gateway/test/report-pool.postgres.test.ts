import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER_KEY, startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * Spend reports read through a pool of their own with a time limit: a report stuck behind a
 * lock (or just too big) is cancelled with a clear 503, and while reports wait every model call
 * and admin change still gets its connections.
 */
describe('the report pool', () => {
  let t: TestGateway;
  let blocker: pg.Client;
  beforeAll(async () => {
    t = await startTestGateway('postgres', { reportTimeoutMs: 500 });
    blocker = new pg.Client({ connectionString: t.databaseUrl });
    await blocker.connect();
  });
  afterAll(async () => {
    await blocker?.end();
    await t?.close();
  });

  const admin = (path: string) =>
    fetch(`${t.gateway.url}${path}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });

  it('cancels a report past REPORT_TIMEOUT_SECONDS with a 503, while calls and admin changes go on', async () => {
    // Every report of the daily aggregate now waits for this lock.
    await blocker.query('begin');
    await blocker.query('lock table gateway_daily_spend in access exclusive mode');
    try {
      const reports = Array.from({ length: 6 }, () => admin('/global/spend'));
      // Meanwhile the main pool serves a new key and a call with it.
      const key = await t.createKey();
      const call = await fetch(`${t.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(call.status).toBe(200);
      const answers = await Promise.all(reports);
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(await answer.json()).toMatchObject({
          error: { type: 'report_timeout', message: expect.stringContaining('REPORT_TIMEOUT_SECONDS') },
        });
      }
    } finally {
      await blocker.query('rollback');
    }
    expect((await admin('/global/spend')).status).toBe(200);
  });
});
