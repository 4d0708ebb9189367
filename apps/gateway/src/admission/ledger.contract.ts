import { expect, it } from 'vitest';
import type { AdmissionLedger, AdmissionScope, LedgerTimings } from './ledger.ts';

/**
 * What every admission ledger does, in process or on Redis: run by each ledger's own test file.
 * `make` returns a fresh ledger whose scope ids cannot meet another test's.
 */
export function admissionLedgerContract(make: (timings: LedgerTimings) => Promise<AdmissionLedger>): void {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const budget = (limitNanos: number, extra: Partial<NonNullable<AdmissionScope['budget']>> = {}) => ({
    limitNanos,
    seedNanos: 0,
    blockAtLimit: true,
    ...extra,
  });
  /** The spend a scope's counter holds, read through a call the budget refuses. */
  const spentOf = async (ledger: AdmissionLedger, scope: AdmissionScope) => {
    const probe = { ...scope, budget: { ...scope.budget!, limitNanos: 0 } };
    const refused = await ledger.admit(`probe-${Math.random()}`, [probe], 1);
    if (refused.ok || refused.reason !== 'budget') throw new Error('the probe was not refused for budget');
    return refused.spentNanos;
  };

  it('admits rpm calls per sliding window, exactly, and says when the oldest leaves it', async () => {
    const ledger = await make({ windowMs: 200, reservationTtlMs: 60_000 });
    const scope = { id: 'key:sliding-rpm', limits: { rpm: 2 } };
    const first = await ledger.admit('1', [scope], 0);
    expect(first).toMatchObject({ ok: true, reservation: { remaining: [{ requests: 1 }] } });
    expect((await ledger.admit('2', [scope], 0)).ok).toBe(true);
    const third = await ledger.admit('3', [scope], 0);
    expect(third).toMatchObject({ ok: false, reason: 'requests', limit: 2 });
    if (third.ok || third.reason === 'budget') return;
    expect(third.retryAfterMs).toBeGreaterThan(150);
    expect(third.retryAfterMs).toBeLessThanOrEqual(200);
    await sleep(210);
    expect((await ledger.admit('4', [scope], 0)).ok).toBe(true);
  });

  it('lets counted tokens leave the window', async () => {
    const ledger = await make({ windowMs: 200, reservationTtlMs: 60_000 });
    const scope = { id: 'key:sliding-tpm', limits: { tpm: 10 } };
    const first = await ledger.admit('1', [scope], 0);
    if (!first.ok) throw new Error('refused');
    await ledger.settle(first.reservation, 0, 10);
    expect(await ledger.admit('2', [scope], 0)).toMatchObject({ ok: false, reason: 'tokens', limit: 10 });
    await sleep(210);
    expect(await ledger.admit('3', [scope], 0)).toMatchObject({
      ok: true,
      reservation: { remaining: [{ tokens: 10 }] },
    });
  });

  it('counts a settlement once, however often it is sent', async () => {
    const ledger = await make({ windowMs: 60_000, reservationTtlMs: 60_000 });
    const key: AdmissionScope = { id: 'key:twice', budget: budget(1_000) };
    const admitted = await ledger.admit('call', [key], 100);
    if (!admitted.ok) throw new Error('refused');
    expect(await ledger.settle(admitted.reservation, 70, 0)).toEqual([70]);
    expect(await ledger.settle(admitted.reservation, 70, 0)).toEqual([70]);
    expect(await spentOf(ledger, key)).toBe(70);
  });

  it('settles calls that end together, each on its own scopes and each once', async () => {
    const ledger = await make({ windowMs: 60_000, reservationTtlMs: 60_000 });
    const key: AdmissionScope = { id: 'key:together', budget: budget(10_000), limits: { tpm: 1_000 } };
    const team: AdmissionScope = { id: 'team:together', budget: budget(10_000) };
    const a = await ledger.admit('a', [key, team], 100);
    const b = await ledger.admit('b', [key], 100);
    const c = await ledger.admit('c', [team], 100);
    if (!a.ok || !b.ok || !c.ok) throw new Error('refused');
    // In one turn, and `a` twice (as when a reply was lost and it was sent again).
    const after = await Promise.all([
      ledger.settle(a.reservation, 30, 5),
      ledger.settle(b.reservation, 20, 7),
      ledger.settle(c.reservation, 4, 0),
      ledger.settle(a.reservation, 30, 5),
    ]);
    expect(after.map((scopes) => scopes.length)).toEqual([2, 1, 1, 2]);
    expect(await spentOf(ledger, key)).toBe(50);
    expect(await spentOf(ledger, team)).toBe(34);
    // Tokens count for the key's tpm, once per call: 5 + 7 = 12.
    expect((await ledger.admit('probe-13', [{ id: key.id, limits: { tpm: 13 } }], 0)).ok).toBe(true);
    expect(await ledger.admit('probe-12', [{ id: key.id, limits: { tpm: 12 } }], 0)).toMatchObject({
      ok: false,
      reason: 'tokens',
    });
  });

  it('adds the cost of a call that outlived its reservation when it finally settles', async () => {
    const ledger = await make({ windowMs: 60_000, reservationTtlMs: 100 });
    const key: AdmissionScope = { id: 'key:long-call', budget: budget(1_000) };
    const long = await ledger.admit('long', [key], 400);
    if (!long.ok) throw new Error('refused');
    await sleep(150);
    // Another call sees the reservation lapsed (its process might have died)...
    const other = await ledger.admit('other', [key], 10);
    if (!other.ok) throw new Error('refused');
    await ledger.settle(other.reservation, 10, 0);
    // ...but the long call ends after all: its cost counts, once.
    await ledger.settle(long.reservation, 300, 0);
    await ledger.settle(long.reservation, 300, 0);
    expect(await spentOf(ledger, key)).toBe(310);
  });

  it('starts a new period from the database’s spend, and ignores a stale cache’s older period', async () => {
    const ledger = await make({ windowMs: 60_000, reservationTtlMs: 60_000 });
    const id = 'key:periods';
    const first = { id, budget: budget(1_000, { seedNanos: 500, periodMs: 1_000 }) };
    const call = await ledger.admit('p1', [first], 100);
    if (!call.ok) throw new Error('refused');
    await ledger.settle(call.reservation, 100, 0);
    expect(await spentOf(ledger, first)).toBe(600);
    // The period was reset in the database: spend 0, next reset later.
    const next = { id, budget: budget(1_000, { seedNanos: 0, periodMs: 2_000 }) };
    expect(await spentOf(ledger, next)).toBe(0);
    // An instance whose cache still holds the old period and spend changes nothing.
    expect(await spentOf(ledger, first)).toBe(0);
  });

  it('refuses everything under a limit of zero, saying when to retry', async () => {
    const ledger = await make({ windowMs: 60_000, reservationTtlMs: 60_000 });
    for (const limits of [{ rpm: 0 }, { tpm: 0 }, { parallel: 0 }]) {
      const refused = await ledger.admit('zero', [{ id: `key:zero-${Object.keys(limits)[0]}`, limits }], 0);
      expect(refused.ok).toBe(false);
      if (refused.ok || refused.reason === 'budget') continue;
      expect(refused.limit).toBe(0);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
  });

  it('refuses a call of unknown but possible cost once the budget is spent, never a free one', async () => {
    const ledger = await make({ windowMs: 60_000, reservationTtlMs: 60_000 });
    const key: AdmissionScope = { id: 'key:spent', budget: budget(100, { seedNanos: 100 }) };
    expect(await ledger.admit('unpriced', [key], 1)).toMatchObject({ ok: false, reason: 'budget' });
    expect((await ledger.admit('free', [key], 0)).ok).toBe(true);
  });
}
