import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testRedis } from '../../test/support/backing-services.ts';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy.ts';
import { admissionLedgerContract } from './ledger.contract.ts';
import {
  type AdmissionScope,
  type AdmitResult,
  InProcessAdmissionLedger,
  type LedgerTimings,
  RedisAdmissionLedger,
} from './ledger.ts';

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

  const fallbacks = new Map<RedisAdmissionLedger, InProcessAdmissionLedger>();
  const localOf = (l: RedisAdmissionLedger) => fallbacks.get(l)!;
  /** What Redis has not confirmed yet, after sending it what it missed. */
  const behindOf = (l: RedisAdmissionLedger) => async () => {
    await l.caughtUp();
    return l.behind;
  };

  /** A ledger whose scope ids no other test shares. */
  async function ledger(timings: LedgerTimings, throughProxy = false, admitAhead = false) {
    run += 1;
    const redis = await client(throughProxy);
    const fallback = new InProcessAdmissionLedger(timings);
    const made = new RedisAdmissionLedger(redis, fallback, logger, timings, { admitAhead });
    fallbacks.set(made, fallback);
    // This ledger's own run number (not the latest one, once other ledgers were made).
    const own = run;
    return { ledger: made, redis, scope: (id: string) => `run${own}:${id}` };
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

  it('checks the calls of one event-loop turn in one script call, one after another', async () => {
    const { ledger: made, redis, scope } = await ledger({ windowMs: 60_000, reservationTtlMs: 60_000 });
    const admitCalls = vi.spyOn(
      redis as unknown as { gatewayAdmit: (...args: unknown[]) => Promise<unknown> },
      'gatewayAdmit',
    );
    const key = { id: scope('key:together'), limits: { parallel: 2 } };
    const team = {
      id: scope('team:together'),
      budget: { limitNanos: 500, seedNanos: 0, blockAtLimit: true },
    };
    const results = await Promise.all([
      made.admit('p1', [key], 0),
      made.admit('p2', [key, team], 600),
      made.admit('p3', [key], 0),
      made.admit('p4', [team], 600),
    ]);
    expect(admitCalls).toHaveBeenCalledTimes(1);
    // The key holds two calls at most; the team's budget is used up by p2's reservation.
    expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual([
      'ok',
      'ok',
      'max_parallel_requests',
      'budget',
    ]);
  });

  it('sends the settlements of one event-loop turn in one script call', async () => {
    const { ledger: made, redis, scope } = await ledger({ windowMs: 60_000, reservationTtlMs: 60_000 });
    const settleCalls = vi.spyOn(
      redis as unknown as { gatewaySettle: (...args: unknown[]) => Promise<unknown> },
      'gatewaySettle',
    );
    const scopes = [
      { id: scope('key:batched'), budget: { limitNanos: 1_000, seedNanos: 0, blockAtLimit: true } },
    ];
    const admitted = await Promise.all(['x', 'y', 'z'].map((id) => made.admit(id, scopes, 10)));
    const after = await Promise.all(
      admitted.map((result) => {
        if (!result.ok) throw new Error('refused');
        return made.settle(result.reservation, 5, 0);
      }),
    );
    expect(settleCalls).toHaveBeenCalledTimes(1);
    expect(after.flat().sort((x, y) => x! - y!)).toEqual([5, 10, 15]);
  });

  describe.each([false, true])('as every ledger (admitting ahead: %s)', (admitAhead) => {
    admissionLedgerContract(async (timings) => {
      const made = await ledger(timings, false, admitAhead);
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

  /** What Redis holds for a scope: calls in flight, and its budget spend. */
  async function redisState(scopeId: string) {
    const base = `${prefix}budget:{budget}:${scopeId}`;
    return {
      held: await raw.zcard(`${base}:held`),
      reserved: Number((await raw.hget(base, 'reserved')) ?? 0),
      spent: Number((await raw.hget(base, 'spent')) ?? -1),
    };
  }

  /** Sends the next call into a lost reply: Redis runs it, the answer never arrives. */
  async function loseNextReply(call: () => Promise<unknown>) {
    proxy.mute();
    try {
      return await call();
    } finally {
      // The connection that lost a reply is dropped; the client reconnects.
      proxy.cut();
      proxy.restore();
    }
  }

  it('releases in Redis a check that ran there although its reply was lost, and counts its cost once', async () => {
    const { ledger: l, scope } = await ledger({ windowMs: 60_000, reservationTtlMs: 600_000 }, true);
    const key: AdmissionScope = {
      id: scope('key:lost-reply'),
      budget: { limitNanos: 1_000, seedNanos: 0, blockAtLimit: true },
      limits: { parallel: 1 },
    };
    const admitted = (await loseNextReply(() => l.admit('lost', [key], 500))) as AdmitResult;
    if (!admitted.ok) throw new Error('refused');
    expect(admitted.reservation.local).toBe(true);
    // Redis did run the check: it holds the call.
    expect(await redisState(key.id)).toMatchObject({ held: 1, reserved: 500 });
    await l.settle(admitted.reservation, 300, 0);
    await expect.poll(behindOf(l), { timeout: 5_000 }).toBe(0);
    // Released, and the cost counted once (handed back with the local spend).
    expect(await redisState(key.id)).toEqual({ held: 0, reserved: 0, spent: 300 });
  });

  it('releases it too when this instance’s own counters refuse the call', async () => {
    const { ledger: l, scope } = await ledger({ windowMs: 60_000, reservationTtlMs: 600_000 }, true);
    const key: AdmissionScope = { id: scope('key:lost-refusal'), limits: { parallel: 1 } };
    const held = await l.admit('first', [key], 0);
    if (!held.ok) throw new Error('refused');
    await l.settle(held.reservation, 0, 0);
    // This instance's counters already hold a call on the key (from an earlier outage).
    const fallbackHeld = await localOf(l).admit('earlier', [key], 0);
    expect(fallbackHeld.ok).toBe(true);
    const refused = (await loseNextReply(() => l.admit('lost', [key], 0))) as AdmitResult;
    expect(refused).toMatchObject({ ok: false, reason: 'max_parallel_requests' });
    expect((await redisState(key.id)).held).toBe(1);
    await expect.poll(behindOf(l), { timeout: 5_000 }).toBe(0);
    expect((await redisState(key.id)).held).toBe(0);
  });

  it('keeps one hand-back while Redis is away, and its budget counters no longer than an outage', async () => {
    const { ledger: l, scope } = await ledger({ windowMs: 60_000, reservationTtlMs: 600_000 }, true);
    const id = scope('key:outages');
    const key = (seedNanos: number): AdmissionScope => ({
      id,
      budget: { limitNanos: 1_000_000, seedNanos, blockAtLimit: true },
    });
    const first = await l.admit('seed', [key(0)], 1);
    if (!first.ok) throw new Error('refused');
    await l.settle(first.reservation, 1, 0);
    proxy.cut();
    try {
      for (let i = 0; i < 50; i++) {
        const call = await l.admit(`away-${i}`, [key(1)], 100);
        if (!call.ok || !call.reservation.local) throw new Error('not admitted locally');
        await l.settle(call.reservation, 100, 0);
      }
      // One scope's spend and the releases to send: no hand-back per call.
      expect(l.behind).toBe(51);
    } finally {
      proxy.restore();
    }
    await expect.poll(behindOf(l), { timeout: 5_000 }).toBe(0);
    expect((await redisState(id)).spent).toBe(1 + 50 * 100);
    // Back on Redis; at the next outage this instance starts from the database's spend
    // (here: the whole budget spent), not from what it counted during the last one.
    expect((await l.admit('back', [key(1)], 1)).ok).toBe(true);
    proxy.cut();
    try {
      expect(await l.admit('next-outage', [key(1_000_000)], 1)).toMatchObject({
        ok: false,
        reason: 'budget',
      });
    } finally {
      proxy.restore();
    }
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
    await expect.poll(behindOf(l), { timeout: 5_000 }).toBe(0);
    const next = await l.admit('next', [key], 1);
    if (!next.ok) throw new Error('refused');
    expect(next.reservation.remaining[0]?.spentNanos).toBe(250);
    // Sent again, it still counts once.
    await l.settle(call.reservation, 250, 0);
    const again = await l.admit('again', [key], 1);
    if (!again.ok) throw new Error('refused');
    expect(again.reservation.remaining[0]?.spentNanos).toBe(250);
  });

  describe('admitting calls ahead', () => {
    const timings = { windowMs: 60_000, reservationTtlMs: 60_000 };
    /** A key far from every limit: a budget, rpm, tpm and parallel limits all large. */
    const roomy = (id: string): AdmissionScope => ({
      id,
      budget: { limitNanos: 1e15, seedNanos: 0, blockAtLimit: true },
      limits: { rpm: 1_000_000, tpm: 1e12, parallel: 100_000 },
    });
    const spy = (redis: Redis) =>
      vi.spyOn(
        redis as unknown as { gatewayAdmit: (...args: unknown[]) => Promise<unknown> },
        'gatewayAdmit',
      );
    async function windowOf(scopeId: string) {
      const base = `${prefix}budget:{budget}:${scopeId}`;
      return {
        ...(await redisState(scopeId)),
        requests: await raw.zcard(`${base}:requests`),
        tokens: Number((await raw.hget(base, 'tokens')) ?? 0),
      };
    }

    it('lets calls that arrive often go on without a round trip, each counted once', async () => {
      const { ledger: made, redis, scope } = await ledger(timings, false, true);
      const admitCalls = spy(redis);
      const key = roomy(scope('key:often'));
      const ids: string[] = [];
      for (let i = 0; i < 60; i += 1) {
        const admitted = await made.admit(`call-${i}`, [key], 100);
        if (!admitted.ok) throw new Error('refused');
        ids.push(admitted.reservation.requestId);
        // Counted as it was when admitted (the ticket's own check, in order).
        expect(admitted.reservation.remaining[0]!.requests).toBeLessThan(1_000_000 - ids.length + 1);
        await made.settle(admitted.reservation, 40, 3);
      }
      const ahead = ids.filter((id) => id.startsWith('ahead:')).length;
      // Only the first calls waited for Redis; tickets are asked for a batch at a time.
      expect(60 - ahead).toBeLessThanOrEqual(5);
      expect(admitCalls.mock.calls.length).toBeLessThan(20);
      expect(made.ticketsHeld).toBeGreaterThan(0);
      await made.handBackTickets();
      expect(made.ticketsHeld).toBe(0);
      // Exactly the 60 calls: their cost and tokens, their requests in the window, nothing
      // held or reserved by tickets never used.
      expect(await windowOf(key.id)).toEqual({
        held: 0,
        reserved: 0,
        spent: 60 * 40,
        requests: 60,
        tokens: 180,
      });
    });

    it('settles calls admitted ahead that end within a few milliseconds in one script call', async () => {
      const { ledger: made, redis, scope } = await ledger(timings, false, true);
      const key = roomy(scope('key:gathered'));
      const ahead = [];
      for (let i = 0; i < 12 && ahead.length < 4; i += 1) {
        const admitted = await made.admit(`call-${i}`, [key], 100);
        if (!admitted.ok) throw new Error('refused');
        if (admitted.reservation.ahead) ahead.push(admitted.reservation);
        else await made.settle(admitted.reservation, 40, 3);
      }
      expect(ahead).toHaveLength(4);
      // Tickets asked for meanwhile have come (a check takes waiting settlements along).
      await new Promise((resolve) => setTimeout(resolve, 50));
      const settleCalls = vi.spyOn(
        redis as unknown as { gatewaySettle: (...args: unknown[]) => Promise<unknown> },
        'gatewaySettle',
      );
      // Each ends in a turn of its own, as calls do.
      const settled = [];
      for (const reservation of ahead) {
        settled.push(made.settle(reservation, 40, 3));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(settled);
      expect(settleCalls).toHaveBeenCalledTimes(1);
      await made.handBackTickets();
      const admittedInAll = (await windowOf(key.id)).requests;
      expect(await windowOf(key.id)).toMatchObject({ held: 0, reserved: 0, spent: admittedInAll * 40 });
    });

    it('hands back tickets nobody used within a second', async () => {
      const { ledger: made, scope } = await ledger(timings, false, true);
      const key = roomy(scope('key:stale'));
      for (let i = 0; i < 20; i += 1) {
        const admitted = await made.admit(`call-${i}`, [key], 100);
        if (!admitted.ok) throw new Error('refused');
        await made.settle(admitted.reservation, 100, 0);
      }
      expect(made.ticketsHeld).toBeGreaterThan(0);
      await vi.waitFor(() => expect(made.ticketsHeld).toBe(0), { timeout: 5_000, interval: 100 });
      await vi.waitFor(
        async () =>
          expect(await windowOf(key.id)).toEqual({
            held: 0,
            reserved: 0,
            spent: 2_000,
            requests: 20,
            tokens: 0,
          }),
        { timeout: 2_000, interval: 50 },
      );
    });

    it('checks every call on its own near a limit', async () => {
      const { ledger: made, redis, scope } = await ledger(timings, false, true);
      const admitCalls = spy(redis);
      const key = { id: scope('key:near'), limits: { rpm: 30 } };
      const results: string[] = [];
      for (let i = 0; i < 32; i += 1) {
        const admitted = await made.admit(`call-${i}`, [key], 0);
        results.push(admitted.ok ? admitted.reservation.requestId : admitted.reason);
        if (admitted.ok) await made.settle(admitted.reservation, 0, 0);
      }
      expect(results.slice(0, 30)).toEqual(Array.from({ length: 30 }, (_, i) => `call-${i}`));
      expect(results.slice(30)).toEqual(['requests', 'requests']);
      expect(admitCalls).toHaveBeenCalledTimes(32);
      expect(made.ticketsHeld).toBe(0);
    });

    it('never lets two instances overshoot a budget together', async () => {
      const a = await ledger(timings, false, true);
      const b = await ledger(timings, false, true);
      const id = a.scope('key:shared');
      // Room for 2,000 calls of 1,000: tickets are issued at first, then every call is checked.
      const key: AdmissionScope = { id, budget: { limitNanos: 2_000_000, seedNanos: 0, blockAtLimit: true } };
      let admitted = 0;
      let ahead = 0;
      const worker = async (made: RedisAdmissionLedger, name: string) => {
        for (let i = 0; ; i += 1) {
          const result = await made.admit(`${name}-${i}`, [key], 1_000);
          if (!result.ok) return;
          admitted += 1;
          if (result.reservation.requestId.startsWith('ahead:')) ahead += 1;
          await made.settle(result.reservation, 1_000, 0);
        }
      };
      await Promise.all(
        Array.from({ length: 8 }, (_, i) => worker(i % 2 === 0 ? a.ledger : b.ledger, `w${i}`)),
      );
      await Promise.all([a.ledger.handBackTickets(), b.ledger.handBackTickets()]);
      expect(ahead).toBeGreaterThan(100);
      expect(admitted).toBe(2_000);
      expect(await redisState(id)).toEqual({ held: 0, reserved: 0, spent: 2_000_000 });
    });
  });
});
