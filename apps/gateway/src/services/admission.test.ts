import { describe, expect, it } from 'vitest';
import { pythonFloat } from './admission.ts';
import { InProcessAdmissionLedger } from './admission-ledger.ts';

describe('pythonFloat', () => {
  it.each([
    [10e9, '10.0'],
    [0, '0.0'],
    [123_000, '0.000123'],
    [15_300, '1.53e-05'],
    [1, '1e-09'],
    [1.5e9, '1.5'],
    [250_000_000_000, '250.0'],
  ])('prints %d nano-dollars as Python would: %s', (nanos, text) => {
    expect(pythonFloat(nanos)).toBe(text);
  });
});

describe('InProcessAdmissionLedger budgets', () => {
  const key = { id: 'key:k', budget: { limitNanos: 100, seedNanos: 0, blockAtLimit: true } };
  const team = { id: 'team:t', budget: { limitNanos: 50, seedNanos: 40, blockAtLimit: false } };

  it('admits while spend plus reservations is under the limit, then refuses', async () => {
    const ledger = new InProcessAdmissionLedger();
    const first = await ledger.admit('r1', [key], 60);
    const second = await ledger.admit('r2', [key], 60);
    // 60 + 60 = 120 held: a third call finds the budget used up.
    const third = await ledger.admit('r3', [key], 60);
    expect([first.ok, second.ok, third.ok]).toEqual([true, true, false]);
    if (!first.ok || !second.ok) return;
    // Settling at the real cost frees what was over-reserved.
    await ledger.settle(first.reservation, 10, 0);
    await ledger.settle(second.reservation, 10, 0);
    expect((await ledger.admit('r4', [key], 60)).ok).toBe(true);
  });

  it('blocks at the limit for keys, only above it for teams, and never a call that costs nothing', async () => {
    const ledger = new InProcessAdmissionLedger();
    const atLimit = { ...key, budget: { ...key.budget, seedNanos: 100 } };
    expect(await ledger.admit('a', [atLimit], 1)).toMatchObject({ ok: false, spentNanos: 100 });
    expect((await ledger.admit('b', [atLimit], 0)).ok).toBe(true);
    const teamAtLimit = { ...team, budget: { ...team.budget, seedNanos: 50 } };
    expect((await ledger.admit('c', [teamAtLimit], 1)).ok).toBe(true);
    expect((await ledger.admit('d', [teamAtLimit], 1)).ok).toBe(false);
  });

  it('reserves on every scope or on none', async () => {
    const ledger = new InProcessAdmissionLedger();
    // The team has 10 left: the first call fits and holds 30 on both; the second finds the team used up.
    expect((await ledger.admit('x', [key, team], 30)).ok).toBe(true);
    const refused = await ledger.admit('y', [key, team], 30);
    expect(refused).toMatchObject({ ok: false, scope: { id: 'team:t' } });
    // Nothing was held on the key for the refused call: 30 held of 100.
    expect((await ledger.admit('z', [key], 60)).ok).toBe(true);
  });

  it('drops a reservation that was never settled once it lapses', async () => {
    const ledger = new InProcessAdmissionLedger({ windowMs: 60_000, reservationTtlMs: 20 });
    expect((await ledger.admit('lost', [key], 100)).ok).toBe(true);
    expect((await ledger.admit('blocked', [key], 1)).ok).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    expect((await ledger.admit('later', [key], 1)).ok).toBe(true);
  });
});

describe('InProcessAdmissionLedger limits', () => {
  it('admits rpm calls per sliding window, exactly, and says when the oldest leaves it', async () => {
    const ledger = new InProcessAdmissionLedger({ windowMs: 200, reservationTtlMs: 60_000 });
    const scope = { id: 'key:r', limits: { rpm: 2 } };
    const first = await ledger.admit('1', [scope], 0);
    expect(first).toMatchObject({ ok: true, reservation: { remaining: [{ requests: 1 }] } });
    expect((await ledger.admit('2', [scope], 0)).ok).toBe(true);
    const third = await ledger.admit('3', [scope], 0);
    expect(third).toMatchObject({ ok: false, reason: 'requests', limit: 2 });
    if (third.ok || third.reason === 'budget') return;
    expect(third.retryAfterMs).toBeGreaterThan(150);
    expect(third.retryAfterMs).toBeLessThanOrEqual(200);
    await new Promise((r) => setTimeout(r, 210));
    expect((await ledger.admit('4', [scope], 0)).ok).toBe(true);
  });

  it('refuses once the window holds tpm tokens, counted when calls settle', async () => {
    const ledger = new InProcessAdmissionLedger({ windowMs: 60_000, reservationTtlMs: 60_000 });
    const scope = { id: 'key:t', limits: { tpm: 100 } };
    const first = await ledger.admit('1', [scope], 0);
    expect(first).toMatchObject({ ok: true, reservation: { remaining: [{ tokens: 100 }] } });
    if (!first.ok) return;
    await ledger.settle(first.reservation, 0, 99);
    const second = await ledger.admit('2', [scope], 0);
    expect(second).toMatchObject({ ok: true, reservation: { remaining: [{ tokens: 1 }] } });
    if (!second.ok) return;
    await ledger.settle(second.reservation, 0, 1);
    expect(await ledger.admit('3', [scope], 0)).toMatchObject({ ok: false, reason: 'tokens', limit: 100 });
  });

  it('holds at most max_parallel_requests calls in flight', async () => {
    const ledger = new InProcessAdmissionLedger();
    const scope = { id: 'key:p', limits: { parallel: 1 } };
    const first = await ledger.admit('1', [scope], 0);
    expect(await ledger.admit('2', [scope], 0)).toMatchObject({ ok: false, reason: 'max_parallel_requests' });
    if (!first.ok) return;
    await ledger.settle(first.reservation, 0, 0);
    expect((await ledger.admit('3', [scope], 0)).ok).toBe(true);
  });
});
