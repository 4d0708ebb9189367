import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * One budget a call counts against: a key's, its team's, an end user's. Amounts are integer
 * nano-dollars (USD × 1e9), exact for any budget below $9M.
 */
export interface BudgetScope {
  /** `key:<hash>`, `team:<id>`, `customer:<id>`. */
  id: string;
  limitNanos: number;
  /** Spend the database last reported: the counter starts from it the first time. */
  seedNanos: number;
  /** Blocks once spend reaches the limit (keys), or only once above it (teams, end users), as LiteLLM. */
  blockAtLimit: boolean;
}

/** What a call holds against its budgets until it ends. */
export interface Reservation {
  requestId: string;
  scopeIds: string[];
  amountNanos: number;
  /** Which ledger holds it (Redis, or this process while Redis is away). */
  ledger: BudgetLedger;
}

export type ReserveResult =
  | { ok: true; reservation: Reservation }
  | { ok: false; scope: BudgetScope; spentNanos: number };

export interface BudgetLedger {
  /**
   * Atomically, across every scope: refuses when any budget is already used up (its spend
   * plus what calls in flight reserved), else reserves `amountNanos` on all of them. A call
   * that cannot cost anything (`amountNanos` 0) is never refused.
   */
  reserve(requestId: string, scopes: BudgetScope[], amountNanos: number): Promise<ReserveResult>;
  /** Replaces the reservation by what the call actually cost. */
  settle(reservation: Reservation, actualNanos: number): Promise<void>;
  /**
   * Drops the counters of these scopes (an admin set their spend, or deleted or re-created
   * them): the next check starts again from the database. Calls in flight settle into nothing.
   */
  forget(scopeIds: string[]): Promise<void>;
}

/**
 * A reservation is dropped after this long even if its call never settled (the process died):
 * longer than any call may run.
 */
const DEFAULT_RESERVATION_TTL_MS = 15 * 60_000;
/** Counters of budgets nobody used for this long are dropped and start again from the database. */
const IDLE_TTL_SECONDS = 24 * 3600;

const usedUp = (scope: BudgetScope, used: number) =>
  used > scope.limitNanos || (scope.blockAtLimit && used >= scope.limitNanos);

/** The budget counters of one process: for a gateway without Redis, and while Redis is away. */
export class InProcessBudgetLedger implements BudgetLedger {
  readonly #counters = new Map<
    string,
    { spent: number; reserved: Map<string, { amount: number; expiresAt: number }> }
  >();

  constructor(private readonly reservationTtlMs = DEFAULT_RESERVATION_TTL_MS) {}

  async reserve(requestId: string, scopes: BudgetScope[], amountNanos: number): Promise<ReserveResult> {
    const now = Date.now();
    const counters = scopes.map((scope) => {
      let counter = this.#counters.get(scope.id);
      if (!counter) {
        counter = { spent: scope.seedNanos, reserved: new Map() };
        this.#counters.set(scope.id, counter);
      }
      for (const [id, held] of counter.reserved) if (held.expiresAt <= now) counter.reserved.delete(id);
      return counter;
    });
    if (amountNanos > 0) {
      for (const [i, scope] of scopes.entries()) {
        const counter = counters[i]!;
        let used = counter.spent;
        for (const held of counter.reserved.values()) used += held.amount;
        if (usedUp(scope, used)) return { ok: false, scope, spentNanos: counter.spent };
      }
      for (const counter of counters)
        counter.reserved.set(requestId, { amount: amountNanos, expiresAt: now + this.reservationTtlMs });
    }
    return {
      ok: true,
      reservation: { requestId, scopeIds: scopes.map((s) => s.id), amountNanos, ledger: this },
    };
  }

  async forget(scopeIds: string[]): Promise<void> {
    for (const id of scopeIds) this.#counters.delete(id);
  }

  async settle(reservation: Reservation, actualNanos: number): Promise<void> {
    for (const id of reservation.scopeIds) {
      const counter = this.#counters.get(id);
      if (!counter) continue;
      counter.reserved.delete(reservation.requestId);
      counter.spent += actualNanos;
    }
  }
}

// Per scope: a hash (`spent`, `reserved`, and `r:<request id>` = amount held) and a sorted set
// of the request ids holding a reservation, scored by when the reservation lapses.
// KEYS: hash, zset per scope. ARGV: now, reservation ttl, request id, amount, idle ttl, then per
// scope: limit, seed, block-at-limit (1/0). Returns {0} or {index of the used-up scope, spent}.
const RESERVE_SCRIPT = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local id = ARGV[3]
local amount = tonumber(ARGV[4])
local idle = tonumber(ARGV[5])
local n = #KEYS / 2
for i = 1, n do
  local state, held = KEYS[2 * i - 1], KEYS[2 * i]
  local base = 5 + (i - 1) * 3
  redis.call('HSETNX', state, 'spent', ARGV[base + 2])
  local lapsed = redis.call('ZRANGEBYSCORE', held, '-inf', now)
  for _, rid in ipairs(lapsed) do
    local amt = redis.call('HGET', state, 'r:' .. rid)
    if amt then
      redis.call('HINCRBY', state, 'reserved', -tonumber(amt))
      redis.call('HDEL', state, 'r:' .. rid)
    end
  end
  if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', held, '-inf', now) end
  if amount > 0 then
    local spent = tonumber(redis.call('HGET', state, 'spent'))
    local used = spent + tonumber(redis.call('HGET', state, 'reserved') or '0')
    local limit = tonumber(ARGV[base + 1])
    if used > limit or (ARGV[base + 3] == '1' and used >= limit) then
      return {i, spent}
    end
  end
end
for i = 1, n do
  local state, held = KEYS[2 * i - 1], KEYS[2 * i]
  if amount > 0 then
    redis.call('HINCRBY', state, 'reserved', amount)
    redis.call('HSET', state, 'r:' .. id, amount)
    redis.call('ZADD', held, now + ttl, id)
  end
  redis.call('EXPIRE', state, idle)
  redis.call('EXPIRE', held, idle)
end
return {0}
`;

// KEYS: hash, zset per scope. ARGV: request id, actual cost.
const SETTLE_SCRIPT = `
local id = ARGV[1]
local actual = tonumber(ARGV[2])
for i = 1, #KEYS / 2 do
  local state, held = KEYS[2 * i - 1], KEYS[2 * i]
  if redis.call('EXISTS', state) == 1 then
    local amt = redis.call('HGET', state, 'r:' .. id)
    if amt then
      redis.call('HINCRBY', state, 'reserved', -tonumber(amt))
      redis.call('HDEL', state, 'r:' .. id)
      redis.call('ZREM', held, id)
    end
    redis.call('HINCRBY', state, 'spent', actual)
  end
end
return 1
`;

type BudgetCommands = {
  gatewayReserveBudget(numKeys: number, ...args: (string | number)[]): Promise<[number, number?]>;
  gatewaySettleBudget(numKeys: number, ...args: (string | number)[]): Promise<number>;
};

/**
 * Budget counters shared by every instance in Redis, one Lua script per reserve and per
 * settle (one round trip each). All budget keys share one hash slot (`{budget}`), so a
 * script may touch several scopes on a Redis Cluster too. When Redis does not answer, the
 * call is checked against this process's own counters instead (never waiting on Redis), and
 * settled where it was reserved.
 */
export class RedisBudgetLedger implements BudgetLedger {
  readonly #redis: Redis & BudgetCommands;

  constructor(
    redis: Redis,
    private readonly fallback: BudgetLedger,
    private readonly logger: Logger,
    private readonly reservationTtlMs = DEFAULT_RESERVATION_TTL_MS,
  ) {
    redis.defineCommand('gatewayReserveBudget', { lua: RESERVE_SCRIPT });
    redis.defineCommand('gatewaySettleBudget', { lua: SETTLE_SCRIPT });
    this.#redis = redis as Redis & BudgetCommands;
  }

  async reserve(requestId: string, scopes: BudgetScope[], amountNanos: number): Promise<ReserveResult> {
    const keys = scopes.flatMap(keysOf);
    const args = scopes.flatMap((s) => [s.limitNanos, s.seedNanos, s.blockAtLimit ? 1 : 0]);
    try {
      const [index, spent] = await this.#redis.gatewayReserveBudget(
        keys.length,
        ...keys,
        Date.now(),
        this.reservationTtlMs,
        requestId,
        amountNanos,
        IDLE_TTL_SECONDS,
        ...args,
      );
      if (index === 0)
        return {
          ok: true,
          reservation: { requestId, scopeIds: scopes.map((s) => s.id), amountNanos, ledger: this },
        };
      return { ok: false, scope: scopes[index - 1]!, spentNanos: Number(spent) };
    } catch (error) {
      this.logger.warn({ err: error }, 'budget check on Redis failed; using this instance’s counters');
      return this.fallback.reserve(requestId, scopes, amountNanos);
    }
  }

  async forget(scopeIds: string[]): Promise<void> {
    await this.fallback.forget(scopeIds);
    if (scopeIds.length > 0) await this.#redis.del(...scopeIds.flatMap((id) => keysOf({ id })));
  }

  async settle(reservation: Reservation, actualNanos: number): Promise<void> {
    const keys = reservation.scopeIds.flatMap((id) => keysOf({ id }));
    try {
      await this.#redis.gatewaySettleBudget(keys.length, ...keys, reservation.requestId, actualNanos);
    } catch (error) {
      // The reservation lapses by itself; the spend reaches the counter when it is next
      // seeded from the database.
      this.logger.warn({ err: error }, 'budget settle on Redis failed');
    }
  }
}

function keysOf(scope: Pick<BudgetScope, 'id'>): [string, string] {
  return [`budget:{budget}:${scope.id}`, `budget:{budget}:${scope.id}:held`];
}

/** USD decimal string → integer nano-dollars, rounded up (a budget never under-counts). */
export function toNanos(usd: string | number): number {
  const text = typeof usd === 'number' ? usd.toFixed(12) : usd;
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  let nanos = Number(whole) * 1e9 + Number(fraction.padEnd(9, '0').slice(0, 9));
  if (/[1-9]/.test(fraction.slice(9))) nanos += 1;
  return negative ? -nanos : nanos;
}
