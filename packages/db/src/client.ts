import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type SQL, sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;
/** A drizzle database over either driver; query functions take this. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

/** The rows of a raw SQL query, whichever driver runs it (both answer `{ rows }`). */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

export type DatabaseOptions =
  | {
      kind: 'postgres';
      url: string;
      poolMax?: number;
      connectionTimeoutMs?: number;
      /** Connections of the pool the spend reports use (default 3). */
      reportPoolMax?: number;
      /** How long a report statement may run before Postgres cancels it (default 300 s). */
      reportStatementTimeoutMs?: number;
    }
  /** `dataDir` is a folder for a persistent database, or `memory://` for a throwaway one. */
  | { kind: 'pglite'; dataDir: string };

export interface DatabaseHandle {
  db: Database;
  kind: DatabaseOptions['kind'];
  /**
   * The same database through a pool of its own (Postgres): spend pages, reports and
   * reconciliation read through it, so a burst of them can never hold every connection the
   * key lookups and the spend writer need; its statements are cancelled after a time limit.
   */
  reports: {
    db: Database;
    query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  };
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Raw parameterised SQL, for scripts and tests; application code uses drizzle queries. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Applies the committed migrations from the root `migrations/` folder. Safe to run concurrently. */
  migrate(): Promise<void>;
  /** How the database's schema stands against the committed migrations. */
  migrationStatus(): Promise<MigrationStatus>;
  close(): Promise<void>;
}

export interface MigrationStatus {
  /** Committed migrations the database has not applied yet (their tags). */
  pending: string[];
  /** The database applied a migration this code does not know: it was migrated by a newer release. */
  newerThanCode: boolean;
}

/**
 * Compares the migrations drizzle recorded as applied (`drizzle.__drizzle_migrations`, by the
 * journal time of each) with the committed journal.
 */
async function migrationStatusOf(
  query: (text: string) => Promise<{ created_at: string | number }[]>,
  migrationsFolder: string,
): Promise<MigrationStatus> {
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as {
    entries: { tag: string; when: number }[];
  };
  let applied: number[];
  try {
    applied = (await query('select created_at from drizzle.__drizzle_migrations')).map((r) =>
      Number(r.created_at),
    );
  } catch (error) {
    // No migration table: nothing applied yet.
    if ((error as { code?: string }).code === '42P01' || /does not exist/.test(String(error))) applied = [];
    else throw error;
  }
  const last = applied.length > 0 ? Math.max(...applied) : -1;
  const known = new Set(journal.entries.map((e) => e.when));
  return {
    pending: journal.entries.filter((e) => e.when > last).map((e) => e.tag),
    newerThanCode: applied.some((when) => !known.has(when)),
  };
}

/** Set by the production build (apps/gateway/scripts/build.ts), which copies the migrations beside the bundle. */
declare const BUNDLED_MIGRATIONS_DIR: string | undefined;

/** The migrations written by drizzle-kit: `MIGRATIONS_DIR`, else the bundle's copy, else the root `migrations/`. */
export const defaultMigrationsFolder =
  process.env.MIGRATIONS_DIR ??
  fileURLToPath(
    new URL(
      typeof BUNDLED_MIGRATIONS_DIR === 'string' ? BUNDLED_MIGRATIONS_DIR : '../../../migrations',
      import.meta.url,
    ),
  );

// Any fixed 64-bit number; all instances use it so only one runs migrations at a time.
const MIGRATION_LOCK_ID = 720_341_955_118;

/**
 * Opens a database: `pg` with a bounded pool for Postgres, or an embedded PGlite.
 * Does not connect eagerly for Postgres; the first query does.
 */
export async function openDatabase(
  options: DatabaseOptions,
  migrationsFolder = defaultMigrationsFolder,
): Promise<DatabaseHandle> {
  if (options.kind === 'postgres') {
    const main = poolOf(options.url, {
      max: options.poolMax ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    });
    const pool = main.pool;
    const db = main.db;
    const reportPool = poolOf(options.url, {
      max: options.reportPoolMax ?? 3,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
      statement_timeout: options.reportStatementTimeoutMs ?? 300_000,
    });
    const reportDb = reportPool.db;
    return {
      db,
      kind: 'postgres',
      reports: {
        db: reportDb,
        query: async <T>(text: string, params: unknown[] = []) =>
          (await reportPool.pool.query(text, params)).rows as T[],
      },
      ping: async () => {
        await pool.query('select 1');
      },
      query: async <T>(text: string, params: unknown[] = []) => (await pool.query(text, params)).rows as T[],
      migrate: async () => {
        // A dedicated connection holds the advisory lock for the whole migration run.
        const client = new pg.Client({ connectionString: options.url });
        await client.connect();
        try {
          await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
          await migratePg(drizzlePg({ client }), { migrationsFolder });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
          await client.end();
        }
      },
      migrationStatus: () =>
        migrationStatusOf(async (text) => (await pool.query(text)).rows, migrationsFolder),
      close: async () => {
        await Promise.all([pool.end(), reportPool.pool.end()]);
      },
    };
  }

  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  // Loaded only when used: a gateway on Postgres does not carry the embedded database's code
  // (about 40 MB of resident memory when loaded through tsx).
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  const client = await PGlite.create(options.dataDir);
  const db = drizzlePglite({ client, schema }) as unknown as Database;
  const query = async <T>(text: string, params: unknown[] = []) => (await client.query<T>(text, params)).rows;
  return {
    db,
    kind: 'pglite',
    // One process, one connection: the reports share it.
    reports: { db, query },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    query,
    migrate: async () => {
      await migratePglite(drizzlePglite({ client }), { migrationsFolder });
    },
    migrationStatus: () =>
      migrationStatusOf(
        async (text) => (await client.query<{ created_at: string | number }>(text)).rows,
        migrationsFolder,
      ),
    close: () => client.close(),
  };
}

/** A bounded `pg` pool and a drizzle database over it, with transactions that never leak a client. */
function poolOf(url: string, config: pg.PoolConfig): { pool: pg.Pool; db: Database } {
  const pool = new pg.Pool({ connectionString: url, ...config });
  // A client that loses its connection emits 'error': when idle the pool reports it here and
  // replaces the client; when checked out, nobody listens unless we do, and the unhandled
  // event would crash the process (seen when the database connection is cut mid-transaction).
  // The query in flight rejects either way, so the caller still sees the failure.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzlePg({ client: pool, schema }) as unknown as Database;
  db.transaction = poolTransaction(pool);
  return { pool, db };
}

/**
 * Transactions on their own pooled connection, always given back. drizzle-orm (0.45) checks a
 * client out for a pool transaction but sends BEGIN outside its try/finally: when BEGIN fails
 * on a connection that just died, the client is never released, and after a few database
 * blinks the pool is exhausted and every query waits forever (found by the outage test).
 * Here the transaction runs on a drizzle instance bound to one checked-out client, and that
 * client is released in every case; after a failure it is destroyed rather than reused.
 */
function poolTransaction(pool: pg.Pool): Database['transaction'] {
  return async (work, config) => {
    const client = await pool.connect();
    let failure: Error | undefined;
    try {
      const session = drizzlePg({ client, schema }) as unknown as Database;
      return await session.transaction(work, config);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(failure);
    }
  };
}
