import { describe, expect, it } from 'vitest';
import { InProcessBudgetLedger } from './budget-ledger.ts';
import { pythonFloat } from './budgets.ts';

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

describe('InProcessBudgetLedger', () => {
  const key = { id: 'key:k', limitNanos: 100, seedNanos: 0, blockAtLimit: true };
  const team = { id: 'team:t', limitNanos: 50, seedNanos: 40, blockAtLimit: false };

  it('admits while spend plus reservations is under the limit, then refuses', async () => {
    const ledger = new InProcessBudgetLedger();
    const first = await ledger.reserve('r1', [key], 60);
    const second = await ledger.reserve('r2', [key], 60);
    // 60 + 60 = 120 held: a third call finds the budget used up.
    const third = await ledger.reserve('r3', [key], 60);
    expect([first.ok, second.ok, third.ok]).toEqual([true, true, false]);
    if (!first.ok || !second.ok) return;
    // Settling at the real cost frees what was over-reserved.
    await ledger.settle(first.reservation, 10);
    await ledger.settle(second.reservation, 10);
    expect((await ledger.reserve('r4', [key], 60)).ok).toBe(true);
  });

  it('blocks at the limit for keys, only above it for teams, and never a call that costs nothing', async () => {
    const ledger = new InProcessBudgetLedger();
    const atLimit = { ...key, seedNanos: 100 };
    expect(await ledger.reserve('a', [atLimit], 1)).toMatchObject({ ok: false, spentNanos: 100 });
    expect((await ledger.reserve('b', [atLimit], 0)).ok).toBe(true);
    const teamAtLimit = { ...team, seedNanos: 50 };
    expect((await ledger.reserve('c', [teamAtLimit], 1)).ok).toBe(true);
    expect((await ledger.reserve('d', [teamAtLimit], 1)).ok).toBe(false);
  });

  it('reserves on every scope or on none', async () => {
    const ledger = new InProcessBudgetLedger();
    // The team has 10 left: the first call fits and holds 30 on both; the second finds the team used up.
    expect((await ledger.reserve('x', [key, team], 30)).ok).toBe(true);
    const refused = await ledger.reserve('y', [key, team], 30);
    expect(refused).toMatchObject({ ok: false, scope: { id: 'team:t' } });
    // Nothing was held on the key for the refused call: 30 held of 100.
    expect((await ledger.reserve('z', [key], 60)).ok).toBe(true);
  });

  it('drops a reservation that was never settled once it lapses', async () => {
    const ledger = new InProcessBudgetLedger(20);
    expect((await ledger.reserve('lost', [key], 100)).ok).toBe(true);
    expect((await ledger.reserve('blocked', [key], 1)).ok).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    expect((await ledger.reserve('later', [key], 1)).ok).toBe(true);
  });
});
