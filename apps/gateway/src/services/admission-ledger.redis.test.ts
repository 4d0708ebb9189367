import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../../test/support/backing-services.ts';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy.ts';
import { admissionLedgerContract } from './admission-ledger.contract.ts';
import {
  type AdmissionScope,
  InProcessAdmissionLedger,
  type LedgerTimings,
  RedisAdmissionLedger,
} from './admission-ledger.ts';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

describe('RedisAdmissionLedger (real Redis)', () => {
  let url: string;
  let prefix: string;
  let raw: Redis;
  let proxy: TcpProxy;
  const clients: Redis[] = [];
  let run = 0;

  /** A client as the gateway builds it (failing fast), through the proxy when asked. */
  async function client(throughProxy = false): Promise<Redis> {
    const target = throughProxy ? `redis://127.0.0.1:${proxy.port}` : url;
    const redis = new Redis(target, {
      keyPrefix: prefix,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 250,
      autoResendUnfulfilledCommands: false,
      retryStrategy: () => 50,
    });
    redis.on('error', () => {});
    clients.push(redis);
    await redis.connect();
    return redis;
  }

  /** A ledger whose scope ids no other test shares. */
  async function ledger(timings: LedgerTimings, throughProxy = false) {
    run += 1;
    const redis = await client(throughProxy);
    return {
      ledger: new RedisAdmissionLedger(redis, new InProcessAdmissionLedger(timings), logger, timings),
      scope: (id: string) => `run${run}:${id}`,
    };
  }

  beforeAll(async () => {
    const target = await testRedis();
    url = target.url;
    prefix = target.keyPrefix;
    raw = new Redis(url);
    const base = new URL(url);
    proxy = await startTcpProxy({ host: base.hostname, port: Number(base.port || 6379) });
  });
  afterAll(async () => {
    for (const redis of clients) redis.disconnect();
    await proxy?.close();
    if (!raw) return;
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    raw.disconnect();
  });

  describe('as every ledger', () => {
    admissionLedgerContract(async (timings) => {
      const made = await ledger(timings);
      // The contract's scope ids, made this run's own.
      const { ledger: inner, scope } = made;
      const rename = (scopes: AdmissionScope[]) => scopes.map((s) => ({ ...s, id: scope(s.id) }));
      return {
        admit: (id, scopes, amount) => inner.admit(id, rename(scopes), amount),
        settle: (reservation, actual, tokens) => inner.settle(reservation, actual, tokens),
        forget: (ids) => inner.forget(ids.map(scope)),
      };
    });
  });

  it('gives every key it writes an expiry, and keeps a per-model budget until its window ends', async () => {
    const { ledger: l, scope } = await ledger({ windowMs: 60_000, reservationTtlMs: 60_000 });
    const weekEnd = Date.now() + 7 * 24 * 3600_000;
    const scopes: AdmissionScope[] = [
      {
        id: scope('key:ttl'),
        budget: { limitNanos: 1_000, seedNanos: 0, blockAtLimit: true },
        limits: { tpm: 100, rpm: 5 },
      },
      {
        id: scope('key:ttl:model-budget'),
        budget: { limitNanos: 1_000, seedNanos: 0, blockAtLimit: true, keepUntilMs: weekEnd },
      },
    ];
    const call = await l.admit('ttl-1', scopes, 10);
    if (!call.ok) throw new Error('refused');
    await l.settle(call.reservation, 10, 42);
    // A refused first sight of a budget also leaves a counter behind: it expires too.
    await l.admit(
      'ttl-2',
      [{ id: scope('team:spent'), budget: { limitNanos: 1, seedNanos: 5, blockAtLimit: false } }],
      1,
    );
    const keys = await raw.keys(`${prefix}budget:{budget}:${scope('')}*`);
    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const key of keys) {
      const ttl = await raw.pttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      if (key.includes('model-budget')) expect(ttl, key).toBeGreaterThan(6 * 24 * 3600_000);
    }
  });

  it('releases in Redis a check that ran there although its reply was lost, and counts its cost once', async () => {
    const { ledger: l, scope } = await ledger({ windowMs: 60_000, reservationTtlMs: 600_000 });
    const key: AdmissionScope = {
      id: scope('key:lost-reply'),
      budget: { limitNanos: 1_000, seedNanos: 0, blockAtLimit: true },
      limits: { parallel: 1 },
    };
    const ran = await l.admit('lost', [key], 500);
    if (!ran.ok) throw new Error('refused');
    // As if the reply timed out: the call went ahead on this instance's own counters.
    const local = await new InProcessAdmissionLedger().admit('lost', [key], 500);
    if (!local.ok) throw new Error('refused');
    await l.settle({ ...local.reservation, ledger: l, local: true }, 300, 0);
    await l.caughtUp();
    expect(l.behind).toBe(0);
    // The slot and the reservation are free again; the spend is the call's cost, once.
    const next = await l.admit('next', [key], 700);
    expect(next).toMatchObject({ ok: true });
    if (!next.ok) return;
    expect(next.reservation.remaining[0]?.spentNanos).toBe(300);
  });

  it('sends a settlement again when Redis did not confirm it, and counts it once', async () => {
    const { ledger: l, scope } = await ledger({ windowMs: 60_000, reservationTtlMs: 600_000 }, true);
    const key: AdmissionScope = {
      id: scope('key:unconfirmed'),
      budget: { limitNanos: 1_000, seedNanos: 0, blockAtLimit: true },
    };
    const call = await l.admit('call', [key], 400);
    if (!call.ok) throw new Error('refused');
    proxy.cut();
    try {
      expect(await l.settle(call.reservation, 250, 0)).toEqual([undefined]);
      expect(l.behind).toBe(1);
    } finally {
      proxy.restore();
    }
    // The client reconnects; the settlement goes out again.
    await expect
      .poll(
        async () => {
          await l.caughtUp();
          return l.behind;
        },
        { timeout: 5_000 },
      )
      .toBe(0);
    const next = await l.admit('next', [key], 1);
    if (!next.ok) throw new Error('refused');
    expect(next.reservation.remaining[0]?.spentNanos).toBe(250);
    // Sent twice more, it still counts once.
    await l.settle(call.reservation, 250, 0);
    const again = await l.admit('again', [key], 1);
    if (!again.ok) throw new Error('refused');
    expect(again.reservation.remaining[0]?.spentNanos).toBe(250);
  });

  it('windows limits on Redis’s clock, not on each instance’s', async () => {
    const { ledger: l, scope } = await ledger({ windowMs: 60_000, reservationTtlMs: 60_000 });
    const limited: AdmissionScope = { id: scope('key:clock'), limits: { rpm: 1 } };
    expect((await l.admit('a', [limited], 0)).ok).toBe(true);
    const refused = await l.admit('b', [limited], 0);
    if (refused.ok || refused.reason === 'budget') throw new Error('admitted');
    const [seconds, micros] = await raw.time();
    const oldest = await raw.zrange(
      `${prefix}budget:{budget}:${scope('key:clock')}:requests`,
      0,
      0,
      'WITHSCORES',
    );
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    expect(Math.abs(Number(oldest[1]) - redisNow)).toBeLessThan(2_000);
    expect(refused.retryAfterMs).toBeGreaterThan(55_000);
  });
});
