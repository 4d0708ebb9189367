import { afterAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/** Start-up against the database's schema, and readiness while shutting down. */
describe('operations (Postgres)', () => {
  const started: TestGateway[] = [];
  afterAll(async () => {
    for (const t of started.reverse()) await t.close();
  });

  it('refuses a database that needs migrations unless told to apply them', async () => {
    await expect(startTestGateway('postgres', { migrateOnStart: false })).rejects.toThrow(
      /the database needs migrations \(0000_init, .*\): run `pnpm migrate`/,
    );
    const t = await startTestGateway('postgres', { migrateOnStart: true });
    started.push(t);
    // Migrated: a second instance starts without the flag.
    const second = await startTestGateway('postgres', { shareWith: t, migrateOnStart: false });
    started.push(second);
    expect((await fetch(`${second.gateway.url}/health/readiness`)).status).toBe(200);
  });

  it('refuses a database migrated by a newer release', async () => {
    const t = await startTestGateway('postgres');
    started.push(t);
    await t.query(
      'insert into drizzle.__drizzle_migrations (hash, created_at) select $1, max(created_at) + 1000 from drizzle.__drizzle_migrations',
      ['from-a-newer-release'],
    );
    await expect(startTestGateway('postgres', { shareWith: t, migrateOnStart: true })).rejects.toThrow(
      /schema is newer than this gateway/,
    );
  });

  it('fails readiness as soon as it is told to stop, while still answering for a while', async () => {
    const t = await startTestGateway('postgres', { shutdownDelayMs: 600 });
    expect((await fetch(`${t.gateway.url}/health/readiness`)).status).toBe(200);
    const stopping = t.gateway.stop();
    const during = await fetch(`${t.gateway.url}/health/readiness`);
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({ status: 'draining' });
    // Liveness still answers: the process is fine, only leaving.
    expect((await fetch(`${t.gateway.url}/health/liveliness`)).status).toBe(200);
    await stopping;
    await t.close();
  });
});
