import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from './support/backing-services.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';
import { adminPost, chatStatus, startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * Revocations while Redis fails. Two instances share Postgres and Redis, each reaching Redis
 * through a proxy the test can cut or mute. Whatever Redis does, a delete or block is saved
 * first, answers 200, and from the moment it answered no instance accepts the key.
 */
describe('revocation while Redis fails', () => {
  let a: TestGateway;
  let b: TestGateway;
  let toRedisA: TcpProxy;
  let toRedisB: TcpProxy;

  beforeAll(async () => {
    const redis = await testRedis();
    const target = new URL(redis.url);
    const where = { host: target.hostname, port: Number(target.port || 6379) };
    toRedisA = await startTcpProxy(where);
    toRedisB = await startTcpProxy(where);
    a = await startTestGateway('postgres+redis', { redis, redisUrl: `redis://127.0.0.1:${toRedisA.port}` });
    b = await startTestGateway('postgres+redis', {
      shareWith: a,
      redisUrl: `redis://127.0.0.1:${toRedisB.port}`,
    });
  });
  afterAll(async () => {
    toRedisA?.restore();
    toRedisB?.restore();
    await b?.close();
    await a?.close();
    await toRedisA?.close();
    await toRedisB?.close();
  });

  const status = chatStatus;

  /** Every call to `t` with `key` for `ms` answers `expected`. */
  const statusesFor = async (t: TestGateway, key: string, ms: number) => {
    const seen = new Set<number>();
    for (const until = Date.now() + ms; Date.now() < until; ) seen.add(await status(t, key));
    return [...seen];
  };

  /** A key both instances have verified, so each holds it in memory (and Redis holds a copy). */
  const warmKey = async (body: Record<string, unknown> = {}) => {
    const { key } = await adminPost(a, '/key/generate', body);
    expect(await status(a, key)).toBe(200);
    expect(await status(b, key)).toBe(200);
    return key as string;
  };

  it('a key deleted on an instance that cannot reach Redis is refused everywhere once the delete answered', async () => {
    const key = await warmKey();
    toRedisA.mute();
    try {
      const started = Date.now();
      const deleted = await adminPost(a, '/key/delete', { keys: [key] });
      expect(deleted.deleted_keys).toEqual([key]);
      expect(Date.now() - started).toBeLessThan(6_000);
      expect(await statusesFor(b, key, 300)).toEqual([401]);
      expect(await statusesFor(a, key, 300)).toEqual([401]);
    } finally {
      toRedisA.restore();
    }
  });

  it('a key deleted while Redis is away for every instance stays refused, also once Redis is back with its old copy', async () => {
    const key = await warmKey();
    const blocked = await warmKey();
    toRedisA.cut();
    toRedisB.cut();
    try {
      await adminPost(a, '/key/delete', { keys: [key] });
      await adminPost(b, '/key/block', { key: blocked });
      expect(await statusesFor(b, key, 200)).toEqual([401]);
      expect(await statusesFor(a, key, 200)).toEqual([401]);
      expect(await statusesFor(a, blocked, 200)).toEqual([401]);
    } finally {
      toRedisA.restore();
      toRedisB.restore();
    }
    // Redis still holds the copies cached before the outage: neither instance may believe them.
    expect(await statusesFor(b, key, 1_500)).toEqual([401]);
    expect(await statusesFor(a, key, 500)).toEqual([401]);
    expect(await statusesFor(a, blocked, 500)).toEqual([401]);
  });

  it('a key generated while Redis is away is saved, returned once and works', async () => {
    toRedisA.cut();
    try {
      const { key } = await adminPost(a, '/key/generate', { key_alias: 'made-during-outage' });
      expect(await status(a, key)).toBe(200);
      expect(await status(b, key)).toBe(200);
    } finally {
      toRedisA.restore();
    }
  });

  it('team and user deletes while Redis is away revoke their keys everywhere', async () => {
    const team = await adminPost(a, '/team/new', {});
    const teamKey = await warmKey({ team_id: team.team_id });
    const user = await adminPost(a, '/user/new', { auto_create_key: false });
    const userKey = await warmKey({ user_id: user.user_id });
    toRedisA.mute();
    try {
      expect(await adminPost(a, '/team/delete', { team_ids: [team.team_id] })).toMatchObject({
        deleted_keys: 1,
      });
      expect(await adminPost(a, '/user/delete', { user_ids: [user.user_id] })).toMatchObject({
        deleted_keys: 1,
      });
      expect(await statusesFor(b, teamKey, 200)).toEqual([401]);
      expect(await statusesFor(b, userKey, 200)).toEqual([401]);
    } finally {
      toRedisA.restore();
    }
  });
});
