import { openDatabase } from '@gateway/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/backing-services.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

/**
 * A transaction that starts on a pooled connection the database just dropped must fail and
 * give its connection back: a leaked one per blink would exhaust the pool for good.
 */
describe('database connection dropped under a transaction', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  beforeAll(async () => {
    database = await createTestDatabase();
    const base = new URL(database.url);
    proxy = await startTcpProxy({ host: base.hostname, port: Number(base.port || 5432) });
  });
  afterAll(async () => {
    await proxy?.close();
    await database?.drop();
  });

  it('fails the transaction, releases the connection, and works again once the database is back', async () => {
    const url = new URL(database.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const handle = await openDatabase({ kind: 'postgres', url: url.toString(), poolMax: 2 });
    await handle.migrate();
    // Two idle pooled connections, then both dropped while the pool still holds them.
    await Promise.all([handle.query('select pg_sleep(0.05)'), handle.query('select pg_sleep(0.05)')]);
    proxy.cut();
    const attempts = await Promise.allSettled(
      [1, 2, 3].map(() => handle.db.transaction(async (tx) => tx.execute('select 1'))),
    );
    expect(attempts.every((a) => a.status === 'rejected')).toBe(true);
    proxy.restore();
    // Every connection came back to the pool: new transactions run, and the pool closes.
    const again = await Promise.all(
      [1, 2, 3, 4].map(() => handle.db.transaction(async (tx) => tx.execute('select 1 as one'))),
    );
    expect(again).toHaveLength(4);
    await expect(
      Promise.race([
        handle.close(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('pool.end() hung: a client leaked')), 5_000),
        ),
      ]),
    ).resolves.toBeUndefined();
  });
});
