import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Real Postgres and Redis for integration tests: `DATABASE_URL` / `REDIS_URL` when set,
 * else containers through testcontainers when a Docker engine is available. Neither: the
 * test fails with a message saying what to provide; it never skips.
 */

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

let postgresBaseUrl: Promise<string> | undefined;
let redisBaseUrl: Promise<string> | undefined;

async function startContainer<T>(what: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    throw new Error(
      `${what} tests need ${what === 'Postgres' ? 'DATABASE_URL' : 'REDIS_URL'} or a Docker engine for testcontainers: ${(error as Error).message}`,
    );
  }
}

function basePostgresUrl(): Promise<string> {
  postgresBaseUrl ??= process.env.DATABASE_URL
    ? Promise.resolve(process.env.DATABASE_URL)
    : startContainer('Postgres', async () => {
        const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
        const container = await new PostgreSqlContainer('postgres:16-alpine').start();
        return container.getConnectionUri();
      });
  return postgresBaseUrl;
}

/** A fresh, empty database of its own for one test file, dropped afterwards. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = await basePostgresUrl();
  const name = `gw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** The Redis URL, plus a key prefix of this test file's own. */
export async function testRedis(): Promise<{ url: string; keyPrefix: string }> {
  redisBaseUrl ??= process.env.REDIS_URL
    ? Promise.resolve(process.env.REDIS_URL)
    : startContainer('Redis', async () => {
        const { RedisContainer } = await import('@testcontainers/redis');
        const container = await new RedisContainer('redis:7-alpine').start();
        return container.getConnectionUrl();
      });
  return { url: await redisBaseUrl, keyPrefix: `gw-test-${randomBytes(6).toString('hex')}:` };
}
